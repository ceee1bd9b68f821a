//go:build !unix

package checkpoint_test

import "io/fs"

// inode has no portable equivalent off Unix; the rewrite checks that use it
// only run on Unix CI, this lets the package's tests build (and vet) elsewhere.
func inode(fs.FileInfo) uint64 { return 0 }
