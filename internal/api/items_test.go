package api_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/testsrv"
)

func profile(t *testing.T, env *testsrv.Env, ctx context.Context, account, id string) *pb.AuthorProfile {
	t.Helper()
	p, err := env.Profiles.GetAuthorProfile(ctx, &pb.GetAuthorProfileRequest{AccountId: account, Id: id})
	if err != nil {
		t.Fatalf("GetAuthorProfile(%s, %s): %v", account, id, err)
	}
	return p
}

func listProfiles(t *testing.T, env *testsrv.Env, ctx context.Context, account string) *pb.ListAuthorProfilesResponse {
	t.Helper()
	l, err := env.Profiles.ListAuthorProfiles(ctx, &pb.ListAuthorProfilesRequest{AccountId: account})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func ids[M interface{ GetId() string }](list []M) string {
	var out []string
	for _, m := range list {
		out = append(out, m.GetId())
	}
	return strings.Join(out, ",")
}

func mask(paths ...string) *fieldmaskpb.FieldMask { return &fieldmaskpb.FieldMask{Paths: paths} }

// TestSeededLibrary: three real items of each kind, valid, and the
// platform defaults in the global settings.
func TestSeededLibrary(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_FREE)
	user := testsrv.Ctx(env.Token(t, domain.RoleAccount, "acct"))
	profiles, err := env.Profiles.ListGlobalAuthorProfiles(user, &pb.ListGlobalAuthorProfilesRequest{})
	if err != nil || ids(profiles.GetAuthorProfiles()) != "expert-practitioner,friendly-guide,news-reporter" {
		t.Fatalf("seeded profiles: %v, %v", ids(profiles.GetAuthorProfiles()), err)
	}
	for _, p := range profiles.GetAuthorProfiles() {
		if len(p.GetStyleGuide()) < 800 || p.GetLanguage() != "en" || p.GetTone() == "" || p.GetAudience() == "" || p.GetSource() != pb.Source_SOURCE_GLOBAL {
			t.Errorf("seeded profile %s is thin: %v", p.GetId(), p)
		}
	}
	strategies, err := env.Strategies.ListGlobalContentStrategies(user, &pb.ListGlobalContentStrategiesRequest{})
	if err != nil || ids(strategies.GetContentStrategies()) != "news-and-trends,pillar-cluster-seo,product-led" {
		t.Fatalf("seeded strategies: %v, %v", ids(strategies.GetContentStrategies()), err)
	}
	for _, s := range strategies.GetContentStrategies() {
		if len(s.GetStructureGuidelines()) < 600 || len(s.GetKeywordGuidelines()) < 300 || len(s.GetArticleTypes()) == 0 ||
			s.GetWordCountMin() < 100 || s.GetWordCountMin() > s.GetWordCountMax() {
			t.Errorf("seeded strategy %s is thin: %v", s.GetId(), s)
		}
	}
	g, err := env.Config.GetGlobalSettings(admin, &pb.GetGlobalSettingsRequest{})
	if err != nil || g.GetDefaultAuthorProfileId() != "expert-practitioner" || g.GetDefaultContentStrategyId() != "pillar-cluster-seo" {
		t.Fatalf("platform defaults: %v, %v", g, err)
	}
	limits, err := env.Config.ListPlanLimits(user, &pb.ListPlanLimitsRequest{})
	if err != nil || len(limits.GetPlanLimits()) != 6 {
		t.Fatalf("plan limits: %v, %v", limits, err)
	}
	for _, l := range limits.GetPlanLimits() {
		want := map[pb.Plan]int32{pb.Plan_PLAN_STARTER: 5, pb.Plan_PLAN_GROWTH: 25, pb.Plan_PLAN_SCALE: 100}[l.GetPlan()]
		if l.GetMaxItems() != want {
			t.Errorf("limit %v, want %d", l, want)
		}
	}
}

