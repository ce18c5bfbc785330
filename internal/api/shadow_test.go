package api_test

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/testsrv"
)

// TestOwnItemIDTaken (issue 21, defect 6): creating an own item with an
// id the account already uses is ALREADY_EXISTS (AIP-133), with a reason,
// who holds the id, and the field; the message reads "an author profile".
func TestOwnItemIDTaken(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_GROWTH)
	user := testsrv.Ctx(env.Token(t, domain.RoleAccount, "acct"))

	if _, err := env.Profiles.CreateAuthorProfile(user, &pb.CreateAuthorProfileRequest{AuthorProfile: &pb.AuthorProfile{
		Id: "house-voice", Name: "House voice", Language: "en"}}); err != nil {
		t.Fatal(err)
	}
	_, err := env.Profiles.CreateAuthorProfile(user, &pb.CreateAuthorProfileRequest{AuthorProfile: &pb.AuthorProfile{
		Id: "house-voice", Name: "Again", Language: "en"}})
	f := testsrv.WantError(t, err, codes.AlreadyExists, domain.ReasonItemAlreadyExists)
	if !strings.Contains(f.Message, `account "acct" already has an author profile "house-voice"`) {
		t.Errorf("message %q", f.Message)
	}
	if m := f.Info.GetMetadata(); m["owner"] != "account" || m["author_profile_id"] != "house-voice" || m["account_id"] != "acct" {
		t.Errorf("metadata %v", m)
	}
	if _, ok := f.Violations["author_profile.id"]; !ok {
		t.Errorf("violations %v do not name the id", f.Violations)
	}
	// A global's id: the account sees that item under it.
	_, err = env.Profiles.CreateAuthorProfile(user, &pb.CreateAuthorProfileRequest{AuthorProfile: &pb.AuthorProfile{
		Id: "friendly-guide", Name: "Mine", Language: "en"}})
	f = testsrv.WantError(t, err, codes.AlreadyExists, domain.ReasonItemAlreadyExists)
	if f.Info.GetMetadata()["owner"] != "platform" || !strings.Contains(f.Message, "global author profile") {
		t.Errorf("global id: %s %v", f.Message, f.Info.GetMetadata())
	}
	// The same for content strategies ("a content strategy").
	s := &pb.ContentStrategy{Id: "our-plan", Name: "Ours", ArticleTypes: []string{"guide"}, WordCountMin: 500, WordCountMax: 900}
	if _, err := env.Strategies.CreateContentStrategy(user, &pb.CreateContentStrategyRequest{ContentStrategy: s}); err != nil {
		t.Fatal(err)
	}
	_, err = env.Strategies.CreateContentStrategy(user, &pb.CreateContentStrategyRequest{ContentStrategy: s})
	f = testsrv.WantError(t, err, codes.AlreadyExists, domain.ReasonItemAlreadyExists)
	if !strings.Contains(f.Message, `already has a content strategy "our-plan"`) || f.Info.GetMetadata()["content_strategy_id"] != "our-plan" {
		t.Errorf("strategy: %s %v", f.Message, f.Info.GetMetadata())
	}
	_, err = env.Strategies.CreateContentStrategy(user, &pb.CreateContentStrategyRequest{ContentStrategy: &pb.ContentStrategy{
		Id: "product-led", Name: "Mine", ArticleTypes: []string{"guide"}, WordCountMin: 500, WordCountMax: 900}})
	testsrv.WantError(t, err, codes.AlreadyExists, domain.ReasonItemAlreadyExists)
	// Nothing was written by the refused creates.
	if p := profile(t, env, user, "", "house-voice"); p.GetName() != "House voice" {
		t.Errorf("the refused create changed the profile: %v", p)
	}
}

