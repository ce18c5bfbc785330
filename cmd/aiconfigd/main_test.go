package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alecthomas/kong"
	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/access"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/pgtest"
	"github.com/igny8/aiconfig/internal/secret"
	"github.com/igny8/aiconfig/internal/store"
)

// The binary under test, built once for every test in the package (as
// `make build` does, with a version and commit given to the linker).
var built struct {
	once sync.Once
	path string
	out  []byte
	err  error
}

const testVersion, testCommit = "v0.0.0-test", "0123456789abcdef0123456789abcdef01234567"

func buildBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "aiconfigd-test")
		if err != nil {
			built.err = err
			return
		}
		built.path = filepath.Join(dir, "aiconfigd")
		ldflags := "-X github.com/igny8/aiconfig/internal/buildinfo.version=" + testVersion +
			" -X github.com/igny8/aiconfig/internal/buildinfo.commit=" + testCommit
		built.out, built.err = exec.Command("go", "build", "-ldflags", ldflags, "-o", built.path, ".").CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("build: %v\n%s", built.err, built.out)
	}
	return built.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.path != "" {
		_ = os.RemoveAll(filepath.Dir(built.path))
	}
	if legacy.dir != "" { // the legacy Django project's seeded database and dump
		_ = os.RemoveAll(legacy.dir)
	}
	os.Exit(code)
}

