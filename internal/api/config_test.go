package api_test

import (
	"context"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/testsrv"
)

func upsertReq(account string, integ pb.Integration, o *pb.IntegrationOverride, paths ...string) *pb.UpsertIntegrationOverrideRequest {
	o.AccountId, o.Integration = account, integ
	req := &pb.UpsertIntegrationOverrideRequest{Override: o}
	if len(paths) > 0 {
		req.UpdateMask = &fieldmaskpb.FieldMask{Paths: paths}
	}
	return req
}

func setPlan(t *testing.T, env *testsrv.Env, ctx context.Context, id string, plan pb.Plan) {
	t.Helper()
	if _, err := env.Accounts.UpsertAccount(ctx, &pb.UpsertAccountRequest{Account: &pb.Account{Id: id, Name: id, Plan: plan}}); err != nil {
		t.Fatal(err)
	}
}

func TestPlanGate(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_FREE)
	callers := map[string]context.Context{
		"admin":   admin,
		"service": testsrv.Ctx(env.Token(t, domain.RoleService, "")),
		"account": testsrv.Ctx(env.Token(t, domain.RoleAccount, "acct")),
	}
	// Free is refused whoever calls, with both plans in the metadata.
	for name, ctx := range callers {
		_, err := env.Config.UpsertIntegrationOverride(ctx, upsertReq("acct", pb.Integration_INTEGRATION_OPENAI, &pb.IntegrationOverride{Model: proto.String("gpt-4.1")}))
		f := testsrv.WantError(t, err, codes.PermissionDenied, domain.ReasonPlanUpgradeRequired)
		if f.Info.Metadata["current_plan"] != "PLAN_FREE" || f.Info.Metadata["required_plan"] != "PLAN_STARTER" {
			t.Errorf("%s: metadata = %v", name, f.Info.Metadata)
		}
	}
	// Starter, Growth and Scale may.
	for _, plan := range []pb.Plan{pb.Plan_PLAN_STARTER, pb.Plan_PLAN_GROWTH, pb.Plan_PLAN_SCALE} {
		setPlan(t, env, admin, "acct", plan)
		o, err := env.Config.UpsertIntegrationOverride(callers["account"], upsertReq("", pb.Integration_INTEGRATION_OPENAI, &pb.IntegrationOverride{Model: proto.String("gpt-4.1")}))
		if err != nil || o.GetModel() != "gpt-4.1" || o.GetAccountId() != "acct" {
			t.Fatalf("%s: upsert = %v, %v", plan, o, err)
		}
	}

	// Downgrade: the override stays stored but stops applying at once.
	cfg := func() *pb.ModelConfig {
		c, err := env.Config.GetModelConfig(callers["account"], &pb.GetModelConfigRequest{Function: "generate_content"})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	before := cfg()
	if before.GetModel() != "gpt-4.1" || before.GetSources()["model"] != pb.Source_SOURCE_ACCOUNT || before.GetOverridesSuppressed() {
		t.Fatalf("scale plan config = %v", before)
	}
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_FREE)
	down := cfg()
	if down.GetModel() != "gpt-4o-mini" || down.GetSources()["model"] != pb.Source_SOURCE_GLOBAL || !down.GetOverridesSuppressed() || down.GetPlan() != pb.Plan_PLAN_FREE {
		t.Fatalf("after downgrade config = %v", down)
	}
	if down.GetRevision() <= before.GetRevision() {
		t.Errorf("revision went from %d to %d; a plan change must move it forward", before.GetRevision(), down.GetRevision())
	}
	stored, err := env.Config.GetIntegrationOverride(admin, &pb.GetIntegrationOverrideRequest{AccountId: "acct", Integration: pb.Integration_INTEGRATION_OPENAI})
	if err != nil || stored.GetModel() != "gpt-4.1" || !stored.GetOverridesSuppressed() {
		t.Fatalf("stored override after downgrade = %v, %v", stored, err)
	}
	// Deleting is allowed on Free.
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_GROWTH)
	if up := cfg(); up.GetModel() != "gpt-4.1" || up.GetOverridesSuppressed() {
		t.Fatalf("after upgrade config = %v", up)
	}
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_FREE)
	if _, err := env.Config.DeleteIntegrationOverride(callers["account"], &pb.DeleteIntegrationOverrideRequest{Integration: pb.Integration_INTEGRATION_OPENAI}); err != nil {
		t.Fatalf("delete on free: %v", err)
	}
	_, err = env.Config.GetIntegrationOverride(admin, &pb.GetIntegrationOverrideRequest{AccountId: "acct", Integration: pb.Integration_INTEGRATION_OPENAI})
	testsrv.WantError(t, err, codes.NotFound, domain.ReasonOverrideNotFound)
	_, err = env.Config.UpsertIntegrationOverride(admin, upsertReq("ghost", pb.Integration_INTEGRATION_OPENAI, &pb.IntegrationOverride{Model: proto.String("gpt-4.1")}))
	testsrv.WantError(t, err, codes.NotFound, domain.ReasonAccountNotFound)
}

