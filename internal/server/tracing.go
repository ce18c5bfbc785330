package server

import (
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"

	"github.com/igny8/aiconfig/internal/access"
	"github.com/igny8/aiconfig/internal/tracing"
)

// tracingOption gives every call a server span, continuing the caller's
// trace from its W3C traceparent metadata. Health checks and reflection
// get none (orchestrators probe every few seconds). Metrics stay
// Prometheus's: the handler gets a no-op meter.
func tracingOption(tp trace.TracerProvider) grpc.ServerOption {
	return grpc.StatsHandler(otelgrpc.NewServerHandler(
		otelgrpc.WithTracerProvider(tp),
		otelgrpc.WithPropagators(tracing.Propagator),
		otelgrpc.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelgrpc.WithFilter(func(info *stats.RPCTagInfo) bool { return !access.Public(info.FullMethodName) }),
	))
}
