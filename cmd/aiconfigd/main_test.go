package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/peterldowns/pgtestdb"
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

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "aiconfigd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
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
	url := pgtestdb.Custom(t, pgtest.Config(t), pgtestdb.NoopMigrator{}).URL() // an empty database
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
