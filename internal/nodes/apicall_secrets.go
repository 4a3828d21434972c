package nodes

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/sequenceflow/sequenceflow/internal/expr"
	"github.com/sequenceflow/sequenceflow/internal/outbound"
)

// secretRef matches {{$secrets.NAME}} in a header value.
var secretRef = regexp.MustCompile(`\{\{\s*\$secrets\.([A-Za-z0-9_]+)\s*\}\}`)

// redactedHeaders never reach a task's output: they carry credentials.
var redactedHeaders = map[string]bool{"authorization": true, "proxy-authorization": true, "cookie": true, "set-cookie": true}

// headers renders the enabled headers of cfg. Secrets are resolved only here, not in the
// template scope, so no other template (URL, body, notification) can reveal one; a secret's
// value is inserted as is (never rendered as a template), and text rendered from the payload
// can never become a secret reference. It returns the secret values used even on error, so
// that what is reported can be scrubbed of them.
func (a apiCall) headers(cfg apiCallConfig, scope expr.Scope, m *expr.Meter) (http.Header, []string, error) {
	h := http.Header{}
	var used []string
	for _, hd := range cfg.Headers {
		if !truthy(hd.Enabled) || hd.Key == "" || hd.Value == "" {
			continue
		}
		if !httpguts.ValidHeaderFieldName(hd.Key) {
			return nil, used, Permanent("invalid_header", "header %q: not a valid header name", hd.Key)
		}
		value, secrets, err := a.renderHeader(hd.Key, hd.Value, scope, m)
		used = append(used, secrets...)
		if err != nil {
			return nil, used, err
		}
		if !httpguts.ValidHeaderFieldValue(value) {
			return nil, used, Permanent("invalid_header",
				"header %q: its value after templating contains a control character (CR, LF, NUL, ...), which HTTP does not allow", hd.Key)
		}
		h.Set(hd.Key, value)
	}
	return h, used, nil
}

// urlCredentials are the Basic credentials net/http makes of a URL's userinfo and its
// password (unless shorter than minURLPassword, which would mask ordinary text): secrets of
// the execution like the header ones.
func urlCredentials(target string) []string {
	u, err := url.Parse(target)
	if err != nil || u.User == nil {
		return nil
	}
	password, ok := u.User.Password()
	if !ok || password == "" {
		return nil
	}
	creds := []string{base64.StdEncoding.EncodeToString([]byte(u.User.Username() + ":" + password))}
	if len(password) >= minURLPassword {
		creds = append(creds, password)
	}
	return creds
}

// minURLPassword is the shortest URL password scrubbed on its own.
const minURLPassword = 4

// renderHeader renders a header template around its secret references, within the
// execution's budget.
func (a apiCall) renderHeader(key, tmpl string, scope expr.Scope, m *expr.Meter) (string, []string, error) {
	var b strings.Builder
	var used []string
	render := func(part string) error {
		rendered, err := expr.RenderBounded(part, scope, m)
		if err != nil {
			return budgetError("header "+key, err)
		}
		b.WriteString(rendered)
		return nil
	}
	last := 0
	for _, ref := range secretRef.FindAllStringSubmatchIndex(tmpl, -1) {
		if err := render(tmpl[last:ref[0]]); err != nil {
			return "", used, err
		}
		name := tmpl[ref[2]:ref[3]]
		value, ok := "", false
		if a.cfg.Secret != nil {
			value, ok = a.cfg.Secret(name)
		}
		if !ok {
			// Names only the reference the workflow made, never which secrets exist.
			return "", used, &Error{Reason: "config", Err: fmt.Errorf("secret %s is not set: define SECRET_%s in the worker's environment", name, strings.ToUpper(name))}
		}
		b.WriteString(value)
		used = append(used, value)
		last = ref[1]
	}
	if err := render(tmpl[last:]); err != nil {
		return "", used, err
	}
	return b.String(), used, nil
}

// scrubResult removes every form of the execution's secrets from what the node reports: the
// payload (keys and values, numbers included), the log lines and the error, so a target that
// reflects a secret (echoed headers or body, an error page, a redirect's location, its status
// text) cannot get it stored, logged or traced.
func scrubResult(s *outbound.Secrets, out Output, err error) (Output, error) {
	if s == nil {
		return out, err
	}
	out.Payload = scrubValue(s, out.Payload)
	out.Logs = scrubLogs(s, out.Logs)
	var e *Error
	if errors.As(err, &e) {
		e.Output = scrubValue(s, e.Output)
		e.Logs = scrubLogs(s, e.Logs)
		e.Err = s.ScrubError(e.Err)
		return out, e
	}
	return out, s.ScrubError(err)
}

func scrubLogs(s *outbound.Secrets, logs []Log) []Log {
	for i := range logs {
		logs[i].Message = s.Scrub(logs[i].Message)
	}
	return logs
}

func scrubValue(s *outbound.Secrets, v any) any {
	switch x := v.(type) {
	case string:
		return s.Scrub(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[s.Scrub(k)] = scrubValue(s, e)
		}
		return out
	case map[string]string:
		out := make(map[string]string, len(x))
		for k, e := range x {
			out[s.Scrub(k)] = s.Scrub(e)
		}
		return out
	case binaryBody:
		return binaryBody{raw: []byte(s.Scrub(string(x.raw))), contentType: x.contentType}
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = scrubValue(s, e)
		}
		return out
	case float64: // a numeric secret reflected in a JSON body
		if s.Contains(strconv.FormatFloat(x, 'f', -1, 64)) {
			return outbound.Redacted
		}
	case int:
		if s.Contains(strconv.Itoa(x)) {
			return outbound.Redacted
		}
	}
	return v
}
