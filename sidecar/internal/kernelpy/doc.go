// Package kernelpy runs the sidecar's embedded Python helper modules inside a
// user's kernel (checkpoints, sync analysis, safe inspection).
//
// A helper module is shipped as source with each call and cached in the
// kernel's sys.modules under a name that includes its digest, so it never
// lands in the user's namespace and an upgraded sidecar loads the new code.
// The call's result comes back as one marked JSON line on stdout: heavy data
// never travels this way, only small descriptions.
package kernelpy
