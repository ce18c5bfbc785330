package server

import (
	"context"
	"log/slog"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/igny8/aiconfig/internal/access"
)

// Checker is what health depends on: the database answering, with the
// schema at the version this binary expects.
type Checker interface {
	Ping(ctx context.Context) error
	CheckSchema(ctx context.Context) error
}

// WatchHealth sets grpc.health.v1 statuses ("" and every aiconfig
// service) from a check every interval until ctx ends. Once Drain has
// run, statuses stay NOT_SERVING.
func (s *Server) WatchHealth(ctx context.Context, c Checker, interval time.Duration, log *slog.Logger) {
	last := healthpb.HealthCheckResponse_UNKNOWN
	for {
		cctx, cancel := context.WithTimeout(ctx, interval)
		err := c.Ping(cctx)
		if err == nil {
			err = c.CheckSchema(cctx)
		}
		cancel()
		status := healthpb.HealthCheckResponse_SERVING
		if err != nil {
			status = healthpb.HealthCheckResponse_NOT_SERVING
		}
		if status != last {
			if err != nil {
				log.Warn("health: not serving", "error", err.Error())
			} else {
				log.Info("health: serving")
			}
			last = status
		}
		s.setStatus(status)
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

func (s *Server) setStatus(st healthpb.HealthCheckResponse_ServingStatus) {
	s.Health.SetServingStatus("", st)
	for name := range s.GRPC.GetServiceInfo() {
		if !access.Public("/" + name + "/") {
			s.Health.SetServingStatus(name, st)
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
