// Package session maps notebooks to kernels. Each Session owns one kernel and
// one FIFO execution queue shared by the human and the agent; each Execution
// has a task id, a state, an execution count and an output log that callers
// read from a cursor (with long-poll) or receive as events.
package session
