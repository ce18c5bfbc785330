package server_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/audit"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/server"
	"github.com/igny8/aiconfig/internal/testsrv"
)

// keyed is ctx with an idempotency key.
func keyed(ctx context.Context, key string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, server.IdempotencyKeyHeader, key)
}

// codeReason is an error's code and ErrorInfo reason.
func codeReason(err error) (codes.Code, string) {
	st := status.Convert(err)
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return st.Code(), info.GetReason()
		}
	}
	return st.Code(), ""
}

// rows counts a query's answer on the test database.
func rows(t *testing.T, env *testsrv.Env, sql string, args ...any) int {
	t.Helper()
	ctx := context.Background()
	db, err := pgx.Connect(ctx, env.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	var n int
	if err := db.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// writeCounts: audit rows and change rows of a resource, the head revision.
func writeCounts(t *testing.T, env *testsrv.Env, resource string) (audits, changes int, head int64) {
	t.Helper()
	audits = rows(t, env, `SELECT count(*) FROM audit_events WHERE resource = $1`, resource)
	changes = rows(t, env, `SELECT count(*) FROM changes WHERE resource = $1`, resource)
	head, err := env.Store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return audits, changes, head
}

// SPEC 17: a retry with the same key and request answers what the first
// call answered (same revision) and writes nothing; the same key with
// another request, or another method, is IDEMPOTENCY_KEY_REUSED; another
// token's same key is its own.
func TestIdempotentWrite(t *testing.T) {
	t.Parallel()
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	ctx := keyed(admin, "key-1")
	req := &pb.UpsertAccountRequest{Account: &pb.Account{Id: "acct", Name: "Acct", Plan: pb.Plan_PLAN_STARTER}}
	first, err := env.Accounts.UpsertAccount(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	a1, c1, head1 := writeCounts(t, env, "accounts/acct")
	if a1 != 1 || c1 != 1 || head1 != first.GetRevision() {
		t.Fatalf("after the first call: audit %d, changes %d, head %d (answer at %d)", a1, c1, head1, first.GetRevision())
	}
	for range 3 {
		again, err := env.Accounts.UpsertAccount(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(again, first) {
			t.Fatalf("the retry answered %v, the first call %v", again, first)
		}
	}
	if a, c, head := writeCounts(t, env, "accounts/acct"); a != 1 || c != 1 || head != head1 {
		t.Fatalf("retries wrote: audit %d, changes %d, head %d → %d", a, c, head1, head)
	}

	// Another request under the key: refused, and nothing written.
	other := &pb.UpsertAccountRequest{Account: &pb.Account{Id: "acct", Name: "Renamed", Plan: pb.Plan_PLAN_STARTER}}
	_, err = env.Accounts.UpsertAccount(ctx, other)
	if code, reason := codeReason(err); code != codes.FailedPrecondition || reason != domain.ReasonIdempotencyKeyReused {
		t.Fatalf("same key, other request: %v, want FAILED_PRECONDITION %s", err, domain.ReasonIdempotencyKeyReused)
	}
	if !strings.Contains(status.Convert(err).Message(), "UpsertAccount") {
		t.Errorf("the message does not name the key's first method: %v", err)
	}
	// Another method under the key.
	_, err = env.Accounts.DeleteAccount(ctx, &pb.DeleteAccountRequest{Id: "acct"})
	if _, reason := codeReason(err); reason != domain.ReasonIdempotencyKeyReused {
		t.Fatalf("same key, other method: %v", err)
	}
	if got, err := env.Accounts.GetAccount(admin, &pb.GetAccountRequest{Id: "acct"}); err != nil || got.GetName() != "Acct" {
		t.Fatalf("a refused request changed the account: %v %v", got, err)
	}
	// A fresh key writes.
	renamed, err := env.Accounts.UpsertAccount(keyed(admin, "key-2"), other)
	if err != nil || renamed.GetRevision() <= first.GetRevision() {
		t.Fatalf("a fresh key: %v %v", renamed, err)
	}
	// Another token's "key-1" is its own.
	admin2 := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	if _, err := env.Accounts.UpsertAccount(keyed(admin2, "key-1"), other); err != nil {
		t.Fatalf("another token's key: %v", err)
	}
	if n := rows(t, env, `SELECT count(*) FROM idempotency_keys`); n != 3 {
		t.Fatalf("%d keys recorded, want 3", n)
	}
}

// A key must be 1-128 printable ASCII characters; a write without one is
// not recorded, and a read ignores one.
func TestIdempotencyKeyChecked(t *testing.T) {
	t.Parallel()
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	req := &pb.UpsertAccountRequest{Account: &pb.Account{Id: "acct", Name: "Acct", Plan: pb.Plan_PLAN_STARTER}}
	// (gRPC clients refuse to send a non-printable value; the HTTP test
	// sends one.)
	for _, key := range []string{strings.Repeat("k", 129), "", "two values"} {
		ctx := keyed(admin, key)
		if key == "two values" {
			ctx = keyed(keyed(admin, "one"), "two")
		}
		_, err := env.Accounts.UpsertAccount(ctx, req)
		if code, _ := codeReason(err); code != codes.InvalidArgument {
			t.Errorf("key %q: %v, want INVALID_ARGUMENT", key, err)
		} else if key != "" && strings.Contains(status.Convert(err).Message(), key) {
			t.Errorf("the error quotes the key: %v", err)
		}
	}
	if _, err := env.Accounts.UpsertAccount(keyed(admin, strings.Repeat("k", 128)), req); err != nil {
		t.Fatalf("a 128-character key: %v", err)
	}
	if _, err := env.Accounts.UpsertAccount(admin, req); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Accounts.GetAccount(keyed(admin, strings.Repeat("k", 129)), &pb.GetAccountRequest{Id: "acct"}); err != nil {
		t.Fatalf("a read with a key: %v", err)
	}
	if n := rows(t, env, `SELECT count(*) FROM idempotency_keys`); n != 1 {
		t.Fatalf("%d keys recorded, want 1", n)
	}
}

// Duplicates in flight at once: one writes, all answer alike.
func TestIdempotentConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	env.Account(t, "acct", domain.PlanStarter)
	ctx := keyed(admin, "dup")
	req := &pb.UpsertIntegrationOverrideRequest{Override: &pb.IntegrationOverride{AccountId: "acct",
		Integration: pb.Integration_INTEGRATION_OPENAI, Temperature: proto.Float64(0.4)}}
	const n = 12
	answers := make([]*pb.IntegrationOverride, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			answers[i], errs[i] = env.Config.UpsertIntegrationOverride(ctx, req)
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("duplicate %d: %v", i, errs[i])
		}
		if !proto.Equal(answers[i], answers[0]) {
			t.Fatalf("duplicates answered differently: %v / %v", answers[i], answers[0])
		}
	}
	if a, c, _ := writeCounts(t, env, "accounts/acct/overrides/openai"); a != 1 || c != 1 {
		t.Fatalf("%d duplicates wrote %d audit rows and %d change rows, want 1 and 1", n, a, c)
	}
}

// A write that changes nothing (a reset of a prompt never customized)
// records its key with its audit row, once: a retry answers alike and adds
// no second row.
func TestIdempotentUnchangedWrite(t *testing.T) {
	t.Parallel()
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	env.Account(t, "acct", domain.PlanStarter)
	head, _ := env.Store.Head(context.Background())
	ctx := keyed(admin, "reset-1")
	req := &pb.ResetPromptRequest{AccountId: "acct", PromptType: "ideas"}
	first, err := env.Prompts.ResetPrompt(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	again, err := env.Prompts.ResetPrompt(ctx, req)
	if err != nil || !proto.Equal(first, again) {
		t.Fatalf("retry: %v %v, first %v", again, err, first)
	}
	audits := rows(t, env, `SELECT count(*) FROM audit_events WHERE rpc = $1`, pb.PromptService_ResetPrompt_FullMethodName)
	if now, _ := env.Store.Head(context.Background()); audits != 1 || now != head {
		t.Fatalf("audit rows %d (want 1), head %d → %d (want unchanged)", audits, head, now)
	}
	if _, err := env.Prompts.ResetPrompt(ctx, &pb.ResetPromptRequest{AccountId: "acct", PromptType: "clustering"}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("another unchanged request under the key: %v", err)
	}
	// Duplicates in flight at once, none taking the write lock (they change
	// nothing): the key's unique row lets one record, the others answer
	// from it.
	dup := keyed(admin, "reset-2")
	req = &pb.ResetPromptRequest{AccountId: "acct", PromptType: "clustering"}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { _, errs[i] = env.Prompts.ResetPrompt(dup, req) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	audits = rows(t, env, `SELECT count(*) FROM audit_events WHERE rpc = $1`, pb.PromptService_ResetPrompt_FullMethodName)
	if audits != 2 {
		t.Fatalf("8 concurrent duplicates left %d audit rows, want 1 (2 in all)", audits-1)
	}
	// Without a key, each is its own call with its own audit row (and
	// none holds its connection while it waits for another).
	for i := range errs {
		wg.Go(func() { _, errs[i] = env.Prompts.ResetPrompt(admin, req) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := rows(t, env, `SELECT count(*) FROM audit_events WHERE rpc = $1`, pb.PromptService_ResetPrompt_FullMethodName); n != audits+8 {
		t.Fatalf("8 unkeyed calls left %d audit rows, want 8", n-audits)
	}
}

// A token's secret is shown once and kept nowhere: a retried CreateToken
// says so, naming the token, and the recorded answer holds no secret.
func TestIdempotentCreateTokenKeepsNoSecret(t *testing.T) {
	t.Parallel()
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	ctx := keyed(admin, "token-1")
	req := &pb.CreateTokenRequest{Name: "worker", Role: pb.Role_ROLE_SERVICE}
	first, err := env.Tokens.CreateToken(ctx, req)
	if err != nil || first.GetSecret() == "" {
		t.Fatalf("%v %v", first, err)
	}
	_, err = env.Tokens.CreateToken(ctx, req)
	code, reason := codeReason(err)
	if code != codes.FailedPrecondition || reason != domain.ReasonSecretShownOnce || !strings.Contains(err.Error(), first.GetToken().GetId()) {
		t.Fatalf("retried CreateToken: %v", err)
	}
	if strings.Contains(err.Error(), first.GetSecret()) {
		t.Fatal("the error holds the secret")
	}
	if n := rows(t, env, `SELECT count(*) FROM idempotency_keys WHERE position(convert_to($1, 'UTF8') in answer) > 0`, first.GetSecret()); n != 0 {
		t.Fatal("the recorded answer holds the token's secret")
	}
	if n := rows(t, env, `SELECT count(*) FROM tokens WHERE name = 'worker'`); n != 1 {
		t.Fatalf("%d tokens created, want 1", n)
	}
}

// Keys older than the retention are pruned.
func TestIdempotencyKeysPruned(t *testing.T) {
	t.Parallel()
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	req := &pb.UpsertAccountRequest{Account: &pb.Account{Id: "acct", Name: "Acct", Plan: pb.Plan_PLAN_STARTER}}
	if _, err := env.Accounts.UpsertAccount(keyed(admin, "old"), req); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if n, err := env.Store.PruneKeys(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("pruned a fresh key: %d %v", n, err)
	}
	if n, err := env.Store.PruneKeys(ctx, time.Now().Add(time.Second)); err != nil || n != 1 {
		t.Fatalf("pruned %d keys (%v), want 1", n, err)
	}
	// Pruned, the key is new again: the same request writes again.
	before, _ := env.Store.Head(ctx)
	if _, err := env.Accounts.UpsertAccount(keyed(admin, "old"), req); err != nil {
		t.Fatal(err)
	}
	if after, _ := env.Store.Head(ctx); after != before+1 {
		t.Fatalf("head %d → %d", before, after)
	}
}

// Writes with and without an idempotency key, 8 at a time (writes are
// serialized by the revision lock, which a keyed write holds for one more
// round trip: the key's row).
func BenchmarkWrite(b *testing.B) {
	env := testsrv.Start(b)
	admin := testsrv.Ctx(env.Token(b, domain.RoleAdmin, ""))
	env.Account(b, "acct", domain.PlanStarter)
	for _, mode := range []string{"plain", "keyed"} {
		b.Run(mode, func(b *testing.B) {
			var n atomic.Int64
			run := audit.NewRequestID() // keys unique across runs
			b.SetParallelism(4)         // × GOMAXPROCS callers
			b.RunParallel(func(pb_ *testing.PB) {
				for pb_.Next() {
					i := n.Add(1)
					ctx := admin
					if mode == "keyed" {
						ctx = keyed(admin, run+strconv.FormatInt(i, 10))
					}
					if _, err := env.Config.UpsertIntegrationOverride(ctx, &pb.UpsertIntegrationOverrideRequest{Override: &pb.IntegrationOverride{
						AccountId: "acct", Integration: pb.Integration_INTEGRATION_OPENAI, Temperature: proto.Float64(float64(i%100) / 100)}}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