func TestBadInput(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_SCALE)
	oai, dalle := pb.Integration_INTEGRATION_OPENAI, pb.Integration_INTEGRATION_DALLE
	cases := []struct {
		name, reason, field string
		call                func() error
	}{
		{"unknown function", domain.ReasonUnknownFunction, "function", func() error {
			_, err := env.Config.GetModelConfig(admin, &pb.GetModelConfigRequest{AccountId: "acct", Function: "write_poems"})
			return err
		}},
		{"empty account id", domain.ReasonValidationFailed, "account_id", func() error {
			_, err := env.Config.GetModelConfig(admin, &pb.GetModelConfigRequest{Function: "generate_content"})
			return err
		}},
		{"unknown model", domain.ReasonModelNotAllowed, "override.model", func() error {
			_, err := env.Config.UpsertIntegrationOverride(admin, upsertReq("acct", oai, &pb.IntegrationOverride{Model: proto.String("gpt-4")}))
			return err
		}},
		{"model of another provider", domain.ReasonModelNotAllowed, "override.model", func() error {
			_, err := env.Config.UpsertIntegrationOverride(admin, upsertReq("acct", oai, &pb.IntegrationOverride{Model: proto.String("dall-e-3")}))
			return err
		}},
		{"temperature NaN", domain.ReasonValidationFailed, "override.temperature", func() error {
			_, err := env.Config.UpsertIntegrationOverride(admin, upsertReq("acct", oai, &pb.IntegrationOverride{Temperature: proto.Float64(math.NaN())}))
			return err
		}},
		{"temperature +Inf", domain.ReasonValidationFailed, "override.temperature", func() error {
			_, err := env.Config.UpsertIntegrationOverride(admin, upsertReq("acct", oai, &pb.IntegrationOverride{Temperature: proto.Float64(math.Inf(1))}))
			return err
		}},
		{"temperature out of range", domain.ReasonValidationFailed, "override.temperature", func() error {
			_, err := env.Config.UpsertIntegrationOverride(admin, upsertReq("acct", oai, &pb.IntegrationOverride{Temperature: proto.Float64(2.5)}))
			return err
		}},
		{"max_tokens 0", domain.ReasonValidationFailed, "override.max_tokens", func() error {
			_, err := env.Config.UpsertIntegrationOverride(admin, upsertReq("acct", oai, &pb.IntegrationOverride{MaxTokens: proto.Int32(0)}))
			return err
		}},
		{"max_tokens negative", domain.ReasonValidationFailed, "override.max_tokens", func() error {
			_, err := env.Config.UpsertIntegrationOverride(admin, upsertReq("acct", oai, &pb.IntegrationOverride{MaxTokens: proto.Int32(-1)}))
			return err
		}},
		{"max_tokens over limit", domain.ReasonValidationFailed, "override.max_tokens", func() error {
			_, err := env.Config.UpsertIntegrationOverride(admin, upsertReq("acct", oai, &pb.IntegrationOverride{MaxTokens: proto.Int32(16385)}))
			return err
		}},
		{"image size on a text integration", domain.ReasonValidationFailed, "override.image_size", func() error {
			_, err := env.Config.UpsertIntegrationOverride(admin, upsertReq("acct", oai, &pb.IntegrationOverride{ImageSize: proto.String("1024x1024")}))
			return err
		}},
		{"image size not offered", domain.ReasonValidationFailed, "override.image_size", func() error {
			_, err := env.Config.UpsertIntegrationOverride(admin, upsertReq("acct", dalle, &pb.IntegrationOverride{ImageSize: proto.String("800x600")}))
			return err
		}},
		{"integration unspecified", domain.ReasonValidationFailed, "override.integration", func() error {
			_, err := env.Config.UpsertIntegrationOverride(admin, upsertReq("acct", pb.Integration_INTEGRATION_UNSPECIFIED, &pb.IntegrationOverride{}))
			return err
		}},
		{"plan unspecified", domain.ReasonValidationFailed, "account.plan", func() error {
			_, err := env.Accounts.UpsertAccount(admin, &pb.UpsertAccountRequest{Account: &pb.Account{Id: "x", Plan: pb.Plan_PLAN_UNSPECIFIED}})
			return err
		}},
		{"plan out of enum", domain.ReasonValidationFailed, "account.plan", func() error {
			_, err := env.Accounts.UpsertAccount(admin, &pb.UpsertAccountRequest{Account: &pb.Account{Id: "x", Plan: pb.Plan(5)}})
			return err
		}},
		{"empty account id on upsert", domain.ReasonValidationFailed, "account.id", func() error {
			_, err := env.Accounts.UpsertAccount(admin, &pb.UpsertAccountRequest{Account: &pb.Account{Plan: pb.Plan_PLAN_FREE}})
			return err
		}},
		{"unknown mask path", domain.ReasonValidationFailed, "update_mask", func() error {
			_, err := env.Config.UpsertIntegrationOverride(admin, upsertReq("acct", oai, &pb.IntegrationOverride{}, "api_key"))
			return err
		}},
		{"global: unknown mask path", domain.ReasonValidationFailed, "update_mask", func() error {
			_, err := env.Config.UpdateGlobalSettings(admin, &pb.UpdateGlobalSettingsRequest{UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"openai.key"}}})
			return err
		}},
		{"global: disabled-or-unknown model", domain.ReasonModelNotAllowed, "settings.openai.model", func() error {
			_, err := env.Config.UpdateGlobalSettings(admin, &pb.UpdateGlobalSettingsRequest{Settings: &pb.GlobalSettings{Openai: &pb.IntegrationDefaults{Model: "gpt-3"}}})
			return err
		}},
		{"negative page size", domain.ReasonValidationFailed, "page_size", func() error {
			_, err := env.Accounts.ListAccounts(admin, &pb.ListAccountsRequest{PageSize: -1})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := testsrv.WantViolation(t, tc.call(), tc.reason, tc.field)
			if f.Violations[tc.field] == "" {
				t.Errorf("violation on %s has no description", tc.field)
			}
		})
	}
	_, err := env.Config.GetModelConfig(admin, &pb.GetModelConfigRequest{AccountId: "nobody", Function: "generate_content"})
	testsrv.WantError(t, err, codes.NotFound, domain.ReasonAccountNotFound)
}

