// Package clientbench measures the clients against a running server, for
// make bench (cmd/aiconfig-bench) and the client package's benchmarks.
package clientbench

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/igny8/aiconfig/client"
	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
)

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
