package server_test

import (
	"context"
	"slices"
	"sort"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/igny8/aiconfig/internal/access"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/testsrv"
)

// TestEveryRPCHasARule fails when a method served under aiconfig.v1 has no
// access option (it would be refused at run time, but should not ship).
func TestEveryRPCHasARule(t *testing.T) {
	env := testsrv.Start(t)
	rules, err := access.LoadRules()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for svc, info := range env.Server.GRPC.GetServiceInfo() {
		if access.Public("/" + svc + "/") {
			continue
		}
		for _, m := range info.Methods {
			n++
			if _, ok := rules["/"+svc+"/"+m.Name]; !ok {
				t.Errorf("/%s/%s declares no (aiconfig.v1.access) rule", svc, m.Name)
			}
		}
	}
	if n < 15 {
		t.Fatalf("only %d methods served; expected the whole API", n)
	}
}

type caller struct {
	name   string
	token  string
	role   domain.Role // RoleUnknown: unauthenticated
	target string      // account the request names
}

// TestAccessMatrix drives every RPC × every kind of caller from the proto
// rules: no token, revoked token, ADMIN and SERVICE on an account and on
// none (the global items, where a rule allows that), ACCOUNT on its own
// account, ACCOUNT on another account.
func TestAccessMatrix(t *testing.T) {
	env := testsrv.Start(t)
	env.Account(t, "own", domain.PlanStarter)
	env.Account(t, "other", domain.PlanStarter)
	callers := []caller{
		{name: "no token", token: ""},
		{name: "unknown token", token: "aic_not-a-real-token"},
		{name: "revoked token", token: env.RevokedToken(t)},
		{name: "admin", token: env.Token(t, domain.RoleAdmin, ""), role: domain.RoleAdmin, target: "own"},
		{name: "service", token: env.Token(t, domain.RoleService, ""), role: domain.RoleService, target: "own"},
		// Naming no account: the global items, where a rule has global_roles.
		{name: "admin, no account", token: env.Token(t, domain.RoleAdmin, ""), role: domain.RoleAdmin, target: ""},
		{name: "service, no account", token: env.Token(t, domain.RoleService, ""), role: domain.RoleService, target: ""},
		{name: "account own", token: env.Token(t, domain.RoleAccount, "own"), role: domain.RoleAccount, target: "own"},
		{name: "account own, empty id", token: env.Token(t, domain.RoleAccount, "own"), role: domain.RoleAccount, target: ""},
		{name: "account other", token: env.Token(t, domain.RoleAccount, "own"), role: domain.RoleAccount, target: "other"},
	}
	rules, err := access.LoadRules()
	if err != nil {
		t.Fatal(err)
	}
	methods := make([]string, 0, len(rules))
	for m := range rules {
		methods = append(methods, m)
	}
	sort.Strings(methods)
	for _, method := range methods {
		rule := rules[method]
		for _, c := range callers {
			t.Run(method+"/"+c.name, func(t *testing.T) {
				req, resp := testsrv.Messages(t, method)
				if len(rule.AccountField) > 0 && c.target != "" {
					rule.SetTargetAccount(req, c.target)
				}
				ctx := context.Background()
				if c.token != "" {
					ctx = testsrv.Ctx(c.token)
				}
				err := testsrv.Call(ctx, env.Conn, method, req, resp)
				switch {
				case c.token == "":
					testsrv.WantError(t, err, codes.Unauthenticated, domain.ReasonTokenMissing)
				case c.role == domain.RoleUnknown:
					testsrv.WantError(t, err, codes.Unauthenticated, domain.ReasonTokenInvalid)
				case !rule.Allows(c.role):
					testsrv.WantError(t, err, codes.PermissionDenied, domain.ReasonRoleNotAllowed)
				case c.role == domain.RoleAccount && len(rule.AccountField) > 0 && c.target == "other":
					testsrv.WantError(t, err, codes.PermissionDenied, domain.ReasonAccountScope)
				case c.role != domain.RoleAccount && c.target == "" && len(rule.GlobalRoles) > 0 && !slices.Contains(rule.GlobalRoles, c.role):
					testsrv.WantError(t, err, codes.PermissionDenied, domain.ReasonRoleNotAllowed)
				default:
					// Through the access layer: the handler may still reject the
					// otherwise empty request, but never as an access failure.
					// An empty request is bad input at worst, never INTERNAL.
					f := testsrv.Decode(err)
					switch f.Code {
					case codes.Unauthenticated, codes.PermissionDenied:
						t.Fatalf("allowed caller refused: %s %v %s", f.Code, f.Info, f.Message)
					case codes.Internal, codes.Unknown:
						t.Fatalf("empty request gave %s: %s", f.Code, f.Message)
					}
				}
			})
		}
	}
}

