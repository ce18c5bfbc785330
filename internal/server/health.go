package server

import (
	"context"
	"errors"
	"log/slog"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/igny8/aiconfig/internal/access"
	"github.com/igny8/aiconfig/internal/domain"
)

// WritesService is the health service name that reports whether writes
// can succeed; "" and every aiconfig.v1 service report whether reads can.
const WritesService = "aiconfig.writes"

// Readiness is what health reports.
type Readiness interface {
	// CheckWrites fails unless writes can succeed: the database answers and
	// its schema is the one this binary expects.
	CheckWrites(ctx context.Context) error
	// ReadsFromMemory reports whether reads can be answered from memory
	// alone: the cache is warm and was in step with the change feed recently.
	ReadsFromMemory() bool
	// Warm reports whether the replica has finished warming up (reads are
	// NOT_SERVING until then).
	Warm() bool
}

// WatchHealth sets the grpc.health.v1 statuses every interval until ctx
// ends. Reads ("" and each aiconfig.v1 service) stay SERVING while the
// database answers or memory can answer: a replica serving from its cache
// through a database outage must not be pulled out of rotation with all
// the others. aiconfig.writes is SERVING only while writes can succeed, so
// dashboards and alerts see the outage. A schema this binary does not
// expect stops both. Once Drain has run, statuses stay NOT_SERVING.
func (s *Server) WatchHealth(ctx context.Context, r Readiness, interval time.Duration, log *slog.Logger) {
	var last [2]healthpb.HealthCheckResponse_ServingStatus
	for {
		cctx, cancel := context.WithTimeout(ctx, interval)
		err := r.CheckWrites(cctx)
		cancel()
		warm := r.Warm()
		writes, reads := serving(err == nil), serving(err == nil && warm)
		var de *domain.Error
		if err != nil && !(errors.As(err, &de) && de.Reason == domain.ReasonMigrationsPending) {
			reads = serving(warm && r.ReadsFromMemory())
		}
		if now := [2]healthpb.HealthCheckResponse_ServingStatus{reads, writes}; now != last {
			attrs := []any{"reads", reads.String(), "writes", writes.String()}
			if err != nil {
				attrs = append(attrs, "error", err.Error())
			}
			level := slog.LevelInfo
			if err != nil {
				level = slog.LevelWarn
			}
			log.Log(ctx, level, "health", attrs...)
			last = now
		}
		s.setStatus(reads, writes)
		next := interval
		if err == nil && !warm {
			next = min(interval, warmingPoll)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(next):
		}
	}
}

// warmingPoll is how often health checks while the replica warms up, so
// reads go SERVING as soon as it is warm rather than up to an interval
// later (a preloading replica waited 2 s for nothing).
const warmingPoll = 50 * time.Millisecond

func serving(ok bool) healthpb.HealthCheckResponse_ServingStatus {
	if ok {
		return healthpb.HealthCheckResponse_SERVING
	}
	return healthpb.HealthCheckResponse_NOT_SERVING
}

func (s *Server) setStatus(reads, writes healthpb.HealthCheckResponse_ServingStatus) {
	s.Health.SetServingStatus("", reads)
	s.Health.SetServingStatus(WritesService, writes)
	for name := range s.GRPC.GetServiceInfo() {
		if !access.Public("/" + name + "/") {
			s.Health.SetServingStatus(name, reads)
		}
	}
}

// Drain starts a graceful stop: health reports NOT_SERVING (so balancers
// stop sending), and watch streams end with UNAVAILABLE so clients
// reconnect elsewhere. In-flight unary calls are left to finish
// (grpc.Server.GracefulStop waits for them).
func (s *Server) Drain() {
	s.Health.Shutdown()
	s.drainOnce.Do(func() { close(s.draining) })
}
