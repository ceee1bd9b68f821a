// Package kernel is a Jupyter messaging-protocol (5.4) client in pure Go on
// go-zeromq/zmq4. Start launches a kernel process in its own process group,
// writes a 0600 connection file with fresh ports (or ipc paths) and a random
// HMAC-SHA256 key, talks to it over shell/control/iopub/stdin/heartbeat,
// signs every message it sends and drops (and logs) any received message whose
// signature does not verify.
//
// Liveness comes from the process (cmd.Wait, or a 25 ms poll for a kernel we
// attached to) and from the heartbeat (a hung or SIGSTOPped kernel is killed);
// every waiting caller then gets an error wrapping ErrKernelDead with the exit
// status. zmq4 has traps (see the project's zmq4 notes): Recv has no timeout,
// a dead peer leaves sockets blocked and Send to it returns nil, there is no
// reconnect, and a failed dial leaks its conn. So each socket has one reader
// goroutine, a restart builds fresh sockets, and our own transports close
// every conn a socket ever dialed.
//
// Process control is per platform (proc_unix.go, proc_windows.go): on Unix
// the kernel leads its own process group, interrupt is SIGINT to the group
// and the shutdown ladder ends in SIGTERM/SIGKILL to it; on Windows the
// kernel gets a new process group and a named interrupt event
// (JPY_INTERRUPT_EVENT, what ipykernel waits on there) and is ended with
// TerminateProcess.
//
// Kernels can outlive the sidecar: a record next to the connection file in
// Options.RuntimeDir lets a later process Attach to a running kernel, and
// Detach lets go of one without stopping it. Attach interrupts a kernel still
// busy with the dead sidecar's code (control answers, shell does not), and
// Record.Kill ends one that cannot be attached.
package kernel
