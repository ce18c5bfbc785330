package tracing

import (
	"context"
	"log/slog"
	"testing"
)

// TestOffUnlessAskedFor: the standard variables decide; nothing set means
// no provider at all (the server then adds no tracing work).
func TestOffUnlessAskedFor(t *testing.T) {
	for _, tc := range []struct {
		env map[string]string
		on  bool
	}{
		{map[string]string{}, false},
		{map[string]string{"OTEL_SERVICE_NAME": "x"}, false},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_TRACES_EXPORTER": "none"}, false},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, false},
	} {
		for _, k := range []string{"OTEL_SERVICE_NAME", "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_SDK_DISABLED"} {
			t.Setenv(k, tc.env[k])
		}
		tp, stop, err := FromEnv(context.Background(), slog.Default())
		if err != nil {
			t.Fatalf("%v: %v", tc.env, err)
		}
		if (tp != nil) != tc.on {
			t.Errorf("%v: tracing on = %t, want %t", tc.env, tp != nil, tc.on)
		}
		if err := stop(context.Background()); err != nil {
			t.Errorf("%v: stop: %v", tc.env, err)
		}
	}
}