func TestAuthorProfileLifecycle(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_STARTER)
	setPlan(t, env, admin, "other", pb.Plan_PLAN_STARTER)
	user := testsrv.Ctx(env.Token(t, domain.RoleAccount, "acct"))

	l := listProfiles(t, env, user, "")
	if ids(l.GetAuthorProfiles()) != "expert-practitioner,friendly-guide,news-reporter" || l.GetDefaultId() != "expert-practitioner" {
		t.Fatalf("fresh account: %v", l)
	}
	global := profile(t, env, user, "", "friendly-guide")

	// Customizing a global profile: a field mask over the global version.
	p, err := env.Profiles.UpdateAuthorProfile(user, &pb.UpdateAuthorProfileRequest{
		AuthorProfile: &pb.AuthorProfile{Id: "friendly-guide", Tone: "calm, kind"}, UpdateMask: mask("tone"), ExpectedRevision: proto.Int64(0)})
	if err != nil || !p.GetIsCustomized() || p.GetSource() != pb.Source_SOURCE_ACCOUNT || p.GetTone() != "calm, kind" ||
		p.GetStyleGuide() != global.GetStyleGuide() || p.GetDefaultChanged() {
		t.Fatalf("customize: %v, %v", p, err)
	}
	if got := profile(t, env, user, "", "friendly-guide"); !proto.Equal(got, p) {
		t.Fatalf("read after customize:\n got %v\nwant %v", got, p)
	}
	// A stale expected_revision is refused.
	_, err = env.Profiles.UpdateAuthorProfile(user, &pb.UpdateAuthorProfileRequest{
		AuthorProfile: &pb.AuthorProfile{Id: "friendly-guide", Tone: "x"}, ExpectedRevision: proto.Int64(0)})
	testsrv.WantError(t, err, codes.Aborted, domain.ReasonRevisionMismatch)

	// The admin moves the global: default_changed; reset follows the live global.
	newGuide := global.GetStyleGuide() + "\n- Keep examples local to the reader's country."
	global.StyleGuide = newGuide
	if _, err := env.Profiles.UpsertGlobalAuthorProfile(admin, &pb.UpsertGlobalAuthorProfileRequest{AuthorProfile: global,
		ExpectedRevision: proto.Int64(global.GetGlobalRevision())}); err != nil {
		t.Fatal(err)
	}
	p = profile(t, env, user, "", "friendly-guide")
	if !p.GetDefaultChanged() || p.GetTone() != "calm, kind" || p.GetStyleGuide() == newGuide {
		t.Fatalf("after the global moved: %v", p)
	}
	p, err = env.Profiles.ResetAuthorProfile(user, &pb.ResetAuthorProfileRequest{Id: "friendly-guide"})
	if err != nil || p.GetIsCustomized() || p.GetDefaultChanged() || p.GetStyleGuide() != newGuide || p.GetSource() != pb.Source_SOURCE_GLOBAL {
		t.Fatalf("reset: %v, %v", p, err)
	}

	// Own profiles: created, listed, updated by mask, deleted.
	own, err := env.Profiles.CreateAuthorProfile(user, &pb.CreateAuthorProfileRequest{AuthorProfile: &pb.AuthorProfile{
		Id: "house-voice", Name: "House voice", Language: "en-GB", Tone: "dry", StyleGuide: "British spelling. No exclamation marks."}})
	if err != nil || own.GetSource() != pb.Source_SOURCE_ACCOUNT || own.GetIsCustomized() || own.GetRevision() == 0 || own.GetGlobalRevision() != 0 {
		t.Fatalf("create: %v, %v", own, err)
	}
	_, err = env.Profiles.CreateAuthorProfile(user, &pb.CreateAuthorProfileRequest{AuthorProfile: &pb.AuthorProfile{Id: "house-voice", Name: "Again", Language: "en"}})
	testsrv.WantError(t, err, codes.AlreadyExists, domain.ReasonItemAlreadyExists)
	_, err = env.Profiles.CreateAuthorProfile(user, &pb.CreateAuthorProfileRequest{AuthorProfile: &pb.AuthorProfile{Id: "news-reporter", Name: "Mine", Language: "en"}})
	testsrv.WantError(t, err, codes.AlreadyExists, domain.ReasonItemAlreadyExists)
	own, err = env.Profiles.UpdateAuthorProfile(user, &pb.UpdateAuthorProfileRequest{
		AuthorProfile: &pb.AuthorProfile{Id: "house-voice", Name: "House voice 2"}, UpdateMask: mask("name", "tone")})
	if err != nil || own.GetName() != "House voice 2" || own.GetTone() != "" || own.GetStyleGuide() == "" {
		t.Fatalf("update own (tone cleared by the mask): %v, %v", own, err)
	}
	_, err = env.Profiles.UpdateAuthorProfile(user, &pb.UpdateAuthorProfileRequest{
		AuthorProfile: &pb.AuthorProfile{Id: "house-voice"}, UpdateMask: mask("revision")})
	testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "update_mask")
	if l := listProfiles(t, env, user, ""); ids(l.GetAuthorProfiles()) != "expert-practitioner,friendly-guide,house-voice,news-reporter" {
		t.Fatalf("list with an own profile: %s", ids(l.GetAuthorProfiles()))
	}
	// Another account sees none of it.
	if l := listProfiles(t, env, admin, "other"); ids(l.GetAuthorProfiles()) != "expert-practitioner,friendly-guide,news-reporter" {
		t.Fatalf("other account: %s", ids(l.GetAuthorProfiles()))
	}
	_, err = env.Profiles.DeleteAuthorProfile(user, &pb.DeleteAuthorProfileRequest{Id: "friendly-guide"})
	testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "id")
	_, err = env.Profiles.ResetAuthorProfile(user, &pb.ResetAuthorProfileRequest{Id: "house-voice"})
	testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "id")
	if _, err := env.Profiles.DeleteAuthorProfile(user, &pb.DeleteAuthorProfileRequest{Id: "house-voice"}); err != nil {
		t.Fatal(err)
	}
	_, err = env.Profiles.GetAuthorProfile(user, &pb.GetAuthorProfileRequest{Id: "house-voice"})
	testsrv.WantError(t, err, codes.NotFound, domain.ReasonAuthorProfileNotFound)
	_, err = env.Profiles.DeleteAuthorProfile(user, &pb.DeleteAuthorProfileRequest{Id: "house-voice"})
	testsrv.WantError(t, err, codes.NotFound, domain.ReasonAuthorProfileNotFound)

	// Archived: kept for the account that customized it, not offered to others.
	if _, err := env.Profiles.UpdateAuthorProfile(user, &pb.UpdateAuthorProfileRequest{
		AuthorProfile: &pb.AuthorProfile{Id: "news-reporter", Audience: "Our subscribers"}}); err != nil {
		t.Fatal(err)
	}
	reporter := profile(t, env, admin, "other", "news-reporter")
	reporter.Archived = true
	if _, err := env.Profiles.UpsertGlobalAuthorProfile(admin, &pb.UpsertGlobalAuthorProfileRequest{AuthorProfile: reporter}); err != nil {
		t.Fatal(err)
	}
	if p := profile(t, env, user, "", "news-reporter"); p.GetAudience() != "Our subscribers" || !p.GetArchived() {
		t.Fatalf("archived, customized: %v", p)
	}
	if l := listProfiles(t, env, user, ""); !strings.Contains(ids(l.GetAuthorProfiles()), "news-reporter") {
		t.Fatalf("the customized archived profile left the account's list: %s", ids(l.GetAuthorProfiles()))
	}
	if l := listProfiles(t, env, admin, "other"); strings.Contains(ids(l.GetAuthorProfiles()), "news-reporter") {
		t.Fatalf("an archived profile is offered for new use: %s", ids(l.GetAuthorProfiles()))
	}
	// On Free the customization no longer applies, so the account cannot
	// use the archived profile; it is kept, and listed with what the plan
	// suppresses (to be reset, or used again after an upgrade).
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_FREE)
	if l := listProfiles(t, env, user, ""); strings.Contains(ids(l.GetAuthorProfiles()), "news-reporter") ||
		ids(l.GetSuppressedAuthorProfiles()) != "news-reporter" || l.GetSuppressedAuthorProfiles()[0].GetAudience() == "Our subscribers" {
		t.Fatalf("a Free account's customization of an archived profile: %v", l)
	}
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_STARTER)
	_, err = env.Profiles.GetAuthorProfile(admin, &pb.GetAuthorProfileRequest{AccountId: "other", Id: "news-reporter"})
	if f := testsrv.WantError(t, err, codes.NotFound, domain.ReasonAuthorProfileNotFound); !strings.Contains(f.Message, "archived") {
		t.Errorf("message %q should say it is archived", f.Message)
	}
	_, err = env.Profiles.UpdateAuthorProfile(admin, &pb.UpdateAuthorProfileRequest{AccountId: "other", AuthorProfile: &pb.AuthorProfile{Id: "news-reporter", Tone: "x"}})
	testsrv.WantError(t, err, codes.NotFound, domain.ReasonAuthorProfileNotFound)
	globals, err := env.Profiles.ListGlobalAuthorProfiles(admin, &pb.ListGlobalAuthorProfilesRequest{})
	if err != nil || len(globals.GetAuthorProfiles()) != 3 || !globals.GetAuthorProfiles()[2].GetArchived() {
		t.Fatalf("the library lists archived profiles, marked: %v, %v", globals, err)
	}
	// The platform default cannot be archived.
	expert := profile(t, env, admin, "other", "expert-practitioner")
	expert.Archived = true
	_, err = env.Profiles.UpsertGlobalAuthorProfile(admin, &pb.UpsertGlobalAuthorProfileRequest{AuthorProfile: expert})
	testsrv.WantError(t, err, codes.FailedPrecondition, domain.ReasonItemInUse)

	// Every change is in the history, with its actor.
	h, err := env.History.ListHistory(user, &pb.ListHistoryRequest{Kind: pb.ItemKind_ITEM_KIND_AUTHOR_PROFILE})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range h.GetEntries() {
		actions = append(actions, e.GetItemId()+":"+e.GetAction())
		if e.GetActorRole() != pb.Role_ROLE_ACCOUNT || e.GetCreateTime() == nil || e.GetAccountId() != "acct" {
			t.Errorf("entry %v: want the account token as actor, and a time", e)
		}
	}
	if got := strings.Join(actions, " "); got != "news-reporter:customize house-voice:delete house-voice:update house-voice:create friendly-guide:reset friendly-guide:customize" {
		t.Fatalf("history (newest first): %s", got)
	}
	if first := h.GetEntries()[5]; first.GetBefore().GetAuthorProfile().GetTone() == "calm, kind" || first.GetAfter().GetAuthorProfile().GetTone() != "calm, kind" {
		t.Errorf("customize entry before/after: %v", first)
	}
	gh, err := env.History.ListHistory(admin, &pb.ListHistoryRequest{Kind: pb.ItemKind_ITEM_KIND_AUTHOR_PROFILE})
	if err != nil || len(gh.GetEntries()) != 2 || !gh.GetEntries()[0].GetAfter().GetAuthorProfile().GetArchived() {
		t.Fatalf("global history: %v, %v", gh, err)
	}
}

