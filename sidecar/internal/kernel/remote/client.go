package remote

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Errors callers branch on.
var (
	// ErrUnauthorized: the server refused the token (HTTP 401/403).
	ErrUnauthorized = errors.New("jupyter server refused the token")
	// ErrNotFound: no such kernel or kernelspec on the server (HTTP 404).
	ErrNotFound = errors.New("not found on the jupyter server")
	// ErrUnreachable: the server did not answer at all.
	ErrUnreachable = errors.New("jupyter server unreachable")
	// ErrLostAcrossReconnect: the WebSocket dropped during an execution and
	// the server did not replay what was sent meanwhile (it buffers only
	// for the last client of a kernel): the cell ended but its reply or
	// outputs of the gap are gone.
	ErrLostAcrossReconnect = errors.New("execution messages lost across a reconnect")
)

// Config says which Jupyter Server to talk to.
type Config struct {
	// URL is the server's base URL (with its base_url path, if any),
	// e.g. https://host:8888/ or http://127.0.0.1:8888/user/ann/.
	URL string
	// Token is sent as "Authorization: token …" on every request and on
	// the WebSocket handshake; never in a URL, never logged.
	Token string
	// CAFile adds a PEM bundle to the system roots for https servers.
	CAFile string
	// Timeout bounds one REST request (default 30s; a kernel start can be
	// slow on a loaded server).
	Timeout time.Duration
}

// Client is a Jupyter Server REST client.
type Client struct {
	base  *url.URL
	token string
	hc    *http.Client
	tls   *tls.Config
}

// NewClient checks the configuration; it does not contact the server.
func NewClient(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(cfg.URL))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("jupyter server URL %q: want http(s)://host[:port][/base/]", cfg.URL)
	}
	if u.User != nil || u.Query().Get("token") != "" {
		return nil, errors.New("jupyter server URL: put the token in the token setting, not in the URL")
	}
	u.RawQuery, u.Fragment = "", ""
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("jupyter server CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("jupyter server CA file %s: no PEM certificate in it", cfg.CAFile)
		}
		tc.RootCAs = pool
	}
	to := cfg.Timeout
	if to <= 0 {
		to = 30 * time.Second
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	tr.Proxy = nil // a loopback/LAN Jupyter server is not reached through HTTP_PROXY
	return &Client{base: u, token: cfg.Token, hc: &http.Client{Transport: tr, Timeout: to}, tls: tc}, nil
}

// Base is the server's base URL (no token in it).
func (c *Client) Base() string { return c.base.String() }

func (c *Client) endpoint(p string, ws bool) string {
	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + "/" + strings.TrimPrefix(p, "/")
	if ws {
		if u.Scheme == "https" {
			u.Scheme = "wss"
		} else {
			u.Scheme = "ws"
		}
	}
	return u.String()
}

func (c *Client) header() http.Header {
	h := http.Header{}
	if c.token != "" {
		h.Set("Authorization", "token "+c.token)
	}
	return h
}

func (c *Client) do(ctx context.Context, method, p string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint(p, false), rd)
	if err != nil {
		return err
	}
	req.Header = c.header()
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: %s %s: %v", ErrUnreachable, method, c.endpoint(p, false), stripURLErr(err))
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%w (%s %s: HTTP %d); check the token", ErrUnauthorized, method, p, resp.StatusCode)
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%w: %s %s (%s)", ErrNotFound, method, p, serverMessage(data))
	case resp.StatusCode >= 300:
		return fmt.Errorf("jupyter server: %s %s: HTTP %d: %s", method, p, resp.StatusCode, serverMessage(data))
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("jupyter server: %s %s: bad JSON: %v", method, p, err)
		}
	}
	return nil
}

func stripURLErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func serverMessage(b []byte) string {
	var m struct {
		Message string `json:"message"`
		Reason  string `json:"reason"`
	}
	if json.Unmarshal(b, &m) == nil && (m.Message != "" || m.Reason != "") {
		return strings.TrimSpace(m.Reason + " " + m.Message)
	}
	s := string(b)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// KernelModel is a kernel as /api/kernels describes it.
type KernelModel struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	LastActivity   string `json:"last_activity,omitempty"`
	ExecutionState string `json:"execution_state,omitempty"`
	Connections    int    `json:"connections,omitempty"`
}

// KernelSpec is one entry of /api/kernelspecs.
type KernelSpec struct {
	Name string `json:"name"`
	Spec struct {
		DisplayName   string `json:"display_name"`
		Language      string `json:"language"`
		InterruptMode string `json:"interrupt_mode,omitempty"`
	} `json:"spec"`
}

// KernelSpecs lists the server's kernelspecs and its default one.
func (c *Client) KernelSpecs(ctx context.Context) (def string, specs map[string]KernelSpec, err error) {
	var out struct {
		Default     string                `json:"default"`
		KernelSpecs map[string]KernelSpec `json:"kernelspecs"`
	}
	if err := c.do(ctx, http.MethodGet, "api/kernelspecs", nil, &out); err != nil {
		return "", nil, err
	}
	return out.Default, out.KernelSpecs, nil
}

// Kernels lists the running kernels.
func (c *Client) Kernels(ctx context.Context) ([]KernelModel, error) {
	var out []KernelModel
	err := c.do(ctx, http.MethodGet, "api/kernels", nil, &out)
	return out, err
}

// Kernel describes one kernel (ErrNotFound when it is gone).
func (c *Client) Kernel(ctx context.Context, id string) (KernelModel, error) {
	var out KernelModel
	err := c.do(ctx, http.MethodGet, "api/kernels/"+url.PathEscape(id), nil, &out)
	return out, err
}

// StartKernel starts a kernel of the named spec ("" = the server's default);
// path is the kernel's working directory relative to the server's root.
func (c *Client) StartKernel(ctx context.Context, name, path string) (KernelModel, error) {
	body := map[string]any{}
	if name != "" {
		body["name"] = name
	}
	if path != "" {
		body["path"] = path
	}
	var out KernelModel
	if err := c.do(ctx, http.MethodPost, "api/kernels", body, &out); err != nil {
		return out, fmt.Errorf("start remote kernel %q: %w", name, err)
	}
	return out, nil
}

// Interrupt interrupts a kernel.
func (c *Client) Interrupt(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodPost, "api/kernels/"+url.PathEscape(id)+"/interrupt", nil, nil)
}

// Restart restarts a kernel (the server keeps its id).
func (c *Client) Restart(ctx context.Context, id string) (KernelModel, error) {
	var out KernelModel
	err := c.do(ctx, http.MethodPost, "api/kernels/"+url.PathEscape(id)+"/restart", nil, &out)
	return out, err
}

// Delete shuts a kernel down.
func (c *Client) Delete(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "api/kernels/"+url.PathEscape(id), nil, nil)
}
