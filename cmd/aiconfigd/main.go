// Command aiconfigd is the aiconfig gRPC service: serve, migrate, token.
// Wiring only; behaviour lives under internal/.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"os/user"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"

	"github.com/igny8/aiconfig/internal/access"
	"github.com/igny8/aiconfig/internal/audit"
	"github.com/igny8/aiconfig/internal/cache"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/gitops"
	"github.com/igny8/aiconfig/internal/metrics"
	"github.com/igny8/aiconfig/internal/secret"
	"github.com/igny8/aiconfig/internal/server"
	"github.com/igny8/aiconfig/internal/store"
	"github.com/igny8/aiconfig/internal/web"
)

const usage = `aiconfigd — AI configuration service

Usage:
  aiconfigd serve [flags]                 serve gRPC (aiconfigd serve --help lists every setting)
  aiconfigd migrate up|down|version       manage the schema (down: one step)
  aiconfigd token create --role admin|service|account [--account ID] --name NAME
                                          print a new bearer token (shown once)
  aiconfigd secrets rotate                re-seal stored API keys under AICONFIG_SECRET_KEY
  aiconfigd export [--out FILE]           write the global layer as YAML (no API keys)
  aiconfigd import FILE [--dry-run]       validate, show the changes, apply them in one transaction

Every command reads AICONFIG_DATABASE_URL (or --database-url). API keys are
sealed with AICONFIG_SECRET_KEY (or AICONFIG_SECRET_KEY_FILE); older keys in
AICONFIG_PREVIOUS_SECRET_KEYS still decrypt.
`

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil && !errors.Is(err, errHelp) {
		fmt.Fprintln(os.Stderr, "aiconfigd:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("missing command")
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
	case "migrate":
		return migrateCmd(args[1:], stdout)
	case "token":
		return tokenCmd(args[1:], stdout)
	case "secrets":
		return secretsCmd(args[1:], stdout)
	case "export":
		return exportCmd(args[1:], stdout)
	case "import":
		return importCmd(args[1:], stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func newFlags(name string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	dbURL := fs.String("database-url", os.Getenv("AICONFIG_DATABASE_URL"), "PostgreSQL URL (env AICONFIG_DATABASE_URL)")
	return fs, dbURL
}

func requireURL(u string) error {
	if u == "" {
		return errors.New("no database: set AICONFIG_DATABASE_URL or --database-url")
	}
	return nil
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

func serve(args []string, stderr io.Writer) error {
	s := newSettings("serve", stderr)
	dbURL := s.String("database-url", "AICONFIG_DATABASE_URL", "", "PostgreSQL URL")
	listen := s.String("listen", "AICONFIG_LISTEN", "127.0.0.1:50051", "gRPC listen address")
	metricsListen := s.String("metrics-listen", "AICONFIG_METRICS_LISTEN", "127.0.0.1:9464", "Prometheus /metrics address; empty disables")
	logLevel := s.String("log-level", "AICONFIG_LOG_LEVEL", "info", "debug, info, warn or error (successful reads log at debug)")
	migrateFirst := s.Bool("migrate", "AICONFIG_MIGRATE", false, "apply pending migrations before serving")
	cacheMode := s.String("cache", "AICONFIG_CACHE", "on", "on: hot-path reads from memory; off: from the database")
	cacheAccounts := s.Int("cache-accounts", "AICONFIG_CACHE_ACCOUNTS", 100000, "accounts kept in memory at most")
	drainDelay := s.Duration("drain-delay", "AICONFIG_DRAIN_DELAY", 3*time.Second, "on SIGTERM, how long to report NOT_SERVING before closing the listener")
	tlsCert := s.String("tls-cert", "AICONFIG_TLS_CERT", "", "server certificate (PEM); with --tls-key enables TLS; reloaded when the file changes")
	tlsKey := s.String("tls-key", "AICONFIG_TLS_KEY", "", "server private key (PEM)")
	tlsClientCA := s.String("tls-client-ca", "AICONFIG_TLS_CLIENT_CA", "", "CA bundle (PEM) for client certificates; set: mutual TLS required")
	maxConnAge := s.Duration("max-connection-age", "AICONFIG_MAX_CONNECTION_AGE", 30*time.Minute, "close connections after this long (plus a 1m grace) so clients rebalance")
	maxRecv := s.Int("max-recv-bytes", "AICONFIG_MAX_RECV_BYTES", 1<<20, "largest request accepted")
	withPprof := s.Bool("pprof", "AICONFIG_PPROF", false, "also serve /debug/pprof/ on the metrics address")
	httpListen := s.OptionalString("http-listen", "AICONFIG_HTTP_LISTEN", "127.0.0.1:8080", "HTTP/JSON, gRPC-Web and the console; empty disables")
	httpInsecure := s.Bool("http-insecure", "AICONFIG_HTTP_INSECURE", false, "allow plain HTTP on a non-loopback address (TLS ends in a proxy in front)")
	if err := s.Parse(args); err != nil {
		return err
	}
	if err := requireURL(*dbURL); err != nil {
		return err
	}
	if *cacheMode != "on" && *cacheMode != "off" {
		return fmt.Errorf("AICONFIG_CACHE (--cache): must be on or off, not %q", *cacheMode)
	}
	if *cacheAccounts < 1 || *maxRecv < 1024 || *maxConnAge <= 0 || *drainDelay < 0 {
		return errors.New("AICONFIG_CACHE_ACCOUNTS must be at least 1, AICONFIG_MAX_RECV_BYTES at least 1024, AICONFIG_MAX_CONNECTION_AGE positive, AICONFIG_DRAIN_DELAY not negative")
	}
	if (*tlsCert == "") != (*tlsKey == "") || (*tlsClientCA != "" && *tlsCert == "") {
		return errors.New("AICONFIG_TLS_CERT and AICONFIG_TLS_KEY go together, and AICONFIG_TLS_CLIENT_CA needs them")
	}
	if *httpListen != "" {
		if err := web.CheckAddr(*httpListen, *tlsCert != "", *httpInsecure); err != nil {
			return err
		}
	}
	log, err := newLogger(stderr, *logLevel)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	keys, err := secret.FromEnv()
	if err != nil {
		return err
	}
	if *migrateFirst {
		if err := store.MigrateUp(*dbURL, keys); err != nil {
			return err
		}
	}
	st, err := store.Open(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.CheckSchema(ctx); err != nil {
		return err
	}
	// Refuse to start rather than fail a worker's first call later.
	if err := st.CheckKeys(ctx, keys); err != nil {
		return err
	}
	if keys == nil {
		log.Warn("no secret key configured: API keys cannot be set until AICONFIG_SECRET_KEY is")
	}
	c := cache.New(st, cache.Options{Disabled: *cacheMode == "off", MaxAccounts: *cacheAccounts})
	var listener *cache.Listener
	if c.Enabled() {
		st.OnChange(c.Invalidate)
		listener = &cache.Listener{Cache: c, Source: st, Log: log}
	}
	m := metrics.New(st, c, listener)
	if listener != nil {
		go listener.Run(ctx)
	}
	if *metricsListen != "" {
		mlis, err := net.Listen("tcp", *metricsListen)
		if err != nil {
			return fmt.Errorf("AICONFIG_METRICS_LISTEN: %w", err)
		}
		hs := &http.Server{Handler: m.Handler(*withPprof), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = hs.Serve(mlis) }()
		defer hs.Close()
		log.Info("metrics", "listen", mlis.Addr().String(), "pprof", *withPprof)
	}
	grpcOpts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(*maxRecv),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 2 * time.Minute, Timeout: 20 * time.Second,
			MaxConnectionAge: *maxConnAge, MaxConnectionAgeGrace: time.Minute}),
	}
	var tlsConf *tls.Config
	if *tlsCert != "" {
		if tlsConf, err = server.TLSConfig(*tlsCert, *tlsKey, *tlsClientCA); err != nil {
			return err
		}
		grpcOpts = append(grpcOpts, grpc.Creds(credentials.NewTLS(tlsConf)))
	}
	srv, err := server.New(server.Deps{Store: st, Keys: keys, Cache: c, Log: log, Metrics: m}, grpcOpts...)
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	httpSrv, err := web.Start(srv.GRPC, web.Config{Addr: *httpListen, TLS: tlsConf, Insecure: *httpInsecure, Log: log})
	if err != nil {
		return err
	}
	defer httpSrv.Close()
	hctx, stopHealth := context.WithCancel(context.Background())
	defer stopHealth()
	go srv.WatchHealth(hctx, st, 2*time.Second, log)
	log.Info("serving", "listen", lis.Addr().String(), "schema_version", store.ExpectedVersion())

	errc := make(chan error, 1)
	go func() { errc <- srv.GRPC.Serve(lis) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Graceful stop: report NOT_SERVING so balancers drain us, end watch
	// streams, let in-flight calls finish, give up on stragglers after a bound.
	log.Info("shutting down", "drain_delay", drainDelay.String())
	stopHealth()
	srv.Drain()
	// Keep accepting calls while health checks see NOT_SERVING, so a load
	// balancer stops routing here before the listener closes.
	time.Sleep(*drainDelay)
	done := make(chan struct{})
	go func() {
		// HTTP first: calls in flight through it finish before GracefulStop,
		// which would cut them off.
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		_ = httpSrv.Shutdown(sctx)
		cancel()
		srv.GRPC.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		srv.GRPC.Stop()
	}
	return nil
}

func migrateCmd(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("migrate needs up, down or version")
	}
	fs, dbURL := newFlags("migrate")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if err := requireURL(*dbURL); err != nil {
		return err
	}
	switch args[0] {
	case "up":
		keys, err := secret.FromEnv()
		if err != nil {
			return err
		}
		return store.MigrateUp(*dbURL, keys)
	case "down":
		return store.MigrateDown(*dbURL)
	case "version":
		v, dirty, err := store.SchemaVersion(*dbURL)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "version %d (dirty=%t, this binary expects %d)\n", v, dirty, store.ExpectedVersion())
		return nil
	}
	return fmt.Errorf("unknown migrate command %q (want up, down or version)", args[0])
}

func tokenCmd(args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: aiconfigd token create --role R [--account ID] --name N")
	}
	fs, dbURL := newFlags("token create")
	roleName := fs.String("role", "", "admin, service or account")
	account := fs.String("account", "", "account id (role account only)")
	name := fs.String("name", "", "a name that says who holds the token")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	role, err := domain.ParseRole(strings.TrimPrefix(strings.ToLower(*roleName), "role_"))
	if err != nil {
		return err
	}
	ctx := cliContext("token create")
	st, err := openStore(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	_, secret, err := access.IssueToken(ctx, st, *name, role, *account)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, secret) // the secret alone, so scripts can capture it
	return nil
}

