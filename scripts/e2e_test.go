package scripts

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestE2EFailsFastWithTheServerLog: when serve cannot start, e2e.sh says
// so at once, rather than polling an address nothing listens on, prints
// the server's log (which says why), and drops its database.
func TestE2EFailsFastWithTheServerLog(t *testing.T) {
	bin := t.TempDir() + "/aiconfigd"
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/aiconfigd").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command("bash", "e2e.sh")
	// A setting serve refuses: it exits at once, saying why on stderr.
	cmd.Env = append(os.Environ(), "AICONFIG_BIN="+bin, "AICONFIG_LOG_LEVEL=loud")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	took := time.Since(start)
	if err == nil {
		t.Fatalf("e2e.sh passed with a server that cannot start:\n%s", out.String())
	}
	if took > 30*time.Second {
		t.Errorf("e2e.sh took %v to notice the server had exited", took)
	}
	for _, want := range []string{
		"e2e: aiconfigd serve exited before serving",
		"e2e: failed; the server's log:",
		`--log-level must be one of "debug","info","warn","error" but got "loud"`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("e2e.sh's output lacks %q:\n%s", want, out.String())
		}
	}
	url, err := exec.Command("bash", "pg.sh").Output()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(context.Background(), strings.TrimSpace(string(url)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	db := fmt.Sprintf("aiconfig_e2e_%d", cmd.Process.Pid)
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_database WHERE datname = $1", db).Scan(&n); err != nil || n != 0 {
		t.Errorf("e2e.sh left its database %s (%d, %v)", db, n, err)
	}
}
