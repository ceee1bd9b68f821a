package tools

import (
	"encoding/json"
)

// OnChange registers fn to hear about every successful call of a tool that is
// not read-only, with the notebook it concerned (resolved to its absolute
// path): load_checkpoint, sync_state_from_disk, edits, kernel restarts. Every
// door goes through Tool.Invoke, so an attached agent's call is heard as well
// as the extension's. fn runs on the caller's goroutine after the call: keep
// it short (hand the work to another goroutine). cancel removes it.
func (c *Core) OnChange(fn func(notebookPath string)) (cancel func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nextObserver++
	id := c.nextObserver
	if c.observers == nil {
		c.observers = map[int]func(string){}
	}
	c.observers[id] = fn
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.observers, id)
	}
}

// changed tells the observers that a tool call changed the notebook's
// document or kernel. Calls without a notebook_path in the workspace are
// not reported: there is nothing to re-check for them.
func (c *Core) changed(args json.RawMessage) {
	c.mu.Lock()
	fns := make([]func(string), 0, len(c.observers))
	for _, fn := range c.observers {
		fns = append(fns, fn)
	}
	roots := c.roots
	c.mu.Unlock()
	if len(fns) == 0 || roots == nil {
		return
	}
	var a struct {
		NotebookPath string `json:"notebook_path"`
	}
	if json.Unmarshal(args, &a) != nil || a.NotebookPath == "" {
		return
	}
	path, err := roots.Resolve(a.NotebookPath)
	if err != nil {
		return
	}
	for _, fn := range fns {
		fn(path)
	}
}
