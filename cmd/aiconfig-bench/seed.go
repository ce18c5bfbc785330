package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"golang.org/x/sync/errgroup"

	"github.com/jackc/pgx/v5"
)

// plans are spread evenly: acct-i has plans[i%4], so every fourth account
// (i%4 == 0) is Free and the others are Starter or above.
var plans = [4]string{"free", "starter", "growth", "scale"}

// customEvery is n such that every nth account (acct-n, acct-2n, …) has an
// OpenAI override and a customized clustering prompt: -custom-fraction
// rounded to 1/n, or by default a third of up to 100,000 accounts and a
// tenth of more (10,000 accounts: a third; a million: 10%).
func customEvery() int {
	f := *customFraction
	if f <= 0 {
		f = 1.0 / 3
		if *accounts >= 100000 {
			f = 0.1
		}
	}
	return max(1, int(math.Round(1/f)))
}

// seed writes the fixture straight into the tables (no audit rows): see
// plans and customEvery. Every row has revision 1: seeded rows take
// nothing from the schema's revision counter, which the migrations have
// already moved past 1, so later writes still get newer revisions.
//
// Rows go in with COPY, over seedStreams connections at once: at a million
// accounts PostgreSQL's time goes mostly to the accounts table's CHECK on
// the id (a regular expression, ~8µs a row here), which one connection
// evaluates on one CPU. Seeding a million accounts (and 10% customized)
// took 14s with INSERT … SELECT FROM generate_series, 13s with one COPY
// per table, 8s with four COPYs for the accounts on this 2-CPU machine.
func seed(ctx context.Context, dbURL string) error {
	var clustering string
	if err := withConn(ctx, dbURL, func(conn *pgx.Conn) error {
		return conn.QueryRow(ctx, `SELECT content #>> '{}' FROM global_items WHERE kind = 'prompt' AND id = 'clustering'`).Scan(&clustering)
	}); err != nil {
		return fmt.Errorf("the global clustering prompt: %w", err)
	}
	n, every := *accounts, customEvery()
	id := func(i int) string { return "acct-" + strconv.Itoa(i) }
	// copyRows copies row(k) for k in [from, to) into table.
	copyRows := func(table string, cols []string, from, to int, row func(k int) []any) error {
		return withConn(ctx, dbURL, func(conn *pgx.Conn) error {
			k := from
			_, err := conn.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromFunc(func() ([]any, error) {
				if k >= to {
					return nil, nil
				}
				k++
				return row(k - 1), nil
			}))
			if err != nil {
				return fmt.Errorf("seeding %s: %w", table, err)
			}
			return nil
		})
	}
	var g errgroup.Group
	for s := range seedStreams {
		g.Go(func() error {
			return copyRows("accounts", []string{"id", "name", "plan", "revision", "config_revision"}, 1+s*n/seedStreams, 1+(s+1)*n/seedStreams, func(i int) []any {
				return []any{id(i), "Account " + strconv.Itoa(i), plans[i%4], int64(1), int64(1)}
			})
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	custom := n / every // acct-(k*every) for k in [1, custom]
	g.Go(func() error {
		return copyRows("integration_overrides", []string{"account_id", "integration", "model", "temperature", "max_tokens", "revision"}, 1, custom+1, func(k int) []any {
			return []any{id(k * every), "openai", "gpt-4.1", 0.3, int32(8000), int64(1)}
		})
	})
	g.Go(func() error {
		// A prompt's content is its text, as JSON.
		asJSON := func(text string) []byte { b, _ := json.Marshal(text); return b }
		return copyRows("account_items", []string{"account_id", "kind", "id", "content", "default_content", "is_customized", "revision"}, 1, custom+1, func(k int) []any {
			i := k * every
			return []any{id(i), "prompt", "clustering", asJSON("Cluster for account " + strconv.Itoa(i) + " by intent: {{keywords}}"), asJSON(clustering), true, int64(1)}
		})
	})
	return g.Wait()
}

// seedStreams is how many connections copy the accounts at once.
const seedStreams = 4

func withConn(ctx context.Context, dbURL string, f func(*pgx.Conn) error) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return f(conn)
}
