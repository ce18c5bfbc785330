package api_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/access"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/testsrv"
)

// Distinctive secrets the leak test looks for everywhere.
var platformKeys = map[string]string{
	"openai":    "sk-LEAKCHECK-openai-5f1e2d3c4b5a",
	"anthropic": "sk-ant-LEAKCHECK-anthropic-9a8b7c",
	"dalle":     "sk-LEAKCHECK-dalle-0f1e2d3c4b",
	"runware":   "rw-LEAKCHECK-runware-77aa88bb",
}

type writeCall struct {
	method   string
	resource string
	call     func() (proto.Message, error)
}

// writes returns one successful call of every write RPC, in an order that
// works from a fresh database with account "acct" on Starter.
func writes(env *testsrv.Env, admin context.Context) []writeCall {
	var tokenID string
	return []writeCall{
		{"/aiconfig.v1.AccountService/UpsertAccount", "accounts/acct2", func() (proto.Message, error) {
			return env.Accounts.UpsertAccount(admin, &pb.UpsertAccountRequest{Account: &pb.Account{Id: "acct2", Name: "Two", Plan: pb.Plan_PLAN_GROWTH}})
		}},
		{"/aiconfig.v1.ConfigService/UpdateGlobalSettings", "global_settings", func() (proto.Message, error) {
			return env.Config.UpdateGlobalSettings(admin, &pb.UpdateGlobalSettingsRequest{
				Settings: &pb.GlobalSettings{Openai: &pb.IntegrationDefaults{ApiKey: platformKeys["openai"]}, Anthropic: &pb.IntegrationDefaults{ApiKey: platformKeys["anthropic"]},
					Dalle: &pb.IntegrationDefaults{ApiKey: platformKeys["dalle"]}, Runware: &pb.IntegrationDefaults{ApiKey: platformKeys["runware"]}},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"openai.api_key", "anthropic.api_key", "dalle.api_key", "runware.api_key"}},
			})
		}},
		{"/aiconfig.v1.ConfigService/UpsertModel", "models/openai/gpt-4.5-preview", func() (proto.Message, error) {
			return env.Config.UpsertModel(admin, &pb.UpsertModelRequest{Model: &pb.Model{Integration: pb.Integration_INTEGRATION_OPENAI, Model: "gpt-4.5-preview",
				Enabled: true, MaxOutputTokens: proto.Int32(16384), MinTemperature: proto.Float64(0), MaxTemperature: proto.Float64(2)}})
		}},
		{"/aiconfig.v1.ConfigService/UpsertIntegrationOverride", "accounts/acct/overrides/openai", func() (proto.Message, error) {
			return env.Config.UpsertIntegrationOverride(admin, upsertReq("acct", pb.Integration_INTEGRATION_OPENAI, &pb.IntegrationOverride{Model: proto.String("gpt-4.1")}))
		}},
		{"/aiconfig.v1.ConfigService/DeleteIntegrationOverride", "accounts/acct/overrides/openai", func() (proto.Message, error) {
			return env.Config.DeleteIntegrationOverride(admin, &pb.DeleteIntegrationOverrideRequest{AccountId: "acct", Integration: pb.Integration_INTEGRATION_OPENAI})
		}},
		{"/aiconfig.v1.TokenService/CreateToken", "tokens/", func() (proto.Message, error) {
			r, err := env.Tokens.CreateToken(admin, &pb.CreateTokenRequest{Name: "audited", Role: pb.Role_ROLE_ACCOUNT, AccountId: "acct"})
			tokenID = r.GetToken().GetId()
			return r, err
		}},
		{"/aiconfig.v1.TokenService/RevokeToken", "tokens/", func() (proto.Message, error) {
			return env.Tokens.RevokeToken(admin, &pb.RevokeTokenRequest{Id: tokenID})
		}},
		{"/aiconfig.v1.PromptService/UpsertGlobalPrompt", "global_prompts/faq", func() (proto.Message, error) {
			return env.Prompts.UpsertGlobalPrompt(admin, &pb.UpsertGlobalPromptRequest{Prompt: &pb.GlobalPrompt{PromptType: "faq", Text: "FAQ about {{topic}}", Variables: []string{"topic"}}})
		}},
		{"/aiconfig.v1.PromptService/CustomizePrompt", "accounts/acct/prompts/faq", func() (proto.Message, error) {
			return env.Prompts.CustomizePrompt(admin, &pb.CustomizePromptRequest{AccountId: "acct", PromptType: "faq", Text: "Our FAQ on {{topic}}"})
		}},
		{"/aiconfig.v1.PromptService/ResetPrompt", "accounts/acct/prompts/faq", func() (proto.Message, error) {
			return env.Prompts.ResetPrompt(admin, &pb.ResetPromptRequest{AccountId: "acct", PromptType: "faq"})
		}},
		{"/aiconfig.v1.PromptService/BulkResetPrompts", "account_prompts", func() (proto.Message, error) {
			return env.Prompts.BulkResetPrompts(admin, &pb.BulkResetPromptsRequest{PromptTypes: []string{"faq"}})
		}},
		{"/aiconfig.v1.AuthorProfileService/UpsertGlobalAuthorProfile", "global_author_profiles/tech-explainer", func() (proto.Message, error) {
			return env.Profiles.UpsertGlobalAuthorProfile(admin, &pb.UpsertGlobalAuthorProfileRequest{AuthorProfile: &pb.AuthorProfile{
				Id: "tech-explainer", Name: "Tech explainer", Language: "en", StyleGuide: "Explain one concept at a time."}})
		}},
		{"/aiconfig.v1.AuthorProfileService/CreateAuthorProfile", "accounts/acct/author_profiles/house-voice", func() (proto.Message, error) {
			return env.Profiles.CreateAuthorProfile(admin, &pb.CreateAuthorProfileRequest{AccountId: "acct", AuthorProfile: &pb.AuthorProfile{
				Id: "house-voice", Name: "House voice", Language: "en-GB"}})
		}},
		{"/aiconfig.v1.AuthorProfileService/UpdateAuthorProfile", "accounts/acct/author_profiles/friendly-guide", func() (proto.Message, error) {
			return env.Profiles.UpdateAuthorProfile(admin, &pb.UpdateAuthorProfileRequest{AccountId: "acct",
				AuthorProfile: &pb.AuthorProfile{Id: "friendly-guide", Tone: "calm"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"tone"}}})
		}},
		{"/aiconfig.v1.HistoryService/RestoreVersion", "accounts/acct/author_profiles/house-voice", func() (proto.Message, error) {
			h, err := env.History.ListHistory(admin, &pb.ListHistoryRequest{AccountId: "acct", Kind: pb.ItemKind_ITEM_KIND_AUTHOR_PROFILE, ItemId: "house-voice"})
			if err != nil {
				return nil, err
			}
			return env.History.RestoreVersion(admin, &pb.RestoreVersionRequest{AccountId: "acct", EntryId: h.GetEntries()[0].GetId()})
		}},
		{"/aiconfig.v1.AuthorProfileService/ResetAuthorProfile", "accounts/acct/author_profiles/friendly-guide", func() (proto.Message, error) {
			return env.Profiles.ResetAuthorProfile(admin, &pb.ResetAuthorProfileRequest{AccountId: "acct", Id: "friendly-guide"})
		}},
		{"/aiconfig.v1.AccountService/SetAccountDefaults", "accounts/acct", func() (proto.Message, error) {
			return env.Accounts.SetAccountDefaults(admin, &pb.SetAccountDefaultsRequest{AccountId: "acct", DefaultAuthorProfileId: "house-voice"})
		}},
		{"/aiconfig.v1.AuthorProfileService/DeleteAuthorProfile", "accounts/acct/author_profiles/house-voice", func() (proto.Message, error) {
			return env.Profiles.DeleteAuthorProfile(admin, &pb.DeleteAuthorProfileRequest{AccountId: "acct", Id: "house-voice"})
		}},
		{"/aiconfig.v1.ContentStrategyService/UpsertGlobalContentStrategy", "global_content_strategies/evergreen", func() (proto.Message, error) {
			return env.Strategies.UpsertGlobalContentStrategy(admin, &pb.UpsertGlobalContentStrategyRequest{ContentStrategy: &pb.ContentStrategy{
				Id: "evergreen", Name: "Evergreen", ArticleTypes: []string{"guide"}, WordCountMin: 1000, WordCountMax: 2000}})
		}},
		{"/aiconfig.v1.ContentStrategyService/CreateContentStrategy", "accounts/acct/content_strategies/launch", func() (proto.Message, error) {
			return env.Strategies.CreateContentStrategy(admin, &pb.CreateContentStrategyRequest{AccountId: "acct", ContentStrategy: &pb.ContentStrategy{
				Id: "launch", Name: "Launch", ArticleTypes: []string{"news"}, WordCountMin: 300, WordCountMax: 600}})
		}},
		{"/aiconfig.v1.ContentStrategyService/UpdateContentStrategy", "accounts/acct/content_strategies/product-led", func() (proto.Message, error) {
			return env.Strategies.UpdateContentStrategy(admin, &pb.UpdateContentStrategyRequest{AccountId: "acct",
				ContentStrategy: &pb.ContentStrategy{Id: "product-led", WordCountMax: 2000}})
		}},
		{"/aiconfig.v1.ContentStrategyService/ResetContentStrategy", "accounts/acct/content_strategies/product-led", func() (proto.Message, error) {
			return env.Strategies.ResetContentStrategy(admin, &pb.ResetContentStrategyRequest{AccountId: "acct", Id: "product-led"})
		}},
		{"/aiconfig.v1.ContentStrategyService/DeleteContentStrategy", "accounts/acct/content_strategies/launch", func() (proto.Message, error) {
			return env.Strategies.DeleteContentStrategy(admin, &pb.DeleteContentStrategyRequest{AccountId: "acct", Id: "launch"})
		}},
		{"/aiconfig.v1.ConfigService/UpdatePlanLimit", "plan_limits/starter/author_profile", func() (proto.Message, error) {
			return env.Config.UpdatePlanLimit(admin, &pb.UpdatePlanLimitRequest{PlanLimit: &pb.PlanLimit{
				Plan: pb.Plan_PLAN_STARTER, Kind: pb.ItemKind_ITEM_KIND_AUTHOR_PROFILE, MaxItems: 6}})
		}},
		{"/aiconfig.v1.AccountService/DeleteAccount", "accounts/acct2", func() (proto.Message, error) {
			return env.Accounts.DeleteAccount(admin, &pb.DeleteAccountRequest{Id: "acct2"})
		}},
	}
}

