package api_test

import (
	"context"
	"testing"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/proto"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/access"
	"github.com/igny8/aiconfig/internal/api"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/secret"
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
// interceptors): the answer's bytes from the cache.
func BenchmarkModelConfigHandler(b *testing.B) {
	env := testsrv.Start(b)
	admin := testsrv.Ctx(env.Token(b, domain.RoleAdmin, ""))
	if _, err := env.Accounts.UpsertAccount(admin, &pb.UpsertAccountRequest{Account: &pb.Account{Id: "acct", Plan: pb.Plan_PLAN_STARTER}}); err != nil {
		b.Fatal(err)
	}
	if _, err := env.Config.UpdateGlobalSettings(admin, &pb.UpdateGlobalSettingsRequest{Settings: &pb.GlobalSettings{Openai: &pb.IntegrationDefaults{ApiKey: "sk-bench-0000000000000000"}}}); err != nil {
		b.Fatal(err)
	}
	h := &api.ConfigServer{Store: env.Store, Cache: env.Cache, Secrets: secret.Static(env.Keys)}
	ctx := access.WithPrincipal(context.Background(), &domain.Principal{Name: "w", Role: domain.RoleService})
	req := &pb.GetModelConfigRequest{AccountId: "acct", Function: "generate_content"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := api.ModelConfigAnswer(h, ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// TestInProcessCallersGetMessages: the hot-path handlers called in process
// return full messages, equal to what gRPC callers decode from the
// pre-encoded bytes.
func TestInProcessCallersGetMessages(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	if _, err := env.Accounts.UpsertAccount(admin, &pb.UpsertAccountRequest{Account: &pb.Account{Id: "acct", Plan: pb.Plan_PLAN_STARTER}}); err != nil {
		t.Fatal(err)
	}
	ctx := access.WithPrincipal(context.Background(), &domain.Principal{Name: "a", Role: domain.RoleAdmin})
	mcReq := &pb.GetModelConfigRequest{AccountId: "acct", Function: "generate_content"}
	inProc, err := (&api.ConfigServer{Store: env.Store, Cache: env.Cache, Secrets: secret.Static(env.Keys)}).GetModelConfig(ctx, mcReq)
	if err != nil {
		t.Fatal(err)
	}
	remote, err := env.Config.GetModelConfig(admin, mcReq)
	if err != nil {
		t.Fatal(err)
	}
	if inProc.GetModel() == "" || inProc.GetRevision() == 0 || len(inProc.ProtoReflect().GetUnknown()) != 0 || !proto.Equal(inProc, remote) {
		t.Fatalf("in process: %v; over gRPC: %v", inProc, remote)
	}
	epReq := &pb.GetEffectivePromptRequest{AccountId: "acct", PromptType: "ideas"}
	ep, err := (&api.PromptServer{Store: env.Store, Cache: env.Cache}).GetEffectivePrompt(ctx, epReq)
	if err != nil {
		t.Fatal(err)
	}
	remoteEP, err := env.Prompts.GetEffectivePrompt(admin, epReq)
	if err != nil {
		t.Fatal(err)
	}
	if ep.GetText() == "" || len(ep.ProtoReflect().GetUnknown()) != 0 || !proto.Equal(ep, remoteEP) {
		t.Fatalf("in process: %v; over gRPC: %v", ep, remoteEP)
	}
}