func TestContentStrategyLifecycle(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_GROWTH)
	user := testsrv.Ctx(env.Token(t, domain.RoleAccount, "acct"))
	s, err := env.Strategies.UpdateContentStrategy(user, &pb.UpdateContentStrategyRequest{ContentStrategy: &pb.ContentStrategy{
		Id: "product-led", ArticleTypes: []string{"how_to", "comparison"}, WordCountMax: 1800}})
	if err != nil || !s.GetIsCustomized() || len(s.GetArticleTypes()) != 2 || s.GetWordCountMax() != 1800 || s.GetWordCountMin() != 800 {
		t.Fatalf("customize without a mask (the non-empty fields): %v, %v", s, err)
	}
	_, err = env.Strategies.UpdateContentStrategy(user, &pb.UpdateContentStrategyRequest{ContentStrategy: &pb.ContentStrategy{
		Id: "product-led", WordCountMin: 2000}})
	f := testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "content_strategy.word_count_min")
	if !strings.Contains(f.Violations["content_strategy.word_count_min"], "1800") {
		t.Errorf("violation %q should name the maximum", f.Violations["content_strategy.word_count_min"])
	}
	own, err := env.Strategies.CreateContentStrategy(user, &pb.CreateContentStrategyRequest{ContentStrategy: &pb.ContentStrategy{
		Id: "launch-week", Name: "Launch week", ArticleTypes: []string{"news", "landing_page"}, WordCountMin: 300, WordCountMax: 700,
		StructureGuidelines: "Lead with the launch date."}})
	if err != nil || own.GetSource() != pb.Source_SOURCE_ACCOUNT {
		t.Fatalf("create: %v, %v", own, err)
	}
	l, err := env.Strategies.ListContentStrategies(user, &pb.ListContentStrategiesRequest{})
	if err != nil || ids(l.GetContentStrategies()) != "launch-week,news-and-trends,pillar-cluster-seo,product-led" || l.GetDefaultId() != "pillar-cluster-seo" {
		t.Fatalf("list: %v, %v", l, err)
	}
	if r, err := env.Strategies.ResetContentStrategy(user, &pb.ResetContentStrategyRequest{Id: "product-led"}); err != nil || r.GetIsCustomized() || r.GetWordCountMax() != 2500 {
		t.Fatalf("reset: %v, %v", r, err)
	}
	// Resetting what was never customized changes nothing.
	if r, err := env.Strategies.ResetContentStrategy(user, &pb.ResetContentStrategyRequest{Id: "news-and-trends"}); err != nil || r.GetRevision() != 0 {
		t.Fatalf("reset of an uncustomized strategy: %v, %v", r, err)
	}
	if _, err := env.Strategies.DeleteContentStrategy(user, &pb.DeleteContentStrategyRequest{Id: "launch-week", ExpectedRevision: proto.Int64(own.GetRevision())}); err != nil {
		t.Fatal(err)
	}
}

