package api_test

import (
	"context"
	"testing"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/access"
	"github.com/igny8/aiconfig/internal/api"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/testsrv"
)

// In-process benchmarks of the hot path over a real loopback listener, for
// profiling (go test -bench . -cpuprofile); `make bench` is the full run.
func BenchmarkHotPath(b *testing.B) {
	env := testsrv.Start(b)
	admin := testsrv.Ctx(env.Token(b, domain.RoleAdmin, ""))
	if _, err := env.Accounts.UpsertAccount(admin, &pb.UpsertAccountRequest{Account: &pb.Account{Id: "acct", Plan: pb.Plan_PLAN_STARTER}}); err != nil {
		b.Fatal(err)
	}
	worker := testsrv.Ctx(env.Token(b, domain.RoleAdmin, ""))
	health := healthpb.NewHealthClient(env.Conn)
	b.Run("health", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := health.Check(worker, &healthpb.HealthCheckRequest{}); err != nil {
					b.Error(err)
				}
			}
		})
	})
	b.Run("GetModelConfig", func(b *testing.B) {
		b.RunParallel(func(p *testing.PB) {
			for p.Next() {
				if _, err := env.Config.GetModelConfig(worker, &pb.GetModelConfigRequest{AccountId: "acct", Function: "generate_content"}); err != nil {
					b.Error(err)
				}
			}
		})
	})
}

// BenchmarkModelConfigHandler measures the handler alone (no gRPC, no
// interceptors): resolution from the cache and encoding.
func BenchmarkModelConfigHandler(b *testing.B) {
	env := testsrv.Start(b)
	admin := testsrv.Ctx(env.Token(b, domain.RoleAdmin, ""))
	if _, err := env.Accounts.UpsertAccount(admin, &pb.UpsertAccountRequest{Account: &pb.Account{Id: "acct", Plan: pb.Plan_PLAN_STARTER}}); err != nil {
		b.Fatal(err)
	}
	if _, err := env.Config.UpdateGlobalSettings(admin, &pb.UpdateGlobalSettingsRequest{Settings: &pb.GlobalSettings{Openai: &pb.IntegrationDefaults{ApiKey: "sk-bench-0000000000000000"}}}); err != nil {
		b.Fatal(err)
	}
	h := &api.ConfigServer{Store: env.Store, Cache: env.Cache, Secrets: env.Keys}
	ctx := access.WithPrincipal(context.Background(), &domain.Principal{Name: "w", Role: domain.RoleService})
	req := &pb.GetModelConfigRequest{AccountId: "acct", Function: "generate_content"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.GetModelConfig(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
