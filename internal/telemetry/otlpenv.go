package telemetry

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// OTLP protocols of OTEL_EXPORTER_OTLP_PROTOCOL. http/protobuf is the specification's default.
const (
	ProtocolGRPC         = "grpc"
	ProtocolHTTPProtobuf = "http/protobuf"
)

// otlpSettings are the OTLP trace exporter settings of the standard variables, the traces
// variant of each taking precedence over the general one.
type otlpSettings struct {
	protocol    string
	endpoint    string // as given; "" means no export
	signal      bool   // endpoint came from ..._TRACES_ENDPOINT (used as is, no /v1/traces)
	headers     map[string]string
	timeout     time.Duration // 0: the exporter's default (10 s)
	insecure    bool          // gRPC endpoints without a scheme only
	compression string
}

// tracesVar reads OTEL_EXPORTER_OTLP_TRACES_<name>, else OTEL_EXPORTER_OTLP_<name>, and says
// which of the two it read.
func tracesVar(getenv func(string) string, name string) (value, variable string) {
	if v := getenv("OTEL_EXPORTER_OTLP_TRACES_" + name); v != "" {
		return v, "OTEL_EXPORTER_OTLP_TRACES_" + name
	}
	return getenv("OTEL_EXPORTER_OTLP_" + name), "OTEL_EXPORTER_OTLP_" + name
}

// readOTLPSettings reads and checks the OTLP variables; every error names its variable and
// never echoes a header value (they carry credentials).
func readOTLPSettings(getenv func(string) string) (otlpSettings, error) {
	var s otlpSettings
	proto, protoVar := tracesVar(getenv, "PROTOCOL")
	switch s.protocol = strings.ToLower(strings.TrimSpace(proto)); s.protocol {
	case "":
		s.protocol = ProtocolHTTPProtobuf
	case ProtocolGRPC, ProtocolHTTPProtobuf:
	case "http/json":
		return s, fmt.Errorf("%s: http/json is not supported; use http/protobuf or grpc", protoVar)
	default:
		return s, fmt.Errorf("%s: %q is not an OTLP protocol (grpc or http/protobuf)", protoVar, proto)
	}
	endpoint, endpointVar := tracesVar(getenv, "ENDPOINT")
	s.endpoint, s.signal = strings.TrimSpace(endpoint), endpointVar == "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	if s.endpoint != "" {
		if err := checkEndpoint(s.protocol, s.endpoint); err != nil {
			return s, fmt.Errorf("%s: %w", endpointVar, err)
		}
	}
	if raw, v := tracesVar(getenv, "HEADERS"); raw != "" {
		h, err := parseHeaders(raw)
		if err != nil {
			return s, fmt.Errorf("%s: %w", v, err)
		}
		s.headers = h
	}
	if raw, v := tracesVar(getenv, "TIMEOUT"); raw != "" {
		ms, err := strconv.Atoi(strings.TrimSpace(raw))
		if err != nil || ms < 0 {
			return s, fmt.Errorf("%s: %q is not a timeout in milliseconds", v, raw)
		}
		s.timeout = time.Duration(ms) * time.Millisecond
	}
	if raw, v := tracesVar(getenv, "INSECURE"); raw != "" {
		b, err := strconv.ParseBool(strings.TrimSpace(raw))
		if err != nil {
			return s, fmt.Errorf("%s: %q is not true or false", v, raw)
		}
		s.insecure = b
	}
	if raw, v := tracesVar(getenv, "COMPRESSION"); raw != "" {
		switch s.compression = strings.ToLower(strings.TrimSpace(raw)); s.compression {
		case "gzip", "none":
		default:
			return s, fmt.Errorf("%s: %q is not gzip or none", v, raw)
		}
	}
	return s, nil
}

