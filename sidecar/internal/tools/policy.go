package tools

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrDisabledTool is returned (wrapped) for a tool the server's policy hides.
var ErrDisabledTool = errors.New("tool disabled by this server's policy")

// Toolsets groups the tools the way the README does; a policy enables whole groups.
var Toolsets = map[string][]string{
	"kernels":   {"start_kernel", "stop_kernel", "restart_kernel", "interrupt_kernel", "list_kernels", "list_environments", "get_kernel_info"},
	"execution": {"run_cell_async", "get_execution_stream", "run_cell", "run_cells", "submit_input"},
	"notebook":  {"get_notebook_outline", "get_editor_state", "read_cell_smart", "search_notebook", "propose_edit", "edit_cell_source", "create_notebook", "append_cell", "insert_cell", "delete_cell", "move_cell"},
	"state":     {"save_checkpoint", "load_checkpoint", "list_checkpoints", "delete_checkpoint", "inspect_variable", "detect_sync_needed", "sync_state_from_disk"},
}

// Policy says which tools a server offers. The zero Policy offers all of them.
type Policy struct {
	// ReadOnly offers only the tools that change neither a notebook nor a kernel.
	ReadOnly bool
	// Toolsets, when set, offers only the tools of these groups (see Toolsets).
	Toolsets []string
	// Tools, when set, offers only these tools (combined with Toolsets: either admits a tool).
	Tools []string
}

// String names the policy in error messages ("--read-only --toolsets notebook").
func (p Policy) String() string {
	var parts []string
	if p.ReadOnly {
		parts = append(parts, "--read-only")
	}
	if len(p.Toolsets) > 0 {
		parts = append(parts, "--toolsets "+strings.Join(p.Toolsets, ","))
	}
	if len(p.Tools) > 0 {
		parts = append(parts, "--tools "+strings.Join(p.Tools, ","))
	}
	return strings.Join(parts, " ")
}

// Restrict applies p: the tools it excludes are no longer listed, and calling
// one is refused with ErrDisabledTool naming the policy. Unknown toolset or tool
// names are an error, so a typo never silently offers nothing (or everything).
func (r *Registry) Restrict(p Policy) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	admitted := map[string]bool{}
	for _, set := range p.Toolsets {
		names, ok := Toolsets[set]
		if !ok {
			return fmt.Errorf("unknown toolset %q (known: %s)", set, strings.Join(ToolsetNames(), ", "))
		}
		for _, n := range names {
			admitted[n] = true
		}
	}
	for _, n := range p.Tools {
		if _, ok := r.tools[n]; !ok {
			return fmt.Errorf("unknown tool %q in --tools", n)
		}
		admitted[n] = true
	}
	filter := len(p.Toolsets) > 0 || len(p.Tools) > 0
	if r.hidden == nil {
		r.hidden = map[string]string{}
	}
	for name, t := range r.tools {
		why := ""
		switch {
		case p.ReadOnly && !t.ReadOnly:
			why = "it changes a notebook or a kernel and the server runs read-only"
		case filter && !admitted[name]:
			why = "it is not among the enabled tools"
		}
		if why != "" {
			r.hidden[name] = fmt.Sprintf("%s (%s)", why, p)
			delete(r.tools, name)
		}
	}
	return nil
}

// Disabled says why the policy hides the named tool, if it does.
func (r *Registry) Disabled(name string) (string, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	why, ok := r.hidden[name]
	return why, ok
}

// ToolsetNames lists the toolsets by name.
func ToolsetNames() []string {
	var names []string
	for n := range Toolsets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ParsePolicy reads the --read-only, --toolsets and --tools flag values.
func ParsePolicy(readOnly bool, toolsets, tools string) Policy {
	split := func(s string) []string {
		var out []string
		for _, f := range strings.Split(s, ",") {
			if f = strings.TrimSpace(f); f != "" {
				out = append(out, f)
			}
		}
		return out
	}
	return Policy{ReadOnly: readOnly, Toolsets: split(toolsets), Tools: split(tools)}
}
