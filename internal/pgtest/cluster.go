package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/igny8/aiconfig/internal/store"
)

// Cluster is a private PostgreSQL cluster a fault test may stop and start
// at will (never the shared server the other tests use), from the
// installed server binaries, as the postgres user when run as root
// (initdb refuses root).
type Cluster struct {
	t      testing.TB
	bindir string
	dir    string
	port   int
	// URL is the migrated database "aiconfig" on the cluster.
	URL string
}

// NewCluster initializes, starts and migrates a private cluster, removed
// when the test ends.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	c := &Cluster{t: t, bindir: serverBinaries(t)}
	base, err := os.MkdirTemp("", "aiconfig-cluster-")
	if err != nil {
		t.Fatal(err)
	}
	c.dir = filepath.Join(base, "data")
	t.Cleanup(func() {
		_, _ = c.run("pg_ctl", "-D", c.dir, "-m", "immediate", "-w", "stop") // best effort: the directory goes next
		_ = os.RemoveAll(base)
	})
	if os.Geteuid() == 0 {
		pg, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, a private cluster needs the postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		if err := os.Chown(base, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := c.run("initdb", "-D", c.dir, "-U", "postgres", "--auth=trust", "-E", "UTF8"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	c.port = freePort(t)
	c.Start()
	admin := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
	conn, err := pgx.Connect(context.Background(), admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `CREATE DATABASE aiconfig`); err != nil {
		t.Fatal(err)
	}
	c.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/aiconfig?sslmode=disable", c.port)
	if err := store.MigrateUp(c.URL, nil); err != nil {
		t.Fatal(err)
	}
	return c
}

// Start starts the cluster and waits until it accepts connections.
func (c *Cluster) Start() {
	c.t.Helper()
	out, err := c.run("pg_ctl", "-D", c.dir, "-l", filepath.Join(filepath.Dir(c.dir), "server.log"), "-w", "-t", "60",
		"-o", fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k /tmp -c fsync=off -c max_connections=100", c.port), "start")
	if err != nil {
		c.t.Fatalf("pg_ctl start: %v\n%s", err, out)
	}
}

// Stop stops the cluster: mode "fast" (sessions are told, then closed) or
// "immediate" (a crash: no goodbye, recovery at the next start).
func (c *Cluster) Stop(mode string) {
	c.t.Helper()
	if out, err := c.run("pg_ctl", "-D", c.dir, "-m", mode, "-w", "stop"); err != nil {
		c.t.Fatalf("pg_ctl stop -m %s: %v\n%s", mode, err, out)
	}
}

func (c *Cluster) run(tool string, args ...string) ([]byte, error) {
	name, argv := filepath.Join(c.bindir, tool), args
	if os.Geteuid() == 0 {
		name, argv = "runuser", append([]string{"-u", "postgres", "--", name}, args...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, name, argv...).CombinedOutput()
}

// serverBinaries finds the newest installed PostgreSQL bin directory.
func serverBinaries(t testing.TB) string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		a, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		b, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return a > b
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d
		}
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p)
	}
	t.Fatal("no PostgreSQL server binaries (pg_ctl, initdb): install postgresql")
	return ""
}

func freePort(t testing.TB) int {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	return lis.Addr().(*net.TCPAddr).Port //nolint:forcetypeassert // a tcp listener's address is a *net.TCPAddr
}
