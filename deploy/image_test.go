package deploy

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// engine is how the Makefile runs podman on these machines (runc, no systemd).
var engine = []string{"podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs"}

// podmanCannotRun says why podman cannot run containers here, or "".
func podmanCannotRun() string {
	for _, bin := range []string{"podman", "runc"} {
		if _, err := exec.LookPath(bin); err != nil {
			return bin + " is not installed (apt-get install podman runc)"
		}
	}
	if out, err := exec.Command(engine[0], append(engine[1:], "info")...).CombinedOutput(); err != nil {
		return fmt.Sprintf("podman info failed: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return ""
}

// TestImage: make image builds the image and make image-test runs it
// against PostgreSQL on this machine (migrate up, token create, serve with
// health SERVING, GetModelConfig, SIGTERM drains and exits 0); the image
// is under 40 MB and runs as a non-root user (scripts/image-test.sh checks
// both, the uid on the running process). Skipped only where podman cannot
// run, saying why.
func TestImage(t *testing.T) {
	if why := podmanCannotRun(); why != "" {
		t.Skipf("SKIPPED: the container image is not built or tested: %s", why)
	}
	image := fmt.Sprintf("localhost/aiconfigd-test-%d", os.Getpid())
	cmd := exec.Command("make", "--no-print-directory", "image", "image-test", "IMAGE="+image, "VERSION=v0.0.0-imagetest")
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	t.Logf("make image image-test:\n%s", lastLines(string(out), 15))
	// The image's tags go; its layers stay cached for the next build.
	defer exec.Command(engine[0], append(engine[1:], "rmi", image+":v0.0.0-imagetest", image+":latest")...).Run()
	if err != nil {
		t.Fatalf("make image image-test: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "image-test: ok") {
		t.Fatalf("make image-test did not finish:\n%s", out)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
