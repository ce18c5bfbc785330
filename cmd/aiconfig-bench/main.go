// Command aiconfig-bench measures the hot path against the gRPC floor:
// it starts real aiconfigd processes on a fresh database with realistic
// data, drives them with concurrent gRPC clients, and prints one table.
// Run it with `make bench`; it only talks to 127.0.0.1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/access"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/secret"
	"github.com/igny8/aiconfig/internal/store"
)

var (
	binary      = flag.String("binary", "bin/aiconfigd", "the aiconfigd binary to run")
	serverURL   = flag.String("server-url", os.Getenv("AICONFIG_BENCH_SERVER_URL"), "PostgreSQL admin URL (database postgres); from scripts/pg.sh")
	accounts    = flag.Int("accounts", 10000, "accounts to create (a third with overrides and customized prompts)")
	duration    = flag.Duration("duration", 3*time.Second, "load time per measurement")
	rounds      = flag.Int("rounds", 5, "rounds of the floor and cached measurements, interleaved; the table shows medians")
	concurrency = flag.Int("concurrency", 32, "concurrent callers")
	conns       = flag.Int("conns", 4, "client connections (callers share them)")
	serverCPUs  = flag.String("server-cpus", "", "pin the servers to these CPUs (taskset -c list)")
	writes      = flag.Int("writes", 200, "writes for the cross-replica visibility measurement")
	writers     = flag.Int("writers", 8, "concurrent writers for the write-throughput measurement")
	profile     = flag.String("cpuprofile", "", "in the last round, write replica A's CPU profile of the cached GetModelConfig run to this file (the floor's to FILE.floor, GetEffectivePrompt's to FILE.prompt) and the load driver's to the same names + .driver")
	memProfile  = flag.Bool("memprofile", false, "with -cpuprofile: also write the allocations of the same runs to FILE.allocs, FILE.floor.allocs, FILE.prompt.allocs")
)

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "aiconfig-bench:", err)
		os.Exit(1)
	}
}

