// Package scripts holds the shell scripts behind the Makefile; these tests
// run them. prereqs.sh is tested on fake machines: a root directory for
// its fixed paths (AICONFIG_PREREQS_ROOT), a PATH of stub tools and a stub
// Python, so each prerequisite can be hidden without uninstalling it.
package scripts

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// machine is a fake machine for prereqs.sh: everything make test needs,
// as stubs, unless listed in hide.
type machine struct {
	root, bin string
	env       []string
}

// every prerequisite a fake machine can hide, by the name the script
// gives it in its report.
var stubs = map[string]func(m *machine){
	"go":   func(m *machine) { stub(m.bin, "go") },
	"curl": func(m *machine) { stub(m.bin, "curl") },
	"postgresql": func(m *machine) {
		for _, tool := range []string{"psql", "pg_isready", "initdb", "pg_ctl"} {
			stub(filepath.Join(m.root, "usr/lib/postgresql/15/bin"), tool)
		}
	},
	"chromium":               func(m *machine) { stub(filepath.Join(m.root, "usr/bin"), "chromium") },
	"protobuf-compiler":      func(m *machine) { stub(m.bin, "protoc") },
	"protobuf-compiler-grpc": func(m *machine) { stub(m.bin, "grpc_python_plugin") },
}

// pythonModules are what the stub Python imports, by Debian package.
var pythonModules = map[string]string{
	"python3-grpcio":     "grpc",
	"python3-protobuf":   "google.protobuf",
	"python3-django":     "django",
	"python3-celery":     "celery",
	"python3-setuptools": "setuptools",
	"python3-pip":        "pip",
}

func newMachine(t *testing.T, hide ...string) *machine {
	t.Helper()
	dir := t.TempDir()
	m := &machine{root: filepath.Join(dir, "root"), bin: filepath.Join(dir, "bin")}
	hidden := map[string]bool{}
	for _, h := range hide {
		hidden[h] = true
	}
	for name, add := range stubs {
		if !hidden[name] {
			add(m)
		}
	}
	if err := os.MkdirAll(m.bin, 0o755); err != nil {
		t.Fatal(err)
	}
	// The stub Python, asked which modules it lacks (python3 -c CODE
	// MODULE...), names each hidden one, as Debian's does without the
	// package.
	lacks := []string{"none"}
	for pkg, module := range pythonModules {
		if hidden[pkg] {
			lacks = append(lacks, module)
		}
	}
	if !hidden["python3"] {
		write(t, filepath.Join(m.root, "usr/bin/python3"), "#!/bin/sh\nshift 2\nfor m in \"$@\"; do case $m in "+
			strings.Join(lacks, "|")+") echo $m;; esac; done\n")
	}
	m.env = []string{
		"PATH=" + m.bin,
		"HOME=" + dir,
		"AICONFIG_PREREQS_ROOT=" + m.root,
		"AICONFIG_PREREQS_INSTALL=0",
		"AICONFIG_PREREQS_PG=127.0.0.1:1", // nothing answers
	}
	return m
}

// stub panics on a failure (the stubs table has no *testing.T): the test
// fails with the error rather than later, on a missing tool.
func stub(dir, name string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		panic(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		panic(err)
	}
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
}

// run runs prereqs.sh for the targets on the fake machine: its exit
// status, its report, and how long it took.
func (m *machine) run(t *testing.T, env []string, targets ...string) (int, string, time.Duration) {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bash, append([]string{"prereqs.sh"}, targets...)...)
	cmd.Env = append(m.env, env...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out), took
		}
		t.Fatalf("prereqs.sh: %v\n%s", err, out)
	}
	return 0, string(out), took
}

// installLine is the one apt-get command the report ends with.
func installLine(t *testing.T, out string) []string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^  sudo apt-get update && sudo apt-get install -y (.*)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the report has no apt-get install line:\n%s", out)
	}
	return strings.Fields(m[1])
}