// TestItemPlans: Free reads the library but creates and customizes
// nothing, and may still reset and delete; Starter stops at its limit;
// a downgrade hides own items and customizations (defaults fall back),
// an upgrade brings them back.
func TestItemPlans(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_STARTER)
	user := testsrv.Ctx(env.Token(t, domain.RoleAccount, "acct"))

	create := func(id string) error {
		_, err := env.Profiles.CreateAuthorProfile(user, &pb.CreateAuthorProfileRequest{AuthorProfile: &pb.AuthorProfile{Id: id, Name: id, Language: "de"}})
		return err
	}
	for _, id := range []string{"p1", "p2", "p3", "p4", "p5"} {
		if err := create(id); err != nil {
			t.Fatal(err)
		}
	}
	f := testsrv.WantError(t, create("p6"), codes.ResourceExhausted, domain.ReasonPlanLimitReached)
	if f.Info.GetMetadata()["plan"] != "PLAN_STARTER" || f.Info.GetMetadata()["limit"] != "5" {
		t.Errorf("limit metadata: %v", f.Info.GetMetadata())
	}
	// Strategies count apart; customizations do not count.
	if _, err := env.Strategies.CreateContentStrategy(user, &pb.CreateContentStrategyRequest{ContentStrategy: &pb.ContentStrategy{
		Id: "s1", Name: "S1", ArticleTypes: []string{"guide"}, WordCountMin: 500, WordCountMax: 900}}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Profiles.UpdateAuthorProfile(user, &pb.UpdateAuthorProfileRequest{AuthorProfile: &pb.AuthorProfile{Id: "friendly-guide", Tone: "playful"}}); err != nil {
		t.Fatal(err)
	}
	// Admins change the limit.
	if _, err := env.Config.UpdatePlanLimit(admin, &pb.UpdatePlanLimitRequest{PlanLimit: &pb.PlanLimit{Plan: pb.Plan_PLAN_STARTER,
		Kind: pb.ItemKind_ITEM_KIND_AUTHOR_PROFILE, MaxItems: 6}}); err != nil {
		t.Fatal(err)
	}
	if err := create("p6"); err != nil {
		t.Fatal(err)
	}
	_, err := env.Config.UpdatePlanLimit(admin, &pb.UpdatePlanLimitRequest{PlanLimit: &pb.PlanLimit{Plan: pb.Plan_PLAN_FREE, Kind: pb.ItemKind_ITEM_KIND_PROMPT, MaxItems: -1}})
	f = testsrv.WantError(t, err, codes.InvalidArgument, domain.ReasonValidationFailed)
	for _, field := range []string{"plan_limit.plan", "plan_limit.kind", "plan_limit.max_items"} {
		if _, ok := f.Violations[field]; !ok {
			t.Errorf("violations %v do not name %s", f.Violations, field)
		}
	}

	// An own default, then a downgrade.
	if _, err := env.Accounts.SetAccountDefaults(user, &pb.SetAccountDefaultsRequest{DefaultAuthorProfileId: "p1", DefaultContentStrategyId: "s1"}); err != nil {
		t.Fatal(err)
	}
	ctxReq := &pb.GetGenerationContextRequest{Function: "generate_content"}
	gc, err := env.Config.GetGenerationContext(user, ctxReq)
	if err != nil || gc.GetAuthorProfile().GetId() != "p1" || gc.GetContentStrategy().GetId() != "s1" {
		t.Fatalf("context with own defaults: %v, %v", gc, err)
	}
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_FREE)
	l := listProfiles(t, env, user, "")
	if ids(l.GetAuthorProfiles()) != "expert-practitioner,friendly-guide,news-reporter" || ids(l.GetSuppressedAuthorProfiles()) != "p1,p2,p3,p4,p5,p6" ||
		l.GetDefaultId() != "expert-practitioner" {
		t.Fatalf("downgraded list: %v", l)
	}
	if p := profile(t, env, user, "", "friendly-guide"); p.GetTone() == "playful" || !p.GetOverridesSuppressed() || p.GetSource() != pb.Source_SOURCE_GLOBAL {
		t.Fatalf("downgraded customization: %v", p)
	}
	_, err = env.Profiles.GetAuthorProfile(user, &pb.GetAuthorProfileRequest{Id: "p1"})
	testsrv.WantError(t, err, codes.NotFound, domain.ReasonAuthorProfileNotFound)
	gc, err = env.Config.GetGenerationContext(user, ctxReq)
	if err != nil || gc.GetAuthorProfile().GetId() != "expert-practitioner" || gc.GetContentStrategy().GetId() != "pillar-cluster-seo" {
		t.Fatalf("downgraded context: the defaults should fall back to the platform's: %v, %v", gc, err)
	}
	// Free: no creating or customizing (whoever asks), but reading, resetting and deleting.
	testsrv.WantError(t, create("p7"), codes.PermissionDenied, domain.ReasonPlanUpgradeRequired)
	_, err = env.Profiles.UpdateAuthorProfile(admin, &pb.UpdateAuthorProfileRequest{AccountId: "acct", AuthorProfile: &pb.AuthorProfile{Id: "expert-practitioner", Tone: "x"}})
	testsrv.WantError(t, err, codes.PermissionDenied, domain.ReasonPlanUpgradeRequired)
	_, err = env.Strategies.UpdateContentStrategy(user, &pb.UpdateContentStrategyRequest{ContentStrategy: &pb.ContentStrategy{Id: "product-led", WordCountMin: 900}})
	testsrv.WantError(t, err, codes.PermissionDenied, domain.ReasonPlanUpgradeRequired)
	if _, err := env.Profiles.ListGlobalAuthorProfiles(user, &pb.ListGlobalAuthorProfilesRequest{}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Profiles.DeleteAuthorProfile(user, &pb.DeleteAuthorProfileRequest{Id: "p6"}); err != nil {
		t.Fatalf("delete on free: %v", err)
	}
	// A default must be usable when set: an own profile is not, on Free.
	_, err = env.Accounts.SetAccountDefaults(user, &pb.SetAccountDefaultsRequest{DefaultAuthorProfileId: "p2"})
	testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "default_author_profile_id")

	setPlan(t, env, admin, "acct", pb.Plan_PLAN_STARTER)
	if l := listProfiles(t, env, user, ""); !strings.Contains(ids(l.GetAuthorProfiles()), "p1") || len(l.GetSuppressedAuthorProfiles()) != 0 || l.GetDefaultId() != "p1" {
		t.Fatalf("upgraded list: %v", l)
	}
	if p := profile(t, env, user, "", "friendly-guide"); p.GetTone() != "playful" || p.GetSource() != pb.Source_SOURCE_ACCOUNT {
		t.Fatalf("upgraded customization: %v", p)
	}
	if _, err := env.Profiles.ResetAuthorProfile(user, &pb.ResetAuthorProfileRequest{Id: "friendly-guide"}); err != nil {
		t.Fatal(err)
	}
	// Deleting the default falls back too; clearing by mask leaves the other default.
	if _, err := env.Profiles.DeleteAuthorProfile(user, &pb.DeleteAuthorProfileRequest{Id: "p1"}); err != nil {
		t.Fatal(err)
	}
	if l := listProfiles(t, env, user, ""); l.GetDefaultId() != "expert-practitioner" {
		t.Fatalf("after deleting the default: %v", l.GetDefaultId())
	}
	a, err := env.Accounts.SetAccountDefaults(user, &pb.SetAccountDefaultsRequest{UpdateMask: mask("default_author_profile_id")})
	if err != nil || a.GetDefaultAuthorProfileId() != "" || a.GetDefaultContentStrategyId() != "s1" {
		t.Fatalf("clear one default: %v, %v", a, err)
	}
}

