package tools

// The tool table reaches the extension through generated files:
// package.json (contributes.languageModelTools and the tool set) and
// extension/src/tools/tools.gen.ts (the read-only set, the VS Code tool name
// prefix). A test in internal/gen fails when they are stale.
//go:generate go run ./internal/gen
