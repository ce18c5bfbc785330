package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/igny8/aiconfig/internal/access"
	"github.com/igny8/aiconfig/internal/app"
	"github.com/igny8/aiconfig/internal/secret"
	"github.com/igny8/aiconfig/internal/server"
	"github.com/igny8/aiconfig/internal/tracing"
)

// serveCmd is every setting of a serving replica. Defaults come from
// app.Defaults (through the ${...} variables run declares).
type serveCmd struct {
	dbFlag
	Listen           string        `name:"listen" env:"AICONFIG_LISTEN" default:"${listen}" help:"gRPC listen address."`
	MetricsListen    string        `name:"metrics-listen" env:"AICONFIG_METRICS_LISTEN" default:"${metrics_listen}" help:"Prometheus /metrics address; empty disables."`
	HTTPListen       string        `name:"http-listen" env:"AICONFIG_HTTP_LISTEN" default:"${http_listen}" help:"HTTP/JSON and console address; empty disables."`
	HTTPInsecure     bool          `name:"http-insecure" env:"AICONFIG_HTTP_INSECURE" help:"Allow the HTTP listener without TLS beyond loopback."`
	LogLevel         string        `name:"log-level" env:"AICONFIG_LOG_LEVEL" default:"info" enum:"debug,info,warn,error" help:"debug, info, warn or error (successful reads log at debug)."`
	Migrate          bool          `name:"migrate" env:"AICONFIG_MIGRATE" help:"Apply pending migrations before serving."`
	Cache            string        `name:"cache" env:"AICONFIG_CACHE" default:"on" enum:"on,off" help:"on: hot-path reads from memory; off: from the database."`
	CacheMaxBytes    int64         `name:"cache-max-bytes" env:"AICONFIG_CACHE_MAX_BYTES" default:"0" help:"Memory the cached accounts may take, in bytes (estimated; over it, a random account that stores nothing of its own goes, or the least recently used of the others). 0: half the Go memory limit (GOMEMLIMIT, else 90% of the cgroup's memory limit, which then becomes the Go limit), else ${cache_max_bytes} (512 MiB) when there is no limit."`
	Preload          bool          `name:"cache-preload" env:"AICONFIG_CACHE_PRELOAD" default:"true" negatable:"" help:"Read every account into the cache at start (readiness waits for it)."`
	DBMaxConns       int32         `name:"db-max-conns" env:"AICONFIG_DB_MAX_CONNS" placeholder:"N" help:"Database connections in the pool at most; 0: pool_max_conns in the URL, else the larger of 4 and the CPU count."`
	DrainDelay       time.Duration `name:"drain-delay" env:"AICONFIG_DRAIN_DELAY" default:"${drain_delay}" help:"On SIGTERM, how long to report NOT_SERVING before closing the listener."`
	TLSCert          string        `name:"tls-cert" env:"AICONFIG_TLS_CERT" placeholder:"FILE" help:"Server certificate (PEM); with --tls-key enables TLS; reloaded when the file changes."`
	TLSKey           string        `name:"tls-key" env:"AICONFIG_TLS_KEY" placeholder:"FILE" help:"Server private key (PEM)."`
	TLSClientCA      string        `name:"tls-client-ca" env:"AICONFIG_TLS_CLIENT_CA" placeholder:"FILE" help:"CA bundle (PEM) for client certificates; set: mutual TLS required."`
	MaxConnectionAge time.Duration `name:"max-connection-age" env:"AICONFIG_MAX_CONNECTION_AGE" default:"${max_connection_age}" help:"Close connections after this long (plus a 1m grace) so clients rebalance."`
	MaxRecvBytes     int           `name:"max-recv-bytes" env:"AICONFIG_MAX_RECV_BYTES" default:"${max_recv_bytes}" help:"Largest request accepted."`
	ChangesRetention time.Duration `name:"changes-retention" env:"AICONFIG_CHANGES_RETENTION" default:"${changes_retention}" help:"How long the change feed keeps its history (WatchChanges can resume within it)."`
	KeyRetention     time.Duration `name:"idempotency-retention" env:"AICONFIG_IDEMPOTENCY_RETENTION" default:"${key_retention}" help:"How long a write's idempotency key is remembered (a retry within it gets the first answer; at least 24h)."`
	MaxStale         time.Duration `name:"max-stale" env:"AICONFIG_MAX_STALE" default:"${max_stale}" help:"Through a database outage, reads stay SERVING while the change feed was in step less than this long ago."`
	RateUnauth       float64       `name:"rate-unauthenticated" env:"AICONFIG_RATE_UNAUTHENTICATED" default:"${rate_unauth}" help:"Calls per second without a valid token (and lookups of tokens not in memory), per peer address; burst twice that."`
	RateWrites       float64       `name:"rate-writes" env:"AICONFIG_RATE_WRITES" default:"${rate_writes}" help:"Write calls per second per token; burst twice that."`
	Pprof            bool          `name:"pprof" env:"AICONFIG_PPROF" help:"Also serve /debug/pprof/ on the metrics address."`
}

