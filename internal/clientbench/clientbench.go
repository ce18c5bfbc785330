// Package clientbench measures the Go client against a running server,
// for make bench (cmd/aiconfig-bench) and the client package's benchmarks.
package clientbench

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/igny8/aiconfig/client"
	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
)

// CachedReads is what a read the client's cache answers costs: time per
// call (the p50 and p99 of batches of readBatch calls, each divided by
// readBatch, so that the clock's own cost stays out) and heap allocations
// per call.
type CachedReads struct {
	Calls         int
	Keys          int
	P50, P99      time.Duration
	AllocsPerCall float64
}

func (r CachedReads) String() string {
	return fmt.Sprintf("cached ModelConfig over %d keys, %d calls: p50 %v, p99 %v per call, %.2f allocations per call",
		r.Keys, r.Calls, r.P50, r.P99, r.AllocsPerCall)
}

const readBatch = 1000

// MeasureCachedReads reads every account × function once through c (a
// client with a SERVICE token, its feed in step), then times calls more
// reads of them in turn, in this goroutine. It fails if any of those
// reads was not a cache hit (a write to one of the accounts meanwhile).
// Allocations are the process's, so nothing else should run meanwhile.
func MeasureCachedReads(ctx context.Context, c *client.Client, accounts, functions []string, calls int) (CachedReads, error) {
	type k struct{ account, function string }
	keys := make([]k, 0, len(accounts)*len(functions))
	for _, a := range accounts {
		for _, f := range functions {
			keys = append(keys, k{a, f})
			if _, err := c.ModelConfig(ctx, a, f); err != nil {
				return CachedReads{}, fmt.Errorf("first read of %s %s: %w", a, f, err)
			}
		}
	}
	calls = max(readBatch, calls/readBatch*readBatch)
	batches := make([]time.Duration, 0, calls/readBatch)
	misses := c.Stats().Misses
	var before, after runtime.MemStats
	runtime.GC() // no collection of the first reads' garbage in the loop
	runtime.ReadMemStats(&before)
	next := 0
	for range calls / readBatch {
		t0 := time.Now()
		for range readBatch {
			kk := keys[next]
			if next++; next == len(keys) {
				next = 0
			}
			if _, err := c.ModelConfig(ctx, kk.account, kk.function); err != nil {
				return CachedReads{}, err
			}
		}
		batches = append(batches, time.Since(t0)/readBatch)
	}
	runtime.ReadMemStats(&after)
	if m := c.Stats().Misses - misses; m != 0 {
		return CachedReads{}, fmt.Errorf("%d of %d reads were not cache hits: was an account written meanwhile?", m, calls)
	}
	r := CachedReads{Calls: calls, Keys: len(keys), AllocsPerCall: float64(after.Mallocs-before.Mallocs) / float64(calls)}
	r.P50, r.P99, _ = quantiles(batches)
	return r, nil
}

// Staleness is how long writes took to become visible through a client,
// and (Feed) how much of that the change feed's event took to arrive: the
// rest is the reload of the dropped answer.
type Staleness struct {
	N             int
	P50, P99, Max time.Duration
	Feed          struct{ P50, P99 time.Duration }
}

func (s Staleness) String() string {
	return fmt.Sprintf("write → client staleness over %d writes: p50 %v, p99 %v, max %v (the feed's event: p50 %v, p99 %v)",
		s.N, s.P50, s.P99, s.Max, s.Feed.P50, s.Feed.P99)
}

// MeasureStaleness writes account's OpenAI temperature override n times
// through writerTarget (plaintext, with an admin token: its own
// connection, possibly another replica) and times, from each write's
// return, how long reader takes to answer generate_content with the new
// value: the feed's event reaching the client, the entry dropped, the
// answer loaded again. reader must hold a SERVICE token, and the account
// a plan that allows overrides (Starter or above).
func MeasureStaleness(ctx context.Context, reader *client.Client, writerTarget, adminToken, account string, n int) (Staleness, error) {
	conn, err := grpc.NewClient(writerTarget, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return Staleness{}, err
	}
	defer conn.Close()
	config := pb.NewConfigServiceClient(conn)
	wctx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+adminToken)
	delays, feed := make([]time.Duration, 0, n), make([]time.Duration, 0, n)
	for i := range n {
		temp := 0.3 + 0.2*float64(i%2)
		o, err := config.UpsertIntegrationOverride(wctx, &pb.UpsertIntegrationOverrideRequest{Override: &pb.IntegrationOverride{
			AccountId: account, Integration: pb.Integration_INTEGRATION_OPENAI, Temperature: proto.Float64(temp)}})
		if err != nil {
			return Staleness{}, fmt.Errorf("write %d: %w", i, err)
		}
		written := time.Now()
		heard := time.Duration(0)
		for {
			if heard == 0 && reader.Stats().Revision >= o.GetRevision() {
				heard = time.Since(written)
			}
			m, err := reader.ModelConfig(ctx, account, "generate_content")
			if err != nil {
				return Staleness{}, fmt.Errorf("read after write %d: %w", i, err)
			}
			if m.GetTemperature() == temp {
				break
			}
			if time.Since(written) > 10*time.Second {
				return Staleness{}, fmt.Errorf("write %d not visible through the client after 10s", i)
			}
			// Cached reads cost well under a microsecond: poll without
			// taking a core from the server and the feed on a small machine.
			time.Sleep(20 * time.Microsecond)
		}
		delays = append(delays, time.Since(written))
		feed = append(feed, cmp.Or(heard, delays[i]))
	}
	s := Staleness{N: n}
	s.P50, s.P99, s.Max = quantiles(delays)
	s.Feed.P50, s.Feed.P99, _ = quantiles(feed)
	return s, nil
}

func quantiles(d []time.Duration) (p50, p99, top time.Duration) {
	if len(d) == 0 {
		return 0, 0, 0
	}
	slices.Sort(d)
	at := func(q float64) time.Duration { return d[min(len(d)-1, int(q*float64(len(d))))] }
	return at(0.5), at(0.99), d[len(d)-1]
}
