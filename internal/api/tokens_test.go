package api_test

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/testsrv"
)

func TestTokenLifecycle(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_STARTER)

	created, err := env.Tokens.CreateToken(admin, &pb.CreateTokenRequest{Name: "worker-1", Role: pb.Role_ROLE_SERVICE})
	if err != nil {
		t.Fatal(err)
	}
	secret := created.GetSecret()
	if !strings.HasPrefix(secret, "aic_") || len(secret) < 4+43 {
		t.Fatalf("secret %q: want aic_ prefix and 32 random bytes", secret)
	}
	worker := testsrv.Ctx(secret)
	if _, err := env.Config.ListModels(worker, &pb.ListModelsRequest{}); err != nil {
		t.Fatalf("fresh token refused: %v", err)
	}
	list, err := env.Tokens.ListTokens(admin, &pb.ListTokensRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range list.GetTokens() {
		if strings.Contains(tok.String(), secret) {
			t.Fatal("ListTokens shows a secret")
		}
	}
	if _, err := env.Tokens.RevokeToken(admin, &pb.RevokeTokenRequest{Id: created.GetToken().GetId()}); err != nil {
		t.Fatal(err)
	}
	_, err = env.Config.ListModels(worker, &pb.ListModelsRequest{})
	testsrv.WantError(t, err, codes.Unauthenticated, domain.ReasonTokenInvalid)

	// Binding rules: ACCOUNT needs an existing account; others take none.
	_, err = env.Tokens.CreateToken(admin, &pb.CreateTokenRequest{Name: "x", Role: pb.Role_ROLE_ACCOUNT})
	testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "account_id")
	_, err = env.Tokens.CreateToken(admin, &pb.CreateTokenRequest{Name: "x", Role: pb.Role_ROLE_SERVICE, AccountId: "acct"})
	testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "account_id")
	_, err = env.Tokens.CreateToken(admin, &pb.CreateTokenRequest{Name: "x", Role: pb.Role_ROLE_ACCOUNT, AccountId: "ghost"})
	testsrv.WantError(t, err, codes.NotFound, domain.ReasonAccountNotFound)
	_, err = env.Tokens.CreateToken(admin, &pb.CreateTokenRequest{Name: "x", Role: pb.Role_ROLE_UNSPECIFIED})
	testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "role")
}

func TestListAccountsPagination(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		setPlan(t, env, admin, id, pb.Plan_PLAN_FREE)
	}
	var got []string
	token := ""
	for pages := 0; ; pages++ {
		resp, err := env.Accounts.ListAccounts(admin, &pb.ListAccountsRequest{PageSize: 2, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range resp.GetAccounts() {
			got = append(got, a.GetId())
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if strings.Join(got, ",") != "a,b,c,d,e" {
		t.Fatalf("paged ids = %v", got)
	}
	_, err := env.Accounts.ListAccounts(admin, &pb.ListAccountsRequest{PageToken: "!!"})
	testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "page_token")
	// Stale expected_revision on an account; deleting it removes its tokens' access.
	a, err := env.Accounts.GetAccount(admin, &pb.GetAccountRequest{Id: "a"})
	if err != nil {
		t.Fatal(err)
	}
	rev := a.GetRevision() + 1
	_, err = env.Accounts.DeleteAccount(admin, &pb.DeleteAccountRequest{Id: "a", ExpectedRevision: &rev})
	testsrv.WantError(t, err, codes.Aborted, domain.ReasonRevisionMismatch)
	own := testsrv.Ctx(env.Token(t, domain.RoleAccount, "a"))
	if _, err := env.Accounts.DeleteAccount(admin, &pb.DeleteAccountRequest{Id: "a"}); err != nil {
		t.Fatal(err)
	}
	_, err = env.Accounts.GetAccount(own, &pb.GetAccountRequest{})
	testsrv.WantError(t, err, codes.Unauthenticated, domain.ReasonTokenInvalid)
	_, err = env.Accounts.GetAccount(admin, &pb.GetAccountRequest{Id: "a"})
	testsrv.WantError(t, err, codes.NotFound, domain.ReasonAccountNotFound)
}

// TestWhoAmI: every role learns who it is, an account token its account's
// current plan, and a call without a valid token is refused.
func TestWhoAmI(t *testing.T) {
	env := testsrv.Start(t)
	env.Account(t, "acme", domain.PlanStarter)
	for _, c := range []struct {
		role    domain.Role
		account string
		want    pb.Role
	}{
		{domain.RoleAdmin, "", pb.Role_ROLE_ADMIN},
		{domain.RoleService, "", pb.Role_ROLE_SERVICE},
		{domain.RoleAccount, "acme", pb.Role_ROLE_ACCOUNT},
	} {
		secret := env.Token(t, c.role, c.account)
		who, err := env.Tokens.WhoAmI(testsrv.Ctx(secret), &pb.WhoAmIRequest{})
		if err != nil {
			t.Fatalf("%v: %v", c.role, err)
		}
		if who.GetRole() != c.want || who.GetTokenName() != "test-"+c.role.String() || who.GetTokenId() == "" ||
			who.GetAccountId() != c.account || strings.Contains(who.String(), secret) {
			t.Errorf("%v: %v", c.role, who)
		}
		wantPlan := pb.Plan_PLAN_UNSPECIFIED
		if c.role == domain.RoleAccount {
			wantPlan = pb.Plan_PLAN_STARTER
		}
		if who.GetPlan() != wantPlan || (c.role == domain.RoleAccount) != (who.GetAccountName() == "acme") {
			t.Errorf("%v: plan %v, account name %q", c.role, who.GetPlan(), who.GetAccountName())
		}
	}
	// The plan is read at each call: an upgrade shows at once.
	acme := testsrv.Ctx(env.Token(t, domain.RoleAccount, "acme"))
	env.Account(t, "acme", domain.PlanGrowth)
	if who, err := env.Tokens.WhoAmI(acme, &pb.WhoAmIRequest{}); err != nil || who.GetPlan() != pb.Plan_PLAN_GROWTH {
		t.Errorf("after the upgrade: %v (%v)", who, err)
	}
	_, err := env.Tokens.WhoAmI(testsrv.Ctx(""), &pb.WhoAmIRequest{})
	testsrv.WantError(t, err, codes.Unauthenticated, domain.ReasonTokenMissing)
	_, err = env.Tokens.WhoAmI(testsrv.Ctx(env.RevokedToken(t)), &pb.WhoAmIRequest{})
	testsrv.WantError(t, err, codes.Unauthenticated, domain.ReasonTokenInvalid)
}
