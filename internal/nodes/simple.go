package nodes

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/expr"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// inputText logs its payload and passes it through; the server applies no defaults and no
// field rules (the front end does).
type inputText struct{}

func (inputText) Execute(_ context.Context, in Input) (Output, error) {
	b, err := json.Marshal(in.Scope.Payload)
	if err != nil {
		return Output{}, Permanent("config", "encode input: %v", err)
	}
	return Output{
		Payload: in.Scope.Payload,
		Logs:    []Log{{Kind: "input", Message: "Input: " + string(b)}},
	}, nil
}

func (inputText) Validate(config json.RawMessage) []workflow.Problem {
	var cfg struct {
		Fields []struct {
			Key string `json:"key"`
		} `json:"fields"`
	}
	if err := json.Unmarshal(config, &cfg); err != nil {
		return []workflow.Problem{{Field: "fields", Message: "must be an array of {id, key, label, inputKind}"}}
	}
	return nil
}

// notification logs its rendered template and passes the payload through.
type notification struct{}

type notificationConfig struct {
	Template string `json:"template"`
}

func (x notification) Execute(ctx context.Context, in Input) (Output, error) {
	prepared, err := x.Prepare(in.Config)
	if err != nil {
		return Output{}, err
	}
	return prepared.Execute(ctx, in)
}

// Prepare parses the template.
func (notification) Prepare(config json.RawMessage) (Executor, error) {
	var cfg notificationConfig
	if err := json.Unmarshal(config, &cfg); err != nil {
		return nil, Permanent("config", "notification config: %v", err)
	}
	return preparedNotification(cfg), nil
}

// preparedNotification is a notification node with its config parsed.
type preparedNotification notificationConfig

func (x preparedNotification) Execute(_ context.Context, in Input) (Output, error) {
	msg, err := expr.RenderBounded(x.Template, in.Scope, in.meter())
	if err != nil {
		return Output{}, budgetError("notification template", err)
	}
	return Output{
		Payload: in.Scope.Payload,
		Logs:    []Log{{Kind: "notification", Message: msg}},
	}, nil
}

func (notification) Validate(config json.RawMessage) []workflow.Problem {
	var cfg notificationConfig
	if err := json.Unmarshal(config, &cfg); err != nil {
		return []workflow.Problem{{Field: "template", Message: "must be a string"}}
	}
	return checkTemplate("template", cfg.Template)
}

// MaxDelay bounds a delay node's wait.
const MaxDelay = 30 * 24 * time.Hour

// delay parks the task for the configured time; the payload passes through unchanged.
type delay struct{}

type delayConfig struct {
	DelayType  string   `json:"delayType"`
	DelayValue *float64 `json:"delayValue"`
	DelayMs    *float64 `json:"delayMs"`
}

var delayUnits = map[string]time.Duration{
	"seconds": time.Second,
	"minutes": time.Minute,
	"hours":   time.Hour,
	"days":    24 * time.Hour,
}

// wait returns the configured delay. Like the seed, a node without delayType/delayValue falls
// back to the legacy delayMs and then to 5 s; unlike the seed, an explicit 0 means no wait.
func (c delayConfig) wait() (time.Duration, error) {
	if c.DelayType != "" || c.DelayValue != nil {
		unit, ok := delayUnits[c.DelayType]
		if !ok {
			return 0, workflow.Invalid("delayType", "must be one of seconds, minutes, hours, days, got %q", c.DelayType)
		}
		if c.DelayValue == nil {
			return 0, workflow.Invalid("delayValue", "is required with delayType")
		}
		return bounded("delayValue", *c.DelayValue, unit)
	}
	if c.DelayMs != nil {
		return bounded("delayMs", *c.DelayMs, time.Millisecond)
	}
	return 5 * time.Second, nil
}

func bounded(field string, v float64, unit time.Duration) (time.Duration, error) {
	if math.IsNaN(v) || v < 0 || v*float64(unit) > float64(MaxDelay) {
		return 0, workflow.Invalid(field, "must be between 0 and %s", MaxDelay)
	}
	return time.Duration(v * float64(unit)), nil
}

func (x delay) Execute(ctx context.Context, in Input) (Output, error) {
	prepared, err := x.Prepare(in.Config)
	if err != nil {
		return Output{}, err
	}
	return prepared.Execute(ctx, in)
}

// Prepare reads the delay once for every execution of the node.
func (delay) Prepare(config json.RawMessage) (Executor, error) {
	var cfg delayConfig
	if err := json.Unmarshal(config, &cfg); err != nil {
		return nil, Permanent("config", "delay config: %v", err)
	}
	d, err := cfg.wait()
	if err != nil {
		return nil, &Error{Reason: "config", Err: err}
	}
	return preparedDelay(d), nil
}

// preparedDelay is a delay node compiled for its config: how long it waits.
type preparedDelay time.Duration

func (p preparedDelay) Execute(_ context.Context, in Input) (Output, error) {
	d := time.Duration(p)
	return Output{
		Payload: in.Scope.Payload,
		Wait:    d,
		Logs:    []Log{{Kind: "delay", Message: "Delay scheduled: " + describeDelay(d)}},
	}, nil
}

func (delay) Validate(config json.RawMessage) []workflow.Problem {
	var cfg delayConfig
	if err := json.Unmarshal(config, &cfg); err != nil {
		return []workflow.Problem{{Field: "delayValue", Message: "delayType must be a string and delayValue a number"}}
	}
	if _, err := cfg.wait(); err != nil {
		return problemsOf(err)
	}
	return nil
}

// describeDelay uses the floor of the largest whole unit, as the seed does.
func describeDelay(d time.Duration) string {
	for _, u := range []struct {
		name string
		d    time.Duration
	}{{"day", 24 * time.Hour}, {"hour", time.Hour}, {"minute", time.Minute}} {
		if d >= u.d {
			return fmt.Sprintf("%d %s(s)", d/u.d, u.name)
		}
	}
	return fmt.Sprintf("%d second(s)", d/time.Second)
}
