package api_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/testsrv"
)

func effective(t *testing.T, env *testsrv.Env, ctx context.Context, account, promptType string) *pb.EffectivePrompt {
	t.Helper()
	e, err := env.Prompts.GetEffectivePrompt(ctx, &pb.GetEffectivePromptRequest{AccountId: account, PromptType: promptType})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestPromptLifecycle(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_STARTER)
	user := testsrv.Ctx(env.Token(t, domain.RoleAccount, "acct"))

	// Seeded globals: six types, each using the variables it declares.
	globals, err := env.Prompts.ListGlobalPrompts(user, &pb.ListGlobalPromptsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, g := range globals.GetPrompts() {
		types = append(types, g.GetPromptType())
		for _, v := range g.GetVariables() {
			if !strings.Contains(g.GetText(), "{{"+v+"}}") {
				t.Errorf("seeded %s does not use {{%s}}", g.GetPromptType(), v)
			}
		}
	}
	if got := strings.Join(types, ","); got != "clustering,content_generation,ideas,image_prompt_extraction,image_prompt_template,negative_prompt" {
		t.Fatalf("seeded types = %s", got)
	}
	global := effective(t, env, user, "", "clustering")
	if global.GetSource() != pb.Source_SOURCE_GLOBAL || global.GetIsCustomized() || !strings.Contains(global.GetText(), "{{keywords}}") {
		t.Fatalf("global only: %v", global)
	}

	custom := "Group these keywords by search intent: {{keywords}}"
	ap, err := env.Prompts.CustomizePrompt(user, &pb.CustomizePromptRequest{PromptType: "clustering", Text: custom})
	if err != nil || !ap.GetIsCustomized() || ap.GetPromptValue() != custom || ap.GetDefaultPrompt() != global.GetText() {
		t.Fatalf("customize: %v, %v", ap, err)
	}
	e := effective(t, env, user, "", "clustering")
	if e.GetText() != custom || e.GetSource() != pb.Source_SOURCE_ACCOUNT || !e.GetIsCustomized() || e.GetDefaultChanged() {
		t.Fatalf("customized: %v", e)
	}

	newGlobal := "Cluster the keywords below by intent and topic.\n{{keywords}}"
	g2, err := env.Prompts.UpsertGlobalPrompt(admin, &pb.UpsertGlobalPromptRequest{
		Prompt:           &pb.GlobalPrompt{PromptType: "clustering", Text: newGlobal, Description: "v2", Variables: []string{"keywords"}},
		ExpectedRevision: proto.Int64(global.GetGlobalRevision()),
	})
	if err != nil {
		t.Fatal(err)
	}
	e = effective(t, env, user, "", "clustering")
	if e.GetText() != custom || !e.GetDefaultChanged() || e.GetGlobalRevision() != g2.GetRevision() {
		t.Fatalf("after global change: %v", e)
	}
	// A stale expected_revision on the global is refused.
	_, err = env.Prompts.UpsertGlobalPrompt(admin, &pb.UpsertGlobalPromptRequest{
		Prompt: &pb.GlobalPrompt{PromptType: "clustering", Text: "x {{keywords}}", Variables: []string{"keywords"}}, ExpectedRevision: proto.Int64(global.GetGlobalRevision())})
	testsrv.WantError(t, err, codes.Aborted, domain.ReasonRevisionMismatch)

	// Reset follows the live global, not the stored default_prompt.
	_, err = env.Prompts.ResetPrompt(user, &pb.ResetPromptRequest{PromptType: "clustering", ExpectedRevision: proto.Int64(ap.GetRevision() - 1)})
	testsrv.WantError(t, err, codes.Aborted, domain.ReasonRevisionMismatch)
	reset, err := env.Prompts.ResetPrompt(user, &pb.ResetPromptRequest{PromptType: "clustering", ExpectedRevision: proto.Int64(e.GetRevision())})
	if err != nil || reset.GetIsCustomized() || reset.GetPromptValue() != newGlobal || reset.GetDefaultPrompt() != newGlobal {
		t.Fatalf("reset: %v, %v", reset, err)
	}
	e = effective(t, env, user, "", "clustering")
	if e.GetText() != newGlobal || e.GetSource() != pb.Source_SOURCE_GLOBAL || e.GetIsCustomized() || e.GetDefaultChanged() {
		t.Fatalf("after reset: %v", e)
	}
	// Customizing to exactly the global text is not a customization.
	same, err := env.Prompts.CustomizePrompt(user, &pb.CustomizePromptRequest{PromptType: "clustering", Text: newGlobal})
	if err != nil || same.GetIsCustomized() {
		t.Fatalf("customize to global text: %v, %v", same, err)
	}

	all, err := env.Prompts.ListEffectivePrompts(user, &pb.ListEffectivePromptsRequest{})
	if err != nil || len(all.GetPrompts()) != 6 {
		t.Fatalf("list effective: %v, %v", all, err)
	}
	hist, err := env.Prompts.ListPromptHistory(user, &pb.ListPromptHistoryRequest{PromptType: "clustering"})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, h := range hist.GetEntries() {
		actions = append(actions, h.GetAction())
		if h.GetActorRole() != pb.Role_ROLE_ACCOUNT || h.GetAccountId() != "acct" {
			t.Errorf("history entry %v: want the account token as actor", h)
		}
	}
	if strings.Join(actions, ",") != "customize,reset,customize" {
		t.Fatalf("history (newest first) = %v", actions)
	}
	if first := hist.GetEntries()[2]; first.GetOldText() != global.GetText() || first.GetNewText() != custom {
		t.Errorf("first customize recorded %q → %q", first.GetOldText(), first.GetNewText())
	}
	gh, err := env.Prompts.ListPromptHistory(admin, &pb.ListPromptHistoryRequest{PromptType: "clustering"})
	if err != nil || len(gh.GetEntries()) != 1 || gh.GetEntries()[0].GetAction() != "upsert_global" || gh.GetEntries()[0].GetNewText() != newGlobal {
		t.Fatalf("global history: %v, %v", gh, err)
	}
	_, err = env.Prompts.GetEffectivePrompt(user, &pb.GetEffectivePromptRequest{PromptType: "poems"})
	testsrv.WantError(t, err, codes.NotFound, domain.ReasonPromptTypeNotFound)
}

func TestPromptPlans(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_FREE)
	user := testsrv.Ctx(env.Token(t, domain.RoleAccount, "acct"))
	custom := "My ideas for {{clusters}}"
	_, err := env.Prompts.CustomizePrompt(user, &pb.CustomizePromptRequest{PromptType: "ideas", Text: custom})
	f := testsrv.WantError(t, err, codes.PermissionDenied, domain.ReasonPlanUpgradeRequired)
	if f.Info.Metadata["current_plan"] != "PLAN_FREE" {
		t.Errorf("metadata = %v", f.Info.Metadata)
	}
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_GROWTH)
	if _, err := env.Prompts.CustomizePrompt(user, &pb.CustomizePromptRequest{PromptType: "ideas", Text: custom}); err != nil {
		t.Fatal(err)
	}
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_FREE)
	e := effective(t, env, user, "", "ideas")
	if e.GetSource() != pb.Source_SOURCE_GLOBAL || e.GetText() == custom || !e.GetOverridesSuppressed() || e.GetPlan() != pb.Plan_PLAN_FREE {
		t.Fatalf("downgraded: %v", e)
	}
	r, err := env.Prompts.RenderPrompt(user, &pb.RenderPromptRequest{PromptType: "ideas", Variables: map[string]string{"clusters": "[]"}})
	if err != nil || r.GetSource() != pb.Source_SOURCE_GLOBAL {
		t.Fatalf("render while downgraded: %v, %v", r, err)
	}
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_SCALE)
	if e := effective(t, env, user, "", "ideas"); e.GetText() != custom || e.GetSource() != pb.Source_SOURCE_ACCOUNT {
		t.Fatalf("upgraded: %v", e)
	}
	// Reset is allowed on Free.
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_FREE)
	if _, err := env.Prompts.ResetPrompt(user, &pb.ResetPromptRequest{PromptType: "ideas"}); err != nil {
		t.Fatalf("reset on free: %v", err)
	}
}

