package api_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/access"
	"github.com/igny8/aiconfig/internal/app"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/pgtest"
	"github.com/igny8/aiconfig/internal/testsrv"
)

// flood makes n calls from 8 goroutines over env's one connection (one
// peer) and counts the answers by code.
func flood(n int, call func(i int) error) map[codes.Code]int {
	var mu sync.Mutex
	got := map[codes.Code]int{}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := int(next.Add(1)); i <= n; i = int(next.Add(1)) {
				c := status.Code(call(i))
				mu.Lock()
				got[c]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return got
}

func deniedRows(t *testing.T, env *testsrv.Env) (rows, attempts int) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), env.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(context.Background(), `SELECT count(*), COALESCE(sum(count), 0) FROM audit_events WHERE outcome = 'denied'`).Scan(&rows, &attempts); err != nil {
		t.Fatal(err)
	}
	return rows, attempts
}

// TestFloods (SPEC 16): a bounded loopback flood of unauthenticated writes
// is rate limited per peer and adds a few audit rows, not one per attempt,
// though every attempt is counted; forged tokens cost a bounded number of
// queries, not one each; writes are limited per token; a valid token known
// to the replica keeps working from the flooding address.
func TestFloods(t *testing.T) {
	env := testsrv.StartWith(t, pgtest.NewDatabase(t), nil, func(c *app.Config) { c.Limits = access.DefaultLimits() })
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_STARTER) // the admin token is now known in memory
	ctx := context.Background()
	start := time.Now()
	const n = 1500
	got := flood(n, func(i int) error {
		_, err := env.Accounts.UpsertAccount(ctx, &pb.UpsertAccountRequest{Account: &pb.Account{Id: "acct", Plan: pb.Plan_PLAN_SCALE}})
		return err
	})
	limits := access.DefaultLimits()
	allowed := float64(limits.UnauthenticatedBurst) + float64(limits.Unauthenticated)*time.Since(start).Seconds() + 2
	if got[codes.Unauthenticated] == 0 || float64(got[codes.Unauthenticated]) > allowed || got[codes.ResourceExhausted] == 0 ||
		got[codes.Unauthenticated]+got[codes.ResourceExhausted] != n {
		t.Fatalf("unauthenticated flood of %d in %s: %v (at most %.0f may be answered before the limit)", n, time.Since(start), got, allowed)
	}
	if rows, _ := deniedRows(t, env); rows > 2 {
		t.Fatalf("the flood added %d audit rows at once; want the first of each reason only", rows)
	}
	env.App.Denied.Flush(ctx, true) // as at the end of the minute
	if rows, attempts := deniedRows(t, env); rows > 4 || attempts != n {
		t.Fatalf("after the minute: %d audit rows counting %d attempts; want at most 4 rows counting all %d", rows, attempts, n)
	}
	// A known token still works from this address.
	if _, err := env.Accounts.GetAccount(admin, &pb.GetAccountRequest{Id: "acct"}); err != nil {
		t.Fatalf("a valid token after the flood: %v", err)
	}

	// Forged tokens, each different: queries stay within the limit.
	time.Sleep(2500 * time.Millisecond) // the address's allowance refills
	loads, start := env.Cache.Stats.TokenLoads.Load(), time.Now()
	got = flood(n, func(i int) error {
		forged := testsrv.Ctx(fmt.Sprintf("aic_%043d", i))
		_, err := env.Config.GetModelConfig(forged, &pb.GetModelConfigRequest{AccountId: "acct", Function: "generate_content"})
		return err
	})
	// Lookups in flight when the allowance runs out go through too: at most
	// the flood's 8 callers more.
	allowed = float64(limits.UnauthenticatedBurst) + float64(limits.Unauthenticated)*time.Since(start).Seconds() + 2 + 8
	if q := env.Cache.Stats.TokenLoads.Load() - loads; float64(q) > allowed || got[codes.ResourceExhausted] == 0 {
		t.Fatalf("%d forged tokens made %d token queries (at most %.0f); answers %v", n, q, allowed, got)
	}
	// The same forged token over and over: remembered as unknown.
	time.Sleep(2500 * time.Millisecond)
	loads = env.Cache.Stats.TokenLoads.Load()
	forged := testsrv.Ctx("aic_" + fmt.Sprintf("%043d", 0))
	for range 30 {
		_, _ = env.Config.ListModels(forged, &pb.ListModelsRequest{})
	}
	if q := env.Cache.Stats.TokenLoads.Load() - loads; q > 2 {
		t.Fatalf("one forged token presented 30 times made %d queries", q)
	}

	// Writes per token. The writes are refused by validation (no plan),
	// after the limit counted them: an accepted write takes a transaction,
	// and on a loaded machine 8 callers may then not outrun 50 a second,
	// so the limit would never be met.
	start = time.Now()
	got = flood(400, func(i int) error {
		_, err := env.Accounts.UpsertAccount(admin, &pb.UpsertAccountRequest{Account: &pb.Account{Id: fmt.Sprintf("w%d", i)}})
		return err
	})
	allowed = float64(limits.WritesBurst) + float64(limits.Writes)*time.Since(start).Seconds() + 2
	if float64(got[codes.InvalidArgument]) > allowed || got[codes.ResourceExhausted] == 0 || got[codes.InvalidArgument]+got[codes.ResourceExhausted] != 400 {
		t.Fatalf("400 writes with one token in %s: %v (at most %.0f may succeed)", time.Since(start), got, allowed)
	}
	// What a refused write gets: the next writes, sent faster than the
	// allowance refills, soon meet one.
	var err error
	for i := 0; i < 100 && status.Code(err) != codes.ResourceExhausted; i++ {
		_, err = env.Accounts.UpsertAccount(admin, &pb.UpsertAccountRequest{Account: &pb.Account{Id: fmt.Sprintf("late%d", i)}})
	}
	testsrv.WantError(t, err, codes.ResourceExhausted, domain.ReasonRateLimited)
}