func run() error {
	if *serverURL == "" {
		return errors.New("set -server-url or AICONFIG_BENCH_SERVER_URL (make bench does)")
	}
	ctx := context.Background()
	dbName := fmt.Sprintf("aiconfig_bench_%d", os.Getpid())
	dbURL, cleanup, err := createDatabase(ctx, dbName)
	if err != nil {
		return err
	}
	defer cleanup()

	key := secret.NewKey()
	if err := store.MigrateUp(dbURL, nil); err != nil {
		return err
	}
	fmt.Printf("seeding %d accounts… ", *accounts)
	if err := seed(ctx, dbURL); err != nil {
		return err
	}
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	_, adminSecret, err := access.IssueToken(ctx, st, "bench-admin", domain.RoleAdmin, "")
	if err != nil {
		return err
	}
	_, serviceSecret, err := access.IssueToken(ctx, st, "bench-worker", domain.RoleService, "")
	st.Close()
	if err != nil {
		return err
	}
	fmt.Println("done")

	a, err := startServer(dbURL, key, "on")
	if err != nil {
		return err
	}
	defer a.stop()
	b, err := startServer(dbURL, key, "on")
	if err != nil {
		return err
	}
	defer b.stop()
	off, err := startServer(dbURL, key, "off")
	if err != nil {
		return err
	}
	defer off.stop()

	admin := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+adminSecret)
	worker := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+serviceSecret)
	ca := pb.NewConfigServiceClient(a.conns[0])
	if _, err := ca.UpdateGlobalSettings(admin, &pb.UpdateGlobalSettingsRequest{Settings: &pb.GlobalSettings{
		Openai: &pb.IntegrationDefaults{ApiKey: "sk-bench-openai-000000000000"}, Dalle: &pb.IntegrationDefaults{ApiKey: "sk-bench-dalle-0000000000000"}}}); err != nil {
		return err
	}
	functions := []string{"auto_cluster", "generate_ideas", "generate_content", "generate_image_prompts", "generate_images"}
	// Callers know their account ids: build them before the clock starts.
	ids := make([]string, *accounts)
	for i := range ids {
		ids[i] = fmt.Sprintf("acct-%d", i+1)
	}
	modelConfig := func(ctx context.Context, conn *grpc.ClientConn, r *rand.Rand) error {
		_, err := pb.NewConfigServiceClient(conn).GetModelConfig(ctx, &pb.GetModelConfigRequest{
			AccountId: ids[r.IntN(len(ids))], Function: functions[r.IntN(len(functions))]})
		return err
	}
	// Warm A's cache with every account and function, as a long-running
	// replica's would be, so that no round pays for first reads.
	fmt.Println("warming the cache…")
	warm := pb.NewConfigServiceClient(a.conns[0])
	var warming errgroup.Group
	warming.SetLimit(*concurrency)
	for i := range ids {
		for _, f := range functions {
			warming.Go(func() error {
				_, err := warm.GetModelConfig(worker, &pb.GetModelConfigRequest{AccountId: ids[i], Function: f})
				return err
			})
		}
	}
	if err := warming.Wait(); err != nil {
		return err
	}

	type row struct {
		name string
		runs []result
	}
	var rows []*row
	byName := map[string]*row{}
	// measure runs one load; with -cpuprofile, the phases that name a
	// profile file also write replica A's and the load driver's profiles.
	measure := func(name string, s *server, ctx context.Context, c call, profileFile string) error {
		fmt.Printf("measuring %s…\n", name)
		done := make(chan error, 1)
		if profileFile != "" {
			if err := startDriverProfile(profileFile + ".driver"); err != nil {
				return err
			}
			defer pprof.StopCPUProfile()
			go func() {
				var errs [2]error
				var wg sync.WaitGroup
				wg.Go(func() { errs[0] = fetchProfile(s, "profile", profileFile) })
				if *memProfile {
					wg.Go(func() { errs[1] = fetchProfile(s, "allocs", profileFile+".allocs") })
				}
				wg.Wait()
				done <- errors.Join(errs[:]...)
			}()
		} else {
			done <- nil
		}
		res, err := load(ctx, s, c)
		if perr := <-done; perr != nil {
			return perr
		}
		r, ok := byName[name]
		if !ok {
			r = &row{name: name}
			byName[name] = r
			rows = append(rows, r)
		}
		r.runs = append(r.runs, res)
		return err
	}
	health := func(ctx context.Context, conn *grpc.ClientConn, _ *rand.Rand) error {
		_, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		return err
	}
	prompt := func(ctx context.Context, conn *grpc.ClientConn, r *rand.Rand) error {
		_, err := pb.NewPromptServiceClient(conn).GetEffectivePrompt(ctx, &pb.GetEffectivePromptRequest{
			AccountId: ids[r.IntN(len(ids))], PromptType: "clustering"})
		return err
	}
	type phase struct {
		name    string
		c       call
		profile string // the -cpuprofile file's suffix
	}
	cached := []phase{
		{"grpc.health.v1.Health/Check (floor)", health, ".floor"},
		{"GetModelConfig, cached", modelConfig, ""},
		{"GetEffectivePrompt, cached", prompt, ".prompt"},
	}
	for r := range *rounds {
		for _, m := range cached {
			file := ""
			if *profile != "" && r == *rounds-1 {
				file = *profile + m.profile
			}
			if err := measure(m.name, a, worker, m.c, file); err != nil {
				return err
			}
		}
		if r == 0 {
			if err := measure("GetModelConfig, --cache=off", off, worker, modelConfig, ""); err != nil {
				return err
			}
		}
	}
	// A last floor closes the last round: every run then has a floor
	// measured just before its round and one just after.
	if err := measure(cached[0].name, a, worker, cached[0].c, ""); err != nil {
		return err
	}
	vis, err := visibility(admin, a, b)
	if err != nil {
		return err
	}
	rss := a.rss()
	wres, err := writeLoad(admin, a, ids)
	if err != nil {
		return err
	}

	med := func(r *row) result { // the run with the median throughput
		runs := slices.Clone(r.runs)
		slices.SortFunc(runs, func(x, y result) int { return int(x.rps - y.rps) })
		return runs[len(runs)/2]
	}
	// Each run is compared with the mean of the floors measured just before
	// and just after its round: slow drifts of a shared machine cancel out,
	// and no call gains from its place in the round.
	floors := rows[0].runs
	ratios := func(r *row) []float64 {
		if r == rows[0] {
			return []float64{1}
		}
		out := make([]float64, len(r.runs))
		for i, run := range r.runs {
			out[i] = run.rps / ((floors[i].rps + floors[i+1].rps) / 2)
		}
		slices.Sort(out)
		return out
	}
	placement := fmt.Sprintf("load driver and servers share %d CPUs", runtime.NumCPU())
	if *serverCPUs != "" {
		placement = fmt.Sprintf("servers on CPU %s, load driver on %d other CPU(s)", *serverCPUs, runtime.NumCPU())
	}
	fmt.Printf("\n%d accounts, %d callers over %d connections, %s per run, median of %d interleaved runs (cache-off: 1);\n%s\n\n",
		*accounts, *concurrency, *conns, *duration, *rounds, placement)
	fmt.Printf("| %-38s | %10s | %9s | %9s | %15s | %15s | %7s | %-11s |\n", "call", "req/s", "p50", "p99", "server CPU/call", "driver CPU/call", "× floor", "runs")
	fmt.Printf("|%s|%s|%s|%s|%s|%s|%s|%s|\n", strings.Repeat("-", 40), strings.Repeat("-", 12), strings.Repeat("-", 11), strings.Repeat("-", 11), strings.Repeat("-", 17), strings.Repeat("-", 17), strings.Repeat("-", 9), strings.Repeat("-", 13))
	for _, r := range rows {
		m, q := med(r), ratios(r)
		fmt.Printf("| %-38s | %10.0f | %9s | %9s | %15s | %15s | %7.2f | %-11s |\n", r.name, m.rps, m.p50.Round(time.Microsecond), m.p99.Round(time.Microsecond),
			m.serverCPU.Round(100*time.Nanosecond), m.driverCPU.Round(100*time.Nanosecond), q[len(q)/2], fmt.Sprintf("%.2f–%.2f", q[0], q[len(q)-1]))
	}
	fmt.Println("(× floor: median over the rounds of each run's throughput ÷ the mean of the floors just before and after its round; runs: lowest–highest)")
	fmt.Printf("\ncached ÷ cache-off GetModelConfig throughput: %.1f×\n", med(byName["GetModelConfig, cached"]).rps/med(byName["GetModelConfig, --cache=off"]).rps)
	fmt.Printf("write on replica A visible to a watch on replica B, %d writes: p50 %s, p99 %s, max %s\n",
		len(vis), pct(vis, 50).Round(time.Microsecond), pct(vis, 99).Round(time.Microsecond), pct(vis, 100).Round(time.Microsecond))
	fmt.Printf("replica A resident memory with %d accounts cached: %s\n", *accounts, rss)
	fmt.Printf("writes/s with %d concurrent writers (UpsertIntegrationOverride, random Starter+ accounts, replica A): %.0f, p50 %s, p99 %s\n",
		*writers, wres.rps, wres.p50.Round(time.Microsecond), wres.p99.Round(time.Microsecond))
	return nil
}

