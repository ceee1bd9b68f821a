// Package workspace confines notebook paths to the workspace roots: every path a
// tool receives is resolved (relative to the first root, symlinks followed) and
// refused unless it lies inside one of the roots. Containment is decided on path
// components, so a root /ws does not admit /ws-evil.
package workspace
