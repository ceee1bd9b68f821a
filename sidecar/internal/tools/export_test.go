package tools

// SetBeforeWrite installs a hook that runs between computing a headless edit
// and writing it (the interleaving harness plays a human there).
func SetBeforeWrite(c *Core, f func(path string)) { c.beforeWrite = f }