// TestPlanLimitUnderConcurrency: parallel creations stop exactly at the
// limit, every other one RESOURCE_EXHAUSTED.
func TestPlanLimitUnderConcurrency(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_STARTER)
	codesSeen := make(chan codes.Code, 12)
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			_, err := env.Strategies.CreateContentStrategy(admin, &pb.CreateContentStrategyRequest{AccountId: "acct", ContentStrategy: &pb.ContentStrategy{
				Id: fmt.Sprintf("s%d", i), Name: "S", ArticleTypes: []string{"guide"}, WordCountMin: 500, WordCountMax: 900}})
			codesSeen <- testsrv.Decode(err).Code
		})
	}
	wg.Wait()
	close(codesSeen)
	count := map[codes.Code]int{}
	for c := range codesSeen {
		count[c]++
	}
	if count[codes.OK] != 5 || count[codes.ResourceExhausted] != 7 {
		t.Fatalf("12 parallel creations on Starter: %v; want 5 OK, 7 RESOURCE_EXHAUSTED", count)
	}
}

// TestItemValidation: each bad field is INVALID_ARGUMENT naming it, never
// INTERNAL; the limits themselves are accepted.
func TestItemValidation(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_SCALE)
	good := func() *pb.AuthorProfile {
		return &pb.AuthorProfile{Id: "ok", Name: "Ok", Language: "en-GB", Description: "d", Tone: "t", Audience: "a", StyleGuide: "s"}
	}
	profiles := []struct {
		name, field string
		edit        func(*pb.AuthorProfile)
	}{
		{"bad slug", "author_profile.id", func(p *pb.AuthorProfile) { p.Id = "Bad Slug" }},
		{"slug starting with -", "author_profile.id", func(p *pb.AuthorProfile) { p.Id = "-x" }},
		{"slug of 64", "author_profile.id", func(p *pb.AuthorProfile) { p.Id = strings.Repeat("a", 64) }},
		{"no name", "author_profile.name", func(p *pb.AuthorProfile) { p.Name = " " }},
		{"name of 101", "author_profile.name", func(p *pb.AuthorProfile) { p.Name = strings.Repeat("é", 101) }},
		{"description of 1001", "author_profile.description", func(p *pb.AuthorProfile) { p.Description = strings.Repeat("d", 1001) }},
		{"tone of 201", "author_profile.tone", func(p *pb.AuthorProfile) { p.Tone = strings.Repeat("t", 201) }},
		{"audience of 501", "author_profile.audience", func(p *pb.AuthorProfile) { p.Audience = strings.Repeat("a", 501) }},
		{"style guide of 16 KiB + 1", "author_profile.style_guide", func(p *pb.AuthorProfile) { p.StyleGuide = strings.Repeat("s", 16<<10+1) }},
		{"no language", "author_profile.language", func(p *pb.AuthorProfile) { p.Language = "" }},
		{"language not BCP 47", "author_profile.language", func(p *pb.AuthorProfile) { p.Language = "english" }},
		{"language with underscore", "author_profile.language", func(p *pb.AuthorProfile) { p.Language = "en_GB" }},
		{"language not canonical", "author_profile.language", func(p *pb.AuthorProfile) { p.Language = "EN-gb" }},
		{"NUL in the style guide", "author_profile.style_guide", func(p *pb.AuthorProfile) { p.StyleGuide = "a\x00b" }},
		{"NUL in the name", "author_profile.name", func(p *pb.AuthorProfile) { p.Name = "\x00" }},
	}
	for _, tc := range profiles {
		t.Run("profile/"+tc.name, func(t *testing.T) {
			p := good()
			tc.edit(p)
			_, err := env.Profiles.CreateAuthorProfile(admin, &pb.CreateAuthorProfileRequest{AccountId: "acct", AuthorProfile: p})
			testsrv.WantViolation(t, err, domain.ReasonValidationFailed, tc.field)
			if tc.field != "author_profile.id" { // the same checks guard the library
				p.Id = "global-" + p.Id
				_, err = env.Profiles.UpsertGlobalAuthorProfile(admin, &pb.UpsertGlobalAuthorProfileRequest{AuthorProfile: p})
				testsrv.WantViolation(t, err, domain.ReasonValidationFailed, tc.field)
			}
		})
	}
	goodStrategy := func() *pb.ContentStrategy {
		return &pb.ContentStrategy{Id: "ok", Name: "Ok", ArticleTypes: []string{"guide", "review"}, WordCountMin: 100, WordCountMax: 10000}
	}
	strategies := []struct {
		name, field string
		edit        func(*pb.ContentStrategy)
	}{
		{"unknown article type", "content_strategy.article_types[1]", func(s *pb.ContentStrategy) { s.ArticleTypes = []string{"guide", "essay"} }},
		{"article type twice", "content_strategy.article_types[1]", func(s *pb.ContentStrategy) { s.ArticleTypes = []string{"guide", "guide"} }},
		{"no article type", "content_strategy.article_types", func(s *pb.ContentStrategy) { s.ArticleTypes = nil }},
		{"min above max", "content_strategy.word_count_min", func(s *pb.ContentStrategy) { s.WordCountMin, s.WordCountMax = 900, 800 }},
		{"min below 100", "content_strategy.word_count_min", func(s *pb.ContentStrategy) { s.WordCountMin = 99 }},
		{"max above 10000", "content_strategy.word_count_max", func(s *pb.ContentStrategy) { s.WordCountMax = 10001 }},
		{"no name", "content_strategy.name", func(s *pb.ContentStrategy) { s.Name = "" }},
		{"name of 101", "content_strategy.name", func(s *pb.ContentStrategy) { s.Name = strings.Repeat("n", 101) }},
		{"description of 1001", "content_strategy.description", func(s *pb.ContentStrategy) { s.Description = strings.Repeat("d", 1001) }},
		{"bad slug", "content_strategy.id", func(s *pb.ContentStrategy) { s.Id = "under_score" }},
		{"objective of 501", "content_strategy.objective", func(s *pb.ContentStrategy) { s.Objective = strings.Repeat("o", 501) }},
		{"audience of 501", "content_strategy.audience", func(s *pb.ContentStrategy) { s.Audience = strings.Repeat("a", 501) }},
		{"keyword guidelines of 4 KiB + 1", "content_strategy.keyword_guidelines", func(s *pb.ContentStrategy) { s.KeywordGuidelines = strings.Repeat("k", 4<<10+1) }},
		{"structure guidelines of 16 KiB + 1", "content_strategy.structure_guidelines", func(s *pb.ContentStrategy) { s.StructureGuidelines = strings.Repeat("s", 16<<10+1) }},
		{"NUL in the structure guidelines", "content_strategy.structure_guidelines", func(s *pb.ContentStrategy) { s.StructureGuidelines = "\x00" }},
	}
	for _, tc := range strategies {
		t.Run("strategy/"+tc.name, func(t *testing.T) {
			s := goodStrategy()
			tc.edit(s)
			_, err := env.Strategies.CreateContentStrategy(admin, &pb.CreateContentStrategyRequest{AccountId: "acct", ContentStrategy: s})
			testsrv.WantViolation(t, err, domain.ReasonValidationFailed, tc.field)
		})
	}
	// The limits themselves are fine.
	p := good()
	p.Name, p.Description, p.Tone, p.Audience = strings.Repeat("é", 100), strings.Repeat("d", 1000), strings.Repeat("t", 200), strings.Repeat("a", 500)
	p.StyleGuide, p.Id = strings.Repeat("s", 16<<10), strings.Repeat("a", 63)
	if _, err := env.Profiles.CreateAuthorProfile(admin, &pb.CreateAuthorProfileRequest{AccountId: "acct", AuthorProfile: p}); err != nil {
		t.Fatalf("a profile at every limit: %v", err)
	}
	s := goodStrategy()
	s.KeywordGuidelines, s.StructureGuidelines = strings.Repeat("k", 4<<10), strings.Repeat("s", 16<<10)
	if _, err := env.Strategies.CreateContentStrategy(admin, &pb.CreateContentStrategyRequest{AccountId: "acct", ContentStrategy: s}); err != nil {
		t.Fatalf("a strategy at every limit: %v", err)
	}
	// Customizing and prompts refuse NUL bytes too (the database would, as INTERNAL).
	_, err := env.Profiles.UpdateAuthorProfile(admin, &pb.UpdateAuthorProfileRequest{AccountId: "acct", AuthorProfile: &pb.AuthorProfile{Id: "friendly-guide", Tone: "\x00"}})
	testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "author_profile.tone")
	_, err = env.Prompts.CustomizePrompt(admin, &pb.CustomizePromptRequest{AccountId: "acct", PromptType: "clustering", Text: "{{keywords}}\x00"})
	testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "text")
	_, err = env.Accounts.UpsertAccount(admin, &pb.UpsertAccountRequest{Account: &pb.Account{Id: "nul", Name: "a\x00", Plan: pb.Plan_PLAN_FREE}})
	testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "account.name")
	_, err = env.Profiles.GetAuthorProfile(admin, &pb.GetAuthorProfileRequest{AccountId: "acct", Id: "Not A Slug"})
	testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "id")
	_, err = env.Accounts.SetAccountDefaults(admin, &pb.SetAccountDefaultsRequest{AccountId: "acct", DefaultContentStrategyId: "nope"})
	testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "default_content_strategy_id")
	_, err = env.Config.UpdateGlobalSettings(admin, &pb.UpdateGlobalSettingsRequest{Settings: &pb.GlobalSettings{DefaultAuthorProfileId: "nope"}})
	testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "settings.default_author_profile_id")
}
