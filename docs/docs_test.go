// Package docs holds the documentation pages; these tests keep their
// links honest and their reference tables (configuration, error reasons,
// metrics) complete.
package docs

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
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
// tables of docs/operations.md and the README, the flag beside its
// variable; and every AICONFIG_ variable a table lists is one the code
// reads. (cmd/aiconfigd's TestDocumentedDefaults checks the defaults.)
func TestConfigurationIsDocumented(t *testing.T) {
	root := repoRoot(t)
	structs := structTypes(t, filepath.Join(root, "cmd", "aiconfigd"))
	type setting struct{ env, flag string }
	var serve []setting
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
			if tag := fieldTag(f); tag.Get("name") != "" {
				serve = append(serve, setting{tag.Get("env"), "--" + tag.Get("name")})
			}
		}
	}
	walk("serveCmd")
	if len(serve) < 10 {
		t.Fatalf("read %d settings of serveCmd; the test no longer understands cmd/aiconfigd", len(serve))
	}
	known := map[string]bool{} // every variable the code reads
	for _, st := range structs {
		for _, f := range st.Fields.List {
			if env := fieldTag(f).Get("env"); env != "" {
				known[env] = true
			}
		}
	}
	getenv := regexp.MustCompile(`os\.Getenv\("((?:AICONFIG|OTEL)_\w+)"\)`)
	var otel []string
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
				otel = append(otel, m[1])
			} else {
				known[m[1]] = true
			}
		}
	}
	for _, page := range []string{filepath.Join("docs", "operations.md"), "README.md"} {
		rows := configRows(t, filepath.Join(root, page))
		for _, s := range serve {
			switch row, ok := rows[s.env]; {
			case s.env == "":
				t.Errorf("serve %s has no environment variable (every serve setting has one)", s.flag)
			case !ok:
				t.Errorf("%s: the configuration table has no row for %s (%s)", page, s.env, s.flag)
			case !strings.Contains(row, "`"+s.flag+"`"):
				t.Errorf("%s: the row of %s does not name its flag %s", page, s.env, s.flag)
			}
		}
		for env := range known {
			if _, ok := rows[env]; !ok && !slices.ContainsFunc(serve, func(s setting) bool { return s.env == env }) {
				t.Errorf("%s: the configuration table has no row for %s, which the code reads", page, env)
			}
		}
		for env := range rows {
			if strings.HasPrefix(env, "AICONFIG_") && !known[env] {
				t.Errorf("%s: the configuration table lists %s, which the code does not read", page, env)
			}
		}
	}
	ops := readPage(t, filepath.Join(root, "docs", "operations.md"))
	for _, v := range otel {
		if !strings.Contains(ops, "`"+v) {
			t.Errorf("docs/operations.md does not mention %s, which tracing reads", v)
		}
	}
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
// the metrics table of docs/operations.md and in the README's Operations,
// and every row of that table is a metric it registers.
func TestMetricsAreDocumented(t *testing.T) {
	root := repoRoot(t)
	names := metricNames(t, filepath.Join(root, "internal", "metrics"))
	if len(names) < 10 {
		t.Fatalf("read %d metric names from internal/metrics; the test no longer understands it", len(names))
	}
	ops := section(t, readPage(t, filepath.Join(root, "docs", "operations.md")), "## Metrics")
	readme := section(t, readPage(t, filepath.Join(root, "README.md")), "## Operations")
	rows := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `(\\w+)` \\|").FindAllStringSubmatch(ops, -1) {
		rows[m[1]] = true
	}
	for name := range names {
		if !rows[name] {
			t.Errorf("docs/operations.md: the metrics table has no row for %s", name)
		}
		if !regexp.MustCompile("`" + name + "[`{]").MatchString(readme) {
			t.Errorf("README.md: Operations does not list the metric %s", name)
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

// configRows maps each variable named in the first column of a page's
// configuration table to that cell (which also names the flag).
func configRows(t *testing.T, path string) map[string]string {
	t.Helper()
	rows := map[string]string{}
	variable := regexp.MustCompile("`((?:AICONFIG|OTEL)_[A-Z_*]+)`")
	for _, line := range strings.Split(section(t, readPage(t, path), "## Configuration"), "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.Split(line, "|")[1]
		for _, m := range variable.FindAllStringSubmatch(first, -1) {
			rows[m[1]] = first
		}
	}
	if len(rows) == 0 {
		t.Fatalf("%s: no configuration table", path)
	}
	return rows
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
