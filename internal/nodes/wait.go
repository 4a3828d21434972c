package nodes

import (
	"context"
	"encoding/json"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// DefaultWaitTimeout is how long a wait node waits for its event when its config sets no
// timeout.
const DefaultWaitTimeout = 24 * time.Hour

// MaxWaitTimeout bounds a wait node's timeout.
const MaxWaitTimeout = 30 * 24 * time.Hour

// wait parks its task until an event is delivered to it (the events route or its resume URL)
// or until its timeout passes. The engine completes it: with the event's payload on handle
// "out", or with its input on "out-timeout".
type wait struct{}

// waitConfig is a wait node's config: the timeout as timeoutMs, or as timeoutType (seconds,
// minutes, hours, days) and timeoutValue like a delay; the default is DefaultWaitTimeout.
type waitConfig struct {
	TimeoutMs    *float64 `json:"timeoutMs"`
	TimeoutType  string   `json:"timeoutType"`
	TimeoutValue *float64 `json:"timeoutValue"`
}

func (c waitConfig) timeout() (time.Duration, error) {
	var d time.Duration
	var err error
	switch {
	case c.TimeoutType != "" || c.TimeoutValue != nil:
		unit, ok := delayUnits[c.TimeoutType]
		if !ok {
			return 0, workflow.Invalid("timeoutType", "must be one of seconds, minutes, hours, days, got %q", c.TimeoutType)
		}
		if c.TimeoutValue == nil {
			return 0, workflow.Invalid("timeoutValue", "is required with timeoutType")
		}
		d, err = boundedWait("timeoutValue", *c.TimeoutValue, unit)
	case c.TimeoutMs != nil:
		d, err = boundedWait("timeoutMs", *c.TimeoutMs, time.Millisecond)
	default:
		d = DefaultWaitTimeout
	}
	return d, err
}

// boundedWait is v units as a timeout above 0 and at most MaxWaitTimeout.
func boundedWait(field string, v float64, unit time.Duration) (time.Duration, error) {
	if !(v > 0) || v*float64(unit) > float64(MaxWaitTimeout) {
		return 0, workflow.Invalid(field, "must be above 0 and at most %s (%d ms)", MaxWaitTimeout, MaxWaitTimeout.Milliseconds())
	}
	return max(time.Millisecond, time.Duration(v*float64(unit))), nil
}

// Prepare parses the timeout once per workflow version.
func (wait) Prepare(config json.RawMessage) (Executor, error) {
	var cfg waitConfig
	if err := json.Unmarshal(config, &cfg); err != nil {
		return nil, Permanent("config", "wait config: timeoutMs and timeoutValue must be numbers and timeoutType a string")
	}
	d, err := cfg.timeout()
	if err != nil {
		return nil, &Error{Reason: "config", Err: err}
	}
	return preparedWait{timeout: d}, nil
}

func (w wait) Execute(ctx context.Context, in Input) (Output, error) {
	prepared, err := w.Prepare(in.Config)
	if err != nil {
		return Output{}, err
	}
	return prepared.Execute(ctx, in)
}

func (wait) Validate(config json.RawMessage) []workflow.Problem {
	var cfg waitConfig
	if err := json.Unmarshal(config, &cfg); err != nil {
		return []workflow.Problem{{Field: "timeoutMs", Message: "timeoutMs and timeoutValue must be numbers and timeoutType a string"}}
	}
	if _, err := cfg.timeout(); err != nil {
		return problemsOf(err)
	}
	return nil
}

// preparedWait is a wait node with its timeout parsed.
type preparedWait struct{ timeout time.Duration }

func (w preparedWait) Execute(_ context.Context, in Input) (Output, error) {
	return Output{
		Payload: in.Scope.Payload,
		Wait:    w.timeout,
		Event:   true,
		Logs:    []Log{{Kind: "wait", Message: "Waiting for an event, at most " + describeDelay(w.timeout)}},
	}, nil
}
