// Package kernel is a Jupyter messaging-protocol (5.4) client in pure Go on
// go-zeromq/zmq4. It launches a kernel process in its own process group, talks
// to it over shell/control/iopub/stdin/heartbeat, signs and verifies every
// message, and turns the kernel's death (process exit or a silent heartbeat)
// into ErrKernelDead for every waiting caller.
//
// zmq4 has traps (see the project's zmq4 notes): Recv has no timeout, a dead
// peer leaves sockets blocked and Send to it returns nil, and there is no
// reconnect. So liveness is judged from the process and the heartbeat, each
// socket has one reader goroutine, and a restart builds fresh sockets.
package kernel
