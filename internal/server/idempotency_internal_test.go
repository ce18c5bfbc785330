package server

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/pgtest"
	"github.com/igny8/aiconfig/internal/store"
)

// A keyed write's handler that panics after its write (the recovery
// interceptor, outside, turns the panic into INTERNAL and the server goes
// on) must not leave the held transaction open: it holds the revision
// lock, and every later write would wait for it forever.
func TestKeyedPanicAfterWriteReleasesTheWrite(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if !t.Failed() { // a write left open would make Close wait for it forever
			st.Close()
		}
	}()
	const full = "/aiconfig.v1.AccountService/UpsertAccount"
	k := &keyedMethod{full: full, store: st, response: responseType(full)}
	kctx := metadata.NewIncomingContext(ctx, metadata.Pairs(IdempotencyKeyHeader, "panic-1"))
	req := &pb.UpsertAccountRequest{Account: &pb.Account{Id: "acct-1", Name: "One", Plan: pb.Plan_PLAN_FREE}}
	panicked := func() (p any) {
		defer func() { p = recover() }()
		_, _ = k.call(kctx, req, func(ctx context.Context, _ any) (any, error) {
			if _, err := st.UpsertAccount(ctx, domain.Account{ID: "acct-1", Name: "One", Plan: domain.PlanFree}, nil); err != nil {
				t.Errorf("the keyed write: %v", err)
			}
			panic("after the write")
		})
		return nil
	}()
	if panicked == nil {
		t.Fatal("the handler's panic did not reach the caller")
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := st.UpsertAccount(wctx, domain.Account{ID: "acct-2", Name: "Two", Plan: domain.PlanFree}, nil); err != nil {
		t.Fatalf("a write after a keyed call that panicked: %v (the panicked call's write still holds the revision lock)", err)
	}
	if _, err := st.GetAccount(ctx, "acct-1"); err == nil {
		t.Error("the panicked call's write was committed; it should have been rolled back")
	}
}