// cliContext names the operator and command in the audit rows a command writes.
func cliContext(command string) context.Context {
	who := os.Getenv("USER")
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	return audit.WithCall(context.Background(), audit.Call{Actor: domain.Principal{Name: "cli:" + who}, RPC: "cli:" + command})
}

func secretsCmd(args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "rotate" {
		return errors.New("usage: aiconfigd secrets rotate (with the new key in AICONFIG_SECRET_KEY and the old one in AICONFIG_PREVIOUS_SECRET_KEYS)")
	}
	fs, dbURL := newFlags("secrets rotate")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	keys, err := secret.FromEnv()
	if err != nil {
		return err
	}
	ctx := cliContext("secrets rotate")
	st, err := openStore(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.RotateKeys(ctx, keys)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "re-sealed %d API keys under key %s\n", n, keys.ActiveID())
	return nil
}

// openStore opens the database for a one-shot command at the expected schema.
func openStore(ctx context.Context, dbURL string) (*store.Store, error) {
	if err := requireURL(dbURL); err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	if err := st.CheckSchema(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

func exportCmd(args []string, stdout io.Writer) error {
	fs, dbURL := newFlags("export")
	out := fs.String("out", "", "write to this file instead of standard output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx := context.Background()
	st, err := openStore(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	l, err := st.LoadGlobalLayer(ctx)
	if err != nil {
		return err
	}
	b, err := gitops.Export(l)
	if err != nil {
		return err
	}
	if *out != "" {
		return os.WriteFile(*out, b, 0o644)
	}
	_, err = stdout.Write(b)
	return err
}

func importCmd(args []string, stdout io.Writer) error {
	fs, dbURL := newFlags("import")
	dryRun := fs.Bool("dry-run", false, "show what would change and change nothing")
	// The file may come before or after the flags.
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	}
	if file == "" {
		return errors.New("usage: aiconfigd import FILE [--dry-run]")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	ctx := cliContext("import")
	st, err := openStore(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	plan, err := gitops.Import(ctx, st, data, *dryRun)
	if err != nil {
		return err
	}
	for _, line := range plan.Diff {
		fmt.Fprintln(stdout, line)
	}
	switch {
	case plan.Empty():
		fmt.Fprintln(stdout, "no changes")
	case *dryRun:
		fmt.Fprintf(stdout, "dry run: %d changes shown, nothing applied\n", len(plan.Diff))
	default:
		fmt.Fprintf(stdout, "applied %d changes\n", len(plan.Diff))
	}
	return nil
}
