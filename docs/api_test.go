package docs

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	aiconfigv1 "github.com/igny8/aiconfig/gen/aiconfig/v1"
)

// rpc is one method of the API as the proto declares it: its service, and
// the roles and plan gate of its access rule.
type rpc struct {
	service, method string
	roles           []string // "admin", "service", "account", in the proto's order
	plan            string   // "Starter", or "" for no gate
}

func (r rpc) String() string { return r.service + "/" + r.method }

// row is the line docs/api.md should have for the RPC.
func (r rpc) row() string {
	plan := " "
	if r.plan != "" {
		plan = " " + r.plan + " "
	}
	return fmt.Sprintf("| `%s` | %s |%s| <what it does, in a few words> |", r.method, strings.Join(r.roles, ", "), plan)
}

// protoRPCs reads every RPC of package aiconfig.v1 from the generated
// descriptors (gen/ is built from proto/aiconfig/v1), services in file
// order.
func protoRPCs(t *testing.T) []rpc {
	t.Helper()
	var out []rpc
	protoregistry.GlobalFiles.RangeFilesByPackage("aiconfig.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := 0; i < fd.Services().Len(); i++ {
			sd := fd.Services().Get(i)
			for j := 0; j < sd.Methods().Len(); j++ {
				md := sd.Methods().Get(j)
				r := rpc{service: string(sd.Name()), method: string(md.Name())}
				rule, _ := proto.GetExtension(md.Options(), aiconfigv1.E_Access).(*aiconfigv1.AccessRule)
				for _, role := range rule.GetRoles() {
					r.roles = append(r.roles, strings.ToLower(strings.TrimPrefix(role.String(), "ROLE_")))
				}
				if p := rule.GetMinPlan(); p != aiconfigv1.Plan_PLAN_UNSPECIFIED {
					name := strings.ToLower(strings.TrimPrefix(p.String(), "PLAN_"))
					r.plan = strings.ToUpper(name[:1]) + name[1:]
				}
				out = append(out, r)
			}
		}
		return true
	})
	slices.SortStableFunc(out, func(a, b rpc) int { return strings.Compare(a.service, b.service) })
	return out
}

// rpcProblems checks the table "Who may call what" of an api.md text
// against the RPCs: every RPC has a row under its service's heading row
// (`| **Service** | | | |`), that row names the roles and plan gate of
// its access rule, and the table names no RPC the proto lacks. Each
// problem says what to change where.
func rpcProblems(page string, rpcs []rpc) []string {
	const table = "## Who may call what"
	i := strings.Index(page, "\n"+table+"\n")
	if i < 0 {
		return []string{fmt.Sprintf("docs/api.md: no section %q (the table of every RPC)", table)}
	}
	body := page[i+len(table)+2:]
	if j := strings.Index(body, "\n## "); j >= 0 {
		body = body[:j]
	}
	type cells struct{ roles, plan string }
	documented := map[string]cells{} // "Service/Method" → its row's cells
	heading := regexp.MustCompile(`^\| \*\*(\w+)\*\* \|`)
	name := regexp.MustCompile("`(\\w+)`")
	service := ""
	var problems []string
	for _, line := range strings.Split(body, "\n") {
		if m := heading.FindStringSubmatch(line); m != nil {
			service = m[1]
			continue
		}
		col := strings.Split(line, "|")
		if !strings.HasPrefix(line, "| `") || len(col) < 5 {
			continue
		}
		for _, m := range name.FindAllStringSubmatch(col[1], -1) {
			documented[service+"/"+m[1]] = cells{strings.TrimSpace(col[2]), strings.TrimSpace(col[3])}
		}
	}
	known := map[string]bool{}
	for _, r := range rpcs {
		known[r.String()] = true
		c, ok := documented[r.String()]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("docs/api.md: the table %q has no row for %s; add, below the row `| **%s** | | | |` (add that row too if it is missing):\n\t%s",
				table, r, r.service, r.row()))
		case c.roles != strings.Join(r.roles, ", "):
			problems = append(problems, fmt.Sprintf("docs/api.md: the row of %s says roles %q; its access rule in the proto allows %q",
				r, c.roles, strings.Join(r.roles, ", ")))
		case c.plan != r.plan:
			problems = append(problems, fmt.Sprintf("docs/api.md: the row of %s says plan gate %q; its access rule in the proto says %q",
				r, c.plan, r.plan))
		}
	}
	for name := range documented {
		if !known[name] {
			problems = append(problems, fmt.Sprintf("docs/api.md: the table %q lists %s, which the proto does not declare", table, name))
		}
	}
	slices.Sort(problems)
	return problems
}

// TestEveryRPCIsDocumented: docs/api.md's table names every RPC of the
// proto under its service, with the roles and plan gate of its access
// rule, and nothing else.
func TestEveryRPCIsDocumented(t *testing.T) {
	rpcs := protoRPCs(t)
	if len(rpcs) < 40 {
		t.Fatalf("read %d RPCs from the generated descriptors; the test no longer understands gen/", len(rpcs))
	}
	page := readPage(t, filepath.Join(repoRoot(t), "docs", "api.md"))
	for _, p := range rpcProblems(page, rpcs) {
		t.Error(p)
	}

	// The check itself: a copy of the page without one RPC's name, or
	// with a wrong role, fails, saying what to add where.
	t.Run("a missing RPC fails", func(t *testing.T) {
		doctored := strings.ReplaceAll(page, "`GetGenerationContext`", "`Elsewhere`")
		problems := strings.Join(rpcProblems(doctored, rpcs), "\n")
		want := "no row for ConfigService/GetGenerationContext; add, below the row `| **ConfigService** | | | |`"
		if !strings.Contains(problems, want) || !strings.Contains(problems, "| `GetGenerationContext` | admin, service, account |") {
			t.Errorf("a page without GetGenerationContext: want a problem containing %q and the row to add; got:\n%s", want, problems)
		}
		if !strings.Contains(problems, "lists ConfigService/Elsewhere, which the proto does not declare") {
			t.Errorf("a page naming an RPC the proto lacks passed:\n%s", problems)
		}
		// An RPC added to the proto (e.g. a new AccountService/WhoAmI) is
		// reported the same way.
		extra := append(slices.Clone(rpcs), rpc{service: "AccountService", method: "WhoAmI", roles: []string{"admin", "service", "account"}})
		problems = strings.Join(rpcProblems(page, extra), "\n")
		if !strings.Contains(problems, "no row for AccountService/WhoAmI; add, below the row `| **AccountService** | | | |`") {
			t.Errorf("an RPC the page lacks passed:\n%s", problems)
		}
	})
	t.Run("a wrong role fails", func(t *testing.T) {
		doctored := strings.Replace(page, "| `DeleteAccount` | admin, service |", "| `DeleteAccount` | admin, service, account |", 1)
		if doctored == page {
			t.Fatal("docs/api.md no longer has the DeleteAccount row this check doctors")
		}
		if p := strings.Join(rpcProblems(doctored, rpcs), "\n"); !strings.Contains(p, "AccountService/DeleteAccount says roles") {
			t.Errorf("a wrong role passed:\n%s", p)
		}
	})
}
