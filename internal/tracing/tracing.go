// Package tracing sets up OpenTelemetry tracing from the standard OTEL_*
// environment variables. It is off unless asked for: with no exporter
// configured, nothing is recorded and the server adds no tracing work to
// a call.
//
// On when OTEL_TRACES_EXPORTER=otlp, or when an OTLP endpoint is set
// (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and
// OTEL_TRACES_EXPORTER is not "none". (The OpenTelemetry default exporter
// is otlp; here the default is off, so a replica started without a
// collector does not retry exports forever.) OTEL_SDK_DISABLED=true turns
// it off whatever else is set.
//
// The exporter speaks OTLP over gRPC or HTTP
// (OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL: grpc, or http/protobuf, the
// default) and reads its own variables: endpoint, headers, timeout,
// certificate, compression. OTEL_SERVICE_NAME (default aiconfigd) and
// OTEL_RESOURCE_ATTRIBUTES describe the replica; OTEL_TRACES_SAMPLER and
// OTEL_TRACES_SAMPLER_ARG choose the sampler (default
// parentbased_always_on: a caller's sampling decision is followed);
// OTEL_BSP_* tune the batching.
package tracing

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/igny8/aiconfig/internal/buildinfo"
)

// Propagator is how trace context crosses a call: W3C traceparent and
// tracestate (and baggage) metadata, read from every incoming call.
var Propagator propagation.TextMapPropagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// FromEnv returns the tracer provider the environment asks for, or nil
// when tracing is off, and a function that flushes and stops it (a no-op
// when off). Export errors are logged to log, at most as often as the
// exporter retries.
func FromEnv(ctx context.Context, log *slog.Logger) (trace.TracerProvider, func(context.Context) error, error) {
	noop := func(context.Context) error { return nil }
	on, err := enabled()
	if err != nil || !on {
		return nil, noop, err
	}
	if err := checkSampler(); err != nil {
		return nil, noop, err
	}
	exp, err := exporter(ctx)
	if err != nil {
		return nil, noop, err
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "aiconfigd"), attribute.String("service.version", buildinfo.Get().Version)),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win
		resource.WithTelemetrySDK(),
		resource.WithHost(),
	)
	if err != nil {
		return nil, noop, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { log.Warn("tracing", "error", err.Error()) }))
	// Instrumentation that reads the globals (none in this binary today)
	// then agrees with the server's.
	otel.SetTextMapPropagator(Propagator)
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)) // sampler from OTEL_TRACES_SAMPLER
	return tp, tp.Shutdown, nil
}

func enabled() (bool, error) {
	if disabled, _ := strconv.ParseBool(os.Getenv("OTEL_SDK_DISABLED")); disabled {
		return false, nil
	}
	switch exp := strings.TrimSpace(os.Getenv("OTEL_TRACES_EXPORTER")); exp {
	case "otlp":
		return true, nil
	case "none":
		return false, nil
	case "":
		return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "", nil
	default:
		return false, fmt.Errorf("OTEL_TRACES_EXPORTER: %q is not supported here: use otlp (to an OpenTelemetry collector) or none", exp)
	}
}

func exporter(ctx context.Context) (sdktrace.SpanExporter, error) {
	name := "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	proto := os.Getenv(name)
	if proto == "" {
		name = "OTEL_EXPORTER_OTLP_PROTOCOL"
		proto = os.Getenv(name)
	}
	switch proto {
	case "grpc":
		return otlptracegrpc.New(ctx)
	case "", "http/protobuf":
		return otlptracehttp.New(ctx)
	}
	return nil, fmt.Errorf("%s: %q is not supported: use grpc or http/protobuf", name, proto)
}

// checkSampler refuses a sampler setting the SDK would only complain
// about and replace with its default.
func checkSampler() error {
	s := strings.ToLower(strings.TrimSpace(os.Getenv("OTEL_TRACES_SAMPLER")))
	switch s {
	case "", "always_on", "always_off", "parentbased_always_on", "parentbased_always_off":
		return nil
	case "traceidratio", "parentbased_traceidratio":
		arg := strings.TrimSpace(os.Getenv("OTEL_TRACES_SAMPLER_ARG"))
		if v, err := strconv.ParseFloat(arg, 64); arg != "" && (err != nil || v < 0 || v > 1) {
			return fmt.Errorf("OTEL_TRACES_SAMPLER_ARG: %q is not a ratio between 0 and 1", arg)
		}
		return nil
	}
	return fmt.Errorf("OTEL_TRACES_SAMPLER: %q is not one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio", s)
}
