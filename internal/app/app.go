// Package app wires a serving replica together: the store, the cache and
// the change feed it follows, metrics, the gRPC server and health. `aiconfigd
// serve` and the test server (internal/testsrv) both build it here, so the
// tests run what production runs.
package app

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/igny8/aiconfig/internal/access"
	"go.opentelemetry.io/otel/trace"

	"github.com/igny8/aiconfig/internal/cache"
	"github.com/igny8/aiconfig/internal/metrics"
	"github.com/igny8/aiconfig/internal/secret"
	"github.com/igny8/aiconfig/internal/server"
	"github.com/igny8/aiconfig/internal/store"
	"github.com/igny8/aiconfig/internal/web"
)

// Config is every setting of a serving replica. Defaults holds the
// production values; `serve` takes its flags' defaults from it.
type Config struct {
	DatabaseURL   string
	Listen        string // gRPC address
	MetricsListen string // "" disables /metrics
	HTTPListen    string // HTTP/JSON, gRPC-Web and the console; "" disables
	HTTPInsecure  bool   // plain HTTP allowed on a non-loopback address
	Pprof         bool   // /debug/pprof/ on the metrics address
	Migrate       bool   // apply pending migrations first
	CacheDisabled bool
	// CacheMaxBytes bounds the memory cached accounts take; serve sizes
	// it from the memory limits unless set (PlanMemory).
	CacheMaxBytes int64
	// CacheBudgetSource says where CacheMaxBytes came from, for the
	// warning when the accounts do not fit ("": the setting).
	CacheBudgetSource string
	// Preload reads every account into the cache at start (readiness waits).
	Preload bool
	// Keys seal and open API keys; nil when no secret key is configured.
	Keys *secret.Keys
	// Transport: TLS files, connection age, request size.
	Transport server.Transport
	// Limits: calls without a valid token per peer, writes per token.
	Limits access.Limits
	// DrainDelay: on shutdown, how long health says NOT_SERVING before the
	// listener closes.
	DrainDelay time.Duration
	// ChangesRetention: the change feed keeps this much history.
	ChangesRetention time.Duration
	// KeyRetention: a write's idempotency key is answered from
	// the table this long (SPEC 17: at least 24 h), then pruned.
	KeyRetention time.Duration
	// FeedInterval: the feed is read at least this often, notifications or not.
	FeedInterval time.Duration
	// ChangesProgress: an idle WatchChanges stream says it is up to date this often.
	ChangesProgress time.Duration
	// HealthInterval: how often health checks the database.
	HealthInterval time.Duration
	// MaxStale: through a database outage, reads stay SERVING while the
	// change feed was in step less than this long ago.
	MaxStale time.Duration
	// ReportInterval: how often the replica reports itself and its key ids
	// (secrets rotate checks them); key files are re-read as often.
	ReportInterval time.Duration
	// DBMaxConns caps the database pool (AICONFIG_DB_MAX_CONNS); 0 leaves
	// the URL's pool_max_conns, else pgx's default.
	DBMaxConns int32
	// Tracer records a span per call and per store query within it
	// (internal/tracing builds it from OTEL_*); nil: tracing off.
	Tracer trace.TracerProvider
}

// Defaults are the production settings.
func Defaults() Config {
	return Config{
		Listen:           "127.0.0.1:50051",
		MetricsListen:    "127.0.0.1:9464",
		HTTPListen:       "127.0.0.1:8080",
		CacheMaxBytes:    defaultCacheBytes,
		Preload:          true,
		Transport:        server.Transport{MaxConnectionAge: 30 * time.Minute, MaxRecvBytes: 1 << 20},
		Limits:           access.DefaultLimits(),
		DrainDelay:       3 * time.Second,
		ChangesRetention: 7 * 24 * time.Hour,
		KeyRetention:     24 * time.Hour,
		FeedInterval:     time.Second,
		ChangesProgress:  10 * time.Second,
		HealthInterval:   2 * time.Second,
		MaxStale:         10 * time.Minute,
		ReportInterval:   5 * time.Second,
	}
}

// Check reports the first invalid setting, naming it.
func (c Config) Check() error {
	switch {
	case c.DatabaseURL == "":
		return errors.New("no database: set AICONFIG_DATABASE_URL or --database-url")
	case c.CacheMaxBytes < 1<<20:
		return errors.New("AICONFIG_CACHE_MAX_BYTES must be at least 1048576 (1 MiB)")
	case c.Transport.MaxRecvBytes < 1024:
		return errors.New("AICONFIG_MAX_RECV_BYTES must be at least 1024")
	case c.Transport.MaxConnectionAge <= 0:
		return errors.New("AICONFIG_MAX_CONNECTION_AGE must be positive")
	case c.DrainDelay < 0:
		return errors.New("AICONFIG_DRAIN_DELAY must not be negative")
	case c.Limits.Unauthenticated <= 0 || c.Limits.Writes <= 0 || c.Limits.UnauthenticatedBurst < 1 || c.Limits.WritesBurst < 1:
		return errors.New("AICONFIG_RATE_UNAUTHENTICATED and AICONFIG_RATE_WRITES must be positive")
	case c.ChangesRetention < time.Hour:
		return errors.New("AICONFIG_CHANGES_RETENTION must be at least 1h")
	case c.KeyRetention < 24*time.Hour:
		return errors.New("AICONFIG_IDEMPOTENCY_RETENTION must be at least 24h (clients retry a write within it)")
	case c.DBMaxConns < 0:
		return errors.New("AICONFIG_DB_MAX_CONNS must not be negative")
	case c.MaxStale < 0:
		return errors.New("AICONFIG_MAX_STALE must not be negative (0: reads go NOT_SERVING as soon as the database does)")
	}
	if err := c.Transport.Check(); err != nil {
		return err
	}
	if c.HTTPListen != "" {
		return web.CheckAddr(c.HTTPListen, c.Transport.TLSCert != "", c.HTTPInsecure)
	}
	return nil
}

