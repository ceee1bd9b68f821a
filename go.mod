module github.com/mcp-jupyter/mcp-jupyter

go 1.26.8
