package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

var sig = Signature{Header: DefaultSignatureHeader, TimestampHeader: DefaultTimestampHeader, Tolerance: DefaultTolerance}

func signedHeader(secret string, ts string, body string) http.Header {
	h := http.Header{}
	h.Set(DefaultTimestampHeader, ts)
	h.Set(DefaultSignatureHeader, Sign([]byte(secret), ts, []byte(body)))
	return h
}

func TestSignMatchesOpenSSL(t *testing.T) {
	t.Parallel()
	// printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'secret-of-sixteen'
	const want = "sha256=021c30d810963293d31f137660d219c4456edc51ce58968c7707b00f827b9216"
	if got := Sign([]byte("secret-of-sixteen"), "1700000000", []byte(`{"a":1}`)); got != want {
		t.Fatalf("Sign = %q, want %q (what openssl computes)", got, want)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	const secret = "secret-of-sixteen"
	now := time.Unix(1_700_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	body := `{"a":1}`
	cases := []struct {
		name   string
		header func() http.Header
		body   string
		result string
	}{
		{"valid", func() http.Header { return signedHeader(secret, ts, body) }, body, ""},
		{"valid upper-case hex", func() http.Header {
			h := signedHeader(secret, ts, body)
			h.Set(DefaultSignatureHeader, "SHA256="+strings.ToUpper(strings.TrimPrefix(h.Get(DefaultSignatureHeader), "sha256=")))
			return h
		}, body, ""},
		{"edge of tolerance", func() http.Header {
			return signedHeader(secret, strconv.FormatInt(now.Add(-DefaultTolerance).Unix(), 10), body)
		}, body, ""},
		{"missing signature", func() http.Header { h := signedHeader(secret, ts, body); h.Del(DefaultSignatureHeader); return h }, body, ResultSignatureMissing},
		{"two signatures", func() http.Header {
			h := signedHeader(secret, ts, body)
			h.Add(DefaultSignatureHeader, h.Get(DefaultSignatureHeader))
			return h
		}, body, ResultSignatureMalformed},
		{"no prefix", func() http.Header {
			h := signedHeader(secret, ts, body)
			h.Set(DefaultSignatureHeader, strings.TrimPrefix(h.Get(DefaultSignatureHeader), "sha256="))
			return h
		}, body, ResultSignatureMalformed},
		{"short hex", func() http.Header {
			h := signedHeader(secret, ts, body)
			h.Set(DefaultSignatureHeader, "sha256=abcd")
			return h
		}, body, ResultSignatureMalformed},
		{"not hex", func() http.Header {
			h := signedHeader(secret, ts, body)
			h.Set(DefaultSignatureHeader, "sha256="+strings.Repeat("zz", 32))
			return h
		}, body, ResultSignatureMalformed},
		{"wrong secret", func() http.Header { return signedHeader("other-secret-sixteen", ts, body) }, body, ResultSignatureInvalid},
		{"body changed", func() http.Header { return signedHeader(secret, ts, body) }, body + " ", ResultSignatureInvalid},
		{"timestamp changed", func() http.Header {
			h := signedHeader(secret, ts, body)
			h.Set(DefaultTimestampHeader, strconv.FormatInt(now.Unix()-1, 10))
			return h
		}, body, ResultSignatureInvalid},
		{"missing timestamp", func() http.Header { h := signedHeader(secret, ts, body); h.Del(DefaultTimestampHeader); return h }, body, ResultTimestampInvalid},
		{"timestamp not a number", func() http.Header { return signedHeader(secret, "12:00", body) }, body, ResultTimestampInvalid},
		{"timestamp in milliseconds far ahead", func() http.Header { return signedHeader(secret, strconv.FormatInt(now.UnixMilli(), 10), body) }, body, ResultTimestampInvalid},
		{"stale (replay)", func() http.Header {
			return signedHeader(secret, strconv.FormatInt(now.Add(-DefaultTolerance-time.Second).Unix(), 10), body)
		}, body, ResultTimestampExpired},
		{"from the future", func() http.Header {
			return signedHeader(secret, strconv.FormatInt(now.Add(DefaultTolerance+time.Second).Unix(), 10), body)
		}, body, ResultTimestampExpired},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := sig.Verify([]byte(secret), c.header(), []byte(c.body), now)
			if c.result == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var se *SignatureError
			if !errors.As(err, &se) || se.Result != c.result {
				t.Fatalf("error %v, want result %s", err, c.result)
			}
			header := sig.Header
			if strings.HasPrefix(c.result, "timestamp") {
				header = sig.TimestampHeader
			}
			if !strings.Contains(se.Message, header) {
				t.Errorf("message %q does not name %s", se.Message, header)
			}
			if strings.Contains(se.Message, secret) {
				t.Errorf("message shows the secret")
			}
		})
	}
}

