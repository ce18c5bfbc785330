package store_test

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/pgtest"
	"github.com/igny8/aiconfig/internal/store"
)

// roundTrips counts what a connection sends: a query, or a batch (which
// pgx pipelines in one round trip once its statements are prepared).
type roundTrips struct{ queries, batches, writes atomic.Int64 }

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	r.queries.Add(1)
	return ctx
}
func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.batches.Add(1)
	return ctx
}
func (r *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}
func (r *roundTrips) reset() {
	r.queries.Store(0)
	r.batches.Store(0)
	r.writes.Store(0)
}

// writesCounted counts the writes on a connection: a round trip is one.
type writesCounted struct {
	net.Conn
	n *atomic.Int64
}

func (c writesCounted) Write(b []byte) (int, error) {
	c.n.Add(1)
	return c.Conn.Write(b)
}

// TestAnUncachedReadIsOneRoundTrip: what an answer without the cache is
// resolved from (an account's data and the global layer, with or without
// items) is read as one batch — one snapshot, no separate BEGIN or COMMIT — and an unknown
// account is NOT_FOUND without spoiling the connection for the next read.
func TestAnUncachedReadIsOneRoundTrip(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	if err := store.MigrateUp(url, nil); err != nil {
		t.Fatal(err)
	}
	rt := &roundTrips{}
	st, err := store.Open(ctx, url, store.MaxConns(1), func(c *pgxpool.Config) {
		c.ConnConfig.Tracer = rt
		c.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			return writesCounted{conn, &rt.writes}, err
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.UpsertAccount(ctx, domain.Account{ID: "acct", Plan: domain.PlanGrowth}, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.LoadAccountAndLayer(ctx, "acct", true); err != nil { // prepares the statements (items: a superset)
		t.Fatal(err)
	}
	conns := st.PoolStat().NewConnsCount()
	for _, items := range []bool{true, false, true, false} {
		rt.reset()
		d, l, err := st.LoadAccountAndLayer(ctx, "acct", items)
		if err != nil {
			t.Fatal(err)
		}
		if q, b, w := rt.queries.Load(), rt.batches.Load(), rt.writes.Load(); q != 0 || b != 1 || w != 1 {
			t.Fatalf("one read sent %d queries and %d batches in %d writes, want one batch in one write", q, b, w)
		}
		if d.Account.ID != "acct" || d.Account.Plan != domain.PlanGrowth || len(l.Models) == 0 || l.Settings.Revision == 0 || (len(l.Items) > 0) != items {
			t.Fatalf("read (items %v) %+v and a layer of %d models, %d items, settings at %d", items, d.Account, len(l.Models), len(l.Items), l.Settings.Revision)
		}

		// Unknown: NOT_FOUND, in one write too, and the connection's
		// prepared statements kept for the next read (checked above).
		rt.reset()
		_, _, err = st.LoadAccountAndLayer(ctx, "nobody", items)
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.CodeNotFound {
			t.Fatalf("unknown account: %v, want NOT_FOUND", err)
		}
		if w := rt.writes.Load(); w != 1 {
			t.Fatalf("reading an unknown account took %d writes, want 1", w)
		}
	}
	if n := st.PoolStat().NewConnsCount(); n != conns {
		t.Fatalf("the reads opened %d new connections; a not-found must leave its connection usable", n-conns)
	}
}
