package telemetry

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
)

// Resource attribute keys SequenceFlow sets besides the semantic conventions' own.
const (
	// RoleKey is the process role (api, worker, dev, migrate).
	RoleKey = attribute.Key("sequenceflow.role")
	// ServiceNamespace groups every role of the product.
	ServiceNamespace = "sequenceflow"
)

// newResource describes this process with the SDK's detectors: telemetry SDK, host, process
// and runtime, then the service's identity (name, namespace, version, instance id, role),
// then OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME, each later source winning.
func newResource(ctx context.Context, cfg TracingConfig) (*resource.Resource, error) {
	instance := cfg.InstanceID
	if instance == "" {
		instance = uuid.NewString()
	}
	identity := []attribute.KeyValue{
		attribute.String("service.name", cfg.ServiceName),
		attribute.String("service.namespace", ServiceNamespace),
		attribute.String("service.instance.id", instance),
	}
	if cfg.ServiceVersion != "" {
		identity = append(identity, attribute.String("service.version", cfg.ServiceVersion))
	}
	if cfg.Role != "" {
		identity = append(identity, RoleKey.String(cfg.Role))
	}
	res, err := resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithHost(),
		resource.WithProcessPID(), resource.WithProcessExecutableName(),
		resource.WithProcessRuntimeName(), resource.WithProcessRuntimeVersion(),
		resource.WithAttributes(identity...),
		resource.WithDetectors(envResource{getenv: cfg.Getenv}),
	)
	if err != nil {
		return nil, fmt.Errorf("trace resource: %w", err)
	}
	return res, nil
}

// envResource is the SDK's environment detector (resource.WithFromEnv) reading the
// environment the process was configured with rather than the process's own, so a process
// configured through Config.Getenv describes itself the same way.
type envResource struct {
	getenv func(string) string
}

func (d envResource) Detect(context.Context) (*resource.Resource, error) {
	var attrs []attribute.KeyValue
	if raw := d.getenv("OTEL_RESOURCE_ATTRIBUTES"); raw != "" {
		kv, err := parseHeaders(raw) // the same key=value,... list, values URL-encoded
		if err != nil {
			return nil, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
		}
		for k, v := range kv {
			attrs = append(attrs, attribute.String(k, v))
		}
	}
	if name := d.getenv("OTEL_SERVICE_NAME"); name != "" {
		attrs = append(attrs, attribute.String("service.name", name))
	}
	return resource.NewSchemaless(attrs...), nil
}