// checkEndpoint accepts an http(s) URL, and for gRPC also a scheme-less host:port.
func checkEndpoint(protocol, endpoint string) error {
	if protocol == ProtocolGRPC && !strings.Contains(endpoint, "://") {
		if !strings.Contains(endpoint, ":") {
			return fmt.Errorf("%q is not host:port or an http(s) URL", endpoint)
		}
		return nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", endpoint)
	}
	return nil
}

// parseHeaders reads the W3C-baggage-like "key=value,key2=value2" list, values URL-encoded.
func parseHeaders(raw string) (map[string]string, error) {
	h := map[string]string{}
	for i, entry := range strings.Split(raw, ",") {
		if strings.TrimSpace(entry) == "" {
			continue
		}
		k, v, ok := strings.Cut(entry, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("entry %d is not key=value", i+1)
		}
		value, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("entry %d (%s) has a malformed URL-encoded value", i+1, k)
		}
		h[k] = value
	}
	return h, nil
}

// newOTLPExporter builds the official exporter of the configured protocol. The settings are
// passed as options (which take precedence over the exporters' own reading of the process
// environment), so the environment given to SetupTracing is the one that counts; the TLS
// certificate variables (OTEL_EXPORTER_OTLP_CERTIFICATE, ..._CLIENT_*) are read by the
// exporters themselves.
func newOTLPExporter(ctx context.Context, s otlpSettings) (sdktrace.SpanExporter, error) {
	if s.protocol == ProtocolGRPC {
		var opts []otlptracegrpc.Option
		if strings.Contains(s.endpoint, "://") {
			opts = append(opts, otlptracegrpc.WithEndpointURL(s.endpoint))
		} else {
			opts = append(opts, otlptracegrpc.WithEndpoint(s.endpoint))
			if s.insecure {
				opts = append(opts, otlptracegrpc.WithInsecure())
			}
		}
		if s.headers != nil {
			opts = append(opts, otlptracegrpc.WithHeaders(s.headers))
		}
		if s.timeout > 0 {
			opts = append(opts, otlptracegrpc.WithTimeout(s.timeout))
		}
		if s.compression != "" {
			opts = append(opts, otlptracegrpc.WithCompressor(s.compression))
		}
		return otlptracegrpc.New(ctx, opts...)
	}
	endpoint := s.endpoint
	if !s.signal {
		// The general endpoint is a base URL: the traces path is appended to it.
		endpoint = strings.TrimRight(endpoint, "/") + "/v1/traces"
	}
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(endpoint)}
	if s.headers != nil {
		opts = append(opts, otlptracehttp.WithHeaders(s.headers))
	}
	if s.timeout > 0 {
		opts = append(opts, otlptracehttp.WithTimeout(s.timeout))
	}
	switch s.compression {
	case "gzip":
		opts = append(opts, otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
	case "none":
		opts = append(opts, otlptracehttp.WithCompression(otlptracehttp.NoCompression))
	}
	return otlptracehttp.New(ctx, opts...)
}

// samplerFromEnv reads OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG (default
// parentbased_always_on, as the specification says).
func samplerFromEnv(getenv func(string) string) (sdktrace.Sampler, error) {
	name := strings.ToLower(strings.TrimSpace(getenv("OTEL_TRACES_SAMPLER")))
	ratio := func() (float64, error) {
		raw := strings.TrimSpace(getenv("OTEL_TRACES_SAMPLER_ARG"))
		if raw == "" {
			return 1, nil
		}
		r, err := strconv.ParseFloat(raw, 64)
		if err != nil || r < 0 || r > 1 {
			return 0, fmt.Errorf("OTEL_TRACES_SAMPLER_ARG: %q is not a ratio between 0 and 1", raw)
		}
		return r, nil
	}
	switch name {
	case "", "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "traceidratio", "parentbased_traceidratio":
		r, err := ratio()
		if err != nil {
			return nil, err
		}
		if name == "traceidratio" {
			return sdktrace.TraceIDRatioBased(r), nil
		}
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(r)), nil
	}
	return nil, fmt.Errorf("OTEL_TRACES_SAMPLER: %q is not supported (always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio)", name)
}