func TestFieldMaskClearsOneField(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_GROWTH)
	oai := pb.Integration_INTEGRATION_OPENAI
	if _, err := env.Config.UpsertIntegrationOverride(admin, upsertReq("acct", oai, &pb.IntegrationOverride{
		Model: proto.String("gpt-4.1"), Temperature: proto.Float64(0.2), MaxTokens: proto.Int32(9000)})); err != nil {
		t.Fatal(err)
	}
	// The mask lists temperature, the request leaves it unset: cleared.
	o, err := env.Config.UpsertIntegrationOverride(admin, upsertReq("acct", oai, &pb.IntegrationOverride{}, "temperature"))
	if err != nil || o.Temperature != nil || o.GetModel() != "gpt-4.1" || o.GetMaxTokens() != 9000 {
		t.Fatalf("after clearing temperature: %v, %v", o, err)
	}
	c, err := env.Config.GetModelConfig(admin, &pb.GetModelConfigRequest{AccountId: "acct", Function: "generate_ideas"})
	if err != nil {
		t.Fatal(err)
	}
	if c.GetTemperature() != 0.7 || c.GetSources()["temperature"] != pb.Source_SOURCE_GLOBAL ||
		c.GetModel() != "gpt-4.1" || c.GetSources()["model"] != pb.Source_SOURCE_ACCOUNT ||
		c.GetMaxTokens() != 9000 || c.GetSources()["max_tokens"] != pb.Source_SOURCE_ACCOUNT {
		t.Fatalf("config = %v", c)
	}
	list, err := env.Config.ListIntegrationOverrides(admin, &pb.ListIntegrationOverridesRequest{AccountId: "acct"})
	if err != nil || len(list.GetOverrides()) != 1 || list.GetOverrides()[0].Temperature != nil || list.GetOverrides()[0].GetPlan() != pb.Plan_PLAN_GROWTH {
		t.Fatalf("list = %v, %v", list, err)
	}
	// Without a mask, present fields change and the rest stay.
	o, err = env.Config.UpsertIntegrationOverride(admin, upsertReq("acct", oai, &pb.IntegrationOverride{MaxTokens: proto.Int32(100)}))
	if err != nil || o.GetModel() != "gpt-4.1" || o.GetMaxTokens() != 100 || o.Temperature != nil {
		t.Fatalf("no-mask update: %v, %v", o, err)
	}
}