func TestPromptTemplateErrors(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_STARTER)
	customize := func(text string) error {
		_, err := env.Prompts.CustomizePrompt(admin, &pb.CustomizePromptRequest{AccountId: "acct", PromptType: "clustering", Text: text})
		return err
	}
	for name, tc := range map[string]struct{ text, mention string }{
		"missing variable": {"Cluster these keywords please.", "{{keywords}}"},
		"unknown variable": {"Cluster {{keyword}} and {{keywords}}", "{{keyword}}"},
		"empty":            {"", "empty"},
		"whitespace":       {"   \n\t", "empty"},
		"64 KiB + 1 byte":  {"{{keywords}}" + strings.Repeat("x", 64<<10+1-len("{{keywords}}")), "64 KiB"},
	} {
		t.Run(name, func(t *testing.T) {
			// (Invalid UTF-8 cannot reach the server: proto3 strings refuse it
			// on the wire; validate.CheckTemplate's tests cover it.)
			f := testsrv.WantViolation(t, customize(tc.text), domain.ReasonValidationFailed, "text")
			if !strings.Contains(f.Violations["text"], tc.mention) {
				t.Errorf("violation %q does not mention %q", f.Violations["text"], tc.mention)
			}
		})
	}
	// Nothing was stored by the failed attempts.
	if e := effective(t, env, admin, "acct", "clustering"); e.GetIsCustomized() || e.GetRevision() != 0 {
		t.Fatalf("failed customizations left a row: %v", e)
	}
	_, err := env.Prompts.UpsertGlobalPrompt(admin, &pb.UpsertGlobalPromptRequest{Prompt: &pb.GlobalPrompt{PromptType: "clustering", Text: "Cluster {{keyword}}", Variables: []string{"keywords"}}})
	testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "prompt.text")
}

