package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/app"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/pgtest"
	"github.com/igny8/aiconfig/internal/testsrv"
	"github.com/jackc/pgx/v5"
)

// TestPreload: a replica reads every account into its cache before it
// says it is ready, so the first calls need no database; what changed
// after the preload's snapshot arrives through the feed; the preload
// stops at the cache's memory bound.
func TestPreload(t *testing.T) {
	url := pgtest.NewDatabase(t)
	seeder := testsrv.StartWith(t, url, nil, func(c *app.Config) { c.Preload = false })
	admin := testsrv.Ctx(seeder.Token(t, domain.RoleAdmin, ""))
	const n = 300
	for i := range n {
		id := fmt.Sprintf("acct-%d", i)
		seeder.Account(t, id, domain.PlanStarter)
		if i%3 == 0 {
			if _, err := seeder.Config.UpsertIntegrationOverride(admin, &pb.UpsertIntegrationOverrideRequest{Override: &pb.IntegrationOverride{
				AccountId: id, Integration: pb.Integration_INTEGRATION_OPENAI, MaxTokens: proto.Int32(int32(1000 + i))}}); err != nil {
				t.Fatal(err)
			}
			if _, err := seeder.Prompts.CustomizePrompt(admin, &pb.CustomizePromptRequest{AccountId: id, PromptType: "ideas",
				Text: fmt.Sprintf("Ideas %d for {{clusters}}", i)}); err != nil {
				t.Fatal(err)
			}
		}
	}

	env := testsrv.StartOn(t, url, seeder.Keys) // returns once its feed follows: after the preload
	if got := env.Cache.Len(); got != n {
		t.Fatalf("%d accounts preloaded, want %d", got, n)
	}
	misses := env.Cache.Stats.Misses.Load()
	for i := range n {
		id := fmt.Sprintf("acct-%d", i)
		c, err := env.Config.GetModelConfig(admin, &pb.GetModelConfigRequest{AccountId: id, Function: "generate_content"})
		if err != nil {
			t.Fatal(err)
		}
		want := int32(4000) // the platform default
		if i%3 == 0 {
			want = int32(1000 + i) // the account's override
		}
		if c.GetMaxTokens() != want || c.GetRevision() == 0 {
			t.Fatalf("%s: max_tokens %d at revision %d, want %d", id, c.GetMaxTokens(), c.GetRevision(), want)
		}
		p, err := env.Prompts.GetEffectivePrompt(admin, &pb.GetEffectivePromptRequest{AccountId: id, PromptType: "ideas"})
		if err != nil {
			t.Fatal(err)
		}
		if custom := fmt.Sprintf("Ideas %d for {{clusters}}", i); (i%3 == 0) != (p.GetText() == custom) {
			t.Fatalf("%s: prompt %q", id, p.GetText())
		}
	}
	// Two misses at most: the global layer and the token, loaded on first use.
	if extra := env.Cache.Stats.Misses.Load() - misses; extra > 2 {
		t.Fatalf("%d cache misses after the preload, for %d accounts read", extra, n)
	}
	// A write after the preload reaches the preloaded replica by the feed.
	if _, err := seeder.Config.UpsertIntegrationOverride(admin, &pb.UpsertIntegrationOverrideRequest{Override: &pb.IntegrationOverride{
		AccountId: "acct-1", Integration: pb.Integration_INTEGRATION_OPENAI, MaxTokens: proto.Int32(777)}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the write reaches the preloaded replica", func() bool {
		c, err := env.Config.GetModelConfig(admin, &pb.GetModelConfigRequest{AccountId: "acct-1", Function: "generate_content"})
		return err == nil && c.GetMaxTokens() == 777
	})

	// A small memory bound stops the preload, and holds (20,300 accounts,
	// most plain, take about 1.5 MB).
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `INSERT INTO accounts (id, name, plan, revision, config_revision)
		SELECT 'bulk-' || i, 'Bulk account ' || i, 'free', 1, 1 FROM generate_series(1, 20000) i`); err != nil {
		t.Fatal(err)
	}
	small := testsrv.StartWith(t, url, seeder.Keys, func(c *app.Config) { c.CacheMaxBytes = 1 << 20 })
	if got := small.Cache.Len(); got == 0 || got >= n+20000 || small.Cache.Bytes() > 1<<20 {
		t.Fatalf("with a 1 MiB bound: %d accounts, %d bytes", got, small.Cache.Bytes())
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 3s", what)
		}
	}
}
