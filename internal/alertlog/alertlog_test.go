package alertlog_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/alertlog"
)

// A notification as Alertmanager sends it is logged one line per alert, firing at WARN and
// resolved at INFO with the runbook link, and GET /alerts lists them newest first.
func TestReceiverLogsAndListsAlerts(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	r := alertlog.New(slog.New(slog.NewJSONHandler(&logs, nil)), func() time.Time { return time.Unix(1_800_000_000, 0).UTC() })
	body := `{"version":"4","status":"firing","receiver":"default","alerts":[
	  {"status":"firing","labels":{"alertname":"SequenceFlowBreakerOpen","severity":"warning","host":"api.example"},
	   "annotations":{"summary":"Circuit breaker open for api.example","runbook_url":"https://example/docs/RUNBOOKS.md#sequenceflowbreakeropen"},
	   "startsAt":"2027-01-15T08:00:00Z"},
	  {"status":"resolved","labels":{"alertname":"SequenceFlowAPIDown","severity":"critical"},
	   "annotations":{"summary":"API down"},"startsAt":"2027-01-15T07:00:00Z","endsAt":"2027-01-15T07:30:00Z"}]}`
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/alerts", strings.NewReader(body)))
	if rec.Code != http.StatusOK {
		t.Fatalf("POST /alerts: %d %s", rec.Code, rec.Body)
	}

	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 2 || lines[0]["level"] != "WARN" || lines[0]["msg"] != "alert firing" || lines[0]["alertname"] != "SequenceFlowBreakerOpen" ||
		lines[0]["runbook_url"] != "https://example/docs/RUNBOOKS.md#sequenceflowbreakeropen" ||
		lines[1]["level"] != "INFO" || lines[1]["msg"] != "alert resolved" || lines[1]["alertname"] != "SequenceFlowAPIDown" {
		t.Fatalf("log lines: %v", lines)
	}

	rec = httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/alerts", nil))
	var listed []alertlog.Alert
	if err := json.Unmarshal(rec.Body.Bytes(), &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 2 || listed[0].Labels["alertname"] != "SequenceFlowAPIDown" || listed[1].Labels["host"] != "api.example" ||
		!listed[0].Received.Equal(time.Unix(1_800_000_000, 0)) {
		t.Fatalf("listed alerts: %+v", listed)
	}
}

// Bad bodies are refused with a 400 naming the body; the list keeps only the latest 100
// alerts and cuts long values, so no sender can grow the receiver's memory.
func TestReceiverIsBounded(t *testing.T) {
	t.Parallel()
	r := alertlog.New(slog.New(slog.DiscardHandler), nil)
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/alerts", strings.NewReader("{not json")))
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "body:") {
		t.Fatalf("bad body: %d %s", rec.Code, rec.Body)
	}
	long := strings.Repeat("x", 5000)
	for i := range 30 {
		var alerts []string
		for j := range 10 {
			alerts = append(alerts, `{"status":"firing","labels":{"alertname":"A`+string(rune('a'+j))+`","n":"`+string(rune('0'+i%10))+`"},"annotations":{"summary":"`+long+`"}}`)
		}
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/alerts", strings.NewReader(`{"alerts":[`+strings.Join(alerts, ",")+`]}`)))
		if rec.Code != http.StatusOK {
			t.Fatalf("POST: %d", rec.Code)
		}
	}
	rec = httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/alerts", nil))
	var listed []alertlog.Alert
	if err := json.Unmarshal(rec.Body.Bytes(), &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 100 {
		t.Fatalf("%d alerts kept, want the latest 100", len(listed))
	}
	if got := len(listed[0].Annotations["summary"]); got != 1024 {
		t.Fatalf("summary kept at %d bytes, want 1024", got)
	}
	if listed[0].Labels["alertname"] != "Aj" {
		t.Fatalf("newest first: got %q", listed[0].Labels["alertname"])
	}
}
