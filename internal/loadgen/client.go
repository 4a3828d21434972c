package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// Client drives a running SequenceFlow service through its REST API. It counts the requests
// it makes by kind, so their share of the database's transactions can be taken out.
type Client struct {
	base string
	http *http.Client
	// Starts, StatusPolls and ListPolls count execute-async, run status and run list requests.
	Starts, StatusPolls, ListPolls atomic.Int64
}

// NewClient returns a client of the service at base (e.g. http://127.0.0.1:3000).
func NewClient(base string) *Client {
	t := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
	}
	return &Client{base: strings.TrimRight(base, "/"), http: &http.Client{Transport: t, Timeout: 30 * time.Second}}
}

// CheckLocal refuses a base URL whose host is not a loopback address or localhost: a load
// generator pointed at a shared service by mistake does harm.
func CheckLocal(base string) error {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("base URL %q must be an http(s) URL", base)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("base URL %q is not on this machine (loopback or localhost); pass -allow-remote to load it anyway", base)
}

// Health waits until GET /health answers 200 or ctx ends.
func (c *Client) Health(ctx context.Context) error {
	var last error
	for {
		if last = c.do(ctx, http.MethodGet, "/health", nil, nil); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("service at %s is not healthy: %w", c.base, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// CreateWorkflow stores a workflow and returns its id.
func (c *Client) CreateWorkflow(ctx context.Context, name string, def workflow.Definition) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	body := map[string]any{"name": name, "workflow": def}
	if err := c.do(ctx, http.MethodPost, "/workflows", body, &out); err != nil {
		return "", fmt.Errorf("create workflow %q: %w", name, err)
	}
	if out.ID == "" {
		return "", fmt.Errorf("create workflow %q: response has no id", name)
	}
	return out.ID, nil
}

// DeleteWorkflow removes a workflow and its runs.
func (c *Client) DeleteWorkflow(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/workflows/"+id, nil, nil)
}

// StartRun starts a run with POST /workflows/{id}/execute-async and returns its id.
func (c *Client) StartRun(ctx context.Context, workflowID string, input any) (string, error) {
	c.Starts.Add(1)
	var out struct {
		RunID string `json:"runId"`
	}
	if err := c.do(ctx, http.MethodPost, "/workflows/"+workflowID+"/execute-async", map[string]any{"input": input}, &out); err != nil {
		return "", fmt.Errorf("start run: %w", err)
	}
	if out.RunID == "" {
		return "", fmt.Errorf("start run: response has no runId")
	}
	return out.RunID, nil
}

// RunStatus returns a run's status from GET /workflows/runs/{runId}/status.
func (c *Client) RunStatus(ctx context.Context, runID string) (string, error) {
	c.StatusPolls.Add(1)
	var out struct {
		Status string `json:"status"`
	}
	if err := c.do(ctx, http.MethodGet, "/workflows/runs/"+runID+"/status", nil, &out); err != nil {
		return "", fmt.Errorf("run %s status: %w", runID, err)
	}
	return out.Status, nil
}

// RunState is one entry of a workflow's run list.
type RunState struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// ListRuns returns every run of a workflow with its status (GET /workflows/{id}/runs).
func (c *Client) ListRuns(ctx context.Context, workflowID string) ([]RunState, error) {
	c.ListPolls.Add(1)
	var all []RunState
	// The list comes in pages; X-Next-Cursor names the next one.
	for q := "?limit=1000"; ; {
		var page []RunState
		hdr, err := c.send(ctx, http.MethodGet, "/workflows/"+workflowID+"/runs"+q, nil, &page)
		if err != nil {
			return nil, fmt.Errorf("list runs of %s: %w", workflowID, err)
		}
		all = append(all, page...)
		next := hdr.Get("X-Next-Cursor")
		if next == "" {
			return all, nil
		}
		q = "?limit=1000&cursor=" + url.QueryEscape(next)
	}
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	_, err := c.send(ctx, method, path, in, out)
	return err
}

// send is do that also returns the response's headers.
func (c *Client) send(ctx context.Context, method, path string, in, out any) (http.Header, error) {
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read response: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, excerpt(raw))
	}
	if out == nil {
		return resp.Header, nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return nil, fmt.Errorf("%s %s: decode response: %w", method, path, err)
	}
	return resp.Header, nil
}

func excerpt(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
