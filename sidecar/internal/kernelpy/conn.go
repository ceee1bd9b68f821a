package kernelpy

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
)

// ConnRunner runs helper code straight on a kernel connection (silent, no
// history). The tools go through session.RunInternal instead, which shares the
// notebook's queue; this is for benchmarks and code that owns its kernel.
func ConnRunner(conn kernel.Conn) Runner {
	return func(ctx context.Context, code string) (string, error) {
		var out strings.Builder
		var perr *PythonError
		reply, err := conn.Execute(ctx, kernel.ExecuteRequest{Code: code, Silent: true}, kernel.Handlers{
			OnIOPub: func(m kernel.Message) {
				switch m.Header.MsgType {
				case "stream":
					var c struct{ Name, Text string }
					if json.Unmarshal(m.Content, &c) == nil && c.Name == "stdout" {
						out.WriteString(c.Text)
					}
				case "error":
					var c struct {
						Ename, Evalue string
						Traceback     []string
					}
					if json.Unmarshal(m.Content, &c) == nil {
						perr = &PythonError{Ename: c.Ename, Evalue: c.Evalue, Traceback: c.Traceback}
					}
				}
			},
		})
		if err != nil {
			return out.String(), err
		}
		if reply.Status != "ok" {
			if perr == nil {
				perr = &PythonError{Ename: reply.Ename, Evalue: reply.Evalue, Traceback: reply.Traceback}
			}
			return out.String(), perr
		}
		return out.String(), nil
	}
}
