// Package output turns a kernel's iopub messages into nbformat 4.5 outputs and
// an ordered, gap-free log of operations (append, appendText, replace, clear)
// that a reader replays from a cursor to rebuild the same outputs.
//
// MIME bundles are kept as the raw JSON the kernel sent (plotly JSON stays
// JSON). Stream text is bounded per execution: past the limit the head and the
// tail are kept and the output says how many bytes were elided, while Stats
// still counts every byte.
package output
