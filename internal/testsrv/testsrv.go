// Package testsrv starts the real server on a loopback listener over a
// fresh database, for end-to-end tests.
package testsrv

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	neturl "net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/jackc/pgx/v5"

	"github.com/igny8/aiconfig/internal/access"
	"github.com/igny8/aiconfig/internal/cache"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/metrics"
	"github.com/igny8/aiconfig/internal/pgtest"
	"github.com/igny8/aiconfig/internal/secret"
	"github.com/igny8/aiconfig/internal/server"
	"github.com/igny8/aiconfig/internal/store"
)

// Env is a running server and clients for it.
type Env struct {
	Metrics     *metrics.Metrics
	Cache       *cache.Cache
	Listener    *cache.Listener
	Keys        *secret.Keyring
	Logs        *SyncBuffer // everything the server logged
	DatabaseURL string
	ServerURL   string // the test server's admin database, for fault injection
	Store       *store.Store
	Server      *server.Server
	Conn        *grpc.ClientConn
	Config      pb.ConfigServiceClient
	Accounts    pb.AccountServiceClient
	Tokens      pb.TokenServiceClient
	Prompts     pb.PromptServiceClient
	Audit       pb.AuditServiceClient
}

// Start serves on 127.0.0.1 over a fresh migrated database, with the
// cache and its change listener running.
func Start(t testing.TB) *Env {
	t.Helper()
	return StartOn(t, pgtest.NewDatabase(t), nil)
}

// StartOn serves over an existing database, e.g. a second replica of
// another Env's (pass its Keys so both read the same API keys).
func StartOn(t testing.TB, url string, keys *secret.Keyring) *Env {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if keys == nil {
		if keys, err = secret.NewKeyring(secret.NewKey()); err != nil {
			t.Fatal(err)
		}
	}
	logs := &SyncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := cache.New(st, cache.Options{})
	st.OnChange(c.Invalidate)
	lctx, stopListener := context.WithCancel(context.Background())
	listener := &cache.Listener{Cache: c, Source: st, Log: log, Interval: 200 * time.Millisecond}
	m := metrics.New(st, c, listener) // sets listener.Lag: before Run reads it
	listenerDone := make(chan struct{})
	go func() { listener.Run(lctx); close(listenerDone) }()
	srv, err := server.New(server.Deps{Store: st, Keys: keys, Cache: c, Log: log, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.GRPC.Serve(lis) }()
	hctx, stopHealth := context.WithCancel(context.Background())
	go srv.WatchHealth(hctx, st, 100*time.Millisecond, log)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		stopHealth()
		srv.GRPC.Stop()
		stopListener()
		<-listenerDone
		st.Close()
	})
	for i := 0; !listener.Connected.Load(); i++ {
		if i > 500 {
			t.Fatal("change listener did not connect")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return &Env{Metrics: m, Cache: c, Listener: listener, Keys: keys, Logs: logs, DatabaseURL: url, ServerURL: pgtest.Config(t).URL(), Store: st, Server: srv, Conn: conn,
		Config: pb.NewConfigServiceClient(conn), Accounts: pb.NewAccountServiceClient(conn), Tokens: pb.NewTokenServiceClient(conn), Prompts: pb.NewPromptServiceClient(conn), Audit: pb.NewAuditServiceClient(conn)}
}

// Token issues a token directly in the store and returns its secret.
func (e *Env) Token(t testing.TB, role domain.Role, accountID string) string {
	t.Helper()
	_, secret, err := access.IssueToken(context.Background(), e.Store, "test-"+role.String(), role, accountID)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// RevokedToken issues an admin token and revokes it at once.
func (e *Env) RevokedToken(t testing.TB) string {
	t.Helper()
	tok, secret, err := access.IssueToken(context.Background(), e.Store, "test-revoked", domain.RoleAdmin, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Store.RevokeToken(context.Background(), tok.ID); err != nil {
		t.Fatal(err)
	}
	return secret
}

// Account creates or updates an account directly in the store.
func (e *Env) Account(t testing.TB, id string, plan domain.Plan) {
	t.Helper()
	if _, err := e.Store.UpsertAccount(context.Background(), domain.Account{ID: id, Name: id, Plan: plan}, nil); err != nil {
		t.Fatal(err)
	}
}

// Ctx is a context whose calls carry the bearer token.
func Ctx(token string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token)
}

// DatabaseName is the name of this test's database.
func (e *Env) DatabaseName() string {
	u, _ := neturl.Parse(e.DatabaseURL)
	return strings.TrimPrefix(u.Path, "/")
}

// SyncBuffer is a bytes.Buffer safe for the server's concurrent writes.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Outage makes the test database refuse every connection and drops the
// open ones, as a restart would; the returned func (also run at cleanup)
// lets connections in again.
func (e *Env) Outage(t testing.TB) (restore func()) {
	t.Helper()
	ctx := context.Background()
	super, err := pgx.Connect(ctx, e.ServerURL)
	if err != nil {
		t.Fatal(err)
	}
	db := e.DatabaseName()
	for _, q := range []string{`ALTER DATABASE "` + db + `" ALLOW_CONNECTIONS false`,
		`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '` + db + `' AND pid <> pg_backend_pid()`} {
		if _, err := super.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	var once sync.Once
	restore = func() {
		once.Do(func() {
			if _, err := super.Exec(ctx, `ALTER DATABASE "`+db+`" ALLOW_CONNECTIONS true`); err != nil {
				t.Errorf("ending the outage: %v", err)
			}
			_ = super.Close(ctx)
		})
	}
	t.Cleanup(restore)
	return restore
}
