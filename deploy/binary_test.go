package deploy

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// binary is aiconfigd as the checkout builds it, and what its command
// line declares: each setting's environment variable and default, read
// from `aiconfigd serve --help` (the help is generated from the flags'
// declarations, so it is the binary's own word).
type binary struct {
	path string
	// serve maps each variable serve reads to its default ("" when none).
	serve map[string]string
	// inFlight is how long serve lets in-flight calls finish after the
	// drain delay; flush how long it then waits to send traces.
	inFlight, flush time.Duration
}

var built struct {
	once sync.Once
	bin  binary
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.bin.path != "" {
		_ = os.RemoveAll(filepath.Dir(built.bin.path))
	}
	os.Exit(code)
}

func aiconfigd(t *testing.T) binary {
	t.Helper()
	built.once.Do(func() { built.bin, built.err = buildBinary() })
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

func buildBinary() (binary, error) {
	dir, err := os.MkdirTemp("", "aiconfigd-deploy-test")
	if err != nil {
		return binary{}, err
	}
	b := binary{path: filepath.Join(dir, "aiconfigd"), serve: map[string]string{}}
	build := exec.Command("go", "build", "-o", b.path, "./cmd/aiconfigd")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		return b, fmt.Errorf("go build ./cmd/aiconfigd: %v\n%s", err, out)
	}
	out, err := exec.Command(b.path, "serve", "--help").Output()
	if err != nil {
		return b, fmt.Errorf("aiconfigd serve --help: %v", err)
	}
	help := string(out)
	flags := strings.Index(help, "\nFlags:\n")
	if flags < 0 {
		return b, errors.New("aiconfigd serve --help has no Flags section")
	}
	// Each flag's entry starts with --name, its default (when it has one)
	// right after the = , and ends with ($VARIABLE).
	entry := regexp.MustCompile(`(?m)^\s+(?:-\w, )?--(?:\[no-\])?[\w-]+`)
	starts := entry.FindAllStringIndex(help[flags:], -1)
	env := regexp.MustCompile(`\(\$(AICONFIG_\w+)\)`)
	def := regexp.MustCompile(`^\s+--[\w-]+=(?:"([^"]*)"|(\d[\w.]*))`)
	for i, s := range starts {
		end := len(help) - flags
		if i+1 < len(starts) {
			end = starts[i+1][0]
		}
		text := help[flags+s[0] : flags+end]
		m := env.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		d := ""
		if dm := def.FindStringSubmatch(text); dm != nil {
			d = dm[1] + dm[2]
		}
		b.serve[m[1]] = d
	}
	// The key variables are environment-only: the help names them in its text.
	for _, v := range regexp.MustCompile(`\bAICONFIG_[A-Z_]+\b`).FindAllString(help[:flags], -1) {
		if _, ok := b.serve[v]; !ok {
			b.serve[v] = ""
		}
	}
	for _, v := range []string{"AICONFIG_LISTEN", "AICONFIG_HTTP_LISTEN", "AICONFIG_METRICS_LISTEN", "AICONFIG_DRAIN_DELAY", "AICONFIG_SECRET_KEY_FILE"} {
		if _, ok := b.serve[v]; !ok {
			return b, fmt.Errorf("aiconfigd serve --help does not declare %s; this test no longer understands it", v)
		}
	}
	// The stop sequence after the drain delay: internal/app's Run and serve.
	if b.inFlight, err = sourceSeconds("../internal/app/app.go", `case <-time\.After\((\d+) \* time\.Second\):`); err != nil {
		return b, err
	}
	if b.flush, err = sourceSeconds("../cmd/aiconfigd/serve.go", `context\.WithTimeout\(context\.Background\(\), (\d+)\*time\.Second\)`); err != nil {
		return b, err
	}
	return b, nil
}