// TestPrereqsNameEverythingMissing: on a machine with nothing, prereqs.sh
// fails at once, naming every package make test and make lint need in
// one install command, and Go with where to get it.
func TestPrereqsNameEverythingMissing(t *testing.T) {
	m := newMachine(t, "go", "curl", "postgresql", "chromium", "python3", "protobuf-compiler", "protobuf-compiler-grpc")
	code, out, took := m.run(t, nil, "test", "lint")
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	if took > 10*time.Second {
		t.Errorf("took %v; a fresh machine must hear what is missing within seconds", took)
	}
	want := []string{"postgresql", "chromium", "python3", "python3-grpcio", "python3-protobuf", "python3-django",
		"python3-celery", "python3-pip", "python3-setuptools", "curl", "protobuf-compiler", "protobuf-compiler-grpc"}
	got := installLine(t, out)
	for _, p := range want {
		if !strings.Contains(" "+strings.Join(got, " ")+" ", " "+p+" ") {
			t.Errorf("the install line does not name %s: %v", p, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("the install line names %v, want exactly %v", got, want)
	}
	if !strings.Contains(out, "  go: Go ") || !strings.Contains(out, "https://go.dev/dl/") {
		t.Errorf("the report does not say Go is missing and where to get it:\n%s", out)
	}
}

// TestPrereqsNameOnlyWhatIsMissing: each prerequisite hidden alone is the
// one named (and the only one), and a machine with all of them passes.
func TestPrereqsNameOnlyWhatIsMissing(t *testing.T) {
	code, out, _ := newMachine(t).run(t, nil, "test", "lint", "e2e")
	if code != 0 || out != "" {
		t.Fatalf("a machine with everything: exit %d, want 0 and no output:\n%s", code, out)
	}
	for _, hide := range []string{"python3-grpcio", "python3-protobuf", "python3-django", "python3-celery", "python3-pip",
		"python3-setuptools", "chromium", "postgresql", "curl", "protobuf-compiler"} {
		t.Run(hide, func(t *testing.T) {
			code, out, _ := newMachine(t, hide).run(t, nil, "test", "lint")
			if code != 1 {
				t.Fatalf("exit %d, want 1:\n%s", code, out)
			}
			if got := installLine(t, out); len(got) != 1 || got[0] != hide {
				t.Errorf("install line %v, want [%s]:\n%s", got, hide, out)
			}
		})
	}
	t.Run("go", func(t *testing.T) {
		code, out, _ := newMachine(t, "go").run(t, nil, "test")
		if code != 1 || !strings.Contains(out, "  go: ") || strings.Contains(out, "apt-get") {
			t.Errorf("exit %d, want 1 naming go alone:\n%s", code, out)
		}
	})
}

// TestPrereqsTargets: each target asks only for what it uses (make lint
// needs no Chromium, make test no protoc), and the browser check honours
// AICONFIG_CHROMIUM and AICONFIG_SKIP_BROWSER.
func TestPrereqsTargets(t *testing.T) {
	m := newMachine(t, "chromium", "protobuf-compiler", "protobuf-compiler-grpc")
	if code, out, _ := m.run(t, nil, "lint"); code != 1 || strings.Contains(out, "chromium") {
		t.Errorf("lint: exit %d, want 1 naming protoc and not chromium:\n%s", code, out)
	}
	if code, out, _ := m.run(t, nil, "test"); code != 1 || strings.Contains(out, "protobuf-compiler") {
		t.Errorf("test: exit %d, want 1 naming chromium and not protoc:\n%s", code, out)
	}
	if code, out, _ := m.run(t, []string{"AICONFIG_SKIP_BROWSER=1"}, "test"); code != 0 {
		t.Errorf("test with AICONFIG_SKIP_BROWSER=1: exit %d, want 0:\n%s", code, out)
	}
	other := filepath.Join(t.TempDir(), "chrome")
	stub(filepath.Dir(other), filepath.Base(other))
	if code, out, _ := m.run(t, []string{"AICONFIG_CHROMIUM=" + other}, "test"); code != 0 {
		t.Errorf("test with AICONFIG_CHROMIUM set: exit %d, want 0:\n%s", code, out)
	}
}

// TestPrereqsRunningServer: with a PostgreSQL answering, the server
// binaries are not needed, only the client tools scripts/pg.sh uses.
func TestPrereqsRunningServer(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	m := newMachine(t, "postgresql")
	code, out, _ := m.run(t, []string{"AICONFIG_PREREQS_PG=" + lis.Addr().String()}, "test")
	if got := installLine(t, out); code != 1 || len(got) != 1 || got[0] != "postgresql-client" {
		t.Errorf("exit %d, install line %v; want 1 and [postgresql-client]:\n%s", code, got, out)
	}
	for _, tool := range []string{"psql", "pg_isready"} {
		stub(filepath.Join(m.root, "usr/lib/postgresql/16/bin"), tool)
	}
	if code, out, _ := m.run(t, []string{"AICONFIG_PREREQS_PG=" + lis.Addr().String()}, "test"); code != 0 {
		t.Errorf("client tools and a running server: exit %d, want 0:\n%s", code, out)
	}
}

// TestCIInstallsEveryPrerequisite: .ci/run installs, by name, every Debian
// package prereqs.sh may ask for, so a fresh CI machine has them all
// before the first test starts.
func TestCIInstallsEveryPrerequisite(t *testing.T) {
	script, err := os.ReadFile("prereqs.sh")
	if err != nil {
		t.Fatal(err)
	}
	ci, err := os.ReadFile("../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	list := regexp.MustCompile(`(?s)ci_packages=\((.*?)\)`).FindSubmatch(ci)
	if list == nil {
		t.Fatal(".ci/run has no ci_packages=(...) list")
	}
	installed := map[string]bool{}
	for _, p := range strings.Fields(string(list[1])) {
		installed[p] = true
	}
	needs := regexp.MustCompile(`need ([a-z0-9.+-]+) `).FindAllStringSubmatch(string(script), -1)
	if len(needs) < 10 {
		t.Fatalf("found only %d packages prereqs.sh asks for: the pattern no longer matches it", len(needs))
	}
	for _, n := range needs {
		if !installed[n[1]] {
			t.Errorf(".ci/run's ci_packages lacks %s, which scripts/prereqs.sh may ask for", n[1])
		}
	}
}