// writeLoad measures write throughput: -writers callers upsert overrides
// of random Starter-or-above accounts through A for -duration.
func writeLoad(admin context.Context, a *server, ids []string) (result, error) {
	fmt.Printf("measuring write throughput with %d writers…\n", *writers)
	var paid []string // acct-i with i % 4 != 0: Starter or above (see seed)
	for i, id := range ids {
		if (i+1)%4 != 0 {
			paid = append(paid, id)
		}
	}
	w := *a
	w.conns = a.conns[:1]
	saved := *concurrency
	*concurrency = *writers
	defer func() { *concurrency = saved }()
	return load(admin, &w, func(ctx context.Context, conn *grpc.ClientConn, r *rand.Rand) error {
		id := paid[r.IntN(len(paid))]
		_, err := pb.NewConfigServiceClient(conn).UpsertIntegrationOverride(ctx, &pb.UpsertIntegrationOverrideRequest{Override: &pb.IntegrationOverride{
			AccountId: id, Integration: pb.Integration_INTEGRATION_OPENAI, MaxTokens: proto.Int32(int32(1000 + r.IntN(3000)))}})
		return err
	})
}

type call func(ctx context.Context, conn *grpc.ClientConn, r *rand.Rand) error

type result struct {
	rps       float64
	p50, p99  time.Duration
	errors    int
	serverCPU time.Duration // server process CPU per call
	driverCPU time.Duration // this process's CPU per call
}

func load(ctx context.Context, s *server, c call) (result, error) {
	var mu sync.Mutex
	var all []time.Duration
	errs := 0
	var firstErr error
	deadline := time.Now().Add(*duration)
	var wg sync.WaitGroup
	start := time.Now()
	cpu0, self0 := s.cpu(), selfCPU()
	for i := range *concurrency {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(i), 42))
			conn := s.conns[i%len(s.conns)]
			lat := make([]time.Duration, 0, 1<<16)
			nerr := 0
			var e error
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if err := c(ctx, conn, r); err != nil {
					nerr++
					e = err
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			all = append(all, lat...)
			errs += nerr
			if firstErr == nil {
				firstErr = e
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if errs > 0 {
		return result{errors: errs}, fmt.Errorf("%d calls failed, e.g. %v", errs, firstErr)
	}
	res := result{rps: float64(len(all)) / elapsed.Seconds(), p50: pct(all, 50), p99: pct(all, 99)}
	if len(all) > 0 {
		res.serverCPU = (s.cpu() - cpu0) / time.Duration(len(all))
		res.driverCPU = (selfCPU() - self0) / time.Duration(len(all))
	}
	return res, nil
}

// startDriverProfile profiles this process (the load driver) into file
// until pprof.StopCPUProfile.
func startDriverProfile(file string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return err
	}
	return nil
}