func TestInput(t *testing.T) {
	t.Parallel()
	h := Hook{Signature: &Signature{Header: "X-Hub-Signature-256"}}
	hdr := http.Header{}
	for k, v := range map[string]string{"Authorization": "Bearer x", "Cookie": "a=b", "X-Api-Key": "k", "X-Hub-Signature-256": "sha256=..",
		"X-Shopify-Hmac-Sha256": "h", "X-Gitlab-Token": "t", "Proxy-Authorization": "p", "Content-Type": "application/json", "X-GitHub-Event": "push"} {
		hdr.Set(k, v)
	}
	hdr.Add("Accept", "a")
	hdr.Add("Accept", "b")
	raw, err := h.Input([]byte(`{"x":1}`), hdr, url.Values{"one": {"1"}, "many": {"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	var in struct {
		Body    map[string]any
		Headers map[string]string
		Query   map[string]any
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		t.Fatal(err)
	}
	if in.Body["x"] != float64(1) {
		t.Errorf("body %v", in.Body)
	}
	want := map[string]string{"content-type": "application/json", "x-github-event": "push", "accept": "a, b"}
	if len(in.Headers) != len(want) {
		t.Errorf("headers %v, want exactly %v", in.Headers, want)
	}
	for k, v := range want {
		if in.Headers[k] != v {
			t.Errorf("header %s = %q, want %q", k, in.Headers[k], v)
		}
	}
	if in.Query["one"] != "1" || len(in.Query["many"].([]any)) != 2 {
		t.Errorf("query %v", in.Query)
	}
	for body, want := range map[string]any{"": nil, "  ": nil, "a=1&b=2": "a=1&b=2", `[1,2]`: "[1 2]", `"s"`: "s"} {
		got, _ := h.Input([]byte(body), nil, nil)
		var v struct{ Body any }
		if err := json.Unmarshal(got, &v); err != nil {
			t.Fatal(err)
		}
		if want == nil && v.Body != nil || want != nil && fmt.Sprint(v.Body) != want {
			t.Errorf("body %q became %v, want %v", body, v.Body, want)
		}
	}
}

func TestDedupValue(t *testing.T) {
	t.Parallel()
	h := Hook{ID: "id", Dedup: Dedup{Header: DefaultDedupHeader, BodyField: "event.id"}}
	hdr := http.Header{}
	cases := []struct {
		header, body, want string
		fails              bool
	}{
		{"", `{"event":{"id":"e1"}}`, "e1", false},
		{"k1", `{"event":{"id":"e1"}}`, "k1", false},
		{"", `{"event":{"id":42}}`, "42", false},
		{"", `{"event":{"id":{"x":1}}}`, "", false},
		{"", `{"event":"flat"}`, "", false},
		{"", `not json`, "", false},
		{strings.Repeat("k", MaxDedupValue+1), `{}`, "", true},
	}
	for _, c := range cases {
		hdr.Set(DefaultDedupHeader, c.header)
		got, source, err := h.DedupValue(hdr, []byte(c.body))
		if (err != nil) != c.fails || got != c.want {
			t.Errorf("header %.10q body %s: %q (%s), %v; want %q", c.header, c.body, got, source, err, c.want)
		}
	}
	if k := h.IdempotencyKey("e1"); k != "hook:id:e1" {
		t.Errorf("key %q", k)
	}
}

func TestNewID(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		if !ValidID(id) || seen[id] {
			t.Fatalf("id %q invalid or repeated", id)
		}
		seen[id] = true
	}
	for _, bad := range []string{"", "short", strings.Repeat("a", 31), strings.Repeat("a", 33), strings.Repeat("a", 31) + "/", strings.Repeat("a", 31) + "="} {
		if ValidID(bad) {
			t.Errorf("ValidID(%q)", bad)
		}
	}
}

func TestValidBodyField(t *testing.T) {
	t.Parallel()
	for path, ok := range map[string]bool{"id": true, "event.id": true, "": false, ".id": false, "a..b": false, "a.": false} {
		if (ValidBodyField(path) == nil) != ok {
			t.Errorf("ValidBodyField(%q) ok = %v", path, !ok)
		}
	}
}
