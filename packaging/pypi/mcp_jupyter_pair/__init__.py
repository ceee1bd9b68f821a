"""The mcp-jupyter MCP server, installed as a platform binary next to Python's scripts."""