// TestItemRules: the rules of the customizable-item RPCs are those SPEC
// sections 12 and 13 state (the matrix above checks they are enforced).
func TestItemRules(t *testing.T) {
	rules, err := access.LoadRules()
	if err != nil {
		t.Fatal(err)
	}
	all := []domain.Role{domain.RoleAdmin, domain.RoleService, domain.RoleAccount}
	adminOnly := []domain.Role{domain.RoleAdmin}
	type rule struct {
		roles  []domain.Role
		field  string // "" when the RPC names no account
		plan   domain.Plan
		global []domain.Role
	}
	want := map[string]rule{
		"/aiconfig.v1.ConfigService/GetGenerationContext":      {all, "account_id", 0, nil},
		"/aiconfig.v1.ConfigService/ListPlanLimits":            {all, "", 0, nil},
		"/aiconfig.v1.ConfigService/UpdatePlanLimit":           {adminOnly, "", 0, nil},
		"/aiconfig.v1.AccountService/SetAccountDefaults":       {all, "account_id", 0, nil},
		"/aiconfig.v1.HistoryService/ListHistory":              {all, "account_id", 0, nil},
		"/aiconfig.v1.HistoryService/RestoreVersion":           {all, "account_id", domain.PlanStarter, adminOnly},
		"/aiconfig.v1.PromptService/CustomizePrompt":           {all, "account_id", domain.PlanStarter, nil},
		"/aiconfig.v1.PromptService/UpsertGlobalPrompt":        {adminOnly, "", 0, nil},
		"/aiconfig.v1.PromptService/ListGlobalPrompts":         {all, "", 0, nil},
		"/aiconfig.v1.PromptService/ResetPrompt":               {all, "account_id", 0, nil},
		"/aiconfig.v1.PromptService/GetEffectivePrompt":        {all, "account_id", 0, nil},
		"/aiconfig.v1.PromptService/ListEffectivePrompts":      {all, "account_id", 0, nil},
		"/aiconfig.v1.PromptService/ListPromptHistory":         {all, "account_id", 0, nil},
		"/aiconfig.v1.ConfigService/GetModelConfig":            {all, "account_id", 0, nil},
		"/aiconfig.v1.ConfigService/UpdateGlobalSettings":      {adminOnly, "", 0, nil},
		"/aiconfig.v1.ConfigService/DeleteIntegrationOverride": {all, "account_id", 0, nil},
	}
	for _, kind := range []struct{ service, one, many string }{
		{"AuthorProfileService", "AuthorProfile", "AuthorProfiles"},
		{"ContentStrategyService", "ContentStrategy", "ContentStrategies"},
	} {
		p := "/aiconfig.v1." + kind.service + "/"
		want[p+"List"+kind.many] = rule{all, "account_id", 0, nil}
		want[p+"Get"+kind.one] = rule{all, "account_id", 0, nil}
		want[p+"Create"+kind.one] = rule{all, "account_id", domain.PlanStarter, nil}
		want[p+"Update"+kind.one] = rule{all, "account_id", domain.PlanStarter, nil}
		want[p+"Delete"+kind.one] = rule{all, "account_id", 0, nil}
		want[p+"Reset"+kind.one] = rule{all, "account_id", 0, nil}
		want[p+"ListGlobal"+kind.many] = rule{all, "", 0, nil}
		want[p+"UpsertGlobal"+kind.one] = rule{adminOnly, "", 0, nil}
	}
	for method, w := range want {
		r, ok := rules[method]
		if !ok {
			t.Errorf("%s has no rule", method)
			continue
		}
		field := ""
		for i, n := range r.AccountField {
			if i > 0 {
				field += "."
			}
			field += string(n)
		}
		if !slices.Equal(r.Roles, w.roles) || field != w.field || r.MinPlan != w.plan || !slices.Equal(r.GlobalRoles, w.global) {
			t.Errorf("%s: roles %v, account field %q, min plan %v, global roles %v; want %+v", method, r.Roles, field, r.MinPlan, r.GlobalRoles, w)
		}
	}
}
