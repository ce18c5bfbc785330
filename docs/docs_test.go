// Package docs holds the documentation pages; these tests keep their
// links honest and their reference tables (configuration, error reasons,
// metrics) complete.
package docs

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// TestLinksStayInTheRepository: every relative link in the README and in
// docs/ names a file that exists in the repository (readers of a clone
// have nothing else), and the README's session needs nothing beyond
// grpcurl and the built binary (no jq).
func TestLinksStayInTheRepository(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	pages, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	pages = append(pages, filepath.Join(root, "README.md"))
	link := regexp.MustCompile(`\]\(([^)#\s]+)(#[^)]*)?\)`)
	for _, page := range pages {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.Contains(target, "://") {
				continue
			}
			abs := filepath.Join(filepath.Dir(page), target)
			if rel, err := filepath.Rel(root, abs); err != nil || strings.HasPrefix(rel, "..") {
				t.Errorf("%s links outside the repository: %s", filepath.Base(page), target)
			} else if _, err := os.Stat(abs); err != nil {
				t.Errorf("%s links to a missing file: %s", filepath.Base(page), target)
			}
		}
		if strings.Contains(string(b), "shared/SPEC.md") {
			t.Errorf("%s points to the SPEC outside the repository; link docs/ instead", filepath.Base(page))
		}
	}
	readme, _ := os.ReadFile(filepath.Join(root, "README.md"))
	for _, block := range regexp.MustCompile("(?s)<!-- e2e:start -->(.*?)<!-- e2e:end -->").FindAllStringSubmatch(string(readme), -1) {
		if regexp.MustCompile(`\|\s*jq\b`).MatchString(block[1]) {
			t.Error("the README session pipes into jq, which a fresh machine may not have")
		}
	}
}

// The tests below keep the reference tables in step with the code: they
// read the Go source (go/parser, regexps), not the packages, so the docs
// stay a leaf that nothing imports and that imports nothing of ours.

// TestConfigurationIsDocumented: every setting of `aiconfigd serve` (the
// kong tags of cmd/aiconfigd: flag and environment variable), every
// environment variable any other command declares, and every AICONFIG_
// variable the code reads with os.Getenv has a row in the configuration
// table of docs/operations.md, the flag beside its variable; every
// AICONFIG_ variable the table lists is one the code reads; and every
// command has a row in its Commands table naming each of its flags.
// (cmd/aiconfigd's TestDocumentedDefaults checks the defaults.) A copy of
// the page without a setting or a command fails, saying what to add where.
func TestConfigurationIsDocumented(t *testing.T) {
	root := repoRoot(t)
	code := readSettings(t, root)
	if len(code.serve) < 10 || len(code.commands) < 8 {
		t.Fatalf("read %d settings of serveCmd and %d commands; the test no longer understands cmd/aiconfigd",
			len(code.serve), len(code.commands))
	}
	ops := readPage(t, filepath.Join(root, "docs", "operations.md"))
	for _, p := range code.problems(ops) {
		t.Error(p)
	}

	t.Run("a missing setting or command fails", func(t *testing.T) {
		doctored := regexp.MustCompile("(?m)^\\| `AICONFIG_LISTEN`.*\n").ReplaceAllString(ops, "")
		doctored = regexp.MustCompile("(?m)^\\| `aiconfigd export.*\n").ReplaceAllString(doctored, "")
		doctored = strings.Replace(doctored, "[--dry-run]", "", 1)
		problems := strings.Join(code.problems(doctored), "\n")
		for _, want := range []string{
			"has no row for AICONFIG_LISTEN (--listen); add:\n\t| `AICONFIG_LISTEN` (`--listen`) |",
			"has no row for `aiconfigd export`; add:\n\t| `aiconfigd export [--out]` |",
			"the row of `aiconfigd import` does not name its flag --dry-run",
		} {
			if !strings.Contains(problems, want) {
				t.Errorf("a doctored page: want a problem containing %q; got:\n%s", want, problems)
			}
		}
		// A setting or command added to the code (e.g. a new serve flag)
		// is reported the same way.
		more := code
		more.serve = append(slices.Clone(code.serve), setting{"AICONFIG_NEW_THING", "--new-thing"})
		more.known = maps.Clone(code.known)
		more.known["AICONFIG_NEW_THING"] = true
		more.commands = append(slices.Clone(code.commands), command{"new-command", []string{"--flag"}})
		problems = strings.Join(more.problems(ops), "\n")
		for _, want := range []string{"has no row for AICONFIG_NEW_THING (--new-thing)", "has no row for `aiconfigd new-command`"} {
			if !strings.Contains(problems, want) {
				t.Errorf("a new setting or command passed: want %q in:\n%s", want, problems)
			}
		}
	})
}

type setting struct{ env, flag string }

