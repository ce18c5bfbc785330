package api_test

import (
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/testsrv"
)

// TestRestoreVersion: restoring a prompt to an older history entry makes
// it effective again on every replica and is itself a history entry;
// another account's entries are NOT_FOUND; the plan and role rules hold;
// a version that no longer fits is refused; globals and own items restore
// the same way.
func TestRestoreVersion(t *testing.T) {
	a := testsrv.Start(t)
	b := testsrv.StartOn(t, a.DatabaseURL, a.Keys)
	admin := testsrv.Ctx(a.Token(t, domain.RoleAdmin, ""))
	service := testsrv.Ctx(a.Token(t, domain.RoleService, ""))
	setPlan(t, a, admin, "acct", pb.Plan_PLAN_STARTER)
	setPlan(t, a, admin, "other", pb.Plan_PLAN_STARTER)
	user := testsrv.Ctx(a.Token(t, domain.RoleAccount, "acct"))

	v1, v2 := "First: {{keywords}}", "Second: {{keywords}}"
	for _, text := range []string{v1, v2} {
		if _, err := a.Prompts.CustomizePrompt(user, &pb.CustomizePromptRequest{PromptType: "clustering", Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	if e := effective(t, b, admin, "acct", "clustering"); e.GetText() != v2 { // B caches the account
		t.Fatalf("B before the restore: %q", e.GetText())
	}
	h, err := a.History.ListHistory(user, &pb.ListHistoryRequest{Kind: pb.ItemKind_ITEM_KIND_PROMPT, ItemId: "clustering"})
	if err != nil || len(h.GetEntries()) != 2 || h.GetEntries()[1].GetAfter().GetPrompt() != v1 {
		t.Fatalf("history before the restore: %v, %v", h, err)
	}
	first := h.GetEntries()[1]
	cur := effective(t, a, user, "", "clustering")
	_, err = a.History.RestoreVersion(user, &pb.RestoreVersionRequest{EntryId: first.GetId(), ExpectedRevision: proto.Int64(cur.GetRevision() - 1)})
	testsrv.WantError(t, err, codes.Aborted, domain.ReasonRevisionMismatch)
	r, err := a.History.RestoreVersion(user, &pb.RestoreVersionRequest{EntryId: first.GetId(), ExpectedRevision: proto.Int64(cur.GetRevision())})
	if err != nil || r.GetEntry().GetAction() != "restore" || r.GetEntry().GetAfter().GetPrompt() != v1 || r.GetEntry().GetBefore().GetPrompt() != v2 ||
		r.GetEntry().GetActorRole() != pb.Role_ROLE_ACCOUNT || r.GetRevision() <= cur.GetRevision() {
		t.Fatalf("restore: %v, %v", r, err)
	}
	eventually(t, 2*time.Second, "both replicas serve the restored text", func() bool {
		return effective(t, a, admin, "acct", "clustering").GetText() == v1 && effective(t, b, admin, "acct", "clustering").GetText() == v1
	})
	if e := effective(t, b, admin, "acct", "clustering"); !e.GetIsCustomized() || e.GetRevision() != r.GetRevision() {
		t.Fatalf("restored prompt on B: %v", e)
	}
	ph, err := b.Prompts.ListPromptHistory(user, &pb.ListPromptHistoryRequest{PromptType: "clustering"})
	if err != nil || ph.GetEntries()[0].GetAction() != "restore" || ph.GetEntries()[0].GetNewText() != v1 || ph.GetEntries()[0].GetId() != r.GetEntry().GetId() {
		t.Fatalf("the restore in the prompt history: %v, %v", ph, err)
	}

	// Another account's entry: NOT_FOUND, whoever asks.
	_, err = a.History.RestoreVersion(admin, &pb.RestoreVersionRequest{AccountId: "other", EntryId: first.GetId()})
	testsrv.WantError(t, err, codes.NotFound, domain.ReasonHistoryEntryNotFound)
	other := testsrv.Ctx(a.Token(t, domain.RoleAccount, "other"))
	_, err = a.History.RestoreVersion(other, &pb.RestoreVersionRequest{EntryId: first.GetId()})
	testsrv.WantError(t, err, codes.NotFound, domain.ReasonHistoryEntryNotFound)
	_, err = a.History.RestoreVersion(admin, &pb.RestoreVersionRequest{EntryId: first.GetId()}) // as a global entry
	testsrv.WantError(t, err, codes.NotFound, domain.ReasonHistoryEntryNotFound)
	_, err = a.History.RestoreVersion(admin, &pb.RestoreVersionRequest{AccountId: "acct", EntryId: 1 << 40})
	testsrv.WantError(t, err, codes.NotFound, domain.ReasonHistoryEntryNotFound)

	// Restoring needs Starter, as customizing does.
	setPlan(t, a, admin, "acct", pb.Plan_PLAN_FREE)
	_, err = a.History.RestoreVersion(user, &pb.RestoreVersionRequest{EntryId: first.GetId()})
	testsrv.WantError(t, err, codes.PermissionDenied, domain.ReasonPlanUpgradeRequired)
	setPlan(t, a, admin, "acct", pb.Plan_PLAN_STARTER)

	// A global prompt: an admin shortens it, then puts the seed back;
	// restoring the short version is ADMIN only.
	g, err := a.Prompts.GetGlobalPrompt(admin, &pb.GetGlobalPromptRequest{PromptType: "ideas"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Prompts.UpsertGlobalPrompt(admin, &pb.UpsertGlobalPromptRequest{Prompt: &pb.GlobalPrompt{PromptType: "ideas",
		Text: "Short ideas for {{clusters}}", Variables: []string{"clusters"}}}); err != nil {
		t.Fatal(err)
	}
	gh, err := a.History.ListHistory(admin, &pb.ListHistoryRequest{Kind: pb.ItemKind_ITEM_KIND_PROMPT, ItemId: "ideas"})
	if err != nil || len(gh.GetEntries()) != 1 || gh.GetEntries()[0].GetBefore().GetPrompt() != g.GetText() {
		t.Fatalf("global history: %v, %v", gh, err)
	}
	if _, err := a.Prompts.UpsertGlobalPrompt(admin, &pb.UpsertGlobalPromptRequest{Prompt: g}); err != nil {
		t.Fatal(err)
	}
	_, err = a.History.RestoreVersion(service, &pb.RestoreVersionRequest{EntryId: gh.GetEntries()[0].GetId()})
	testsrv.WantError(t, err, codes.PermissionDenied, domain.ReasonRoleNotAllowed)
	r, err = a.History.RestoreVersion(admin, &pb.RestoreVersionRequest{EntryId: gh.GetEntries()[0].GetId()})
	if err != nil || r.GetEntry().GetAccountId() != "" || r.GetEntry().GetAfter().GetPrompt() != "Short ideas for {{clusters}}" {
		t.Fatalf("global restore: %v, %v", r, err)
	}
	eventually(t, 2*time.Second, "B serves the restored global", func() bool {
		return effective(t, b, admin, "other", "ideas").GetText() == "Short ideas for {{clusters}}"
	})
	// A version that no longer fits the prompt (a variable was added) is refused.
	if _, err := a.Prompts.UpsertGlobalPrompt(admin, &pb.UpsertGlobalPromptRequest{Prompt: &pb.GlobalPrompt{PromptType: "clustering",
		Text: "Cluster {{keywords}} for {{audience}}", Variables: []string{"keywords", "audience"}}}); err != nil {
		t.Fatal(err)
	}
	_, err = a.History.RestoreVersion(user, &pb.RestoreVersionRequest{EntryId: first.GetId()})
	testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "entry_id")

	// Own items: a deleted profile comes back; a deletion is no version.
	if _, err := a.Profiles.CreateAuthorProfile(user, &pb.CreateAuthorProfileRequest{AuthorProfile: &pb.AuthorProfile{Id: "mine", Name: "Mine", Language: "en"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Profiles.DeleteAuthorProfile(user, &pb.DeleteAuthorProfileRequest{Id: "mine"}); err != nil {
		t.Fatal(err)
	}
	ih, err := a.History.ListHistory(user, &pb.ListHistoryRequest{Kind: pb.ItemKind_ITEM_KIND_AUTHOR_PROFILE, ItemId: "mine"})
	if err != nil || len(ih.GetEntries()) != 2 || ih.GetEntries()[0].GetAfter() != nil {
		t.Fatalf("own history: %v, %v", ih, err)
	}
	_, err = a.History.RestoreVersion(user, &pb.RestoreVersionRequest{EntryId: ih.GetEntries()[0].GetId()})
	testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "entry_id")
	if _, err := a.History.RestoreVersion(user, &pb.RestoreVersionRequest{EntryId: ih.GetEntries()[1].GetId()}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "B serves the restored profile", func() bool {
		p, err := b.Profiles.GetAuthorProfile(admin, &pb.GetAuthorProfileRequest{AccountId: "acct", Id: "mine"})
		return err == nil && p.GetName() == "Mine"
	})
}
