// Package sandbox confines a kernel process: a bubblewrap jail (no network,
// read-only system, writes only to the project and the runtime dir) or a Docker
// container. Both talk to the sidecar over ipc (Unix socket) transport in the
// kernel runtime dir, which is bind-mounted in: TCP on loopback would not cross
// the sandbox's own network namespace.
package sandbox