func TestRenderPrompt(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_STARTER)
	if _, err := env.Prompts.CustomizePrompt(admin, &pb.CustomizePromptRequest{AccountId: "acct", PromptType: "clustering",
		Text: "K: {{keywords}} | again: {{keywords}}"}); err != nil {
		t.Fatal(err)
	}
	value := "{{keywords}} <b>&</b> \"quoted\" $1"
	r, err := env.Prompts.RenderPrompt(admin, &pb.RenderPromptRequest{AccountId: "acct", PromptType: "clustering", Variables: map[string]string{"keywords": value}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "K: " + value + " | again: " + value; r.GetText() != want || r.GetSource() != pb.Source_SOURCE_ACCOUNT {
		t.Fatalf("render = %q, want %q", r.GetText(), want)
	}
	_, err = env.Prompts.RenderPrompt(admin, &pb.RenderPromptRequest{AccountId: "acct", PromptType: "clustering"})
	f := testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "variables")
	if !strings.Contains(f.Violations["variables"], "{{keywords}}") {
		t.Errorf("missing-variable violation %q should name {{keywords}}", f.Violations["variables"])
	}
	_, err = env.Prompts.RenderPrompt(admin, &pb.RenderPromptRequest{AccountId: "acct", PromptType: "clustering", Variables: map[string]string{"keywords": "a", "keyword": "b"}})
	testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "variables[keyword]")
}

