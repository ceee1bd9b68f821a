// Package tools is the tool core: every tool of the MCP table as one Go
// function with typed input and output structs, shared by all doors (the MCP
// server, the extension's tool/invoke, the attach socket).
//
// # Adding tools
//
// A feature file inside this package registers its tools from init:
//
//	func init() {
//		Extend(func(r *Registry) {
//			Add(r, Meta{Name: "save_checkpoint", Title: "Save checkpoint",
//				Description: "…"}, saveCheckpoint)
//		})
//	}
//
//	func saveCheckpoint(ctx context.Context, c *Call, in SaveIn) (SaveOut, error)
//
// In and Out are structs with `json` names and `jsonschema:"description"` tags;
// omitempty marks optional fields. The schemas MCP advertises are inferred from
// them, and arguments are validated against the input schema before the
// function runs. Meta.ReadOnly / Destructive / Idempotent become the MCP
// annotations (openWorldHint is always false). Return an error for a failed
// call: its text is what the model reads, so say what to do next.
//
// Inside a tool: c.ResolvePath confines a path to the workspace, c.Session
// finds the notebook's kernel (or an actionable ErrNoKernel), c.LoadNotebook
// returns the live buffer (caller's snapshot, else the open editor) or the
// file, c.Progress reports long work. ExtendKernelInfo adds fields to
// get_kernel_info (e.g. variables).
//
// A door that wants to know when a notebook or its kernel may have changed
// registers with Core.OnChange: it hears of every successful call of a tool
// that is not read-only. Call.EditorOnly keeps reads and edits in the open
// editor (ErrNotOpen otherwise), for bookkeeping such as StampHumanRun.
package tools
