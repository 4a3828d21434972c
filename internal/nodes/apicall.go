package nodes

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/net/http/httpguts"

	"github.com/sequenceflow/sequenceflow/internal/expr"
	"github.com/sequenceflow/sequenceflow/internal/outbound"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// HTTPDoer sends a request and reads its response; outbound.Client satisfies it.
type HTTPDoer interface {
	Do(req *http.Request) (*outbound.Response, error)
}

// APICallConfig configures the apiCall executor.
type APICallConfig struct {
	// SelfBaseURL replaces "http://localhost:3000" in node URLs, so workflows built against a
	// laptop's API reach the mock endpoints wherever the service runs (the seed's
	// API_HOST/API_PORT rewrite). Empty disables the rewrite.
	SelfBaseURL string
	// Secret resolves {{$secrets.NAME}} in header values at execution time (from SECRET_NAME
	// in the environment); nil means no secrets are available.
	Secret func(name string) (string, bool)
}

type apiCall struct {
	http HTTPDoer
	cfg  APICallConfig
}

func newAPICall(doer HTTPDoer, cfg APICallConfig) apiCall {
	cfg.SelfBaseURL = strings.TrimRight(cfg.SelfBaseURL, "/")
	return apiCall{http: doer, cfg: cfg}
}

type apiHeader struct {
	Key     string `json:"key"`
	Value   string `json:"value"`
	Enabled any    `json:"enabled"`
}

type apiCallConfig struct {
	Method              string      `json:"method"`
	URL                 string      `json:"url"`
	Headers             []apiHeader `json:"headers"`
	BodyTemplate        string      `json:"bodyTemplate"`
	ExpectedStatusCodes []int       `json:"expectedStatusCodes"`
}

var apiMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

func parseAPICallConfig(raw json.RawMessage) (apiCallConfig, error) {
	var cfg apiCallConfig
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return cfg, workflow.Invalid("", "apiCall config must be {method, url, headers: [{key, value, enabled}], bodyTemplate, timeoutMs, expectedStatusCodes: [int]}: %v", err)
	}
	cfg.Method = strings.ToUpper(cmp.Or(cfg.Method, "GET"))
	if len(cfg.ExpectedStatusCodes) == 0 {
		cfg.ExpectedStatusCodes = []int{200, 201, 202, 204}
	}
	v := &workflow.ValidationError{}
	if !slices.Contains(apiMethods, cfg.Method) {
		v.Add("method", "must be one of %s, got %q", strings.Join(apiMethods, ", "), cfg.Method)
	}
	if err := checkURLTemplate(cfg.URL); err != nil {
		v.Add("url", "%v", err)
	}
	for i, c := range cfg.ExpectedStatusCodes {
		if c < 100 || c > 599 {
			v.Add(fmt.Sprintf("expectedStatusCodes[%d]", i), "must be an HTTP status code, got %d", c)
		}
	}
	return cfg, v.OrNil()
}

