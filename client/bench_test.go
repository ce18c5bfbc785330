package client_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/igny8/aiconfig/client"
	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/clientbench"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/testsrv"
)

// benchServer is a real replica with an OpenAI key and account acme, and
// a client of it with a service token, in step.
func benchServer(b *testing.B) (*testsrv.Env, string, *client.Client) {
	env := testsrv.Start(b)
	admin := env.Token(b, domain.RoleAdmin, "")
	_, err := env.Config.UpdateGlobalSettings(testsrv.Ctx(admin), &pb.UpdateGlobalSettingsRequest{
		Settings:   &pb.GlobalSettings{Openai: &pb.IntegrationDefaults{ApiKey: "sk-bench-0123456789abcdef"}},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"openai.api_key"}}})
	if err != nil {
		b.Fatal(err)
	}
	env.Account(b, "acme", domain.PlanStarter)
	c, err := client.New(env.App.Addr.String(), client.WithToken(env.Token(b, domain.RoleService, "")), client.WithInsecure(),
		client.WithLogger(slog.New(slog.DiscardHandler))) // keep the benchmark lines clean
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	for deadline := time.Now().Add(10 * time.Second); !c.Stats().InStep; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("the client's feed did not get in step")
		}
	}
	return env, admin, c
}

// BenchmarkCachedModelConfig is the worker's hot path: a read the cache
// answers (target: ≤ 1 µs, 0-1 allocations).
func BenchmarkCachedModelConfig(b *testing.B) {
	_, _, c := benchServer(b)
	ctx := context.Background()
	if _, err := c.ModelConfig(ctx, "acme", "generate_content"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.ModelConfig(ctx, "acme", "generate_content"); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if st := c.Stats(); st.Misses != 1 {
		b.Fatalf("%d misses: reads were not all cached", st.Misses)
	}
}

// BenchmarkCachedGenerationContext is a job's one read, from the cache
// (one allocation: the key's name).
func BenchmarkCachedGenerationContext(b *testing.B) {
	_, _, c := benchServer(b)
	ctx := context.Background()
	req := &pb.GetGenerationContextRequest{AccountId: "acme", Function: "generate_content", AuthorProfileId: "friendly-guide"}
	if _, err := c.GenerationContext(ctx, req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.GenerationContext(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if st := c.Stats(); st.Misses != 1 {
		b.Fatalf("%d misses: reads were not all cached", st.Misses)
	}
}

// BenchmarkCachedModelConfigParallel is the same read from every core.
func BenchmarkCachedModelConfigParallel(b *testing.B) {
	_, _, c := benchServer(b)
	ctx := context.Background()
	if _, err := c.ModelConfig(ctx, "acme", "generate_content"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.ModelConfig(ctx, "acme", "generate_content"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkWriteToClientStaleness times a write through the server until
// a client on another connection answers with it; run it with
// -benchtime=200x for the p50/p99 over 200 writes (target: p99 ≤ 10 ms).
func BenchmarkWriteToClientStaleness(b *testing.B) {
	env, admin, c := benchServer(b)
	if _, err := c.ModelConfig(context.Background(), "acme", "generate_content"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	s, err := clientbench.MeasureStaleness(context.Background(), c, env.App.Addr.String(), admin, "acme", b.N)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(s.P50.Microseconds()), "p50-µs")
	b.ReportMetric(float64(s.P99.Microseconds()), "p99-µs")
	b.ReportMetric(float64(s.Max.Microseconds()), "max-µs")
	b.ReportMetric(float64(s.Feed.P50.Microseconds()), "feed-p50-µs")
	b.ReportMetric(float64(s.Feed.P99.Microseconds()), "feed-p99-µs")
}
