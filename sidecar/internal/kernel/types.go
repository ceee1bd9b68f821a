package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"
)

// Sentinel errors callers branch on.
var (
	// ErrKernelDead: the kernel process exited or stopped answering its heartbeat.
	ErrKernelDead = errors.New("kernel dead")
	// ErrTimeout: an execution hit ExecuteRequest.Timeout and was interrupted
	// (or the kernel was restarted because the interrupt did not take).
	ErrTimeout = errors.New("execution timed out")
	// ErrRestarted: the kernel was restarted while the caller waited (always
	// together with ErrKernelDead: that process is gone).
	ErrRestarted = errors.New("kernel restarted")
	// ErrStartTimeout: the kernel did not answer kernel_info within StartTimeout.
	ErrStartTimeout = errors.New("kernel did not become ready in time")
)

// LaunchSpec says how to start a kernel process. env/kernelspec produce it.
type LaunchSpec struct {
	Name, DisplayName, Language string
	// Argv may contain {connection_file} and {resource_dir}; Start substitutes them.
	Argv []string
	// Env is the complete process environment (KEY=VALUE); nil inherits ours.
	Env []string
	// Dir is the working directory (the notebook's folder).
	Dir string
	// InterruptMode is "signal" (default) or "message".
	InterruptMode string
	ResourceDir   string
}

// Options tune Start. Zero values get sensible defaults.
type Options struct {
	Logger *slog.Logger
	// RuntimeDir holds connection files and kernel records (created 0700).
	// With it set, kernels outlive this process and can be re-attached
	// (Attach); without it a temp dir is used and the kernel is told to exit
	// with its parent (JPY_PARENT_PID).
	RuntimeDir string
	// PrivateRuntimeDir: RuntimeDir is this kernel's alone (a sandboxed
	// kernel's, bound into its jail): it is removed with the kernel, and the
	// kernel is told to exit with its parent as without a RuntimeDir.
	PrivateRuntimeDir bool
	// Transport is "tcp" (default) or "ipc".
	Transport string
	// StartTimeout bounds launch → ready (kernel_info reply, heartbeat,
	// first iopub message). Default 60s.
	StartTimeout time.Duration
	// StageTimeout: once the kernel bound its sockets, a start that reaches
	// no new stage for this long while the kernel's processes use no CPU is
	// stuck: it is killed and retried once on new ports rather than waited
	// out. Default StartTimeout/4, within 2s..15s. Linux only (it needs the
	// kernel's CPU time to tell slow from stuck).
	StageTimeout time.Duration
	// OnStartAttempt, when set, gets the record of every kernel process
	// launched by Start and Restart, ready or not (stress tests, logs).
	OnStartAttempt func(StartAttempt)
	// HeartbeatInterval between pings (default 1s) and HeartbeatTimeout after
	// which a silent kernel is declared dead and killed (default 10s: a busy
	// machine must not kill healthy kernels).
	HeartbeatInterval, HeartbeatTimeout time.Duration
	// ShutdownGrace is how long each rung of the shutdown ladder waits
	// (shutdown_request, then SIGTERM) before the next. Default 5s.
	ShutdownGrace time.Duration
	// Label is stored in the runtime dir with the kernel (the notebook path):
	// a restarted sidecar uses it to re-attach (see Attach, ListRecords).
	Label string
	// LostReplyGrace is how long an execution whose status went idle may wait
	// for its execute_reply before it is reported as lost (0 = 10 s).
	LostReplyGrace time.Duration
	// InterruptGrace is how long a timed-out execution may take to stop after
	// the interrupt before the kernel is restarted. Default 5s.
	InterruptGrace time.Duration
}

// Status of a kernel.
type Status string

// Kernel statuses.
const (
	StatusStarting Status = "starting"
	StatusIdle     Status = "idle"
	StatusBusy     Status = "busy"
	StatusDead     Status = "dead"
)

// Conn is a running kernel. *Local implements it; a remote (Jupyter Server)
// implementation can come later without changes above this package.
type Conn interface {
	// Execute returns after the execute_reply AND iopub status:idle of this request.
	Execute(ctx context.Context, req ExecuteRequest, h Handlers) (*ExecuteReply, error)
	Interrupt(ctx context.Context) error
	Restart(ctx context.Context) error
	// Shutdown: shutdown_request → SIGTERM → SIGKILL (process group).
	Shutdown(ctx context.Context) error
	Status() Status
	Info() KernelInfo
	// Done is closed when the kernel died or was shut down.
	Done() <-chan struct{}
	// Err wraps ErrKernelDead with the exit status once Done (nil after a clean Shutdown).
	Err() error
	PID() int
}

// ExecuteRequest is an execute_request.
type ExecuteRequest struct {
	Code                                          string
	Silent, StoreHistory, AllowStdin, StopOnError bool
	UserExpressions                               map[string]string
	// Timeout > 0: interrupt at expiry, restart if the interrupt does not take.
	Timeout time.Duration
}

// Handlers receive what an execution produces.
type Handlers struct {
	// OnIOPub gets every iopub message parented by this request, in order.
	OnIOPub func(Message)
	// OnInput answers input_request; nil means stdin is not allowed.
	OnInput func(ctx context.Context, req InputRequest) (string, error)
}

// InputRequest is a kernel's input_request.
type InputRequest struct {
	Prompt   string `json:"prompt"`
	Password bool   `json:"password"`
}

// ExecuteReply is the parsed execute_reply.
type ExecuteReply struct {
	Status          string // ok|error|aborted
	ExecutionCount  int
	Ename, Evalue   string
	Traceback       []string
	UserExpressions json.RawMessage
	Raw             json.RawMessage
}

// Message is one Jupyter message. Content stays raw JSON: decoding a 50 MB
// output costs hundreds of ms and most consumers pass it along untouched.
type Message struct {
	Channel              string
	Header, ParentHeader Header
	Metadata, Content    json.RawMessage
	Buffers              [][]byte
}

// Header is a Jupyter message header.
type Header struct {
	MsgID    string `json:"msg_id"`
	MsgType  string `json:"msg_type"`
	Session  string `json:"session"`
	Username string `json:"username"`
	Date     string `json:"date"`
	Version  string `json:"version"`
}

// KernelInfo is the parsed kernel_info_reply.
type KernelInfo struct {
	ProtocolVersion       string `json:"protocol_version"`
	Implementation        string `json:"implementation"`
	ImplementationVersion string `json:"implementation_version"`
	LanguageInfo          struct {
		Name          string `json:"name"`
		Version       string `json:"version"`
		FileExtension string `json:"file_extension"`
		MimeType      string `json:"mimetype"`
	} `json:"language_info"`
	Banner string          `json:"banner"`
	Raw    json.RawMessage `json:"-"`
}