// checkURLTemplate accepts absolute http(s) URLs; placeholders may fill any part after the
// scheme.
func checkURLTemplate(raw string) error {
	if strings.TrimSpace(raw) == "" {
		return errors.New("must not be empty")
	}
	if strings.HasPrefix(raw, "{{") {
		return nil // the whole URL comes from the payload; checked at run time
	}
	u, err := url.Parse(expr.Render(raw, expr.Scope{}))
	if err != nil {
		return fmt.Errorf("must be an absolute http(s) URL: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("must be an absolute http(s) URL, got scheme %q", u.Scheme)
	}
	if u.Host == "" && !strings.Contains(raw, "{{") {
		return errors.New("must be an absolute http(s) URL with a host")
	}
	return nil
}

func (a apiCall) Validate(config json.RawMessage) []workflow.Problem {
	cfg, err := parseAPICallConfig(config)
	if err != nil {
		return problemsOf(err)
	}
	problems := append(checkTemplate("url", cfg.URL), checkTemplate("bodyTemplate", cfg.BodyTemplate)...)
	for i, h := range cfg.Headers {
		if h.Key != "" && !httpguts.ValidHeaderFieldName(h.Key) {
			problems = append(problems, workflow.Problem{Field: fmt.Sprintf("headers[%d].key", i), Message: fmt.Sprintf("%q is not a valid header name", h.Key)})
		}
		problems = append(problems, checkTemplate(fmt.Sprintf("headers[%d].value", i), h.Value)...)
	}
	return problems
}

// errRequestTimeout keeps the seed's wording, which users' workflows may match on.
//
//lint:ignore ST1005 the seed's envelope text is capitalised
var errRequestTimeout = errors.New("Request timeout")

// envelope is the seed's response payload {status, statusText, data, headers, success[, error]}.
type envelope struct {
	Status     int               `json:"status"`
	StatusText string            `json:"statusText"`
	Data       any               `json:"data"`
	Headers    map[string]string `json:"headers"`
	Success    bool              `json:"success"`
	Error      string            `json:"error,omitempty"`
}

func (a apiCall) Execute(ctx context.Context, in Input) (Output, error) {
	prepared, _ := a.Prepare(in.Config)
	return prepared.Execute(ctx, in)
}

// Prepare parses the config once for every execution of the node. A config that does not
// parse gives an executor that fails each execution with the config error, as the call
// would.
func (a apiCall) Prepare(config json.RawMessage) (Executor, error) {
	cfg, err := parseAPICallConfig(config)
	return preparedAPICall{a: a, cfg: cfg, err: err}, nil
}

// preparedAPICall is an apiCall node compiled for its config.
type preparedAPICall struct {
	a   apiCall
	cfg apiCallConfig
	err error // the config's, reported by every execution
}

func (p preparedAPICall) Execute(ctx context.Context, in Input) (Output, error) {
	a, cfg := p.a, p.cfg
	if p.err != nil {
		return Output{}, a.fail(&Error{Reason: "config", Err: p.err}, cfg.URL)
	}
	m := in.meter()
	rendered, err := expr.RenderBounded(a.rewrite(cfg.URL), in.Scope, m)
	if err != nil {
		return Output{}, a.fail(budgetError("url template", err), cfg.URL)
	}
	target := encodeURL(rendered)
	headers, used, err := a.headers(cfg, in.Scope, m)
	secrets := outbound.NewSecrets(append(used, urlCredentials(target)...)...)
	if err != nil {
		return scrubResult(secrets, Output{}, a.fail(AsError(err), cfg.URL))
	}
	out, err := a.call(outbound.WithSecrets(ctx, secrets), cfg, in, m, target, headers)
	return scrubResult(secrets, out, err)
}

// call sends the request and turns the response into the seed's envelope.
func (a apiCall) call(ctx context.Context, cfg apiCallConfig, in Input, m *expr.Meter, target string, headers http.Header) (Output, error) {
	shown := redactURL(target) // what logs and errors may say of the target
	var body []byte
	sendBody := cfg.BodyTemplate != "" && (cfg.Method == "POST" || cfg.Method == "PUT" || cfg.Method == "PATCH")
	if sendBody {
		rendered, err := expr.RenderJSONBounded(cfg.BodyTemplate, in.Scope, m)
		if err != nil {
			return Output{}, a.fail(budgetError("bodyTemplate", err), cfg.URL)
		}
		body = []byte(rendered)
	}
	req, err := http.NewRequestWithContext(ctx, cfg.Method, target, bytes.NewReader(body))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the unmasked URL it quotes
		}
		return Output{}, a.fail(Permanent("config", "build request for %q: %v", shown, err), cfg.URL)
	}
	if !sendBody {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	req.Header = headers
	if sendBody && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}

	resp, err := a.http.Do(req)
	if err != nil {
		return Output{}, a.fail(classifyTransport(err), cfg.URL)
	}
	env := envelope{Status: resp.StatusCode, StatusText: resp.StatusText, Headers: flatten(resp.Header)}
	env.Data, err = decodeBody(resp)
	if err != nil {
		return Output{}, a.fail(Permanent("response", "decode response from %s: %v", shown, err), cfg.URL)
	}
	env.Success = slices.Contains(cfg.ExpectedStatusCodes, resp.StatusCode)
	pretty, _ := json.MarshalIndent(env.Data, "", "  ")
	line := fmt.Sprintf("%s %s → %d %s", cfg.Method, shown, resp.StatusCode, resp.StatusText)
	if env.Success || (resp.StatusCode >= 200 && resp.StatusCode < 300) {
		// An unexpected 2xx is reported but is not a failure (the seeded Person Enrichment
		// workflow depends on that).
		kind := "api"
		if !env.Success {
			kind, line = "api-error", line+" (unexpected status)"
		}
		return Output{Payload: env.payload(), Logs: []Log{{Kind: kind, Message: line + "\nResponse: " + string(pretty)}}}, nil
	}
	e := classifyStatus(resp)
	env.Error = e.Err.Error()
	e.Output = env.payload()
	e.Logs = []Log{{Kind: "api-error", Message: line + " (unexpected status)\nResponse: " + string(pretty)}}
	return Output{}, e
}

// fail turns an exception into the seed's error envelope and log line.
func (a apiCall) fail(e *Error, urlTemplate string) *Error {
	env := envelope{Status: 0, StatusText: "Error", Headers: map[string]string{}, Error: e.Err.Error()}
	details, _ := json.Marshal(map[string]string{"reason": e.Reason, "message": e.Err.Error()})
	e.Output = env.payload()
	e.Logs = []Log{{Kind: "api-error", Message: fmt.Sprintf("API Call failed: %s\nURL: %s\nError Details: %s", e.Err.Error(), redactURL(urlTemplate), details)}}
	return e
}