// TestGlobalPublishedOverOwnID (issue 21, defect 7): the platform can
// always publish; an account that already had an own item of that id
// keeps it (listed once, source ACCOUNT) and every other account gets the
// global. The account's own shadows the global until it deletes it.
func TestGlobalPublishedOverOwnID(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_STARTER)
	setPlan(t, env, admin, "other", pb.Plan_PLAN_STARTER)
	user := testsrv.Ctx(env.Token(t, domain.RoleAccount, "acct"))

	own, err := env.Profiles.CreateAuthorProfile(user, &pb.CreateAuthorProfileRequest{AuthorProfile: &pb.AuthorProfile{
		Id: "house-voice", Name: "Our voice", Language: "de", StyleGuide: "Sie-Form."}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Accounts.SetAccountDefaults(admin, &pb.SetAccountDefaultsRequest{AccountId: "acct", DefaultAuthorProfileId: "house-voice"}); err != nil {
		t.Fatal(err)
	}
	// The platform publishes "house-voice": allowed.
	g, err := env.Profiles.UpsertGlobalAuthorProfile(admin, &pb.UpsertGlobalAuthorProfileRequest{AuthorProfile: &pb.AuthorProfile{
		Id: "house-voice", Name: "Platform voice", Language: "en", Tone: "plain", StyleGuide: "Short sentences."}})
	if err != nil {
		t.Fatalf("publishing a global with an account's own id: %v", err)
	}

	// The account keeps its own, whole, listed once.
	p := profile(t, env, user, "", "house-voice")
	if p.GetName() != "Our voice" || p.GetSource() != pb.Source_SOURCE_ACCOUNT || p.GetGlobalRevision() != 0 || p.GetIsCustomized() ||
		p.GetRevision() != own.GetRevision() {
		t.Fatalf("the account's own after the global was published: %v", p)
	}
	l := listProfiles(t, env, user, "")
	if got := ids(l.GetAuthorProfiles()); got != "expert-practitioner,friendly-guide,house-voice,news-reporter" || l.GetDefaultId() != "house-voice" {
		t.Fatalf("the account's list: %s (default %s)", got, l.GetDefaultId())
	}
	for _, it := range l.GetAuthorProfiles() {
		if it.GetId() == "house-voice" && it.GetName() != "Our voice" {
			t.Errorf("listed as %v", it)
		}
	}
	ctx, err := env.Config.GetGenerationContext(user, &pb.GetGenerationContextRequest{Function: "generate_content"})
	if err != nil || ctx.GetAuthorProfile().GetName() != "Our voice" {
		t.Fatalf("the account's generation context: %v, %v", ctx.GetAuthorProfile(), err)
	}
	// Every other account gets the global.
	if p := profile(t, env, admin, "other", "house-voice"); p.GetName() != "Platform voice" || p.GetSource() != pb.Source_SOURCE_GLOBAL ||
		p.GetGlobalRevision() != g.GetGlobalRevision() {
		t.Fatalf("another account: %v", p)
	}
	// The account edits its own, not the global; reset has nothing to do.
	upd, err := env.Profiles.UpdateAuthorProfile(user, &pb.UpdateAuthorProfileRequest{
		AuthorProfile: &pb.AuthorProfile{Id: "house-voice", Tone: "förmlich"}, UpdateMask: mask("tone")})
	if err != nil || upd.GetName() != "Our voice" || upd.GetTone() != "förmlich" || upd.GetSource() != pb.Source_SOURCE_ACCOUNT || upd.GetIsCustomized() {
		t.Fatalf("update of the shadowing own item: %v, %v", upd, err)
	}
	_, err = env.Profiles.ResetAuthorProfile(user, &pb.ResetAuthorProfileRequest{Id: "house-voice"})
	testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "id")
	// A restore of its first version stays its own, not a customization.
	h, err := env.History.ListHistory(user, &pb.ListHistoryRequest{Kind: pb.ItemKind_ITEM_KIND_AUTHOR_PROFILE, ItemId: "house-voice"})
	if err != nil || len(h.GetEntries()) != 2 {
		t.Fatalf("history: %v, %v", h, err)
	}
	if _, err := env.History.RestoreVersion(user, &pb.RestoreVersionRequest{EntryId: h.GetEntries()[1].GetId()}); err != nil {
		t.Fatal(err)
	}
	if p := profile(t, env, user, "", "house-voice"); p.GetTone() != "" || p.GetSource() != pb.Source_SOURCE_ACCOUNT || p.GetIsCustomized() {
		t.Fatalf("after the restore: %v", p)
	}
	// Creating it again stays refused; so does creating the global's id
	// in another account.
	_, err = env.Profiles.CreateAuthorProfile(user, &pb.CreateAuthorProfileRequest{AuthorProfile: &pb.AuthorProfile{Id: "house-voice", Name: "x", Language: "en"}})
	testsrv.WantError(t, err, codes.AlreadyExists, domain.ReasonItemAlreadyExists)
	_, err = env.Profiles.CreateAuthorProfile(admin, &pb.CreateAuthorProfileRequest{AccountId: "other", AuthorProfile: &pb.AuthorProfile{Id: "house-voice", Name: "x", Language: "en"}})
	testsrv.WantError(t, err, codes.AlreadyExists, domain.ReasonItemAlreadyExists)

	// On Free own items do not apply: the account gets the global, flagged,
	// and its own is kept for an upgrade.
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_FREE)
	if p := profile(t, env, user, "", "house-voice"); p.GetName() != "Platform voice" || !p.GetOverridesSuppressed() || p.GetSource() != pb.Source_SOURCE_GLOBAL {
		t.Fatalf("on Free: %v", p)
	}
	if l := listProfiles(t, env, user, ""); ids(l.GetAuthorProfiles()) != "expert-practitioner,friendly-guide,house-voice,news-reporter" {
		t.Fatalf("on Free, the list: %v", l)
	}
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_STARTER)
	if p := profile(t, env, user, "", "house-voice"); p.GetName() != "Our voice" {
		t.Fatalf("after the upgrade: %v", p)
	}

	// Deleting its own leaves the account on the global.
	if _, err := env.Profiles.DeleteAuthorProfile(user, &pb.DeleteAuthorProfileRequest{Id: "house-voice"}); err != nil {
		t.Fatal(err)
	}
	if p := profile(t, env, user, "", "house-voice"); p.GetName() != "Platform voice" || p.GetSource() != pb.Source_SOURCE_GLOBAL {
		t.Fatalf("after deleting its own: %v", p)
	}
}
