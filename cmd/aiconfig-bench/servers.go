package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/igny8/aiconfig/internal/devdb"
)

// server is a server process the bench started, aiconfigd or the
// reference server, and the load driver's connections to it.
type server struct {
	cmd         *exec.Cmd
	addr        string
	metricsAddr string // aiconfigd's metrics and pprof; "" for the reference server
	conns       []*grpc.ClientConn
	exited      chan struct{} // closed when the process has exited, exitErr its status
	exitErr     error
	startup     time.Duration // from its start until it served reads (a preload included)
}

// startServer starts aiconfigd with the cache on or off, preloading every
// account at start or not (a server that preloads only when asked ignores
// the setting), and returns once it serves reads. Replicas that cache
// are allowed to hold every account.
func startServer(dbURL, key, cacheMode string, preload bool) (*server, error) {
	addr, err := devdb.FreeAddr()
	if err != nil {
		return nil, err
	}
	maddr, err := devdb.FreeAddr()
	if err != nil {
		return nil, err
	}
	args := []string{*serverBinary, "serve", "--listen", addr, "--cache", cacheMode, "--metrics-listen", maddr, "--pprof", "--drain-delay", "0s", "--http-listen", "",
		// The load comes from one address and one token, far past the flood limits.
		"--rate-writes", "1000000", "--rate-unauthenticated", "1000000"}
	if cacheMode == "off" {
		args = append(args, "--db-max-conns", strconv.Itoa(pgbenchConns)) // as many as pgbench's clients
	}
	if *cacheMaxBytes > 0 {
		args = append(args, "--cache-max-bytes", strconv.FormatInt(*cacheMaxBytes, 10))
	} // else aiconfigd's default: sized from the memory it may use (GOMEMLIMIT, cgroup)
	env := []string{"AICONFIG_DATABASE_URL=" + dbURL, "AICONFIG_SECRET_KEY=" + key, "AICONFIG_LOG_LEVEL=warn",
		"AICONFIG_CACHE_PRELOAD=" + strconv.FormatBool(preload)}
	if *memLimit != "" {
		env = append(env, "GOMEMLIMIT="+*memLimit)
	}
	return startProcess(args, env, addr, maddr, func(conn *grpc.ClientConn) error {
		// Reads are NOT_SERVING while the replica warms up (preloads).
		resp, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
		if err == nil && resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			err = fmt.Errorf("reads are %s", resp.GetStatus())
		}
		return err
	})
}

// startTimeout bounds a server's start: preloading a million accounts
// takes a while on a small machine.
const startTimeout = 10 * time.Minute

// startProcess runs args (pinned to -server-cpus) with env added, connects
// -conns clients to addr and waits until ready succeeds on one.
func startProcess(args, env []string, addr, metricsAddr string, ready func(*grpc.ClientConn) error) (*server, error) {
	prog := filepath.Base(args[0])
	if *serverCPUs != "" {
		args = append([]string{"taskset", "-c", *serverCPUs}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, addr: addr, metricsAddr: metricsAddr, exited: make(chan struct{})}
	go func() { s.exitErr = cmd.Wait(); close(s.exited) }()
	for range *conns {
		c, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			s.stop()
			return nil, err
		}
		s.conns = append(s.conns, c)
	}
	start, told := time.Now(), false
	for {
		err := ready(s.conns[0])
		if err == nil {
			s.startup = time.Since(began)
			return s, nil
		}
		if !told && time.Since(start) > 5*time.Second {
			fmt.Printf("waiting for %s on %s to serve (%v)…\n", prog, addr, err)
			told = true
		}
		select {
		case <-s.exited:
			s.stop()
			return nil, fmt.Errorf("%s on %s exited while starting (%v): %v", prog, addr, s.exitErr, err)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Since(start) > startTimeout {
			s.stop()
			return nil, fmt.Errorf("%s on %s did not start within %s: %v", prog, addr, startTimeout, err)
		}
	}
}

func (s *server) stop() {
	for _, c := range s.conns {
		c.Close()
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	<-s.exited
}

// cpu is the server process's user+system CPU time so far.
func (s *server) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name: state is field 3; utime 14, stime 15.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	if len(f) < 13 {
		return 0
	}
	var ut, st int64
	if _, err := fmt.Sscan(f[11], &ut); err != nil {
		return 0
	}
	if _, err := fmt.Sscan(f[12], &st); err != nil {
		return 0
	}
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// selfCPU is this process's user+system CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rssMB is the server process's resident memory in MB (0 if unknown).
func (s *server) rssMB() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kb float64
			if _, err := fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), " kB"), &kb); err != nil {
				return 0
			}
			return kb / 1024
		}
	}
	return 0
}

// heapMB is an aiconfigd server's Go heap in use, in MB, from its metrics
// (0 if unknown).
func (s *server) heapMB() float64 {
	v, _ := s.metric("go_memstats_heap_inuse_bytes")
	return v / (1 << 20)
}

// collectGarbage makes an aiconfigd server (started with --pprof) run a
// full garbage collection: its heap profile does one first.
func (s *server) collectGarbage() error {
	resp, err := http.Get("http://" + s.metricsAddr + "/debug/pprof/heap?gc=1")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// metric reads one unlabelled metric from an aiconfigd server's /metrics.
func (s *server) metric(name string) (float64, bool) {
	if s.metricsAddr == "" {
		return 0, false
	}
	resp, err := http.Get("http://" + s.metricsAddr + "/metrics")
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			return f, err == nil
		}
	}
	return 0, false
}

// unpinned runs f with s allowed on every online CPU, then pins s back on
// -server-cpus and waits until its Go runtime has gone back to the
// GOMAXPROCS it had (Go follows a process's CPU affinity within a second
// or so), so that what follows measures s as it was. Without -server-cpus
// it just runs f.
func (s *server) unpinned(f func() error) error {
	if *serverCPUs == "" {
		return f()
	}
	online, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		return f()
	}
	procs, ok := s.metric("go_sched_gomaxprocs_threads")
	if err := s.setCPUs(strings.TrimSpace(string(online))); err != nil {
		return err
	}
	ferr := f()
	if err := s.setCPUs(*serverCPUs); err != nil {
		return errors.Join(ferr, err)
	}
	for deadline := time.Now().Add(10 * time.Second); ok && time.Now().Before(deadline); {
		// A call wakes the runtime's monitor, which then notices.
		_, _ = healthpb.NewHealthClient(s.conns[0]).Check(context.Background(), &healthpb.HealthCheckRequest{})
		if v, _ := s.metric("go_sched_gomaxprocs_threads"); v == procs {
			return ferr
		}
		time.Sleep(100 * time.Millisecond)
	}
	if ok {
		return errors.Join(ferr, fmt.Errorf("GOMAXPROCS of the server on %s did not go back to %.0f after pinning", s.addr, procs))
	}
	return ferr
}

// setCPUs moves every thread of s to the CPUs in list (taskset -c syntax).
func (s *server) setCPUs(list string) error {
	out, err := exec.Command("taskset", "-a", "-p", "-c", list, strconv.Itoa(s.cmd.Process.Pid)).CombinedOutput()
	if err != nil {
		return fmt.Errorf("taskset -a -p -c %s: %v: %s", list, err, out)
	}
	return nil
}