// cleanEnv is the test's environment without any AICONFIG_ or OTEL_
// variable, plus extra: each test says exactly what the binary sees.
func cleanEnv(extra ...string) []string {
	// No HTTP listener unless a test asks: tests run side by side, and
	// the default address would be taken by the first.
	out := []string{"AICONFIG_HTTP_LISTEN="}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AICONFIG_") && !strings.HasPrefix(kv, "OTEL_") {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}

// runBin runs the binary with args in env (see cleanEnv) and returns its
// stdout, stderr and exit code.
func runBin(t *testing.T, env []string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(buildBinary(t), args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("run %v: %v", args, err)
	}
	return o.String(), e.String(), code
}

// TestEveryCommandAnswersHelp walks the declared command tree, so a new
// command is covered without touching this test: `--help` exits 0 on
// every command and subcommand, without a database, and names each flag
// with its environment variable.
func TestEveryCommandAnswersHelp(t *testing.T) {
	parser := newParser(&cli{}, &env{os.Stdin, io.Discard, io.Discard})
	var walk func(path []string, n *kong.Node)
	walk = func(path []string, n *kong.Node) {
		args := append(slices.Clone(path), "--help")
		stdout, stderr, code := runBin(t, cleanEnv(), "", args...)
		if code != 0 || !strings.HasPrefix(stdout, "Usage: aiconfigd") || stderr != "" {
			t.Errorf("aiconfigd %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, stdout, stderr)
		}
		for _, f := range n.Flags {
			if !strings.Contains(stdout, "--"+f.Name) && !strings.Contains(stdout, "--[no-]"+f.Name) {
				t.Errorf("aiconfigd %s does not show --%s", strings.Join(args, " "), f.Name)
			}
			for _, e := range f.Envs {
				if !strings.Contains(stdout, "$"+e) {
					t.Errorf("aiconfigd %s does not name $%s for --%s", strings.Join(args, " "), e, f.Name)
				}
			}
		}
		for _, c := range n.Children {
			if c.Type == kong.CommandNode {
				walk(append(slices.Clone(path), c.Name), c)
			}
		}
	}
	walk(nil, parser.Model.Node)
	if t.Failed() {
		return
	}
	if stdout, _, code := runBin(t, cleanEnv(), "", "help", "token", "create"); code != 0 || !strings.HasPrefix(stdout, "Usage: aiconfigd token create") {
		t.Errorf("aiconfigd help token create: exit %d\n%s", code, stdout)
	}
	// Asking for help is not an error; asking for nothing is.
	if _, stderr, code := runBin(t, cleanEnv(), ""); code == 0 || !strings.Contains(stderr, "Usage: aiconfigd") {
		t.Errorf("aiconfigd with no command: exit %d, stderr:\n%s", code, stderr)
	}
}

// TestVersion: the version and commit given to the linker (make build
// gives them from git) and the Go version.
func TestVersion(t *testing.T) {
	stdout, stderr, code := runBin(t, cleanEnv(), "", "version")
	if code != 0 {
		t.Fatalf("version: exit %d: %s", code, stderr)
	}
	for _, want := range []string{testVersion, testCommit, runtime.Version()} {
		if !strings.Contains(stdout, want) {
			t.Errorf("version output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestSettingsErrorsAndHelp(t *testing.T) {
	bin := buildBinary(t)
	cmd := exec.Command(bin, "serve", "--database-url", "postgres://nowhere/x")
	cmd.Env = append(os.Environ(), "AICONFIG_DRAIN_DELAY=soon")
	out, err := cmd.CombinedOutput()
	if err == nil || strings.Count(strings.TrimSpace(string(out)), "\n") != 0 || !strings.Contains(string(out), "AICONFIG_DRAIN_DELAY") {
		t.Fatalf("bad setting: err=%v output=%q; want one line naming AICONFIG_DRAIN_DELAY", err, out)
	}
	// Plain HTTP on every interface is refused unless asked for.
	out, err = exec.Command(bin, "serve", "--database-url", "postgres://nowhere/x", "--http-listen", "0.0.0.0:8080").CombinedOutput()
	if err == nil || strings.Count(strings.TrimSpace(string(out)), "\n") != 0 || !strings.Contains(string(out), "AICONFIG_HTTP_INSECURE") {
		t.Fatalf("plaintext HTTP on 0.0.0.0: err=%v output=%q; want one line naming AICONFIG_HTTP_INSECURE", err, out)
	}
	out, err = exec.Command(bin, "serve", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("serve --help failed: %v", err)
	}
	for _, s := range []string{"AICONFIG_LISTEN", "127.0.0.1:50051", "AICONFIG_METRICS_LISTEN", "AICONFIG_TLS_CLIENT_CA", "AICONFIG_CACHE", "AICONFIG_DRAIN_DELAY", "AICONFIG_HTTP_LISTEN", "127.0.0.1:8080"} {
		if !strings.Contains(string(out), s) {
			t.Errorf("serve --help does not mention %s", s)
		}
	}
}

// TestGracefulShutdown: on SIGTERM the server reports NOT_SERVING while a
// call is still in flight, lets that call finish, and exits cleanly.
func TestGracefulShutdown(t *testing.T) {
	bin := buildBinary(t)
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	st, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	_, token, err := access.IssueToken(ctx, st, "admin", domain.RoleAdmin, "")
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	lis, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := lis.Addr().String()
	lis.Close()
	var logs bytes.Buffer
	cmd := exec.Command(bin, "serve", "--listen", addr, "--metrics-listen", "", "--http-listen", "", "--drain-delay", "1s")
	cmd.Env = append(os.Environ(), "AICONFIG_DATABASE_URL="+url, "AICONFIG_SECRET_KEY="+secret.NewKey())
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() { _ = cmd.Process.Kill() }()

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	health := healthpb.NewHealthClient(conn)
	status := func() healthpb.HealthCheckResponse_ServingStatus {
		r, err := health.Check(ctx, &healthpb.HealthCheckRequest{})
		if err != nil {
			return healthpb.HealthCheckResponse_UNKNOWN
		}
		return r.GetStatus()
	}
	for i := 0; status() != healthpb.HealthCheckResponse_SERVING; i++ {
		if i > 100 {
			t.Fatalf("never SERVING; log:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	admin := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	accounts := pb.NewAccountServiceClient(conn)
	if _, err := accounts.UpsertAccount(admin, &pb.UpsertAccountRequest{Account: &pb.Account{Id: "acct", Plan: pb.Plan_PLAN_FREE}}); err != nil {
		t.Fatal(err)
	}

	// Hold the account's row lock so the next write stays in flight.
	db, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM accounts WHERE id = 'acct' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	inflight := make(chan error, 1)
	go func() {
		_, err := accounts.UpsertAccount(admin, &pb.UpsertAccountRequest{Account: &pb.Account{Id: "acct", Plan: pb.Plan_PLAN_GROWTH}})
		inflight <- err
	}()
	time.Sleep(300 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for i := 0; status() != healthpb.HealthCheckResponse_NOT_SERVING; i++ {
		if i > 40 {
			t.Fatal("health did not report NOT_SERVING during the drain")
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case err := <-exited:
		t.Fatalf("exited with a call in flight: %v", err)
	default:
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-inflight; err != nil {
		t.Fatalf("the in-flight call failed: %v", err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, logs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not exit")
	}
	if !strings.Contains(logs.String(), "shutting down") {
		t.Errorf("no shutdown line in the log:\n%s", logs.String())
	}
}

// TestMigrationsGateServe: serve refuses a schema with pending migrations
// (MIGRATIONS_PENDING) unless --migrate; migrate version/down/up report
// and move the schema.
func TestMigrationsGateServe(t *testing.T) {
	bin := buildBinary(t)
	url := pgtest.EmptyDatabase(t)
	run := func(args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "AICONFIG_DATABASE_URL="+url, "AICONFIG_SECRET_KEY="+secret.NewKey())
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("serve", "--listen", "127.0.0.1:0", "--metrics-listen", "", "--http-listen", ""); err == nil || !strings.Contains(out, "migrate up") || !strings.Contains(out, "version 0") {
		t.Fatalf("serve on an empty schema: err=%v\n%s", err, out)
	}
	if out, err := run("migrate", "version"); err != nil || !strings.HasPrefix(out, "version 0 ") {
		t.Fatalf("migrate version: %v %q", err, out)
	}
	if out, err := run("migrate", "up"); err != nil {
		t.Fatalf("migrate up: %v\n%s", err, out)
	}
	want := fmt.Sprintf("version %d ", store.ExpectedVersion())
	if out, err := run("migrate", "version"); err != nil || !strings.HasPrefix(out, want) {
		t.Fatalf("after up: %v %q, want %q…", err, out, want)
	}
	if out, err := run("migrate", "down"); err != nil {
		t.Fatalf("migrate down: %v\n%s", err, out)
	}
	if out, err := run("migrate", "version"); err != nil || !strings.HasPrefix(out, fmt.Sprintf("version %d ", store.ExpectedVersion()-1)) {
		t.Fatalf("after down: %v %q", err, out)
	}
	// --migrate brings the schema up and serves; stop it once it says so.
	cmd := exec.Command(bin, "serve", "--migrate", "--listen", "127.0.0.1:0", "--metrics-listen", "", "--http-listen", "", "--drain-delay", "0s")
	cmd.Env = append(os.Environ(), "AICONFIG_DATABASE_URL="+url, "AICONFIG_SECRET_KEY="+secret.NewKey())
	var logs syncBuffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; !strings.Contains(logs.String(), `"msg":"serving"`); i++ {
		if i > 200 {
			_ = cmd.Process.Kill()
			t.Fatalf("serve --migrate did not start:\n%s", logs.String())
		}
		time.Sleep(25 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve --migrate exit: %v\n%s", err, logs.String())
	}
}

// syncBuffer collects a child's stderr while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serving is a started `aiconfigd serve` and what it logged.
type serving struct {
	cmd  *exec.Cmd
	logs *syncBuffer
	stop func() // SIGTERM, and wait for the exit
}

// startServe starts the binary's serve in env and waits until it logs
// "serving"; it is stopped with SIGTERM when the test ends.
func startServe(t *testing.T, env []string, args ...string) *serving {
	t.Helper()
	cmd := exec.Command(buildBinary(t), append([]string{"serve", "--drain-delay", "0s", "--http-listen", ""}, args...)...)
	cmd.Env = env
	s := &serving{cmd: cmd, logs: &syncBuffer{}}
	cmd.Stderr = s.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			<-exited
		})
	}
	t.Cleanup(s.stop)
	for i := 0; !strings.Contains(s.logs.String(), `"msg":"serving"`); i++ {
		select {
		case <-exited:
			t.Fatalf("serve exited:\n%s", s.logs.String())
		case <-time.After(25 * time.Millisecond):
		}
		if i > 400 {
			t.Fatalf("serve did not start:\n%s", s.logs.String())
		}
	}
	return s
}

// logged returns the value of key in the first log line whose msg is msg.
func (s *serving) logged(t *testing.T, msg, key string) string {
	t.Helper()
	for _, line := range strings.Split(s.logs.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == msg {
			return fmt.Sprint(m[key])
		}
	}
	t.Fatalf("no %q line with %s in the log:\n%s", msg, key, s.logs.String())
	return ""
}

// TestServeSettings: aiconfig_build_info carries the version `version`
// prints (not "(devel)"); AICONFIG_DB_MAX_CONNS sizes the pool; a
// plaintext listener beyond loopback is warned about, a loopback one not.
func TestServeSettings(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s := startServe(t, cleanEnv("AICONFIG_DATABASE_URL="+url, "AICONFIG_DB_MAX_CONNS=3"), "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0")
	resp, err := http.Get("http://" + s.logged(t, "metrics", "listen") + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{`aiconfig_build_info{schema_version="` + fmt.Sprint(store.ExpectedVersion()) + `",version="` + testVersion + `"} 1`, "aiconfig_db_pool_max_conns 3"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s:\n%s", want, grepLines(string(body), "aiconfig_"))
		}
	}
	if strings.Contains(s.logs.String(), "without TLS") {
		t.Errorf("a loopback listener was warned about:\n%s", s.logs.String())
	}

	exposed := startServe(t, cleanEnv("AICONFIG_DATABASE_URL="+url), "--listen", "0.0.0.0:0", "--metrics-listen", "")
	if got := exposed.logged(t, "listening beyond loopback without TLS: tokens and API keys cross the network in clear; "+
		"set AICONFIG_TLS_CERT and AICONFIG_TLS_KEY, or listen on 127.0.0.1 behind a TLS-terminating proxy", "level"); got != "WARN" {
		t.Errorf("the warning is logged at %s", got)
	}
	if _, stderr, code := runBin(t, cleanEnv("AICONFIG_DATABASE_URL="+url, "AICONFIG_DB_MAX_CONNS=-1"), "", "serve"); code == 0 || !strings.Contains(stderr, "AICONFIG_DB_MAX_CONNS") {
		t.Errorf("a negative pool size: exit %d, %q", code, stderr)
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestTokenCommands: create prints the secret alone; a repeated name is
// allowed (rotation) but noted; list shows ids and never a secret; revoke
// by id takes effect at once.
func TestTokenCommands(t *testing.T) {
	url := pgtest.NewDatabase(t)
	env := cleanEnv("AICONFIG_DATABASE_URL=" + url)
	create := func(args ...string) (string, string) {
		t.Helper()
		stdout, stderr, code := runBin(t, env, "", append([]string{"token", "create"}, args...)...)
		if code != 0 {
			t.Fatalf("token create %v: exit %d: %s", args, code, stderr)
		}
		return strings.TrimSpace(stdout), stderr
	}
	first, stderr := create("--role", "service", "--name", "worker-1")
	if !strings.HasPrefix(first, "aic_") || strings.Contains(first, "\n") || stderr != "" {
		t.Fatalf("token create: stdout %q stderr %q; want the secret alone", first, stderr)
	}
	second, stderr := create("--role", "service", "--name", "worker-1")
	list, stderr2, code := runBin(t, env, "", "token", "list")
	if code != 0 {
		t.Fatalf("token list: %s", stderr2)
	}
	// The note names the first worker-1 (the one to revoke once replaced).
	m := regexp.MustCompile(`token (tok_[0-9a-f]+) is also named "worker-1".*aiconfigd token revoke (tok_[0-9a-f]+)`).FindStringSubmatch(stderr)
	if m == nil || m[1] != m[2] || !strings.Contains(list, m[1]) {
		t.Fatalf("a second worker-1 should name the first and how to revoke it; stderr: %q\nlist:\n%s", stderr, list)
	}
	firstID := m[1]
	if strings.Count(list, "worker-1") != 2 || strings.Contains(list, first) || strings.Contains(list, second) || strings.Contains(list, "aic_") {
		t.Fatalf("token list should show both worker-1 tokens and no secret:\n%s", list)
	}

	out, stderr, code := runBin(t, env, "", "token", "revoke", firstID)
	if code != 0 || !strings.Contains(out, firstID) || !strings.Contains(out, "revoked") {
		t.Fatalf("token revoke: exit %d\n%s%s", code, out, stderr)
	}
	if _, stderr, code := runBin(t, env, "", "token", "revoke", "tok_nope"); code != 1 || !strings.Contains(stderr, "does not exist") {
		t.Errorf("revoking an unknown id: exit %d, %q", code, stderr)
	}
	st, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, ok, err := st.Authenticate(context.Background(), hashOf(first)); err != nil || ok {
		t.Errorf("the revoked token still authenticates (ok=%t err=%v)", ok, err)
	}
	if _, ok, err := st.Authenticate(context.Background(), hashOf(second)); err != nil || !ok {
		t.Errorf("the other worker-1 token stopped working (ok=%t err=%v)", ok, err)
	}
	active, _, _ := runBin(t, env, "", "token", "list")
	all, _, _ := runBin(t, env, "", "token", "list", "--all")
	if strings.Contains(active, firstID) || !strings.Contains(all, firstID) {
		t.Errorf("list should hide the revoked token, list --all show it:\n%s\n--all:\n%s", active, all)
	}
}

func hashOf(secret string) []byte {
	h := access.HashSecret(secret)
	return h[:]
}

// TestImport: `import -` reads standard input; a dry run prints a
// field-level diff; a misspelt key is an error naming its path.
func TestImport(t *testing.T) {
	env := cleanEnv("AICONFIG_DATABASE_URL=" + pgtest.NewDatabase(t))
	exported, stderr, code := runBin(t, env, "", "export")
	if code != 0 {
		t.Fatalf("export: %s", stderr)
	}
	const from, to = "model: gpt-4o-mini\n      temperature: 0.7\n", "model: gpt-4o-mini\n      temperature: 0.5\n"
	if !strings.Contains(exported, from) {
		t.Fatalf("the export has no %q; fix the test:\n%s", from, exported)
	}
	edited := strings.Replace(exported, from, to, 1)

	out, stderr, code := runBin(t, env, edited, "import", "-", "--dry-run")
	if code != 0 || out != "~ settings.openai.temperature: 0.7 → 0.5\ndry run: 1 changes shown, nothing applied\n" {
		t.Fatalf("import - --dry-run: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}

	misspelt := strings.Replace(edited, "text_integration:", "text_integraton:", 1)
	_, stderr, code = runBin(t, env, misspelt, "import", "--dry-run", "-")
	if code != 1 || !strings.Contains(stderr, "settings.text_integraton: unknown key (did you mean text_integration?)") || strings.Contains(stderr, "gitops.") {
		t.Fatalf("a misspelt key: exit %d, stderr:\n%s", code, stderr)
	}

	if out, stderr, code = runBin(t, env, edited, "import", "-"); code != 0 || !strings.Contains(out, "applied 1 changes") {
		t.Fatalf("import -: exit %d\n%s%s", code, out, stderr)
	}
	if now, _, _ := runBin(t, env, "", "export"); now != edited {
		t.Errorf("after the import, export differs from the file imported:\n%s", now)
	}
}

// missingDatabase returns the URL of a database that does not exist yet
// on the test server, dropped when the test ends.
func missingDatabase(t *testing.T) string {
	t.Helper()
	admin := pgtest.Config(t).URL()
	u, err := neturl.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("aiconfig_cli_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
	u.Path = "/" + name
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), admin)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Error(err)
		}
	})
	return u.String()
}

// TestMakeRun: scripts/run.sh (make run) creates the database its URL
// names, writes .data/env and says so, and a second shell that sources
// it uses the CLI on the same database and key.
func TestMakeRun(t *testing.T) {
	root := t.TempDir()
	for _, dir := range []string{"scripts", "bin"} {
		if err := os.Mkdir(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script, err := os.ReadFile("../../scripts/run.sh")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "scripts", "run.sh"), script, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(buildBinary(t), filepath.Join(root, "bin", "aiconfigd")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "run.sh"))
	cmd.Env = cleanEnv("AICONFIG_DATABASE_URL="+missingDatabase(t), "AICONFIG_LISTEN=127.0.0.1:0",
		"AICONFIG_METRICS_LISTEN=", "AICONFIG_DRAIN_DELAY=0s")
	logs := &syncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); <-exited }()
	for i := 0; !strings.Contains(logs.String(), `"msg":"serving"`); i++ {
		select {
		case <-exited:
			t.Fatalf("make run exited:\n%s", logs.String())
		case <-time.After(25 * time.Millisecond):
		}
		if i > 400 {
			t.Fatalf("make run did not serve:\n%s", logs.String())
		}
	}
	if !strings.Contains(logs.String(), "source .data/env") || !strings.Contains(logs.String(), "export AICONFIG_DATABASE_URL=") {
		t.Errorf("make run does not say how a second shell gets the database:\n%s", logs.String())
	}
	envFile, err := os.ReadFile(filepath.Join(root, ".data", "env"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"export AICONFIG_DATABASE_URL=", "export AICONFIG_SECRET_KEY_FILE='" + filepath.Join(root, ".data", "secret.key") + "'"} {
		if !strings.Contains(string(envFile), want) {
			t.Errorf(".data/env lacks %q:\n%s", want, envFile)
		}
	}
	// The second shell: nothing set but what .data/env sets.
	second := exec.Command("bash", "-c", "source .data/env && bin/aiconfigd token create --role service --name worker-1 && bin/aiconfigd token list")
	second.Dir, second.Env = root, cleanEnv()
	out, err := second.CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "aic_") || !strings.Contains(string(out), "dev-admin-") {
		t.Fatalf("source .data/env && bin/aiconfigd token create …: %v\n%s", err, out)
	}
}

// TestErrorsSayWhatToDo: the errors a newcomer meets first say where the
// missing piece is.
func TestErrorsSayWhatToDo(t *testing.T) {
	for _, args := range [][]string{{"token", "create", "--role", "service", "--name", "w"}, {"export"}, {"import", "-"}, {"migrate", "up"}, {"serve"}} {
		if _, stderr, code := runBin(t, cleanEnv(), "", args...); code != 1 || !strings.Contains(stderr, "AICONFIG_DATABASE_URL") || !strings.Contains(stderr, "source .data/env") {
			t.Errorf("%v without a database: exit %d, %q", args, code, stderr)
		}
	}
	missing := missingDatabase(t)
	for _, args := range [][]string{{"serve"}, {"migrate", "up"}} {
		_, stderr, code := runBin(t, cleanEnv("AICONFIG_DATABASE_URL="+missing), "", args...)
		if code != 1 || !strings.Contains(stderr, "does not exist") || !strings.Contains(stderr, "migrate up --create-database") {
			t.Errorf("%v on a database that does not exist: exit %d, %q", args, code, stderr)
		}
	}
	if _, stderr, code := runBin(t, cleanEnv("AICONFIG_DATABASE_URL="+missing), "", "migrate", "up", "--create-database"); code != 0 {
		t.Fatalf("migrate up --create-database: %s", stderr)
	}

	// A stored API key, and serve started without the secret key.
	keys, err := secret.NewKeyring(secret.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := keys.Seal("sk-stored-0123456789", domain.KeyAAD(domain.OpenAI))
	if err != nil {
		t.Fatal(err)
	}
	db, err := pgx.Connect(context.Background(), missing)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(context.Background(), `UPDATE global_integration_defaults SET api_key_sealed = $1, api_key_hint = '6789' WHERE integration = 'openai'`, sealed)
	db.Close(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runBin(t, cleanEnv("AICONFIG_DATABASE_URL="+missing), "", "serve", "--listen", "127.0.0.1:0", "--metrics-listen", "")
	if code != 1 || !strings.Contains(stderr, "AICONFIG_SECRET_KEY") || !strings.Contains(stderr, ".data/secret.key") || strings.Contains(stderr, "sk-stored") {
		t.Errorf("serve without the secret key: exit %d, %q", code, stderr)
	}
}

// TestTracingFromEnv: with an OTLP endpoint in the environment, serve
// sends the spans of a call that carried a traceparent to the collector
// (here a stand-in that keeps what it receives), at the latest when it
// stops; unsupported settings stop it with a line naming the variable.
func TestTracingFromEnv(t *testing.T) {
	var mu sync.Mutex
	var received [][]byte
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		b, _ := io.ReadAll(body)
		if r.URL.Path == "/v1/traces" {
			mu.Lock()
			received = append(received, b)
			mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()

	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	st, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	_, token, err := access.IssueToken(ctx, st, "admin", domain.RoleAdmin, "")
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := startServe(t, cleanEnv("AICONFIG_DATABASE_URL="+url, "OTEL_EXPORTER_OTLP_ENDPOINT="+collector.URL),
		"--listen", "127.0.0.1:0", "--metrics-listen", "")
	conn, err := grpc.NewClient(s.logged(t, "serving", "listen"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const traceID = "0af7651916cd43dd8448eb211c80319c"
	call := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token, "traceparent", "00-"+traceID+"-b7ad6b7169203331-01")
	if _, err := pb.NewAccountServiceClient(conn).UpsertAccount(call, &pb.UpsertAccountRequest{Account: &pb.Account{Id: "acct", Plan: pb.Plan_PLAN_FREE}}); err != nil {
		t.Fatal(err)
	}
	s.stop()
	id, _ := hex.DecodeString(traceID)
	mu.Lock()
	defer mu.Unlock()
	found := false
	for _, b := range received {
		found = found || bytes.Contains(b, id)
	}
	if !found {
		t.Fatalf("the collector received %d exports, none with trace %s; log:\n%s", len(received), traceID, s.logs.String())
	}
	if strings.Contains(s.logs.String(), token) {
		t.Error("the log holds the token")
	}

	for _, bad := range []string{"OTEL_TRACES_EXPORTER=zipkin", "OTEL_TRACES_SAMPLER=sometimes", "OTEL_EXPORTER_OTLP_PROTOCOL=http/json"} {
		name, _, _ := strings.Cut(bad, "=")
		_, stderr, code := runBin(t, cleanEnv("AICONFIG_DATABASE_URL="+url, "OTEL_EXPORTER_OTLP_ENDPOINT="+collector.URL, bad), "", "serve", "--metrics-listen", "")
		if code != 1 || !strings.Contains(stderr, name) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%s: exit %d, stderr %q; want one line naming %s", bad, code, stderr, name)
		}
	}
}