// App is a serving replica whose listeners are bound.
type App struct {
	Config   Config
	Log      *slog.Logger
	Store    *store.Store
	Cache    *cache.Cache
	Follower *store.Follower
	Metrics  *metrics.Metrics
	Server   *server.Server
	// Addr is the gRPC listener's address (useful with port 0).
	Addr net.Addr

	// Denied audits refused write attempts in aggregate.
	Denied *access.DeniedLog

	lis     net.Listener
	metrics *http.Server
	http    *web.Server
	warm    atomic.Bool
}

// New checks the database (schema, stored keys), builds the replica and
// binds its listeners. Run serves; Close releases everything.
func New(ctx context.Context, cfg Config, log *slog.Logger) (_ *App, err error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if cfg.Migrate {
		if err := store.MigrateUp(cfg.DatabaseURL, cfg.Keys.Current()); err != nil {
			return nil, err
		}
	}
	a := &App{Config: cfg, Log: log}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	if a.Store, err = store.Open(ctx, cfg.DatabaseURL, store.MaxConns(cfg.DBMaxConns), store.Tracing(cfg.Tracer)); err != nil {
		return nil, err
	}
	if err := a.Store.CheckSchema(ctx); err != nil {
		return nil, err
	}
	// Refuse to start rather than fail a worker's first call later.
	if err := a.Store.CheckKeys(ctx, cfg.Keys.Current()); err != nil {
		return nil, err
	}
	if cfg.Keys.Current() == nil {
		log.Warn("no secret key configured: API keys cannot be set until AICONFIG_SECRET_KEY is")
	}
	a.Cache = cache.New(a.Store, cache.Options{Disabled: cfg.CacheDisabled, MaxBytes: cfg.CacheMaxBytes})
	a.Follower = &store.Follower{Store: a.Store, Log: log, Interval: cfg.FeedInterval, Retention: cfg.ChangesRetention,
		KeyRetention: cfg.KeyRetention}
	a.Metrics = metrics.New(a.Store, a.Cache, a.Follower)
	if a.Cache.Enabled() {
		a.Store.OnChange(a.Cache.Invalidate)
		a.Follower.Apply, a.Follower.InStep, a.Follower.Lost = a.Cache.Invalidate, a.Cache.SetInStep, a.Cache.Lost
	}
	a.Denied = access.NewDeniedLog(a.Store)
	if a.Server, err = server.New(server.Deps{Store: a.Store, Keys: cfg.Keys, Cache: a.Cache, Feed: a.Follower, FeedProgress: cfg.ChangesProgress,
		Log: log, Metrics: a.Metrics, Limits: cfg.Limits, Denied: a.Denied, Tracer: cfg.Tracer}, cfg.Transport); err != nil {
		return nil, err
	}
	var tlsConf *tls.Config
	if cfg.Transport.TLSCert != "" {
		if tlsConf, err = server.TLSConfig(cfg.Transport.TLSCert, cfg.Transport.TLSKey, cfg.Transport.TLSClientCA); err != nil {
			return nil, err
		}
	}
	if a.http, err = web.Start(a.Server.GRPC, web.Config{Addr: cfg.HTTPListen, TLS: tlsConf, Insecure: cfg.HTTPInsecure,
		Options: web.Options{Log: log}}); err != nil {
		return nil, err
	}
	if a.lis, err = net.Listen("tcp", cfg.Listen); err != nil {
		return nil, fmt.Errorf("AICONFIG_LISTEN: %w", err)
	}
	a.Addr = a.lis.Addr()
	if cfg.MetricsListen != "" {
		mlis, err := net.Listen("tcp", cfg.MetricsListen)
		if err != nil {
			return nil, fmt.Errorf("AICONFIG_METRICS_LISTEN: %w", err)
		}
		a.metrics = &http.Server{Handler: a.Metrics.Handler(cfg.Pprof), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = a.metrics.Serve(mlis) }()
		log.Info("metrics", "listen", mlis.Addr().String(), "pprof", cfg.Pprof)
	}
	return a, nil
}

