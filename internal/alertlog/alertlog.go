// Package alertlog is the default receiver of the stacks' Alertmanager: it accepts the
// webhook notifications Alertmanager sends, writes one JSON log line per alert (firing at
// WARN, resolved at INFO, with its runbook link) and keeps the latest ones for GET /alerts, so
// an alert is delivered somewhere visible before a real paging integration is configured.
package alertlog

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

const (
	// maxBodyBytes bounds one notification; Alertmanager groups at most a few hundred alerts.
	maxBodyBytes = 1 << 20
	// keep is how many alerts GET /alerts returns, newest first.
	keep = 100
	// maxFieldBytes bounds each label or annotation kept or logged.
	maxFieldBytes = 1 << 10
)

// Notification is Alertmanager's webhook payload (version 4), the fields read here.
type Notification struct {
	Version string  `json:"version"`
	Status  string  `json:"status"`
	Alerts  []Alert `json:"alerts"`
}

// Alert is one alert of a notification.
type Alert struct {
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
	Received    time.Time         `json:"receivedAt"`
}

// Receiver serves POST /alerts (Alertmanager's webhook) and GET /alerts (the latest alerts).
type Receiver struct {
	log *slog.Logger
	now func() time.Time

	mu     sync.Mutex
	latest []Alert // oldest first, at most keep
}

// New returns a receiver logging to log.
func New(log *slog.Logger, now func() time.Time) *Receiver {
	if now == nil {
		now = time.Now
	}
	return &Receiver{log: log, now: now}
}

// ServeHTTP routes /alerts by method and answers /healthz.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	switch {
	case req.URL.Path == "/healthz" && req.Method == http.MethodGet:
		w.WriteHeader(http.StatusOK)
	case req.URL.Path == "/alerts" && req.Method == http.MethodPost:
		r.receive(w, req)
	case req.URL.Path == "/alerts" && req.Method == http.MethodGet:
		r.mu.Lock()
		out := make([]Alert, len(r.latest))
		for i, a := range r.latest {
			out[len(out)-1-i] = a
		}
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	default:
		http.NotFound(w, req)
	}
}

func (r *Receiver) receive(w http.ResponseWriter, req *http.Request) {
	var n Notification
	dec := json.NewDecoder(http.MaxBytesReader(w, req.Body, maxBodyBytes))
	if err := dec.Decode(&n); err != nil {
		http.Error(w, "body: not an Alertmanager webhook notification: "+err.Error(), http.StatusBadRequest)
		return
	}
	now := r.now()
	for _, a := range n.Alerts {
		a.Labels, a.Annotations = bounded(a.Labels), bounded(a.Annotations)
		a.Received = now
		level := slog.LevelWarn
		if a.Status == "resolved" {
			level = slog.LevelInfo
		}
		r.log.Log(req.Context(), level, "alert "+a.Status, "alertname", a.Labels["alertname"], "severity", a.Labels["severity"],
			"summary", a.Annotations["summary"], "runbook_url", a.Annotations["runbook_url"], "starts_at", a.StartsAt)
		r.mu.Lock()
		r.latest = append(r.latest, a)
		if len(r.latest) > keep {
			r.latest = append(r.latest[:0], r.latest[len(r.latest)-keep:]...)
		}
		r.mu.Unlock()
	}
	w.WriteHeader(http.StatusOK)
}

// cut bounds s to maxFieldBytes without splitting a character.
func cut(s string) string {
	if len(s) <= maxFieldBytes {
		return s
	}
	return strings.ToValidUTF8(s[:maxFieldBytes], "")
}

// bounded keeps at most 64 entries, each cut to maxFieldBytes.
func bounded(m map[string]string) map[string]string {
	out := make(map[string]string, min(len(m), 64))
	for k, v := range m {
		if len(out) == 64 {
			break
		}
		out[cut(k)] = cut(v)
	}
	return out
}
