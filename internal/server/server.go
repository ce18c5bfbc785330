// Package server assembles the gRPC server: the interceptor chain, the
// services, health and reflection.
package server

import (
	"errors"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"

	"github.com/igny8/aiconfig/internal/access"
	"github.com/igny8/aiconfig/internal/api"
	"github.com/igny8/aiconfig/internal/cache"
	"github.com/igny8/aiconfig/internal/metrics"
	"github.com/igny8/aiconfig/internal/secret"
	"github.com/igny8/aiconfig/internal/store"
)

// Deps are what the server is built from.
type Deps struct {
	Store *store.Store
	Keys  *secret.Keys    // nil: no secret key configured
	Cache *cache.Cache    // hot-path reads and token checks
	Feed  *store.Follower // the change feed, for WatchChanges
	// FeedProgress: how often an idle WatchChanges stream gets a progress event.
	FeedProgress time.Duration
	Log          *slog.Logger
	Metrics      *metrics.Metrics // nil: no metrics
	// Limits and Denied keep floods off the database and the audit log.
	Limits access.Limits
	Denied *access.DeniedLog
	// Tracer: a span per call (see tracingOption); nil: tracing off, no cost.
	Tracer trace.TracerProvider
}

// Transport is how the server meets its clients.
type Transport struct {
	// TLS: both files, or neither; with ClientCA, clients must present a
	// certificate it signed (mutual TLS). Files are re-read when they change.
	TLSCert, TLSKey, TLSClientCA string
	// MaxConnectionAge closes connections after this long (plus a minute's
	// grace) so long-lived clients rebalance across replicas.
	MaxConnectionAge time.Duration
	// MaxRecvBytes is the largest request accepted.
	MaxRecvBytes int
}

// Check reports an inconsistent TLS setting.
func (t Transport) Check() error {
	if (t.TLSCert == "") != (t.TLSKey == "") || (t.TLSClientCA != "" && t.TLSCert == "") {
		return errors.New("AICONFIG_TLS_CERT and AICONFIG_TLS_KEY go together, and AICONFIG_TLS_CLIENT_CA needs them")
	}
	return nil
}

// Options are the server options for t: keepalive, request size, TLS and
// how calls are scheduled, the one place they are set. New adds the
// interceptors and the codec; aiconfig-bench's reference server takes
// these as they are, so that it is measured as aiconfigd is served.
func (t Transport) Options() ([]grpc.ServerOption, error) {
	opts := []grpc.ServerOption{
		// Workers keep watch streams open for hours and ping every 30 s or
		// so: allow pings every 10 s, even between calls.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 2 * time.Minute, Timeout: 20 * time.Second,
			MaxConnectionAge: t.MaxConnectionAge, MaxConnectionAgeGrace: time.Minute}),
	}
	if t.MaxRecvBytes > 0 {
		opts = append(opts, grpc.MaxRecvMsgSize(t.MaxRecvBytes))
	}
	if t.TLSCert != "" {
		conf, err := TLSConfig(t.TLSCert, t.TLSKey, t.TLSClientCA)
		if err != nil {
			return nil, err
		}
		opts = append(opts, grpc.Creds(credentials.NewTLS(conf)))
	}
	// Serve calls on long-lived worker goroutines: a fresh goroutine per
	// call must grow its stack through the interceptor chain every time,
	// which profiling showed to cost more than the handler itself.
	opts = append(opts, grpc.NumStreamWorkers(uint32(max(128, 8*runtime.GOMAXPROCS(0)))))
	return opts, nil
}

// Server is a ready-to-serve gRPC server and its health service.
type Server struct {
	GRPC   *grpc.Server
	Health *health.Server

	draining  chan struct{}
	drainOnce sync.Once
}

// New builds the server. The chain, outermost first: the call's record,
// recovery, error mapping, metrics and log line, in one interceptor
// (calls.go); access (authentication, then the proto-declared rule); the
// request's text (text.go).
func New(d Deps, t Transport) (*Server, error) {
	st, log := d.Store, d.Log
	opts, err := t.Options()
	if err != nil {
		return nil, err
	}
	guard, err := access.NewGuard(d.Cache, d.Limits, d.Denied)
	if err != nil {
		return nil, err
	}
	c := &calls{log: log, rules: guard.Rules()}
	if d.Metrics != nil {
		c.metrics = d.Metrics.Calls
	}
	opts = append(opts,
		grpc.ChainUnaryInterceptor(c.unary(), guard.UnaryInterceptor(), unaryText()),
		grpc.ChainStreamInterceptor(c.stream(), guard.StreamInterceptor(), streamText()),
	)
	if d.Tracer != nil {
		opts = append(opts, tracingOption(d.Tracer))
	}
	opts = append(opts, grpc.ForceServerCodecV2(api.Codec()))
	s := grpc.NewServer(opts...)
	draining := make(chan struct{})
	// Write methods are registered wrapped for idempotency keys (idempotency.go).
	api.Register(keyedRegistrar{Server: s, store: st, rules: guard.Rules()}, api.Deps{Store: st, Cache: d.Cache, Secrets: d.Keys, Feed: d.Feed, FeedProgress: d.FeedProgress, Draining: draining})
	hs := health.NewServer()
	healthpb.RegisterHealthServer(s, hs)
	reflection.Register(s)
	c.describe(s)
	srv := &Server{GRPC: s, Health: hs, draining: draining}
	// Not serving until WatchHealth's first check says otherwise (the
	// health server starts out SERVING).
	srv.setStatus(healthpb.HealthCheckResponse_NOT_SERVING, healthpb.HealthCheckResponse_NOT_SERVING)
	return srv, nil
}