func TestGlobalSettingsAndKeys(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_STARTER)
	service := testsrv.Ctx(env.Token(t, domain.RoleService, ""))
	acct := testsrv.Ctx(env.Token(t, domain.RoleAccount, "acct"))

	g, err := env.Config.GetGlobalSettings(admin, &pb.GetGlobalSettingsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if g.GetOpenai().GetModel() != "gpt-4o-mini" || g.GetOpenai().GetTemperature() != 0.7 || g.GetOpenai().GetMaxTokens() != 4000 ||
		g.GetDalle().GetModel() != "dall-e-3" || g.GetDalle().GetImageSize() != "1024x1024" || g.GetDalle().GetImageQuality() != "standard" ||
		g.GetDalle().GetImageStyle() != "vivid" || g.GetTextIntegration() != pb.Integration_INTEGRATION_OPENAI ||
		g.GetImageIntegration() != pb.Integration_INTEGRATION_DALLE || g.GetOpenai().GetApiKeySet() {
		t.Fatalf("seeded defaults = %v", g)
	}
	// No key yet: workers are refused rather than handed an empty key.
	_, err = env.Config.GetModelConfig(service, &pb.GetModelConfigRequest{AccountId: "acct", Function: "generate_content"})
	testsrv.WantError(t, err, codes.FailedPrecondition, domain.ReasonAPIKeyNotConfigured)

	const key = "sk-test-DISTINCTIVE-key-7f3a"
	g2, err := env.Config.UpdateGlobalSettings(admin, &pb.UpdateGlobalSettingsRequest{
		Settings:         &pb.GlobalSettings{Openai: &pb.IntegrationDefaults{ApiKey: key}},
		UpdateMask:       &fieldmaskpb.FieldMask{Paths: []string{"openai.api_key"}},
		ExpectedRevision: proto.Int64(g.GetRevision()),
	})
	if err != nil {
		t.Fatal(err)
	}
	if g2.GetOpenai().GetApiKey() != "" || !g2.GetOpenai().GetApiKeySet() || g2.GetOpenai().GetApiKeyHint() != "…7f3a" || g2.GetRevision() <= g.GetRevision() {
		t.Fatalf("after setting key: %v", g2.GetOpenai())
	}
	// Stale expected_revision: ABORTED.
	_, err = env.Config.UpdateGlobalSettings(admin, &pb.UpdateGlobalSettingsRequest{
		Settings: &pb.GlobalSettings{Openai: &pb.IntegrationDefaults{Model: "gpt-4o"}}, ExpectedRevision: proto.Int64(g.GetRevision()),
	})
	testsrv.WantError(t, err, codes.Aborted, domain.ReasonRevisionMismatch)

	for name, ctx := range map[string]context.Context{"service": service, "admin": admin, "account": acct} {
		c, err := env.Config.GetModelConfig(ctx, &pb.GetModelConfigRequest{AccountId: "acct", Function: "generate_content"})
		if err != nil {
			t.Fatal(err)
		}
		wantKey := ""
		if name == "service" {
			wantKey = key
		}
		if c.GetApiKey() != wantKey || !c.GetApiKeySet() {
			t.Errorf("%s: api_key = %q, api_key_set = %t; want %q, true", name, c.GetApiKey(), c.GetApiKeySet(), wantKey)
		}
	}
	// Disabling the global default model is refused; disabling another is fine.
	_, err = env.Config.UpsertModel(admin, &pb.UpsertModelRequest{Model: &pb.Model{Integration: pb.Integration_INTEGRATION_OPENAI, Model: "gpt-4o-mini",
		Enabled: false, MaxOutputTokens: proto.Int32(16384), MinTemperature: proto.Float64(0), MaxTemperature: proto.Float64(2)}})
	testsrv.WantError(t, err, codes.FailedPrecondition, domain.ReasonModelInUse)
	setOverride := func() error {
		_, err := env.Config.UpsertIntegrationOverride(acct, upsertReq("", pb.Integration_INTEGRATION_OPENAI, &pb.IntegrationOverride{Model: proto.String("gpt-4.1")}))
		return err
	}
	if err := setOverride(); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Config.UpsertModel(admin, &pb.UpsertModelRequest{Model: &pb.Model{Integration: pb.Integration_INTEGRATION_OPENAI, Model: "gpt-4.1",
		DisplayName: "GPT-4.1", Enabled: false, MaxOutputTokens: proto.Int32(32768), MinTemperature: proto.Float64(0), MaxTemperature: proto.Float64(2)}}); err != nil {
		t.Fatal(err)
	}
	c, err := env.Config.GetModelConfig(acct, &pb.GetModelConfigRequest{Function: "generate_content"})
	if err != nil || c.GetModel() != "gpt-4o-mini" || len(c.GetAdjustments()) != 1 || c.GetAdjustments()[0].GetField() != "model" {
		t.Fatalf("override on a disabled model: %v, %v", c, err)
	}
	testsrv.WantViolation(t, setOverride(), domain.ReasonModelNotAllowed, "override.model")
	models, err := env.Config.ListModels(acct, &pb.ListModelsRequest{Integration: pb.Integration_INTEGRATION_OPENAI})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range models.GetModels() {
		if m.GetModel() == "gpt-4.1" || m.GetIntegration() != pb.Integration_INTEGRATION_OPENAI {
			t.Errorf("ListModels returned %s/%s", m.GetIntegration(), m.GetModel())
		}
	}
}

