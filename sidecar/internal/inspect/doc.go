// Package inspect describes a kernel's variables without running any code the
// variables' own classes define (no __repr__, __str__, __getattr__, __len__,
// properties or __class__ tricks): see py/inspect_vars.py for the rules.
// The descriptions feed get_kernel_info's variable list and inspect_variable.
package inspect
