// Command aiconfigd is the aiconfig gRPC service and its operator tools:
// serve, health, migrate, token, secrets, export, import, version. Wiring only;
// behaviour lives under internal/.
//
// The command line is declared once, as the structs below: each setting's
// flag, environment variable, default and help come from its struct tags
// (github.com/alecthomas/kong reads them), so `--help` on any command
// lists exactly what the command reads.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kong"

	"github.com/igny8/aiconfig/internal/app"
	"github.com/igny8/aiconfig/internal/audit"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/store"
)

type cli struct {
	Serve        serveCmd        `cmd:"" help:"Serve the API: gRPC (reflection, health), HTTP/JSON and the web console, and Prometheus /metrics; reads answered from memory, kept current by the change feed."`
	Health       healthCmd       `cmd:"" help:"Check a server's gRPC health (grpc.health.v1): exit 0 when SERVING, for container health checks."`
	Migrate      migrateCmd      `cmd:"" help:"Manage the database schema: up, down (one step), version."`
	Token        tokenCmd        `cmd:"" help:"Create, list and revoke bearer tokens."`
	Secrets      secretsCmd      `cmd:"" help:"Re-seal stored API keys under a new secret key."`
	Export       exportCmd       `cmd:"" help:"Write the global layer as YAML: settings (never API keys), model catalog, global prompts, author profiles, content strategies, plan limits."`
	Import       importCmd       `cmd:"" help:"Validate a YAML file, show what it changes field by field, apply it in one transaction."`
	ImportDjango importDjangoCmd `cmd:"" name:"import-django" help:"Import the platform's Django settings from a dumpdata file: dry run, --apply, --verify."`
	Version      versionCmd      `cmd:"" help:"Print the version, commit and Go version."`
}

const description = `aiconfig: the AI configuration service.

Every command that needs the database reads AICONFIG_DATABASE_URL (or
--database-url); after ` + "`make run`" + `, ` + "`source .data/env`" + ` in the checkout sets it
and the dev secret key for a second shell.`

// env is what commands read and write besides their flags.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

func main() {
	os.Exit(run(os.Args[1:], &env{os.Stdin, os.Stdout, os.Stderr}))
}

// run parses args and runs the command: 0 on success, 1 when the command
// failed, 2 for a command line it could not use (one line on stderr).
func run(args []string, e *env) int {
	var c cli
	parser := newParser(&c, e)
	if len(args) > 0 && args[0] == "help" { // aiconfigd help [command...]
		args = append(args[1:], "--help")
	}
	if len(args) == 0 {
		parser.Stdout = e.stderr
		parser.Exit = func(int) { os.Exit(2) }
		args = []string{"--help"}
	}
	ctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintln(e.stderr, "aiconfigd:", err)
		return 2
	}
	if err := ctx.Run(); err != nil {
		fmt.Fprintln(e.stderr, "aiconfigd:", err)
		var ee *exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		return 1
	}
	return 0
}

// newParser reads the command line's declaration from c.
func newParser(c *cli, e *env) *kong.Kong {
	d := app.Defaults()
	parser, err := kong.New(c,
		kong.Name("aiconfigd"),
		kong.Description(description),
		kong.Writers(e.stdout, e.stderr),
		kong.Bind(e),
		kong.Vars{
			"listen":             d.Listen,
			"metrics_listen":     d.MetricsListen,
			"http_listen":        d.HTTPListen,
			"cache_max_bytes":    fmt.Sprint(d.CacheMaxBytes),
			"drain_delay":        shortDuration(d.DrainDelay),
			"max_connection_age": shortDuration(d.Transport.MaxConnectionAge),
			"max_recv_bytes":     fmt.Sprint(d.Transport.MaxRecvBytes),
			"changes_retention":  shortDuration(d.ChangesRetention),
			"max_stale":          shortDuration(d.MaxStale),
			"key_retention":      shortDuration(d.KeyRetention),
			"rate_unauth":        strconv.FormatFloat(d.Limits.Unauthenticated, 'g', -1, 64),
			"rate_writes":        strconv.FormatFloat(d.Limits.Writes, 'g', -1, 64),
		},
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
	)
	if err != nil {
		panic(err) // the declarations are wrong: a programming error
	}
	return parser
}

// shortDuration writes 30m rather than 30m0s, for help texts.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// dbFlag is the database setting every command but version shares.
type dbFlag struct {
	DatabaseURL string `name:"database-url" env:"AICONFIG_DATABASE_URL" placeholder:"URL" help:"PostgreSQL URL."`
}

// errNoDatabase says where the setting comes from, including the file
// `make run` writes for a second shell.
var errNoDatabase = errors.New("no database: set AICONFIG_DATABASE_URL or --database-url " +
	"(in a checkout that ran `make run`: source .data/env)")

func (f dbFlag) url() (string, error) {
	if f.DatabaseURL == "" {
		return "", errNoDatabase
	}
	return f.DatabaseURL, nil
}

// openStore opens the database for a one-shot command at the expected schema.
func (f dbFlag) openStore(ctx context.Context) (*store.Store, error) {
	url, err := f.url()
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	if err := st.CheckSchema(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// cliContext names the operator and command in the audit rows a command writes.
func cliContext(command string) context.Context {
	who := os.Getenv("USER")
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	return audit.WithCall(context.Background(), audit.Call{Actor: domain.Principal{Name: "cli:" + who}, RPC: "cli:" + command})
}