// Help is the detail `serve --help` prints below the summary.
func (serveCmd) Help() string {
	return `Runs one replica of the service:

  - gRPC on --listen: every aiconfig.v1 service, server reflection, and
    grpc.health.v1 (reads, and writes as the service "aiconfig.writes");
  - HTTP on --http-listen: every RPC as HTTP/JSON (Connect) and gRPC-Web,
    and the web console at /;
  - Prometheus /metrics (and /debug/pprof/ with --pprof) on --metrics-listen.

Reads (GetModelConfig, GetGenerationContext, prompts, author profiles,
content strategies) are answered from memory: every account is preloaded
at start (reads report NOT_SERVING until then) and the cache follows the
change feed, so a write made on any replica reaches this one within
milliseconds. Writes go to PostgreSQL, audited. serve refuses a schema
with pending migrations unless --migrate, and stored API keys the
configured secret keys cannot open. On SIGTERM it reports NOT_SERVING for
--drain-delay, then finishes the calls in flight and exits 0.

Every flag can also be set by the environment variable named beside it; the flag wins
(docs/operations.md describes each setting).

Secret keys are read from the environment only: AICONFIG_SECRET_KEY (base64 of 32 random bytes, e.g. openssl rand -base64 32) or AICONFIG_SECRET_KEY_FILE (a file holding it), and AICONFIG_PREVIOUS_SECRET_KEYS (comma-separated older keys, still used to decrypt during a rotation) or AICONFIG_PREVIOUS_SECRET_KEYS_FILE (a file holding them). Key files are read again when they change.

Tracing (OpenTelemetry, off by default) follows the standard variables: OTEL_TRACES_EXPORTER=otlp or an OTEL_EXPORTER_OTLP_ENDPOINT turns it on; OTEL_EXPORTER_OTLP_PROTOCOL (http/protobuf or grpc), OTEL_EXPORTER_OTLP_HEADERS, OTEL_SERVICE_NAME (default aiconfigd), OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG (default parentbased_always_on), OTEL_SDK_DISABLED. Calls continue the caller's W3C traceparent; store queries are child spans.`
}

func (c *serveCmd) Run(e *env) error {
	log, err := newLogger(e.stderr, c.LogLevel)
	if err != nil {
		return err
	}
	if _, err := c.url(); err != nil {
		return err
	}
	keys, err := secret.NewKeys(secret.SourceFromEnv())
	if err != nil {
		return err
	}
	tracer, stopTracing, err := tracing.FromEnv(context.Background(), log)
	if err != nil {
		return err
	}
	defer func() {
		// Send the spans still batched before exiting.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := stopTracing(ctx); err != nil {
			log.Warn("tracing: spans not sent at shutdown", "error", err.Error())
		}
	}()
	// The process's memory: the Go limit from the cgroup's unless
	// GOMEMLIMIT is set, and the cache's budget from them unless set.
	mem, limits := app.ApplyMemoryLimits(c.CacheMaxBytes)
	cfg := app.Defaults()
	cfg.DatabaseURL, cfg.Listen, cfg.MetricsListen, cfg.Pprof = c.DatabaseURL, c.Listen, c.MetricsListen, c.Pprof
	cfg.HTTPListen, cfg.HTTPInsecure = c.HTTPListen, c.HTTPInsecure
	cfg.Migrate, cfg.CacheDisabled, cfg.Keys = c.Migrate, c.Cache == "off", keys
	cfg.CacheMaxBytes, cfg.CacheBudgetSource = mem.CacheBytes, mem.CacheSource
	cfg.Preload, cfg.KeyRetention = c.Preload, c.KeyRetention
	cfg.Tracer = tracer
	cfg.DBMaxConns, cfg.DrainDelay, cfg.ChangesRetention, cfg.MaxStale = c.DBMaxConns, c.DrainDelay, c.ChangesRetention, c.MaxStale
	// A burst of two seconds' worth, and at least one call (a rate below
	// 0.5/s would otherwise allow none).
	cfg.Limits = access.Limits{Unauthenticated: c.RateUnauth, UnauthenticatedBurst: max(1, int(2*c.RateUnauth)),
		Writes: c.RateWrites, WritesBurst: max(1, int(2*c.RateWrites))}
	cfg.Transport = server.Transport{TLSCert: c.TLSCert, TLSKey: c.TLSKey, TLSClientCA: c.TLSClientCA,
		MaxConnectionAge: c.MaxConnectionAge, MaxRecvBytes: c.MaxRecvBytes}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		if keys.Current() == nil && errors.Is(err, secret.ErrNoKey) {
			return fmt.Errorf("%w (in a checkout that ran `make run`, the dev key is .data/secret.key: source .data/env)", err)
		}
		return err
	}
	defer a.Close()
	// Once the settings are known good (a bad one is the only line printed).
	log.Info("cache budget", "cache_max_bytes", mem.CacheBytes, "source", mem.CacheSource,
		"go_memory_limit", cmp.Or(mem.SetGoLimit, limits.Go), "cgroup_memory_limit", limits.Cgroup)
	warnIfExposed(log, a.Addr, cfg.Transport)
	return a.Run(ctx)
}

// warnIfExposed says so when the gRPC listener is reachable from other
// machines in plaintext (e.g. --listen :50061): bearer tokens, and the API
// keys SERVICE callers receive, would cross the network in clear.
func warnIfExposed(log *slog.Logger, addr net.Addr, t server.Transport) {
	if tcp, ok := addr.(*net.TCPAddr); ok && !tcp.IP.IsLoopback() && t.TLSCert == "" {
		log.Warn("listening beyond loopback without TLS: tokens and API keys cross the network in clear; "+
			"set AICONFIG_TLS_CERT and AICONFIG_TLS_KEY, or listen on 127.0.0.1 behind a TLS-terminating proxy",
			"listen", addr.String())
	}
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("AICONFIG_LOG_LEVEL (--log-level): %q is not debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			return slog.New(slog.NewTextHandler(w, opts)), nil // a person is reading
		}
	}
	return slog.New(slog.NewJSONHandler(w, opts)), nil
}
