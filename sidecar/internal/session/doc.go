// Package session maps notebooks to kernels. Each Session owns one kernel and
// one FIFO execution queue shared by the human and the agent; each Execution
// has a task id, a state, an execution count and an output log (package
// output) that callers read from a cursor (Read, long-poll) or receive as
// events (Manager.Subscribe).
//
// Cursors are op sequence numbers starting at 0: Read(since) returns the ops
// with Seq >= since and Next, the cursor for the following call. RunInternal
// runs silent helper code through the same queue without history or events.
// With Options.RuntimeDir set, Detach leaves the kernels running and a new
// Manager's Reattach picks them up again in the background (kernels of
// deleted notebooks are shut down, unreachable ones killed); Get, Start and
// Stop for a notebook whose kernel is still coming back wait for it.
package session
