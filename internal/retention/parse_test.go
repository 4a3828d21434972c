package retention_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/retention"
)

func TestParseRetention(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  string // a part of the error; "" when valid
	}{
		{in: "0", want: 0},
		{in: "0d", want: 0},
		{in: "0s", want: 0},
		{in: "30d", want: 30 * day},
		{in: "1d", want: day},
		{in: " 90d ", want: 90 * day},
		{in: "12h", want: 12 * time.Hour},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "720h", want: 30 * day},
		{in: "", err: "not a duration"},
		{in: "30", err: "not a duration"},
		{in: "d", err: "whole number of days"},
		{in: "1.5d", err: "whole number of days"},
		{in: "-1d", err: "whole number of days"},
		{in: "3 d", err: "whole number of days"},
		{in: "1d12h", err: "not a duration"},
		{in: "-5h", err: "negative"},
		{in: "999999999d", err: "too long"},
		{in: "month", err: "not a duration"},
	} {
		got, err := retention.ParseRetention(tc.in)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("ParseRetention(%q): %v", tc.in, err)
		case tc.err == "" && got != tc.want:
			t.Errorf("ParseRetention(%q) = %v, want %v", tc.in, got, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseRetention(%q) = %v, %v; want an error saying %q", tc.in, got, err, tc.err)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	if err := (retention.Config{Retention: time.Hour}).WithDefaults().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, c := range []retention.Config{
		{Retention: -time.Hour},
		{Retention: time.Hour, Interval: -time.Second},
		{Retention: time.Hour, Batch: -1},
		{Retention: time.Hour, Batch: retention.MaxBatch + 1},
		{Retention: time.Hour, Pause: -time.Second},
	} {
		if err := c.WithDefaults().Validate(); err == nil {
			t.Errorf("%+v was accepted", c)
		}
		if _, err := retention.NewPruner(c, nil, nil, nil); err == nil {
			t.Errorf("NewPruner(%+v) was accepted", c)
		}
	}
}