// Run serves until ctx ends, then stops gracefully: health reports
// NOT_SERVING for the drain delay (so balancers stop routing here), watch
// streams end with UNAVAILABLE (clients reconnect elsewhere), in-flight
// calls finish (20 s at most).
func (a *App) Run(ctx context.Context) error {
	bg, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { stop(); wg.Wait() }()
	wg.Go(func() {
		a.preload(bg)
		a.warm.Store(true)
		a.Follower.Run(bg)
	})
	wg.Go(func() { a.Denied.Run(bg) })
	keysChanged := make(chan struct{}, 1)
	if a.Config.Keys != nil {
		a.Config.Keys.OnReload = func() {
			select {
			case keysChanged <- struct{}{}:
			default:
			}
		}
	}
	wg.Go(func() { a.Config.Keys.Watch(bg, a.Config.ReportInterval) })
	wg.Go(func() { a.report(bg, keysChanged) })
	wg.Go(func() { a.Server.WatchHealth(bg, a, a.Config.HealthInterval, a.Log) })
	a.Log.Info("serving", "listen", a.Addr.String(), "schema_version", store.ExpectedVersion())
	errc := make(chan error, 1)
	go func() { errc <- a.Server.GRPC.Serve(a.lis) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.Log.Info("shutting down", "drain_delay", a.Config.DrainDelay.String())
	a.Server.Drain()
	// Keep accepting calls while health checks see NOT_SERVING.
	time.Sleep(a.Config.DrainDelay)
	done := make(chan struct{})
	go func() {
		// HTTP first: its calls in flight run inside the gRPC server, and
		// GracefulStop would cut them off.
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		_ = a.http.Shutdown(sctx)
		cancel()
		a.Server.GRPC.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		a.Server.GRPC.Stop()
	}
	return nil
}

// report tells the database this replica serves and which secret keys it
// holds, every ReportInterval and at once when its keys change, until ctx
// ends; then it withdraws.
func (a *App) report(ctx context.Context, keysChanged <-chan struct{}) {
	host, _ := os.Hostname()
	r := store.Replica{ID: fmt.Sprintf("%s:%d:%d", host, os.Getpid(), time.Now().UnixNano()), Host: host, PID: os.Getpid()}
	t := time.NewTicker(a.Config.ReportInterval)
	defer t.Stop()
	for {
		r.KeyIDs = a.Config.Keys.IDs()
		if err := a.Store.ReportReplica(ctx, r); err != nil && ctx.Err() == nil {
			a.Log.Debug("replica report failed", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			dctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = a.Store.ForgetReplica(dctx, r.ID)
			cancel()
			return
		case <-t.C:
		case <-keysChanged:
		}
	}
}

// preload fills the cache with every account (as far as it holds them) in
// one streaming read, so the first calls do not each go to the database,
// and starts the change feed where the read's snapshot stood.
func (a *App) preload(ctx context.Context) {
	if !a.Cache.Enabled() || !a.Config.Preload {
		return
	}
	start := time.Now()
	n := 0
	rev, err := a.Store.Preload(ctx, func(d store.AccountData) bool {
		n++
		return a.Cache.Preloaded(d)
	})
	if err != nil {
		// Serve anyway: accounts load on first use, the feed starts at the head.
		a.Log.Warn("preload failed; accounts will load on first use", "error", err.Error())
		return
	}
	a.Follower.StartAt(rev)
	if a.Cache.Len() < n { // the budget filled: the preload stopped
		source := cmp.Or(a.Config.CacheBudgetSource, "AICONFIG_CACHE_MAX_BYTES")
		a.Log.Warn(fmt.Sprintf("the accounts do not fit the cache: it filled after %d of them, so the others are read from the database "+
			"when used (each evicting another); raise AICONFIG_CACHE_MAX_BYTES (now %d bytes, %s) or the memory limit it is sized from",
			a.Cache.Len(), a.Config.CacheMaxBytes, source),
			"accounts_cached", a.Cache.Len(), "cache_max_bytes", a.Config.CacheMaxBytes, "source", source)
	}
	a.Log.Info("preloaded", "accounts", a.Cache.Len(), "read", n, "bytes", a.Cache.Bytes(),
		"revision", rev, "took_ms", time.Since(start).Milliseconds())
}

// Warm reports whether the start-up preload is over (readiness waits for
// it, so a balancer sends calls to a replica that answers from memory).
func (a *App) Warm() bool { return a.warm.Load() }

// CheckWrites fails unless the database answers with the expected schema.
func (a *App) CheckWrites(ctx context.Context) error {
	if err := a.Store.Ping(ctx); err != nil {
		return err
	}
	return a.Store.CheckSchema(ctx)
}

// ReadsFromMemory reports whether the cache can answer without the
// database: warm, and in step with the change feed within MaxStale.
func (a *App) ReadsFromMemory() bool {
	return a.Cache.Warm() && a.Follower.InStepWithin(a.Config.MaxStale)
}

// Close stops serving at once and releases everything.
func (a *App) Close() {
	if a.Server != nil {
		a.Server.GRPC.Stop()
	}
	if a.lis != nil {
		_ = a.lis.Close()
	}
	if a.metrics != nil {
		_ = a.metrics.Close()
	}
	_ = a.http.Close()
	if a.Store != nil {
		a.Store.Close()
	}
}