// TestConcurrentUpserts: 50 writers race on one override with
// expected_revision, retrying on ABORTED. Only OK and ABORTED come back and
// the stored row is the OK write with the highest revision.
func TestConcurrentUpserts(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_SCALE)
	oai := pb.Integration_INTEGRATION_OPENAI
	type write struct {
		rev    int64
		tokens int32
	}
	var mu sync.Mutex
	var oks []write
	aborted := 0
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			for attempt := 0; attempt < 200; attempt++ {
				var cur int64
				o, err := env.Config.GetIntegrationOverride(admin, &pb.GetIntegrationOverrideRequest{AccountId: "acct", Integration: oai})
				if err == nil {
					cur = o.GetRevision()
				} else if testsrv.Decode(err).Code != codes.NotFound {
					t.Errorf("get: %v", err)
					return
				}
				req := upsertReq("acct", oai, &pb.IntegrationOverride{MaxTokens: proto.Int32(int32(1000 + i))})
				req.ExpectedRevision = proto.Int64(cur)
				saved, err := env.Config.UpsertIntegrationOverride(admin, req)
				mu.Lock()
				switch code := testsrv.Decode(err).Code; code {
				case codes.OK:
					oks = append(oks, write{saved.GetRevision(), saved.GetMaxTokens()})
				case codes.Aborted:
					aborted++
				default:
					t.Errorf("writer %d: code %s: %v", i, code, err)
				}
				mu.Unlock()
				if err == nil {
					return
				}
			}
			t.Errorf("writer %d never succeeded", i)
		})
	}
	wg.Wait()
	if len(oks) != 50 {
		t.Fatalf("%d writes succeeded, want all 50 after retries", len(oks))
	}
	last := oks[0]
	seen := map[int64]bool{}
	for _, w := range oks {
		if seen[w.rev] {
			t.Errorf("two OK writes share revision %d: one was lost", w.rev)
		}
		seen[w.rev] = true
		if w.rev > last.rev {
			last = w
		}
	}
	final, err := env.Config.GetIntegrationOverride(admin, &pb.GetIntegrationOverrideRequest{AccountId: "acct", Integration: oai})
	if err != nil {
		t.Fatal(err)
	}
	if final.GetRevision() != last.rev || final.GetMaxTokens() != last.tokens {
		t.Fatalf("final row rev=%d max_tokens=%d, want the last OK write rev=%d max_tokens=%d", final.GetRevision(), final.GetMaxTokens(), last.rev, last.tokens)
	}
	t.Logf("50 writers: %d OK, %d ABORTED", len(oks), aborted)
}

