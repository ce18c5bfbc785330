// Package server assembles the gRPC server: the interceptor chain, the
// services, health and reflection.
package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/access"
	"github.com/igny8/aiconfig/internal/api"
	"github.com/igny8/aiconfig/internal/cache"
	"github.com/igny8/aiconfig/internal/secret"
	"github.com/igny8/aiconfig/internal/store"
)

// Deps are what the server is built from.
type Deps struct {
	Store *store.Store
	Keys  *secret.Keyring // nil: no secret key configured
	Cache *cache.Cache    // hot-path reads and token checks
	Log   *slog.Logger
}

// guardStore gives the access layer cached token and plan lookups, and
// the store for recording denied writes.
type guardStore struct {
	*cache.Cache
	st *store.Store
}

func (g guardStore) RecordDenied(ctx context.Context, reason, resource, accountID string) error {
	return g.st.RecordDenied(ctx, reason, resource, accountID)
}

// Server is a ready-to-serve gRPC server and its health service.
type Server struct {
	GRPC   *grpc.Server
	Health *health.Server
}

// New builds the server. The chain, outermost first: recovery (a panic
// becomes INTERNAL), logging (one line per call with the final code),
// request id (and the audit call the store records writes under), error
// mapping (domain errors to status + details), then access
// (authentication, then the proto-declared rule).
func New(d Deps, opts ...grpc.ServerOption) (*Server, error) {
	st, log := d.Store, d.Log
	guard, err := access.NewGuard(guardStore{d.Cache, st})
	if err != nil {
		return nil, err
	}
	logger := logging.LoggerFunc(func(ctx context.Context, lvl logging.Level, msg string, fields ...any) {
		log.Log(ctx, slog.Level(lvl), msg, fields...)
	})
	logOpts := []logging.Option{logging.WithLogOnEvents(logging.FinishCall)}
	panicked := recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in handler", "panic", p)
		return status.Error(codes.Internal, "internal error; the server log has the details")
	})
	opts = append(opts,
		grpc.ChainUnaryInterceptor(
			recovery.UnaryServerInterceptor(panicked),
			logging.UnaryServerInterceptor(logger, logOpts...),
			unaryRequestID(),
			unaryErrors(log),
			guard.UnaryInterceptor(),
		),
		grpc.ChainStreamInterceptor(
			recovery.StreamServerInterceptor(panicked),
			logging.StreamServerInterceptor(logger, logOpts...),
			streamRequestID(),
			streamErrors(log),
			guard.StreamInterceptor(),
		),
	)
	// Workers keep watch streams open for hours and ping every 30 s or so:
	// allow pings every 10 s, even between calls.
	opts = append(opts,
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 2 * time.Minute, Timeout: 20 * time.Second}),
	)
	s := grpc.NewServer(opts...)
	pb.RegisterConfigServiceServer(s, &api.ConfigServer{Store: st, Cache: d.Cache, Secrets: d.Keys})
	pb.RegisterAccountServiceServer(s, &api.AccountServer{Store: st})
	pb.RegisterTokenServiceServer(s, &api.TokenServer{Store: st})
	pb.RegisterPromptServiceServer(s, &api.PromptServer{Store: st, Cache: d.Cache})
	pb.RegisterAuditServiceServer(s, &api.AuditServer{Store: st})
	hs := health.NewServer()
	healthpb.RegisterHealthServer(s, hs)
	reflection.Register(s)
	return &Server{GRPC: s, Health: hs}, nil
}
