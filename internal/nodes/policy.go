package nodes

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// onError values.
const (
	OnErrorFail     = "fail"
	OnErrorContinue = "continue"
)

// Policy is how the engine treats a node's failures and how long it may run.
type Policy struct {
	// Retries is how many times a retryable failure is retried (0..10, default 3; 0 for
	// invokeWorkflow nodes).
	Retries int
	// OnError is "fail" (fail the run) or "continue" (complete with an error payload);
	// apiCall nodes default to "continue", all other types to "fail".
	OnError string
	// Timeout is the execution deadline of one attempt.
	Timeout time.Duration
	// ChildTimeout is how long an invokeWorkflow node waits for its child run, per attempt
	// (its timeoutMs; 0: until the child finishes).
	ChildTimeout time.Duration
}

// MaxRetries bounds the retries a node may ask for.
const MaxRetries = 10

// MaxTemplateBytes bounds one template (notification text, apiCall URL, header value, body).
const MaxTemplateBytes = 32 << 10

// checkTemplate reports a template longer than MaxTemplateBytes.
func checkTemplate(field, tmpl string) []workflow.Problem {
	if len(tmpl) > MaxTemplateBytes {
		return []workflow.Problem{{Field: field, Message: fmt.Sprintf("template is %d bytes, larger than the limit of %d bytes", len(tmpl), MaxTemplateBytes)}}
	}
	return nil
}

// MaxTimeout bounds a node's execution deadline.
const MaxTimeout = 10 * time.Minute

// waitsTimeout reports whether a node type's timeoutMs is how long it waits (a wait node's
// event, an invokeWorkflow node's child run) rather than the execution deadline of one attempt.
func waitsTimeout(nodeType string) bool {
	return nodeType == workflow.TypeWait || nodeType == workflow.TypeInvokeWorkflow
}

// ParsePolicy reads the optional common config keys "retries", "onError" and "timeoutMs" (for
// wait nodes timeoutMs is their wait's timeout, read by the node; for invokeWorkflow nodes it
// is ChildTimeout).
// defaultTimeout applies when the node sets none (apiCall nodes default to 10 s).
func ParsePolicy(nodeType string, config json.RawMessage, defaultTimeout time.Duration) (Policy, error) {
	var raw struct {
		Retries   *float64 `json:"retries"`
		OnError   *string  `json:"onError"`
		TimeoutMs *float64 `json:"timeoutMs"`
	}
	p := Policy{Retries: 3, OnError: OnErrorFail, Timeout: defaultTimeout}
	if nodeType == workflow.TypeAPICall {
		p.OnError = OnErrorContinue
		p.Timeout = 10 * time.Second
	}
	if nodeType == workflow.TypeInvokeWorkflow {
		// A failed child already retried its own nodes: running it again is opt-in.
		p.Retries = 0
	}
	if err := json.Unmarshal(config, &raw); err != nil {
		return p, workflow.Invalid("", "config keys retries, onError and timeoutMs must be a number, a string and a number: %v", err)
	}
	v := &workflow.ValidationError{}
	if raw.Retries != nil {
		if r := *raw.Retries; r != float64(int(r)) || r < 0 || r > MaxRetries {
			v.Add("retries", "must be a whole number from 0 to %d", MaxRetries)
		} else {
			p.Retries = int(r)
		}
	}
	if raw.OnError != nil {
		switch *raw.OnError {
		case OnErrorFail, OnErrorContinue:
			p.OnError = *raw.OnError
		default:
			v.Add("onError", "must be %q or %q, got %q", OnErrorFail, OnErrorContinue, *raw.OnError)
		}
	}
	if raw.TimeoutMs != nil && nodeType == workflow.TypeInvokeWorkflow {
		if d, err := boundedWait("timeoutMs", *raw.TimeoutMs, time.Millisecond); err != nil {
			v.Problems = append(v.Problems, problemsOf(err)...)
		} else {
			p.ChildTimeout = d
		}
	}
	if raw.TimeoutMs != nil && !waitsTimeout(nodeType) {
		ms := *raw.TimeoutMs
		if ms < 1 || time.Duration(ms)*time.Millisecond > MaxTimeout {
			v.Add("timeoutMs", "must be between 1 and %d", MaxTimeout.Milliseconds())
		} else {
			p.Timeout = time.Duration(ms * float64(time.Millisecond))
		}
	}
	return p, v.OrNil()
}