// TestStoreUnavailable: with the database refusing connections, cached
// reads keep working, writes and uncached reads fail as UNAVAILABLE
// STORE_UNAVAILABLE (not INTERNAL), and the service recovers by itself
// once the database accepts connections again.
func TestStoreUnavailable(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_STARTER)
	setPlan(t, env, admin, "cold", pb.Plan_PLAN_STARTER)
	read := func(account string) (*pb.ModelConfig, error) {
		return env.Config.GetModelConfig(admin, &pb.GetModelConfigRequest{AccountId: account, Function: "generate_content"})
	}
	genReq := &pb.GetGenerationContextRequest{AccountId: "acct", Function: "generate_content"}
	if _, err := read("acct"); err != nil { // now cached
		t.Fatal(err)
	}
	before, err := env.Config.GetGenerationContext(admin, genReq)
	if err != nil {
		t.Fatal(err)
	}
	restore := env.Outage(t)

	if c, err := read("acct"); err != nil || c.GetModel() != "gpt-4o-mini" {
		t.Fatalf("cached read during the outage: %v, %v", c, err)
	}
	// A generation context is served from memory too (SPEC §13).
	if g, err := env.Config.GetGenerationContext(admin, genReq); err != nil || !proto.Equal(g, before) {
		t.Fatalf("generation context during the outage: %v, %v; before it: %v", g, err, before)
	}
	_, err = read("cold")
	testsrv.WantError(t, err, codes.Unavailable, domain.ReasonStoreUnavailable)
	_, err = env.Config.UpsertIntegrationOverride(admin, upsertReq("acct", pb.Integration_INTEGRATION_OPENAI, &pb.IntegrationOverride{Model: proto.String("gpt-4.1")}))
	testsrv.WantError(t, err, codes.Unavailable, domain.ReasonStoreUnavailable)

	restore()
	if _, err := env.Config.UpsertIntegrationOverride(admin, upsertReq("acct", pb.Integration_INTEGRATION_OPENAI, &pb.IntegrationOverride{Model: proto.String("gpt-4.1")})); err != nil {
		t.Fatalf("write after the database returned: %v", err)
	}
	if c, err := read("acct"); err != nil || c.GetModel() != "gpt-4.1" {
		t.Fatalf("read after recovery: %v, %v", c, err)
	}
	if _, err := read("cold"); err != nil {
		t.Fatalf("uncached read after recovery: %v", err)
	}
}

