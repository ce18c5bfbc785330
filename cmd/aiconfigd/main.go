// Command aiconfigd is the aiconfig gRPC service: serve, migrate, token.
// Wiring only; behaviour lives under internal/.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"os/user"
	"strings"
	"syscall"

	"github.com/igny8/aiconfig/internal/access"
	"github.com/igny8/aiconfig/internal/app"
	"github.com/igny8/aiconfig/internal/audit"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/gitops"
	"github.com/igny8/aiconfig/internal/secret"
	"github.com/igny8/aiconfig/internal/server"
	"github.com/igny8/aiconfig/internal/store"
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
	d := app.Defaults()
	s := newSettings("serve", stderr)
	dbURL := s.String("database-url", "AICONFIG_DATABASE_URL", "", "PostgreSQL URL")
	listen := s.String("listen", "AICONFIG_LISTEN", d.Listen, "gRPC listen address")
	metricsListen := s.OptionalString("metrics-listen", "AICONFIG_METRICS_LISTEN", d.MetricsListen, "Prometheus /metrics address; empty disables")
	httpListen := s.OptionalString("http-listen", "AICONFIG_HTTP_LISTEN", d.HTTPListen, "HTTP/JSON, gRPC-Web and the console; empty disables")
	httpInsecure := s.Bool("http-insecure", "AICONFIG_HTTP_INSECURE", false, "allow plain HTTP on a non-loopback address (TLS ends in a proxy in front)")
	logLevel := s.String("log-level", "AICONFIG_LOG_LEVEL", "info", "debug, info, warn or error (successful reads log at debug)")
	migrateFirst := s.Bool("migrate", "AICONFIG_MIGRATE", false, "apply pending migrations before serving")
	cacheMode := s.String("cache", "AICONFIG_CACHE", "on", "on: hot-path reads from memory; off: from the database")
	cacheAccounts := s.Int("cache-accounts", "AICONFIG_CACHE_ACCOUNTS", d.CacheAccounts, "accounts kept in memory at most")
	drainDelay := s.Duration("drain-delay", "AICONFIG_DRAIN_DELAY", d.DrainDelay, "on SIGTERM, how long to report NOT_SERVING before closing the listener")
	tlsCert := s.String("tls-cert", "AICONFIG_TLS_CERT", "", "server certificate (PEM); with --tls-key enables TLS; reloaded when the file changes")
	tlsKey := s.String("tls-key", "AICONFIG_TLS_KEY", "", "server private key (PEM)")
	tlsClientCA := s.String("tls-client-ca", "AICONFIG_TLS_CLIENT_CA", "", "CA bundle (PEM) for client certificates; set: mutual TLS required")
	maxConnAge := s.Duration("max-connection-age", "AICONFIG_MAX_CONNECTION_AGE", d.Transport.MaxConnectionAge, "close connections after this long (plus a 1m grace) so clients rebalance")
	maxRecv := s.Int("max-recv-bytes", "AICONFIG_MAX_RECV_BYTES", d.Transport.MaxRecvBytes, "largest request accepted")
	retention := s.Duration("changes-retention", "AICONFIG_CHANGES_RETENTION", d.ChangesRetention, "how long the change feed keeps its history (WatchChanges can resume within it)")
	maxStale := s.Duration("max-stale", "AICONFIG_MAX_STALE", d.MaxStale, "through a database outage, reads stay SERVING while the change feed was in step less than this long ago")
	rateUnauth := s.Float("rate-unauthenticated", "AICONFIG_RATE_UNAUTHENTICATED", float64(d.Limits.Unauthenticated), "calls per second without a valid token, per peer address (burst twice that)")
	rateWrites := s.Float("rate-writes", "AICONFIG_RATE_WRITES", float64(d.Limits.Writes), "write calls per second per token (burst twice that)")
	withPprof := s.Bool("pprof", "AICONFIG_PPROF", false, "also serve /debug/pprof/ on the metrics address")
	if err := s.Parse(args); err != nil {
		return err
	}
	if *cacheMode != "on" && *cacheMode != "off" {
		return fmt.Errorf("AICONFIG_CACHE (--cache): must be on or off, not %q", *cacheMode)
	}
	log, err := newLogger(stderr, *logLevel)
	if err != nil {
		return err
	}
	keys, err := secret.FromEnv()
	if err != nil {
		return err
	}
	cfg := d
	cfg.DatabaseURL, cfg.Listen, cfg.MetricsListen, cfg.Pprof = *dbURL, *listen, *metricsListen, *withPprof
	cfg.HTTPListen, cfg.HTTPInsecure = *httpListen, *httpInsecure
	cfg.Migrate, cfg.CacheDisabled, cfg.CacheAccounts, cfg.Keys = *migrateFirst, *cacheMode == "off", *cacheAccounts, keys
	cfg.DrainDelay, cfg.ChangesRetention, cfg.MaxStale = *drainDelay, *retention, *maxStale
	cfg.Limits = access.Limits{Unauthenticated: *rateUnauth, UnauthenticatedBurst: int(2 * *rateUnauth),
		Writes: *rateWrites, WritesBurst: int(2 * *rateWrites)}
	cfg.Transport = server.Transport{TLSCert: *tlsCert, TLSKey: *tlsKey, TLSClientCA: *tlsClientCA,
		MaxConnectionAge: *maxConnAge, MaxRecvBytes: *maxRecv}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Run(ctx)
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