// TestValidTokensAreNotRateLimited: valid tokens looked up together from
// one address spend none of its allowance, however many: here with the
// cache off, so that every call looks its token up, 100 calls at once
// (the burst is 40).
func TestValidTokensAreNotRateLimited(t *testing.T) {
	env := testsrv.StartWith(t, pgtest.NewDatabase(t), nil, func(c *app.Config) {
		c.Limits = access.DefaultLimits()
		c.CacheDisabled = true
	})
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_STARTER)
	var wg sync.WaitGroup
	errs := make(chan error, 300)
	for range 100 {
		wg.Go(func() {
			for range 3 {
				if _, err := env.Config.GetModelConfig(admin, &pb.GetModelConfigRequest{AccountId: "acct", Function: "generate_content"}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a call with a valid token failed: %v", err)
	}
}

// TestForgedTokensAtOnce: forged tokens sent all at once from one address
// (here 300 together) reach the database at most a burst at a time, so
// their queries stay within the allowance plus one burst.
func TestForgedTokensAtOnce(t *testing.T) {
	env := testsrv.StartWith(t, pgtest.NewDatabase(t), nil, func(c *app.Config) { c.Limits = access.DefaultLimits() })
	limits := access.DefaultLimits()
	loads, start := env.Cache.Stats.TokenLoads.Load(), time.Now()
	var wg sync.WaitGroup
	for i := range 300 {
		wg.Go(func() {
			forged := testsrv.Ctx(fmt.Sprintf("aic_%043d", i+1))
			_, _ = env.Config.GetModelConfig(forged, &pb.GetModelConfigRequest{AccountId: "acct", Function: "generate_content"})
		})
	}
	wg.Wait()
	allowed := 2*float64(limits.UnauthenticatedBurst) + float64(limits.Unauthenticated)*time.Since(start).Seconds() + 2
	if q := env.Cache.Stats.TokenLoads.Load() - loads; float64(q) > allowed {
		t.Fatalf("300 forged tokens at once made %d token queries (at most %.0f)", q, allowed)
	}
}