func auditEvents(t *testing.T, env *testsrv.Env, admin context.Context, req *pb.ListAuditEventsRequest) []*pb.AuditEvent {
	t.Helper()
	req.PageSize = 1000
	r, err := env.Audit.ListAuditEvents(admin, req)
	if err != nil {
		t.Fatal(err)
	}
	return r.GetEvents()
}

// TestEveryWriteIsAuditedOnce: each write RPC adds exactly one "ok" event
// naming its RPC, resource, actor and request, and one change to the feed
// naming the same resource; the table covers every write RPC the proto
// declares.
func TestEveryWriteIsAuditedOnce(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_STARTER)
	rules, err := access.LoadRules()
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, w := range writes(env, admin) {
		covered[w.method] = true
		before := len(auditEvents(t, env, admin, &pb.ListAuditEventsRequest{}))
		head, err := env.Store.Head(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.call(); err != nil {
			t.Fatalf("%s: %v", w.method, err)
		}
		changes, _, err := env.Store.ChangesAfter(context.Background(), head, 10)
		if err != nil {
			t.Fatal(err)
		}
		events := auditEvents(t, env, admin, &pb.ListAuditEventsRequest{})
		if len(events) != before+1 {
			t.Fatalf("%s added %d audit events, want 1", w.method, len(events)-before)
		}
		e := events[0]
		if e.GetRpc() != w.method || e.GetOutcome() != "ok" || !strings.HasPrefix(e.GetResource(), w.resource) ||
			e.GetActorName() != "test-admin" || e.GetActorRole() != pb.Role_ROLE_ADMIN || e.GetRequestId() == "" || e.GetActorTokenId() == "" {
			t.Errorf("%s: event %v", w.method, e)
		}
		// A call that changed nothing (audited with neither before nor
		// after) announces nothing.
		want := 1
		if e.GetBefore() == nil && e.GetAfter() == nil {
			want = 0
		}
		if len(changes) != want || (want == 1 && !strings.HasPrefix(changes[0].Resource, w.resource)) {
			t.Errorf("%s: the feed got %+v, want %d change of %s", w.method, changes, want, w.resource)
		}
	}
	for method, rule := range rules {
		if rule.Write && !covered[method] {
			t.Errorf("write RPC %s has no audit case", method)
		}
		if !rule.Write && covered[method] {
			t.Errorf("%s is audited as a write but declared NO_SIDE_EFFECTS", method)
		}
	}

	// Before/after of a plan change, and the account filter.
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_SCALE)
	e := auditEvents(t, env, admin, &pb.ListAuditEventsRequest{AccountId: "acct", Resource: "accounts/acct"})[0]
	if e.GetBefore().GetFields()["plan"].GetStringValue() != "starter" || e.GetAfter().GetFields()["plan"].GetStringValue() != "scale" {
		t.Fatalf("plan change event: before=%v after=%v", e.GetBefore(), e.GetAfter())
	}
	// Whatever was created has no "before": SQL NULL, never a JSON null.
	conn, err := pgx.Connect(context.Background(), env.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var jsonNulls, creates int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE jsonb_typeof(before) = 'null'),
		count(*) FILTER (WHERE before IS NULL AND after IS NOT NULL) FROM audit_events`).Scan(&jsonNulls, &creates); err != nil {
		t.Fatal(err)
	}
	if jsonNulls != 0 || creates == 0 {
		t.Fatalf("%d audit rows hold a JSON null as before, %d a create's SQL NULL", jsonNulls, creates)
	}
	// Keys appear as set + hint only.
	g := auditEvents(t, env, admin, &pb.ListAuditEventsRequest{Resource: "global_settings"})[0]
	key := g.GetAfter().GetFields()["defaults"].GetStructValue().GetFields()["openai"].GetStructValue().GetFields()["api_key"].GetStructValue()
	if !key.GetFields()["set"].GetBoolValue() || key.GetFields()["hint"].GetStringValue() != "…4b5a" || len(key.GetFields()) != 2 {
		t.Fatalf("api key in audit: %v", key)
	}
	// Time range: nothing after now; end before start is refused.
	future := timestamppb.New(time.Now().Add(time.Hour))
	if n := len(auditEvents(t, env, admin, &pb.ListAuditEventsRequest{StartTime: future})); n != 0 {
		t.Errorf("%d events start in the future", n)
	}
	if n := len(auditEvents(t, env, admin, &pb.ListAuditEventsRequest{EndTime: future, ActorName: "test-admin"})); n == 0 {
		t.Error("no events before an end time in the future")
	}
	_, err = env.Audit.ListAuditEvents(admin, &pb.ListAuditEventsRequest{StartTime: future, EndTime: timestamppb.Now()})
	testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "end_time")
	// Prefix filter.
	for _, e := range auditEvents(t, env, admin, &pb.ListAuditEventsRequest{Resource: "accounts/acct/"}) {
		if !strings.HasPrefix(e.GetResource(), "accounts/acct/") {
			t.Errorf("prefix filter returned %s", e.GetResource())
		}
	}
}

// TestFailedAndDeniedWrites: a rolled-back write leaves no event; a denied
// one leaves a "denied" event with the actor and reason.
func TestFailedAndDeniedWrites(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_FREE)
	user := testsrv.Ctx(env.Token(t, domain.RoleAccount, "acct"))
	start := len(auditEvents(t, env, admin, &pb.ListAuditEventsRequest{}))

	_, err := env.Config.UpdateGlobalSettings(admin, &pb.UpdateGlobalSettingsRequest{Settings: &pb.GlobalSettings{Openai: &pb.IntegrationDefaults{Model: "nope"}}})
	testsrv.WantViolation(t, err, domain.ReasonModelNotAllowed, "settings.openai.model")
	_, err = env.Accounts.UpsertAccount(admin, &pb.UpsertAccountRequest{Account: &pb.Account{Id: "acct", Plan: pb.Plan_PLAN_GROWTH}, ExpectedRevision: proto.Int64(1)})
	testsrv.WantError(t, err, codes.Aborted, domain.ReasonRevisionMismatch)
	if n := len(auditEvents(t, env, admin, &pb.ListAuditEventsRequest{})); n != start {
		t.Fatalf("failed writes left %d audit events", n-start)
	}

	_, err = env.Config.UpsertIntegrationOverride(user, upsertReq("", pb.Integration_INTEGRATION_OPENAI, &pb.IntegrationOverride{Model: proto.String("gpt-4.1")}))
	testsrv.WantError(t, err, codes.PermissionDenied, domain.ReasonPlanUpgradeRequired)
	_, err = env.Config.UpdateGlobalSettings(user, &pb.UpdateGlobalSettingsRequest{})
	testsrv.WantError(t, err, codes.PermissionDenied, domain.ReasonRoleNotAllowed)
	_, err = env.Accounts.DeleteAccount(context.Background(), &pb.DeleteAccountRequest{Id: "acct"})
	testsrv.WantError(t, err, codes.Unauthenticated, domain.ReasonTokenMissing)
	// A denied read is not a write: not audited.
	_, err = env.Config.GetGlobalSettings(user, &pb.GetGlobalSettingsRequest{})
	testsrv.WantError(t, err, codes.PermissionDenied, domain.ReasonRoleNotAllowed)

	events := auditEvents(t, env, admin, &pb.ListAuditEventsRequest{})[:3]
	want := []struct{ rpc, reason, actor, account string }{
		{"/aiconfig.v1.AccountService/DeleteAccount", domain.ReasonTokenMissing, "anonymous", ""},
		{"/aiconfig.v1.ConfigService/UpdateGlobalSettings", domain.ReasonRoleNotAllowed, "test-account", ""},
		{"/aiconfig.v1.ConfigService/UpsertIntegrationOverride", domain.ReasonPlanUpgradeRequired, "test-account", "acct"},
	}
	for i, w := range want {
		e := events[i]
		if e.GetOutcome() != "denied" || e.GetRpc() != w.rpc || e.GetReason() != w.reason || e.GetActorName() != w.actor || e.GetAccountId() != w.account {
			t.Errorf("denied event %d = %v, want %+v", i, e, w)
		}
	}
	if n := len(auditEvents(t, env, admin, &pb.ListAuditEventsRequest{})); n != start+3 {
		t.Fatalf("%d events after 3 denied writes and a denied read, want %d", n, start+3)
	}
}

// TestNothingLeaks sets distinctive API keys and tokens, exercises every
// RPC on success and error paths, and scans every response, error, log
// line, audit row and history row: only a SERVICE caller's GetModelConfig
// carries a key, and no token secret appears anywhere.
func TestNothingLeaks(t *testing.T) {
	env := testsrv.Start(t)
	adminSecret := env.Token(t, domain.RoleAdmin, "")
	admin := testsrv.Ctx(adminSecret)
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_STARTER)
	serviceSecret := env.Token(t, domain.RoleService, "")
	accountSecret := env.Token(t, domain.RoleAccount, "acct")
	created, err := env.Tokens.CreateToken(admin, &pb.CreateTokenRequest{Name: "rpc-made", Role: pb.Role_ROLE_SERVICE})
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{adminSecret, serviceSecret, accountSecret, created.GetSecret()}
	for _, k := range platformKeys {
		secrets = append(secrets, k)
	}

	var seen strings.Builder
	record := func(what string, m proto.Message, err error) {
		if m != nil {
			b, _ := protojson.Marshal(m)
			seen.WriteString(what + " → " + string(b) + "\n")
		}
		if err != nil {
			f := testsrv.Decode(err)
			b, _ := json.Marshal(f)
			seen.WriteString(what + " ✗ " + f.Message + " " + string(b) + "\n")
		}
	}
	for _, w := range writes(env, admin) {
		m, err := w.call()
		record(w.method, m, err)
	}
	if _, err := env.Config.UpdateGlobalSettings(admin, &pb.UpdateGlobalSettingsRequest{Settings: &pb.GlobalSettings{
		Openai: &pb.IntegrationDefaults{ApiKey: platformKeys["openai"] + " bad"}}}); err == nil {
		t.Fatal("a key with a space was accepted")
	} else {
		record("bad key", nil, err)
	}
	// Every RPC, empty request, as each kind of caller (error paths mostly).
	rules, _ := access.LoadRules()
	for method := range rules {
		for _, who := range []string{adminSecret, serviceSecret, accountSecret, "aic_wrong", ""} {
			req, resp := testsrv.Messages(t, method)
			ctx := context.Background()
			if who != "" {
				ctx = testsrv.Ctx(who)
			}
			err := testsrv.Call(ctx, env.Conn, method, req, resp)
			if err != nil {
				resp = nil
			}
			record(method, resp, err)
		}
	}
	// Success paths of the reads.
	for _, ctx := range []context.Context{admin, testsrv.Ctx(accountSecret)} {
		m1, err := env.Config.GetModelConfig(ctx, &pb.GetModelConfigRequest{AccountId: "acct", Function: "generate_images"})
		record("GetModelConfig", m1, err)
		m2, err := env.Config.GetGlobalSettings(ctx, &pb.GetGlobalSettingsRequest{})
		record("GetGlobalSettings", m2, err)
		m3, err := env.Tokens.ListTokens(ctx, &pb.ListTokensRequest{IncludeRevoked: true})
		record("ListTokens", m3, err)
		m4, err := env.Audit.ListAuditEvents(ctx, &pb.ListAuditEventsRequest{})
		record("ListAuditEvents", m4, err)
	}

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, env.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var tables string
	if err := conn.QueryRow(ctx, `SELECT concat_ws(E'\n',
		(SELECT string_agg(a::text, E'\n') FROM audit_events a),
		(SELECT string_agg(h::text, E'\n') FROM item_history h),
		(SELECT string_agg(g::text, E'\n') FROM global_integration_defaults g),
		(SELECT string_agg(k::text, E'\n') FROM tokens k))`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	places := map[string]string{"responses and errors": seen.String(), "server log": env.Logs.String(), "database": tables}
	for where, text := range places {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s contains a secret (%s…)", where, s[:8])
			}
		}
	}
	if !strings.Contains(env.Logs.String(), "UpsertIntegrationOverride") || !strings.Contains(tables, "global_settings") {
		t.Fatal("the scan saw no log lines or audit rows: it would prove nothing")
	}
	// Positive control: a worker does get the key.
	service := testsrv.Ctx(serviceSecret)
	for fn, key := range map[string]string{"generate_content": platformKeys["openai"], "generate_images": platformKeys["dalle"]} {
		c, err := env.Config.GetModelConfig(service, &pb.GetModelConfigRequest{AccountId: "acct", Function: fn})
		if err != nil || c.GetApiKey() != key {
			t.Fatalf("service %s: key %q, %v", fn, c.GetApiKey(), err)
		}
	}
}
