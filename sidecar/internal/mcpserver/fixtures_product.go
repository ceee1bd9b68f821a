//go:build !conformance

package mcpserver

import "github.com/modelcontextprotocol/go-sdk/mcp"

// The product build serves no conformance fixtures (see fixtures_conformance.go).

// statelessHTTP: the product serves sessionless streamable HTTP.
const statelessHTTP = true

func fixtureOptions(*mcp.ServerOptions) {}

func addFixtures(*mcp.Server) {}
