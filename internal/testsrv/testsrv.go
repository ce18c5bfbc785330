// Package testsrv starts the real server on a loopback listener over a
// fresh database, for end-to-end tests.
package testsrv

import (
	"bytes"
	"context"
	"log/slog"
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
	"github.com/igny8/aiconfig/internal/app"
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
	// Stop shuts the replica down before the test ends (it is also done at
	// cleanup).
	Stop        func()
	App         *app.App
	Metrics     *metrics.Metrics
	Cache       *cache.Cache
	Feed        *store.Follower
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
	Changes     pb.ChangeServiceClient
	Profiles    pb.AuthorProfileServiceClient
	Strategies  pb.ContentStrategyServiceClient
	History     pb.HistoryServiceClient
}

// Start serves on 127.0.0.1 over a fresh migrated database, with the
// cache and its change feed running.
func Start(t testing.TB) *Env {
	t.Helper()
	return StartOn(t, pgtest.NewDatabase(t), nil)
}

// StartOn serves over an existing database, e.g. a second replica of
// another Env's (pass its Keys so both read the same API keys).
func StartOn(t testing.TB, url string, keys *secret.Keyring) *Env {
	t.Helper()
	return StartWith(t, url, keys, nil)
}

// StartWith is StartOn with the production configuration (app.Defaults)
// changed by configure, for tests of a setting.
func StartWith(t testing.TB, url string, keys *secret.Keyring, configure func(*app.Config)) *Env {
	t.Helper()
	if keys == nil {
		var err error
		if keys, err = secret.NewKeyring(secret.NewKey()); err != nil {
			t.Fatal(err)
		}
	}
	cfg := app.Defaults()
	cfg.DatabaseURL, cfg.Keys = url, secret.Static(keys)
	cfg.Listen, cfg.MetricsListen, cfg.HTTPListen = "127.0.0.1:0", "", ""
	cfg.FeedInterval, cfg.HealthInterval, cfg.DrainDelay = 200*time.Millisecond, 100*time.Millisecond, 0
	// Tests call as fast as they can from one address; a test of the
	// limits sets them (app.Defaults has the production ones).
	cfg.Limits = access.Limits{Unauthenticated: 1e6, UnauthenticatedBurst: 1e6, Writes: 1e6, WritesBurst: 1e6}
	if configure != nil {
		configure(&cfg)
	}
	logs := &SyncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := app.New(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = a.Run(ctx); close(done) }()
	conn, err := grpc.NewClient(a.Addr.String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	shutdown := func() {
		once.Do(func() {
			_ = conn.Close()
			a.Server.GRPC.Stop() // no graceful drain: tests end at once
			stop()
			<-done
			a.Close()
		})
	}
	t.Cleanup(shutdown)
	for i := 0; !a.Follower.Connected.Load(); i++ {
		if i > 500 {
			t.Fatal("the change feed follower did not connect")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return &Env{Stop: shutdown, App: a, Metrics: a.Metrics, Cache: a.Cache, Feed: a.Follower, Keys: keys, Logs: logs, DatabaseURL: url,
		ServerURL: pgtest.Config(t).URL(), Store: a.Store, Server: a.Server, Conn: conn,
		Config: pb.NewConfigServiceClient(conn), Accounts: pb.NewAccountServiceClient(conn), Tokens: pb.NewTokenServiceClient(conn),
		Prompts: pb.NewPromptServiceClient(conn), Audit: pb.NewAuditServiceClient(conn), Changes: pb.NewChangeServiceClient(conn),
		Profiles: pb.NewAuthorProfileServiceClient(conn), Strategies: pb.NewContentStrategyServiceClient(conn), History: pb.NewHistoryServiceClient(conn)}
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
