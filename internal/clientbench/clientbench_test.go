package clientbench_test

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

// What make bench runs, small: cached reads on one replica, and writes on
// it seen through a client of another.
func TestMeasure(t *testing.T) {
	a := testsrv.Start(t)
	b := testsrv.StartOn(t, a.DatabaseURL, a.Keys)
	admin := a.Token(t, domain.RoleAdmin, "")
	if _, err := a.Config.UpdateGlobalSettings(testsrv.Ctx(admin), &pb.UpdateGlobalSettingsRequest{
		Settings:   &pb.GlobalSettings{Openai: &pb.IntegrationDefaults{ApiKey: "sk-bench-0123456789abcdef"}},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"openai.api_key"}}}); err != nil {
		t.Fatal(err)
	}
	a.Account(t, "acme", domain.PlanStarter)
	a.Account(t, "beta", domain.PlanFree)
	service := a.Token(t, domain.RoleService, "")
	ctx := context.Background()
	inStep := func(target string) *client.Client {
		c, err := client.New(target, client.WithToken(service), client.WithInsecure(), client.WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		for deadline := time.Now().Add(10 * time.Second); !c.Stats().InStep; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the client's feed did not get in step")
			}
		}
		return c
	}

	r, err := clientbench.MeasureCachedReads(ctx, inStep(a.App.Addr.String()), []string{"acme", "beta"}, []string{"generate_content", "generate_ideas"}, 20_500)
	if err != nil {
		t.Fatal(err)
	}
	if r.Calls != 20_000 || r.Keys != 4 || r.P50 <= 0 || r.P99 < r.P50 || r.AllocsPerCall < 0 {
		t.Errorf("cached reads: %+v", r)
	}
	t.Log(r)

	s, err := clientbench.MeasureStaleness(ctx, inStep(b.App.Addr.String()), a.App.Addr.String(), admin, "acme", 5)
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 5 || s.P50 <= 0 || s.P99 < s.P50 || s.Max < s.P99 || s.Feed.P50 > s.P50 {
		t.Errorf("staleness: %+v", s)
	}
	t.Log(s)
}