// redactURL masks the password of a URL's userinfo ("https://user:xxxxx@host/", as
// url.URL.Redacted does) for logs and error messages; it also handles URLs that do not parse.
func redactURL(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	authority := rest
	if end := strings.IndexAny(rest, "/?#"); end >= 0 {
		authority = rest[:end]
	}
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return raw
	}
	user, _, hasPassword := strings.Cut(authority[:at], ":")
	if !hasPassword {
		return raw
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}

func (e envelope) payload() map[string]any {
	m := map[string]any{
		"status":     e.Status,
		"statusText": e.StatusText,
		"data":       e.Data,
		"headers":    e.Headers,
		"success":    e.Success,
	}
	if e.Error != "" {
		m["error"] = e.Error
	}
	return m
}

func (a apiCall) rewrite(u string) string {
	if a.cfg.SelfBaseURL == "" {
		return u
	}
	return strings.ReplaceAll(u, "http://localhost:3000", a.cfg.SelfBaseURL)
}

func classifyTransport(err error) *Error {
	var throttled *outbound.ThrottledError
	switch {
	case errors.As(err, &throttled):
		return &Error{Throttled: true, Reason: throttled.Reason, RetryAfter: throttled.Wait, Err: err}
	case outbound.IsBlocked(err):
		return &Error{Reason: "blocked_address", Err: err}
	case errors.As(err, new(*outbound.InvalidHeaderError)):
		return &Error{Reason: "invalid_header", Err: err}
	case errors.Is(err, outbound.ErrRedirectCarriesSecret):
		return &Error{Reason: "response", Err: err}
	case outbound.IsBreakerOpen(err):
		return &Error{Retryable: true, Reason: "breaker_open", Err: err}
	case errors.Is(err, outbound.ErrResponseTooLarge):
		return &Error{Reason: "response", Err: err}
	case outbound.IsTimeout(err):
		return &Error{Retryable: true, Reason: "timeout", Err: errRequestTimeout}
	case errors.Is(err, context.Canceled):
		return &Error{Reason: "cancelled", Err: err}
	}
	var ue *url.Error
	if errors.As(err, &ue) && strings.Contains(ue.Err.Error(), "unsupported protocol scheme") {
		return &Error{Reason: "config", Err: err}
	}
	return &Error{Retryable: true, Reason: "connection", Err: err}
}

func classifyStatus(resp *outbound.Response) *Error {
	err := fmt.Errorf("unexpected status %d %s", resp.StatusCode, resp.StatusText)
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return &Error{Retryable: true, Reason: "http_429", RetryAfter: outbound.RetryAfter(resp.Header.Get("Retry-After"), time.Now()), Err: err}
	case resp.StatusCode >= 500:
		return &Error{Retryable: true, Reason: "http_5xx", RetryAfter: outbound.RetryAfter(resp.Header.Get("Retry-After"), time.Now()), Err: err}
	}
	return &Error{Reason: "http_status", Err: err}
}

// decodeBody turns a response body into the output's data: JSON bodies decoded, text as a
// string, and a body that is not text — not valid UTF-8 or
// containing NUL, such as an image — as {"data": "<base64>", "encoding": "base64",
// "contentType": "<Content-Type>"}, so every body can be stored and passed on unchanged.
func decodeBody(resp *outbound.Response) (any, error) {
	contentType := resp.Header.Get("Content-Type")
	if !utf8.Valid(resp.Body) || bytes.IndexByte(resp.Body, 0) >= 0 {
		return binaryBody{raw: resp.Body, contentType: contentType}, nil
	}
	if !strings.Contains(contentType, "application/json") {
		return string(resp.Body), nil
	}
	if len(bytes.TrimSpace(resp.Body)) == 0 {
		return nil, nil
	}
	var v any
	if err := json.Unmarshal(resp.Body, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// binaryBody is a response body that is not text. It is encoded as base64 only when the output
// is marshalled, so secrets are scrubbed from its bytes (scrubValue) before they are hidden
// in base64.
type binaryBody struct {
	raw         []byte
	contentType string
}

func (b binaryBody) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"data": base64.StdEncoding.EncodeToString(b.raw), "encoding": "base64", "contentType": b.contentType})
}

func flatten(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		name := strings.ToLower(k)
		if redactedHeaders[name] {
			out[name] = "[redacted]"
			continue
		}
		out[name] = strings.Join(v, ", ")
	}
	return out
}

// truthy follows JavaScript truthiness for the header "enabled" flag.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0
	case string:
		return x != ""
	}
	return true
}

// encodeURL percent-encodes what a browser's fetch would in a rendered URL (spaces, controls,
// non-ASCII and "<>\^`{|}), so "?city={{city}}" with "New York" stays a valid request.
func encodeURL(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"<>\\^`{|}", c) >= 0 {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
