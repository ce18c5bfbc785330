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
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/access"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/secret"
	"github.com/igny8/aiconfig/internal/store"
)

var (
	binary         = flag.String("binary", "bin/aiconfigd", "the aiconfigd binary to run")
	serverURL      = flag.String("server-url", os.Getenv("AICONFIG_BENCH_SERVER_URL"), "PostgreSQL admin URL (database postgres); from scripts/pg.sh")
	accounts       = flag.Int("accounts", 10000, "accounts to create")
	customFraction = flag.Float64("custom-fraction", 0, "fraction of accounts with an OpenAI override and a customized prompt, rounded to 1/n; 0: a third below 100,000 accounts, a tenth from 100,000")
	duration       = flag.Duration("duration", 3*time.Second, "load time per measurement")
	rounds         = flag.Int("rounds", 5, "rounds of the floor and cached measurements, interleaved; the table shows medians")
	concurrency    = flag.Int("concurrency", 32, "concurrent callers")
	conns          = flag.Int("conns", 4, "client connections (callers share them)")
	serverCPUs     = flag.String("server-cpus", "", "pin the servers to these CPUs (taskset -c list)")
	writes         = flag.Int("writes", 200, "writes for the cross-replica visibility measurement")
	writers        = flag.Int("writers", 8, "concurrent writers for the write-throughput measurement")
	profile        = flag.String("cpuprofile", "", "in the last round, write replica A's CPU profile of the cached GetModelConfig run to this file (the floor's to FILE.floor, GetEffectivePrompt's to FILE.prompt) and the load driver's to the same names + .driver")
	memProfile     = flag.Bool("memprofile", false, "with -cpuprofile: also write the allocations of the same runs to FILE.allocs, FILE.floor.allocs, FILE.prompt.allocs")
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
	fmt.Printf("seeding %d accounts, every %d with an override and a custom prompt… ", *accounts, customEvery())
	t0 := time.Now()
	if err := seed(ctx, dbURL); err != nil {
		return err
	}
	fmt.Printf("%s; ", time.Since(t0).Round(100*time.Millisecond))
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