// fetchProfile writes a pprof profile (kind "profile" or "allocs") taken
// over the measurement to file.
func fetchProfile(s *server, kind, file string) error {
	secs := int(duration.Seconds()) - 1
	resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/%s?seconds=%d", s.metricsAddr, kind, max(secs, 1)))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := len(s) * p / 100
	if i >= len(s) {
		i = len(s) - 1
	}
	return s[i]
}

// visibility writes through A and times each change's arrival on a watch
// held open on B.
func visibility(admin context.Context, a, b *server) ([]time.Duration, error) {
	fmt.Printf("measuring cross-replica visibility over %d writes…\n", *writes)
	ctx, cancel := context.WithCancel(admin)
	defer cancel()
	const account = "acct-3" // Starter or above: overrides apply
	watch, err := pb.NewConfigServiceClient(b.conns[0]).WatchModelConfig(ctx, &pb.WatchModelConfigRequest{AccountId: account, Function: "generate_content"})
	if err != nil {
		return nil, err
	}
	if _, err := watch.Recv(); err != nil {
		return nil, err
	}
	ca := pb.NewConfigServiceClient(a.conns[0])
	var out []time.Duration
	for i := range *writes {
		want := int32(1000 + i)
		t0 := time.Now()
		if _, err := ca.UpsertIntegrationOverride(admin, &pb.UpsertIntegrationOverrideRequest{Override: &pb.IntegrationOverride{
			AccountId: account, Integration: pb.Integration_INTEGRATION_OPENAI, MaxTokens: proto.Int32(want)}}); err != nil {
			return nil, err
		}
		committed := time.Since(t0)
		for {
			m, err := watch.Recv()
			if err != nil {
				return nil, err
			}
			if m.GetMaxTokens() == want {
				// Time from the write's commit (bounded by its reply) to B.
				out = append(out, max(time.Since(t0)-committed, 0))
				break
			}
		}
	}
	return out, nil
}

type server struct {
	cmd         *exec.Cmd
	addr        string
	metricsAddr string
	conns       []*grpc.ClientConn
}

func freeAddr() (string, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer lis.Close()
	return lis.Addr().String(), nil
}

func startServer(dbURL, key, cacheMode string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	maddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args := []string{*binary, "serve", "--listen", addr, "--cache", cacheMode, "--metrics-listen", maddr, "--pprof"}
	if *serverCPUs != "" {
		args = append([]string{"taskset", "-c", *serverCPUs}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "AICONFIG_DATABASE_URL="+dbURL, "AICONFIG_SECRET_KEY="+key, "AICONFIG_LOG_LEVEL=warn")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, addr: addr, metricsAddr: maddr}
	for range *conns {
		c, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			s.stop()
			return nil, err
		}
		s.conns = append(s.conns, c)
	}
	for i := 0; ; i++ {
		_, err := healthpb.NewHealthClient(s.conns[0]).Check(context.Background(), &healthpb.HealthCheckRequest{})
		if err == nil {
			return s, nil
		}
		if i > 100 {
			s.stop()
			return nil, fmt.Errorf("server on %s did not start: %v", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *server) stop() {
	for _, c := range s.conns {
		c.Close()
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	_ = s.cmd.Wait()
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
	fmt.Sscan(f[11], &ut)
	fmt.Sscan(f[12], &st)
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

func (s *server) rss() string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func createDatabase(ctx context.Context, name string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, *serverURL)
	if err != nil {
		return "", nil, err
	}
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+name); err != nil {
		conn.Close(ctx)
		return "", nil, err
	}
	cfg := conn.Config()
	url := fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, name)
	return url, func() {
		_, _ = conn.Exec(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
		conn.Close(context.Background())
	}, nil
}

// seed writes the fixture straight into the tables (no audit rows): plans
// spread evenly, every third account with an OpenAI override and a
// customized clustering prompt.
func seed(ctx context.Context, dbURL string) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, q := range []string{`
		INSERT INTO accounts (id, name, plan, revision, config_revision)
		SELECT 'acct-' || i, 'Account ' || i, (ARRAY['free','starter','growth','scale'])[1 + i % 4], 1, 1
		FROM generate_series(1, $1::int) i`, `
		INSERT INTO integration_overrides (account_id, integration, model, temperature, max_tokens, revision)
		SELECT 'acct-' || i, 'openai', 'gpt-4.1', 0.3, 8000, 1 FROM generate_series(3, $1::int, 3) i`, `
		INSERT INTO account_items (account_id, kind, id, content, default_content, is_customized, revision)
		SELECT 'acct-' || i, 'prompt', 'clustering', to_jsonb('Cluster for account ' || i || ' by intent: {{keywords}}'), g.content, true, 1
		FROM generate_series(3, $1::int, 3) i, global_items g WHERE g.kind = 'prompt' AND g.id = 'clustering'`} {
		if _, err := conn.Exec(ctx, q, *accounts); err != nil {
			return err
		}
	}
	return nil
}