// TestPromptConcurrency: 50 parallel customize/reset calls on one
// (account, type) end in a consistent row, with one history entry per
// successful write and only OK or ABORTED codes.
func TestPromptConcurrency(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_STARTER)
	// A stored row first, so every successful call below is a write.
	if _, err := env.Prompts.CustomizePrompt(admin, &pb.CustomizePromptRequest{AccountId: "acct", PromptType: "ideas", Text: "Seed {{clusters}}"}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	ok := 1
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			// Half the writers pin a revision they read, so some must lose.
			var expected *int64
			if i%2 == 0 {
				expected = proto.Int64(effective(t, env, admin, "acct", "ideas").GetRevision())
			}
			var err error
			if i%3 == 0 {
				_, err = env.Prompts.ResetPrompt(admin, &pb.ResetPromptRequest{AccountId: "acct", PromptType: "ideas", ExpectedRevision: expected})
			} else {
				_, err = env.Prompts.CustomizePrompt(admin, &pb.CustomizePromptRequest{AccountId: "acct", PromptType: "ideas",
					Text: fmt.Sprintf("Writer %d: ideas for {{clusters}}", i), ExpectedRevision: expected})
			}
			mu.Lock()
			defer mu.Unlock()
			switch code := testsrv.Decode(err).Code; code {
			case codes.OK:
				ok++
			case codes.Aborted:
			default:
				t.Errorf("writer %d: %s %v", i, code, err)
			}
		})
	}
	wg.Wait()
	e := effective(t, env, admin, "acct", "ideas")
	g, err := env.Prompts.GetGlobalPrompt(admin, &pb.GetGlobalPromptRequest{PromptType: "ideas"})
	if err != nil {
		t.Fatal(err)
	}
	if e.GetIsCustomized() != (e.GetText() != g.GetText()) {
		t.Fatalf("inconsistent row: is_customized=%t text=%q global=%q", e.GetIsCustomized(), e.GetText(), g.GetText())
	}
	hist, err := env.Prompts.ListPromptHistory(admin, &pb.ListPromptHistoryRequest{AccountId: "acct", PromptType: "ideas", PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	writes := len(hist.GetEntries())
	if writes != ok {
		t.Fatalf("%d successful writes but %d history entries", ok, writes)
	}
	if last := hist.GetEntries()[0]; last.GetRevision() != e.GetRevision() || last.GetNewText() != effectiveStored(e, g) {
		t.Fatalf("newest history entry %v does not match the row %v", last, e)
	}
	t.Logf("%d OK of 50, %d history entries", ok, writes)
}

func effectiveStored(e *pb.EffectivePrompt, g *pb.GlobalPrompt) string {
	if e.GetIsCustomized() {
		return e.GetText()
	}
	return g.GetText()
}

func TestBulkResetPrompts(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	for _, a := range []string{"a1", "a2", "a3"} {
		setPlan(t, env, admin, a, pb.Plan_PLAN_GROWTH)
		for _, pt := range []struct{ typ, text string }{{"clustering", "C {{keywords}}"}, {"ideas", "I {{clusters}}"}} {
			if _, err := env.Prompts.CustomizePrompt(admin, &pb.CustomizePromptRequest{AccountId: a, PromptType: pt.typ, Text: pt.text + " " + a}); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, err := env.Prompts.BulkResetPrompts(admin, &pb.BulkResetPromptsRequest{})
	testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "account_ids")

	r, err := env.Prompts.BulkResetPrompts(admin, &pb.BulkResetPromptsRequest{AccountIds: []string{"a1", "a2"}, PromptTypes: []string{"clustering"}})
	if err != nil || r.GetResetCount() != 2 {
		t.Fatalf("bulk reset = %v, %v; want 2", r, err)
	}
	for _, a := range []string{"a1", "a2", "a3"} {
		for _, typ := range []string{"clustering", "ideas"} {
			e := effective(t, env, admin, a, typ)
			wantCustom := !(typ == "clustering" && a != "a3")
			if e.GetIsCustomized() != wantCustom {
				t.Errorf("%s/%s customized = %t, want %t", a, typ, e.GetIsCustomized(), wantCustom)
			}
		}
	}
	// Again: nothing left to reset in that selection.
	if r, err := env.Prompts.BulkResetPrompts(admin, &pb.BulkResetPromptsRequest{AccountIds: []string{"a1", "a2"}, PromptTypes: []string{"clustering"}}); err != nil || r.GetResetCount() != 0 {
		t.Fatalf("second bulk reset = %v, %v; want 0", r, err)
	}
	if r, err := env.Prompts.BulkResetPrompts(admin, &pb.BulkResetPromptsRequest{PromptTypes: []string{"ideas"}}); err != nil || r.GetResetCount() != 3 {
		t.Fatalf("bulk reset by type = %v, %v; want 3", r, err)
	}
	h, err := env.Prompts.ListPromptHistory(admin, &pb.ListPromptHistoryRequest{AccountId: "a3", PromptType: "ideas"})
	if err != nil || h.GetEntries()[0].GetAction() != "bulk_reset" || h.GetEntries()[0].GetActorRole() != pb.Role_ROLE_ADMIN {
		t.Fatalf("history after bulk reset: %v, %v", h, err)
	}
}

// TestSharedPromptAnswersMatchDirectOnes: GetEffectivePrompt (answered from
// bytes shared per type and plan, or memoized per account for a stored
// prompt) decodes to exactly what ListEffectivePrompts builds directly,
// also after a global change and after the account changes its own text.
func TestSharedPromptAnswersMatchDirectOnes(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	for i, plan := range []pb.Plan{pb.Plan_PLAN_FREE, pb.Plan_PLAN_STARTER, pb.Plan_PLAN_SCALE} {
		id := fmt.Sprintf("acct%d", i)
		setPlan(t, env, admin, id, plan)
		if plan != pb.Plan_PLAN_FREE {
			if _, err := env.Prompts.CustomizePrompt(admin, &pb.CustomizePromptRequest{AccountId: id, PromptType: "ideas", Text: "Own {{clusters}}"}); err != nil {
				t.Fatal(err)
			}
		}
		for round := range 3 {
			switch round {
			case 1: // after a global change the shared bytes are rebuilt
				if _, err := env.Prompts.UpsertGlobalPrompt(admin, &pb.UpsertGlobalPromptRequest{Prompt: &pb.GlobalPrompt{
					PromptType: "clustering", Text: fmt.Sprintf("v%d {{keywords}}", i), Variables: []string{"keywords"}}}); err != nil {
					t.Fatal(err)
				}
			case 2: // and the account's own answer after it edits its text
				if plan == pb.Plan_PLAN_FREE {
					continue
				}
				if _, err := env.Prompts.CustomizePrompt(admin, &pb.CustomizePromptRequest{AccountId: id, PromptType: "ideas", Text: "Own v2 {{clusters}}"}); err != nil {
					t.Fatal(err)
				}
			}
			all, err := env.Prompts.ListEffectivePrompts(admin, &pb.ListEffectivePromptsRequest{AccountId: id})
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range all.GetPrompts() {
				got := effective(t, env, admin, id, want.GetPromptType())
				if !proto.Equal(got, want) {
					t.Fatalf("%s %s round %d:\n shared %v\n direct %v", id, want.GetPromptType(), round, got, want)
				}
			}
		}
	}
}