// command is a leaf command of aiconfigd ("token create") and its own flags
// (--database-url, which every command shares, left out).
type command struct {
	path  string
	flags []string
}

// settings is what cmd/aiconfigd and the code declare.
type settings struct {
	serve    []setting       // serve's flags and variables
	known    map[string]bool // every variable the code reads
	otel     []string        // OTEL_ variables tracing reads
	commands []command
}

func readSettings(t *testing.T, root string) settings {
	t.Helper()
	structs := structTypes(t, filepath.Join(root, "cmd", "aiconfigd"))
	var s settings
	var walk func(typeName string)
	walk = func(typeName string) {
		st, ok := structs[typeName]
		if !ok {
			t.Fatalf("cmd/aiconfigd declares no struct %s", typeName)
		}
		for _, f := range st.Fields.List {
			if len(f.Names) == 0 { // embedded, as dbFlag
				walk(exprName(f.Type))
				continue
			}
			if flag := flagName(f); flag != "" {
				s.serve = append(s.serve, setting{fieldTag(f).Get("env"), flag})
			}
		}
	}
	walk("serveCmd")
	// The command tree, from the cli struct down.
	var commands func(typeName, path string)
	commands = func(typeName, path string) {
		st, ok := structs[typeName]
		if !ok {
			t.Fatalf("cmd/aiconfigd declares no struct %s", typeName)
		}
		var flags []string
		leaf := true
		for _, f := range st.Fields.List {
			tag := fieldTag(f)
			if len(f.Names) == 0 {
				continue // dbFlag: --database-url, documented once for all
			}
			if _, ok := tag.Lookup("cmd"); ok {
				leaf = false
				name := tag.Get("name")
				if name == "" {
					name = kebab(f.Names[0].Name)
				}
				commands(exprName(f.Type), strings.TrimSpace(path+" "+name))
			} else if _, ok := tag.Lookup("arg"); !ok && flagName(f) != "" {
				flags = append(flags, flagName(f))
			}
		}
		if leaf && path != "" {
			s.commands = append(s.commands, command{path, flags})
		}
	}
	commands("cli", "")
	s.known = map[string]bool{}
	for _, st := range structs {
		for _, f := range st.Fields.List {
			if env := fieldTag(f).Get("env"); env != "" {
				s.known[env] = true
			}
		}
	}
	getenv := regexp.MustCompile(`os\.Getenv\("((?:AICONFIG|OTEL)_\w+)"\)`)
	for _, file := range goFiles(t, filepath.Join(root, "internal"), filepath.Join(root, "cmd", "aiconfigd")) {
		if strings.Contains(file, string(filepath.Separator)+"pgtest"+string(filepath.Separator)) {
			continue // the test suite's own database, not a setting of the service
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range getenv.FindAllStringSubmatch(string(b), -1) {
			if strings.HasPrefix(m[1], "OTEL_") {
				s.otel = append(s.otel, m[1])
			} else {
				s.known[m[1]] = true
			}
		}
	}
	return s
}

// flagName is the flag kong makes of a field: its name tag, else its name
// in kebab case; "" for a field kong ignores (unexported, or kong:"-").
func flagName(f *ast.Field) string {
	tag := fieldTag(f)
	switch name := f.Names[0].Name; {
	case tag.Get("kong") == "-" || !ast.IsExported(name):
		return ""
	case tag.Get("name") != "":
		return "--" + tag.Get("name")
	default:
		return "--" + kebab(name)
	}
}

// kebab is kong's name for a field: ImportDjango → import-django,
// DBMaxConns → db-max-conns.
func kebab(name string) string {
	r := []rune(name)
	var b strings.Builder
	for i, c := range r {
		if i > 0 && unicode.IsUpper(c) &&
			(!unicode.IsUpper(r[i-1]) || i+1 < len(r) && unicode.IsLower(r[i+1])) {
			b.WriteByte('-')
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

// TestKebab: the names kong gives fields without a name tag.
func TestKebab(t *testing.T) {
	for in, want := range map[string]string{"ImportDjango": "import-django", "DBMaxConns": "db-max-conns", "Serve": "serve", "TLSCert": "tls-cert"} {
		if got := kebab(in); got != want {
			t.Errorf("kebab(%q) = %q, want %q", in, got, want)
		}
	}
}

// problems checks an operations.md text against the settings and commands;
// each problem says what to add or change where.
func (s settings) problems(ops string) []string {
	var out []string
	const where = "docs/operations.md: the table under ## Configuration"
	rows, err := configRowsOf(ops)
	if err != nil {
		return []string{"docs/operations.md: " + err.Error()}
	}
	for _, v := range s.serve {
		switch row, ok := rows[v.env]; {
		case v.env == "":
			out = append(out, fmt.Sprintf("serve %s has no environment variable (every serve setting has one)", v.flag))
		case !ok:
			out = append(out, fmt.Sprintf("%s has no row for %s (%s); add:\n\t| `%s` (`%s`) | <its default, as serve --help shows it> | <what it does> |",
				where, v.env, v.flag, v.env, v.flag))
		case !strings.Contains(row, "`"+v.flag+"`"):
			out = append(out, fmt.Sprintf("%s: the row of %s does not name its flag %s; write it as `%s` (`%s`)", where, v.env, v.flag, v.env, v.flag))
		}
	}
	for env := range s.known {
		if _, ok := rows[env]; !ok && !slices.ContainsFunc(s.serve, func(v setting) bool { return v.env == env }) {
			out = append(out, fmt.Sprintf("%s has no row for %s, which the code reads; add:\n\t| `%s` | | <what it does, and which commands read it> |",
				where, env, env))
		}
	}
	for env := range rows {
		if strings.HasPrefix(env, "AICONFIG_") && !s.known[env] {
			out = append(out, fmt.Sprintf("%s lists %s, which the code does not read", where, env))
		}
	}
	for _, v := range s.otel {
		if !strings.Contains(ops, "`"+v) {
			out = append(out, fmt.Sprintf("docs/operations.md does not mention %s, which tracing reads (add it to the table under ## Tracing)", v))
		}
	}
	// Commands: a row whose first cell starts with `aiconfigd <path>`.
	cmds := map[string]string{}
	if i := strings.Index(ops, "\n## Commands\n"); i >= 0 {
		body := ops[i+len("\n## Commands\n"):]
		if j := strings.Index(body, "\n## "); j >= 0 {
			body = body[:j]
		}
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(line, "| `aiconfigd ") {
				cmds[strings.Split(line, "|")[1]] = line
			}
		}
	}
	for _, c := range s.commands {
		var row string
		for first, line := range cmds {
			rest, ok := strings.CutPrefix(strings.TrimSpace(first), "`aiconfigd "+c.path)
			if ok && (rest == "`" || strings.HasPrefix(rest, " ")) {
				row = line
			}
		}
		if row == "" {
			usage := "aiconfigd " + c.path
			for _, f := range c.flags {
				usage += " [" + f + "]"
			}
			out = append(out, fmt.Sprintf("docs/operations.md: the table under ## Commands has no row for `aiconfigd %s`; add:\n\t| `%s` | <what it does> |", c.path, usage))
			continue
		}
		if c.path == "serve" {
			continue // its flags are the configuration table's
		}
		for _, f := range c.flags {
			if !strings.Contains(row, f) {
				out = append(out, fmt.Sprintf("docs/operations.md: the row of `aiconfigd %s` does not name its flag %s; add it to the row's first cell", c.path, f))
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestReasonsAreDocumented: every reason the service can return (the
// Reason constants of internal/domain/errors.go, and any reason written
// as a literal elsewhere) has its row in docs/errors.md, and every row
// is a reason the code has.
func TestReasonsAreDocumented(t *testing.T) {
	root := repoRoot(t)
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(root, "internal", "domain", "errors.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok {
			for i, name := range vs.Names {
				if strings.HasPrefix(name.Name, "Reason") && i < len(vs.Values) {
					reasons[stringLit(vs.Values[i])] = true
				}
			}
		}
		return true
	})
	if len(reasons) < 10 {
		t.Fatalf("read %d reasons from internal/domain/errors.go; the test no longer understands it", len(reasons))
	}
	literal := regexp.MustCompile(`(?:Reason:\s*|\b(?:Invalid|NotFound|Err)\()"([A-Z][A-Z_]+)"`)
	for _, file := range goFiles(t, filepath.Join(root, "internal")) {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range literal.FindAllStringSubmatch(string(b), -1) {
			reasons[m[1]] = true
		}
	}
	documented := map[string]bool{}
	row := regexp.MustCompile("(?m)^\\| `[A-Z_]+` \\| `([A-Z_]+)` \\|")
	for _, m := range row.FindAllStringSubmatch(readPage(t, filepath.Join(root, "docs", "errors.md")), -1) {
		documented[m[1]] = true
	}
	for r := range reasons {
		if !documented[r] {
			t.Errorf("docs/errors.md has no row for the reason %s", r)
		}
	}
	for r := range documented {
		if !reasons[r] {
			t.Errorf("docs/errors.md lists the reason %s, which the code does not return", r)
		}
	}
}

// TestMetricsAreDocumented: every metric internal/metrics registers is in
// the metrics table of docs/operations.md, and every row of that table is
// a metric it registers.
func TestMetricsAreDocumented(t *testing.T) {
	root := repoRoot(t)
	names := metricNames(t, filepath.Join(root, "internal", "metrics"))
	if len(names) < 10 {
		t.Fatalf("read %d metric names from internal/metrics; the test no longer understands it", len(names))
	}
	ops := section(t, readPage(t, filepath.Join(root, "docs", "operations.md")), "## Metrics")
	rows := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `(\\w+)` \\|").FindAllStringSubmatch(ops, -1) {
		rows[m[1]] = true
	}
	for name := range names {
		if !rows[name] {
			t.Errorf("docs/operations.md: the metrics table (under ## Metrics) has no row for %s; add:\n\t| `%s` | <type> | <labels> | <meaning> |", name, name)
		}
	}
	for name := range rows {
		if !names[name] {
			t.Errorf("docs/operations.md: the metrics table lists %s, which internal/metrics does not register", name)
		}
	}
}

// metricNames reads the names internal/metrics registers: each Name: "…"
// of a metric's options, and, for a helper that builds the name from a
// prefix (pool := func(name, …) { … Name: "aiconfig_db_pool_" + name … }),
// the prefix joined to the first argument of each call of the helper.
func metricNames(t *testing.T, dir string) map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	var files []*ast.File
	for _, path := range goFiles(t, dir) {
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	names := map[string]bool{}
	prefixes := map[string]string{} // helper → prefix
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			as, ok := n.(*ast.AssignStmt)
			if !ok || len(as.Lhs) != 1 || len(as.Rhs) != 1 {
				return true
			}
			if fn, ok := as.Rhs[0].(*ast.FuncLit); ok {
				ast.Inspect(fn.Body, func(n ast.Node) bool {
					if kv, ok := n.(*ast.KeyValueExpr); ok && exprName(kv.Key) == "Name" {
						if sum, ok := kv.Value.(*ast.BinaryExpr); ok && sum.Op == token.ADD {
							prefixes[exprName(as.Lhs[0])] = stringLit(sum.X)
						}
					}
					return true
				})
			}
			return true
		})
	}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.KeyValueExpr:
				if exprName(n.Key) == "Name" {
					if name := stringLit(n.Value); name != "" {
						names[name] = true
					}
				}
			case *ast.CallExpr:
				if prefix, ok := prefixes[exprName(n.Fun)]; ok && len(n.Args) > 0 {
					names[prefix+stringLit(n.Args[0])] = true
				}
			}
			return true
		})
	}
	return names
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func readPage(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// section is a page's text from the heading to the next heading of its level.
func section(t *testing.T, page, heading string) string {
	t.Helper()
	i := strings.Index(page, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("no section %q", heading)
	}
	s := page[i+len(heading)+2:]
	if j := strings.Index(s, "\n## "); j >= 0 {
		s = s[:j]
	}
	return s
}

// configRowsOf maps each variable named in the first column of a page's
// configuration table to that cell (which also names the flag).
func configRowsOf(page string) (map[string]string, error) {
	rows := map[string]string{}
	variable := regexp.MustCompile("`((?:AICONFIG|OTEL)_[A-Z_*]+)`")
	i := strings.Index(page, "\n## Configuration\n")
	if i < 0 {
		return nil, fmt.Errorf("no section ## Configuration")
	}
	body := page[i+len("\n## Configuration\n"):]
	if j := strings.Index(body, "\n## "); j >= 0 {
		body = body[:j]
	}
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.Split(line, "|")[1]
		for _, m := range variable.FindAllStringSubmatch(first, -1) {
			rows[m[1]] = first
		}
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("no configuration table under ## Configuration")
	}
	return rows, nil
}

// goFiles lists the Go files under dirs, tests left out.
func goFiles(t *testing.T, dirs ...string) []string {
	t.Helper()
	var out []string
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
				out = append(out, path)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// structTypes maps each struct type declared in a package directory to its
// declaration.
func structTypes(t *testing.T, dir string) map[string]*ast.StructType {
	t.Helper()
	out := map[string]*ast.StructType{}
	fset := token.NewFileSet()
	for _, path := range goFiles(t, dir) {
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if ts, ok := n.(*ast.TypeSpec); ok {
				if st, ok := ts.Type.(*ast.StructType); ok {
					out[ts.Name.Name] = st
				}
			}
			return true
		})
	}
	return out
}

func fieldTag(f *ast.Field) reflect.StructTag {
	if f.Tag == nil {
		return ""
	}
	tag, _ := strconv.Unquote(f.Tag.Value)
	return reflect.StructTag(tag)
}

// exprName is the name an identifier (or a selector's last part) spells.
func exprName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return e.Sel.Name
	}
	return ""
}

// stringLit is a string literal's value, or "" for anything else.
func stringLit(e ast.Expr) string {
	if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
		s, _ := strconv.Unquote(lit.Value)
		return s
	}
	return ""
}
