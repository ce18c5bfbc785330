package server

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// warming is a replica whose database answers and which is warm from the
// second check on.
type warming struct{ checks atomic.Int32 }

func (w *warming) CheckWrites(context.Context) error { w.checks.Add(1); return nil }
func (w *warming) ReadsFromMemory() bool             { return w.Warm() }
func (w *warming) Warm() bool                        { return w.checks.Load() > 1 }

// TestReadsServingOnceWarm: reads go SERVING soon after the warm-up ends,
// not an interval later (here an hour).
func TestReadsServingOnceWarm(t *testing.T) {
	s := &Server{GRPC: grpc.NewServer(), Health: health.NewServer(), draining: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.setStatus(healthpb.HealthCheckResponse_NOT_SERVING, healthpb.HealthCheckResponse_NOT_SERVING) // as New leaves it
	w := &warming{}
	go s.WatchHealth(ctx, w, time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)))
	status := func(svc string) healthpb.HealthCheckResponse_ServingStatus {
		r, err := s.Health.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
		if err != nil {
			return healthpb.HealthCheckResponse_UNKNOWN
		}
		return r.GetStatus()
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 10s (health checks every hour; reads %s)", what, status(""))
			}
		}
	}
	waitFor("reads SERVING once warm", func() bool { return status("") == healthpb.HealthCheckResponse_SERVING })
	if n := w.checks.Load(); n < 2 {
		t.Fatalf("reads SERVING after %d check, before the replica was warm", n)
	}
	if got := status(WritesService); got != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("writes %s", got)
	}
}