// TestCopiedCiphertextRefused: a sealed key copied into another
// integration's row does not open; the worker gets a loud
// FAILED_PRECONDITION, never an empty or wrong key.
func TestCopiedCiphertextRefused(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_STARTER)
	service := testsrv.Ctx(env.Token(t, domain.RoleService, ""))
	if _, err := env.Config.UpdateGlobalSettings(admin, &pb.UpdateGlobalSettingsRequest{Settings: &pb.GlobalSettings{
		Openai: &pb.IntegrationDefaults{ApiKey: "sk-openai-COPY-ME-123456"}, TextIntegration: pb.Integration_INTEGRATION_ANTHROPIC}}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, env.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE global_integration_defaults a SET api_key_sealed = o.api_key_sealed, api_key_hint = o.api_key_hint
		FROM global_integration_defaults o WHERE a.integration = 'anthropic' AND o.integration = 'openai'`); err != nil {
		t.Fatal(err)
	}
	_, err = env.Config.GetModelConfig(service, &pb.GetModelConfigRequest{AccountId: "acct", Function: "generate_content"})
	f := testsrv.WantError(t, err, codes.FailedPrecondition, domain.ReasonAPIKeyUnreadable)
	if strings.Contains(f.Message, "COPY-ME") {
		t.Fatalf("error leaks the key: %s", f.Message)
	}
}

// TestMemoizedAnswersMatchDirectOnes: GetModelConfig (answered from bytes
// shared per plan with the account's revision appended, or from the
// account's own memo; the key appended for SERVICE) decodes to exactly what
// the direct path builds (WatchModelConfig's first message), for every
// function and caller, two accounts of one plan, before and after changes.
func TestMemoizedAnswersMatchDirectOnes(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_GROWTH)
	setPlan(t, env, admin, "peer", pb.Plan_PLAN_GROWTH) // same plan, newer revision, never an override
	if _, err := env.Config.UpdateGlobalSettings(admin, &pb.UpdateGlobalSettingsRequest{Settings: &pb.GlobalSettings{
		Openai: &pb.IntegrationDefaults{ApiKey: "sk-memo-openai-0123456789"}, Dalle: &pb.IntegrationDefaults{ApiKey: "sk-memo-dalle-0123456789"}}}); err != nil {
		t.Fatal(err)
	}
	callers := map[string]context.Context{"admin": admin, "service": testsrv.Ctx(env.Token(t, domain.RoleService, "")),
		"account": testsrv.Ctx(env.Token(t, domain.RoleAccount, "acct"))}
	compare := func(stage string) {
		for name, ctx := range callers {
			for _, id := range []string{"acct", "peer"} {
				if name == "account" && id != "acct" {
					continue // its token is bound to acct
				}
				for _, fn := range domain.FunctionNames() {
					compareOne(t, stage+" "+name+" "+id, ctx, env, id, fn, name == "service")
				}
			}
		}
	}
	compare("global only")
	if _, err := env.Config.UpsertIntegrationOverride(admin, upsertReq("acct", pb.Integration_INTEGRATION_OPENAI,
		&pb.IntegrationOverride{Model: proto.String("gpt-4.1"), Temperature: proto.Float64(0.1)})); err != nil {
		t.Fatal(err)
	}
	compare("one provider overridden")
	if _, err := env.Config.UpsertIntegrationOverride(admin, upsertReq("acct", pb.Integration_INTEGRATION_DALLE,
		&pb.IntegrationOverride{Model: proto.String("gpt-image-1"), ImageSize: proto.String("1536x1024")})); err != nil {
		t.Fatal(err)
	}
	compare("both overridden")
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_FREE)
	compare("downgraded")
}

// compareOne checks two GetModelConfig answers (the second a memo hit)
// against the directly built one.
func compareOne(t *testing.T, what string, ctx context.Context, env *testsrv.Env, id, fn string, wantKey bool) {
	t.Helper()
	for range 2 {
		got, err := env.Config.GetModelConfig(ctx, &pb.GetModelConfigRequest{AccountId: id, Function: fn})
		if err != nil {
			t.Fatalf("%s %s: %v", what, fn, err)
		}
		wctx, cancel := context.WithCancel(ctx)
		w, err := env.Config.WatchModelConfig(wctx, &pb.WatchModelConfigRequest{AccountId: id, Function: fn})
		if err != nil {
			t.Fatal(err)
		}
		want, err := w.Recv()
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(got, want) {
			t.Fatalf("%s %s:\n memo   %v\n direct %v", what, fn, got, want)
		}
		if wantKey != (got.GetApiKey() != "") || got.GetRevision() == 0 {
			t.Fatalf("%s %s: api key %q, revision %d", what, fn, got.GetApiKey(), got.GetRevision())
		}
	}
}
