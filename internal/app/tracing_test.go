package app_test

import (
	"context"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/app"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/pgtest"
	"github.com/igny8/aiconfig/internal/testsrv"
)

// TestTraceContext: a call carrying a W3C traceparent gets a server span
// in that trace, child of the caller's span, and its store queries are
// spans under it. Health checks and the change feed's polling make none.
func TestTraceContext(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	env := testsrv.StartWith(t, pgtest.NewDatabase(t), nil, func(c *app.Config) {
		c.Tracer = tp
		c.CacheDisabled = true // every read goes to the store
	})
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	if _, err := healthpb.NewHealthClient(env.Conn).Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the feed polls every 200ms here
	exp.Reset()

	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	traced := metadata.AppendToOutgoingContext(admin, "traceparent", "00-"+traceID+"-"+parentID+"-01")
	if _, err := env.Accounts.UpsertAccount(traced, &pb.UpsertAccountRequest{Account: &pb.Account{Id: "acct", Plan: pb.Plan_PLAN_STARTER}}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Config.GetModelConfig(traced, &pb.GetModelConfigRequest{AccountId: "acct", Function: "generate_content"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // a feed poll, which must add no span

	spans := exp.GetSpans()
	servers := map[trace.SpanID]string{}
	var queries int
	for _, s := range spans {
		if got := s.SpanContext.TraceID().String(); got != traceID {
			t.Errorf("span %q is in trace %s, not the caller's %s", s.Name, got, traceID)
		}
		if s.SpanKind == trace.SpanKindServer {
			servers[s.SpanContext.SpanID()] = s.Name
			if s.Parent.SpanID().String() != parentID || !s.Parent.IsRemote() {
				t.Errorf("server span %q has parent %s, want the caller's %s", s.Name, s.Parent.SpanID(), parentID)
			}
		}
	}
	for _, s := range spans {
		if s.SpanKind != trace.SpanKindClient {
			continue
		}
		queries++
		if _, ok := servers[s.Parent.SpanID()]; !ok {
			t.Errorf("store span %q is not a child of a server span", s.Name)
		}
		for _, a := range s.Attributes {
			if a.Key == "db.query.text" && a.Value.AsString() == "" {
				t.Errorf("store span %q has no statement", s.Name)
			}
		}
	}
	want := map[string]bool{"aiconfig.v1.AccountService/UpsertAccount": true, "aiconfig.v1.ConfigService/GetModelConfig": true}
	for _, name := range servers {
		delete(want, name)
	}
	if len(want) > 0 || len(servers) != 2 || queries < 2 {
		names := make([]string, len(spans))
		for i, s := range spans {
			names[i] = s.Name + " (" + s.SpanKind.String() + ")"
		}
		t.Fatalf("want one server span per call and store spans under them; got %v", names)
	}
}

// BenchmarkTracing measures what tracing adds to a cached GetModelConfig
// over loopback: off (no stats handler, no query tracer), a no-op
// provider (the otelgrpc handler with nothing recorded: about 40
// allocations and 2.7 KB more per call, which is why off means no handler
// at all), and the SDK recording every call.
func BenchmarkTracing(b *testing.B) {
	for _, tc := range []struct {
		name   string
		tracer trace.TracerProvider
	}{
		{"off", nil},
		{"noop", noop.NewTracerProvider()},
		{"sdk", sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))},
	} {
		b.Run(tc.name, func(b *testing.B) {
			env := testsrv.StartWith(b, pgtest.NewDatabase(b), nil, func(c *app.Config) { c.Tracer = tc.tracer })
			admin := testsrv.Ctx(env.Token(b, domain.RoleAdmin, ""))
			if _, err := env.Accounts.UpsertAccount(admin, &pb.UpsertAccountRequest{Account: &pb.Account{Id: "acct", Plan: pb.Plan_PLAN_STARTER}}); err != nil {
				b.Fatal(err)
			}
			req := &pb.GetModelConfigRequest{AccountId: "acct", Function: "generate_content"}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(p *testing.PB) {
				for p.Next() {
					if _, err := env.Config.GetModelConfig(admin, req); err != nil {
						b.Error(err)
					}
				}
			})
		})
	}
}