func sourceSeconds(file, pattern string) (time.Duration, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	m := regexp.MustCompile(pattern).FindSubmatch(src)
	if m == nil {
		return 0, fmt.Errorf("%s no longer matches %s; this test no longer understands the shutdown", file, pattern)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return time.Duration(n) * time.Second, nil
}

// setting is the value serve runs with: the environment's, else the default.
func (b binary) setting(env map[string]string, name string) string {
	if v, ok := env[name]; ok {
		return v
	}
	return b.serve[name]
}

// listener is where serve listens for one of its addresses: the port, or
// disabled. Loopback is an error where others must reach it.
func (b binary) listener(env map[string]string, name string) (port int, enabled bool, err error) {
	addr := b.setting(env, name)
	if addr == "" {
		return 0, false, nil
	}
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, false, fmt.Errorf("%s=%q: %v", name, addr, err)
	}
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return 0, false, fmt.Errorf("%s=%q listens on loopback: nothing outside the container reaches it (probes, the Service, other containers)", name, addr)
	}
	port, err = strconv.Atoi(p)
	if err != nil || port <= 0 {
		return 0, false, fmt.Errorf("%s=%q: no fixed port", name, addr)
	}
	return port, true, nil
}

// stopTime is what a replica needs from SIGTERM to exit with the given
// environment: the drain delay, in-flight calls, the trace flush.
func (b binary) stopTime(env map[string]string) (time.Duration, error) {
	d, err := time.ParseDuration(b.setting(env, "AICONFIG_DRAIN_DELAY"))
	if err != nil {
		return 0, fmt.Errorf("AICONFIG_DRAIN_DELAY: %v", err)
	}
	return d + b.inFlight + b.flush, nil
}

// checkEnvNames refuses an AICONFIG_ variable serve does not read (a typo
// would be ignored silently) and a secret set as a literal value.
func (b binary) checkEnvNames(env map[string]string) error {
	var errs []error
	for name := range env {
		if strings.HasPrefix(name, "AICONFIG_") {
			if _, ok := b.serve[name]; !ok {
				errs = append(errs, fmt.Errorf("%s: aiconfigd does not read it", name))
			}
		}
	}
	for _, name := range []string{"AICONFIG_SECRET_KEY", "AICONFIG_PREVIOUS_SECRET_KEYS"} {
		if _, ok := env[name]; ok {
			errs = append(errs, fmt.Errorf("%s is a literal value: use %s_FILE with a mounted secret", name, name))
		}
	}
	// Serve refuses plaintext HTTP beyond loopback unless told it is meant.
	if _, on, err := b.listener(env, "AICONFIG_HTTP_LISTEN"); err == nil && on &&
		b.setting(env, "AICONFIG_TLS_CERT") == "" && b.setting(env, "AICONFIG_HTTP_INSECURE") != "true" {
		errs = append(errs, errors.New("AICONFIG_HTTP_LISTEN beyond loopback without TLS: serve refuses to start unless AICONFIG_HTTP_INSECURE=true"))
	}
	return errors.Join(errs...)
}

// TestBinaryFlagsRead: the reading of serve's help above understands it
// (the defaults make run and the docs use), so the checks built on it
// cannot pass vacuously.
func TestBinaryFlagsRead(t *testing.T) {
	b := aiconfigd(t)
	for name, want := range map[string]string{
		"AICONFIG_LISTEN": "127.0.0.1:50051", "AICONFIG_HTTP_LISTEN": "127.0.0.1:8080",
		"AICONFIG_METRICS_LISTEN": "127.0.0.1:9464", "AICONFIG_DRAIN_DELAY": "3s",
		"AICONFIG_CACHE_MAX_BYTES": "0", "AICONFIG_SECRET_KEY_FILE": "", "AICONFIG_DATABASE_URL": "",
	} {
		if got, ok := b.serve[name]; !ok || got != want {
			t.Errorf("%s: read %q (declared %t), want %q", name, got, ok, want)
		}
	}
	if b.inFlight != 20*time.Second || b.flush != 5*time.Second {
		t.Errorf("stop sequence read as in-flight %v, flush %v", b.inFlight, b.flush)
	}
	if err := b.checkEnvNames(map[string]string{"AICONFIG_LISTN": ":1"}); err == nil {
		t.Error("a misspelt variable passed")
	}
}
