package deploy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// loadCompose loads a compose file with the compose-spec loader, schema
// validation on: an attribute the specification does not have is an error.
func loadCompose(t *testing.T, content []byte) (*types.Project, error) {
	t.Helper()
	wd, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	return loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  wd,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(wd, "compose.yaml"), Content: content}},
		Environment: types.Mapping{},
	}, func(o *loader.Options) {
		o.SetProjectName("igny8", true)
		o.ResolvePaths = true
	})
}

// composeEnv is a service's environment with every variable set.
func composeEnv(s types.ServiceConfig) map[string]string {
	env := map[string]string{}
	for k, v := range s.Environment {
		if v != nil {
			env[k] = *v
		}
	}
	return env
}

// checkCompose checks the compose project against the binary.
func checkCompose(b binary, p *types.Project) error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	get := func(name string) types.ServiceConfig {
		s, err := p.GetService(name)
		if err != nil {
			fail("no service %s", name)
		}
		return s
	}
	pg, migrate, serve, backend := get("postgres"), get("aiconfig-migrate"), get("aiconfigd"), get("backend")
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	// Secrets are files, each one a service names exists at the top level,
	// and no secret is a literal in the file.
	for name, s := range p.Secrets {
		if s.File == "" || s.Environment != "" || s.Content != "" {
			fail("secret %s does not come from a file", name)
		}
	}
	for _, s := range p.Services {
		env := composeEnv(s)
		for k, v := range env {
			if (strings.Contains(k, "PASSWORD") || strings.Contains(k, "SECRET") || strings.Contains(k, "TOKEN") || strings.HasSuffix(k, "_KEYS")) &&
				!strings.HasSuffix(k, "_FILE") {
				fail("%s: %s is set in the file; take it from a secret file (%s_FILE)", s.Name, k, k)
			}
			// A path into /run/secrets must be a secret the service mounts.
			if rest, ok := strings.CutPrefix(v, "/run/secrets/"); ok {
				if !slices.ContainsFunc(s.Secrets, func(r types.ServiceSecretConfig) bool { return secretTarget(r) == rest }) {
					fail("%s: %s=%s, but the service mounts no secret %s", s.Name, k, v, rest)
				}
			}
			if u, err := url.Parse(v); err == nil && u.User != nil {
				if _, set := u.User.Password(); set {
					fail("%s: %s carries a password; use a pgpass file (PGPASSFILE) from a secret", s.Name, k)
				}
			}
		}
		for _, r := range s.Secrets {
			if _, ok := p.Secrets[r.Source]; !ok {
				fail("%s: secret %s is not declared", s.Name, r.Source)
			}
		}
	}
	// The one-shot migration, then the replicas, then the backend.
	if !slices.Equal(migrate.Command, types.ShellCommand{"migrate", "up"}) {
		fail("aiconfig-migrate runs %q, want [migrate up]", migrate.Command)
	}
	if migrate.Restart != "" && migrate.Restart != "no" {
		fail("aiconfig-migrate restarts (%s): a one-shot must not", migrate.Restart)
	}
	if migrate.Deploy != nil && migrate.Deploy.Replicas != nil && *migrate.Deploy.Replicas != 1 {
		fail("aiconfig-migrate has %d replicas", *migrate.Deploy.Replicas)
	}
	dependsOn := func(s types.ServiceConfig, on, condition string) {
		if d, ok := s.DependsOn[on]; !ok || d.Condition != condition {
			fail("%s: want depends_on %s with condition %s", s.Name, on, condition)
		}
	}
	dependsOn(migrate, pg.Name, types.ServiceConditionHealthy)
	dependsOn(serve, migrate.Name, types.ServiceConditionCompletedSuccessfully)
	dependsOn(backend, serve.Name, types.ServiceConditionHealthy)
	if !slices.Equal(serve.Command, types.ShellCommand{"serve"}) {
		fail("aiconfigd runs %q, want [serve]", serve.Command)
	}
	if serve.Environment["AICONFIG_MIGRATE"] != nil {
		fail("aiconfigd: replicas migrate (AICONFIG_MIGRATE): that is aiconfig-migrate's job")
	}
	for _, s := range []types.ServiceConfig{migrate, serve} {
		env := composeEnv(s)
		if err := b.checkEnvNames(env); err != nil {
			fail("%s: %v", s.Name, err)
		}
		if env["AICONFIG_DATABASE_URL"] == "" || env["AICONFIG_SECRET_KEY_FILE"] == "" {
			fail("%s: want AICONFIG_DATABASE_URL and AICONFIG_SECRET_KEY_FILE", s.Name)
		}
		if s.User == "" || s.User == "0" || s.User == "root" || strings.HasPrefix(s.User, "0:") {
			fail("%s: runs as %q; want the image's non-root user", s.Name, s.User)
		}
		if !s.ReadOnly {
			fail("%s: root filesystem writable", s.Name)
		}
	}
	// Ports: what serve listens on, against the health check, what it
	// exposes and the address the backend dials.
	env := composeEnv(serve)
	grpcPort, on, err := b.listener(env, "AICONFIG_LISTEN")
	if err != nil || !on {
		fail("aiconfigd: %v", err)
	}
	exposed := map[int]bool{}
	for _, e := range serve.Expose {
		n, _ := strconv.Atoi(e)
		exposed[n] = true
	}
	for _, v := range []string{"AICONFIG_LISTEN", "AICONFIG_HTTP_LISTEN", "AICONFIG_METRICS_LISTEN"} {
		if port, on, err := b.listener(env, v); err != nil {
			fail("aiconfigd: %v", err)
		} else if on && !exposed[port] {
			fail("aiconfigd: %s port %d is not exposed", v, port)
		}
	}
	for port := range exposed {
		ok := false
		for _, v := range []string{"AICONFIG_LISTEN", "AICONFIG_HTTP_LISTEN", "AICONFIG_METRICS_LISTEN"} {
			if p, on, _ := b.listener(env, v); on && p == port {
				ok = true
			}
		}
		if !ok {
			fail("aiconfigd: exposes %d, where serve does not listen", port)
		}
	}
	if addr := backend.Environment["AICONFIG_ADDR"]; addr == nil {
		fail("backend: no AICONFIG_ADDR")
	} else if host, port, _ := net.SplitHostPort(*addr); host != serve.Name || port != strconv.Itoa(grpcPort) {
		fail("backend: dials %s; aiconfigd's gRPC is %s:%d", *addr, serve.Name, grpcPort)
	}
	// The health check is the image's aiconfigd health against the
	// address serve listens on, and the binary accepts its command line.
	hc := serve.HealthCheck
	if hc == nil || hc.Disable || len(hc.Test) < 3 || hc.Test[0] != "CMD" || hc.Test[1] != "/usr/local/bin/aiconfigd" || hc.Test[2] != "health" {
		fail("aiconfigd: want healthcheck [CMD /usr/local/bin/aiconfigd health ...]")
	} else {
		if err := checkHealthArgs(b, env, hc.Test[3:], grpcPort); err != nil {
			fail("aiconfigd: healthcheck: %v", err)
		}
	}
	if pg.HealthCheck == nil || pg.HealthCheck.Disable {
		fail("postgres: no healthcheck (aiconfig-migrate waits for it)")
	}
	stop, err := b.stopTime(env)
	if err != nil {
		fail("aiconfigd: %v", err)
	} else if serve.StopGracePeriod == nil || time.Duration(*serve.StopGracePeriod) < stop {
		fail("aiconfigd: stop_grace_period %v is less than serve's stop (drain, in-flight calls, trace flush): %v", serve.StopGracePeriod, stop)
	}
	return errors.Join(errs...)
}

func secretTarget(r types.ServiceSecretConfig) string {
	if r.Target != "" {
		return strings.TrimPrefix(r.Target, "/run/secrets/")
	}
	return r.Source
}

// checkHealthArgs: the health check's arguments are ones aiconfigd
// health accepts (run against an address nobody listens on, it exits 1,
// "not serving", rather than 2, "bad command line"), and the address it
// checks (--address, else AICONFIG_LISTEN) is serve's gRPC port.
func checkHealthArgs(b binary, env map[string]string, args []string, grpcPort int) error {
	addr := b.setting(env, "AICONFIG_LISTEN")
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--address="); ok {
			addr = v
		} else if a == "--address" && i+1 < len(args) {
			addr = args[i+1]
		}
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %v", addr, err)
	}
	if port != strconv.Itoa(grpcPort) {
		return fmt.Errorf("checks port %s; serve's gRPC health is on %d", port, grpcPort)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	nobody := lis.Addr().String()
	lis.Close()
	cmd := exec.Command(b.path, append(append([]string{"health"}, args...), "--address", nobody, "--timeout", "1s")...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		return fmt.Errorf("aiconfigd health %s: %v (want exit 1, not serving)\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// TestCompose: deploy/compose.yaml loads with the compose-spec loader,
// and its services, health checks, secrets and start order agree with
// the binary.
func TestCompose(t *testing.T) {
	b := aiconfigd(t)
	content, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := loadCompose(t, content)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkCompose(b, p); err != nil {
		t.Error(err)
	}
	// The file's secrets are what deploy/secrets/init.sh makes.
	script, err := os.ReadFile("secrets/init.sh")
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range p.Secrets {
		if !strings.Contains(string(script), filepath.Base(s.File)) {
			t.Errorf("secret %s: secrets/init.sh does not make %s", name, filepath.Base(s.File))
		}
	}
}

// TestComposeRefusesMistakes: each doctored copy of compose.yaml fails.
func TestComposeRefusesMistakes(t *testing.T) {
	b := aiconfigd(t)
	orig, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, old, new, want string }{
		{"health check on a port serve does not listen on", `"health", "--timeout", "2s"]`, `"health", "--timeout", "2s", "--address", "127.0.0.1:50052"]`, "checks port 50052"},
		{"serve moved, backend left behind", "AICONFIG_LISTEN: 0.0.0.0:50051", "AICONFIG_LISTEN: 0.0.0.0:50061", "backend: dials aiconfigd:50051"},
		{"a flag health does not have", `"health", "--timeout", "2s"]`, `"health", "--timeout", "2s", "--port", "50051"]`, "want exit 1"},
		{"the secret key in the environment", "AICONFIG_SECRET_KEY_FILE: /run/secrets/aiconfig_secret_key", "AICONFIG_SECRET_KEY: c2VjcmV0", "AICONFIG_SECRET_KEY is set in the file"},
		{"a password in the URL", "postgres://aiconfig@postgres", "postgres://aiconfig:hunter2@postgres", "carries a password"},
		{"replicas before the migration", "condition: service_completed_successfully", "condition: service_started", "depends_on aiconfig-migrate"},
		{"a key file from an unmounted secret", "secrets: [aiconfig_pgpass, aiconfig_secret_key, aiconfig_previous_keys]\n    user: \"65532:65532\"\n    read_only: true\n    restart: unless-stopped",
			"secrets: [aiconfig_pgpass, aiconfig_previous_keys]\n    user: \"65532:65532\"\n    read_only: true\n    restart: unless-stopped", "mounts no secret aiconfig_secret_key"},
		{"an attribute compose does not have", "read_only: true\n    restart: unless-stopped", "read_only: true\n    readonly: true\n    restart: unless-stopped", "readonly"},
		{"grace shorter than the drain", "stop_grace_period: 35s", "stop_grace_period: 10s", "stop_grace_period 10s"},
		{"a misspelt variable", "AICONFIG_DRAIN_DELAY: 3s", "AICONFIG_DRAIN_DELAI: 3s", "AICONFIG_DRAIN_DELAI: aiconfigd does not read it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(string(orig), tc.old) {
				t.Fatalf("compose.yaml no longer contains %q: update the test", tc.old)
			}
			p, err := loadCompose(t, []byte(strings.Replace(string(orig), tc.old, tc.new, 1)))
			if err == nil {
				err = checkCompose(b, p)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v; want an error containing %q", err, tc.want)
			}
		})
	}
}
