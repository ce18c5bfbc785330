// Command aiconfig-bench measures the hot path against the gRPC floor and
// a bare gRPC server: it starts real aiconfigd processes on a fresh
// database with realistic data, drives them with concurrent gRPC clients,
// and prints one table. Run it with `make bench`; it only talks to
// 127.0.0.1.
//
// The files: main.go runs the phases in order; seed.go creates and fills
// the database; servers.go starts and watches the server processes;
// reference.go is the bare reference server and the warm-up that captures
// its answers; load.go drives load and times writes; clients.go measures
// the Go and Python clients; report.go prints the table and writes it as
// JSON.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/access"
	"github.com/igny8/aiconfig/internal/devdb"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/secret"
	"github.com/igny8/aiconfig/internal/store"
)

var (
	serverBinary     = flag.String("binary", "bin/aiconfigd", "the aiconfigd binary to run")
	serverURL        = flag.String("server-url", os.Getenv("AICONFIG_BENCH_SERVER_URL"), "PostgreSQL admin URL (database postgres); from scripts/pg.sh")
	accounts         = flag.Int("accounts", 10000, "accounts to create")
	customFraction   = flag.Float64("custom-fraction", 0, "fraction of accounts with an OpenAI override and a customized prompt, rounded to 1/n (e.g. 0.3333 for a third at a million accounts); 0: a third below 100,000 accounts, a tenth from 100,000")
	duration         = flag.Duration("duration", 3*time.Second, "load time per measurement")
	rounds           = flag.Int("rounds", 5, "rounds of the floor, reference and cached measurements, interleaved; the table shows medians")
	concurrency      = flag.Int("concurrency", 32, "concurrent callers")
	conns            = flag.Int("conns", 4, "client connections (callers share them)")
	serverCPUs       = flag.String("server-cpus", "", "pin the servers to these CPUs (taskset -c list)")
	warm             = flag.Bool("warm", true, "warm replica A before measuring (the reference sample's and the customized accounts' answers, and every account unless A already holds them), capturing the reference server's answers; false: no reference, and the cached runs include first reads")
	refAccounts      = flag.Int("reference-accounts", 100000, "capture the answers of the first N accounts for the reference server, whose load draws from those (aiconfigd's draws from all accounts)")
	python           = flag.String("python", "/usr/bin/python3", "the Python with grpcio for the Python client's row; \"\": skip it")
	warmConcurrency  = flag.Int("warm-concurrency", 64, "concurrent callers while warming")
	referencePerCall = flag.Bool("reference-per-call", true, "also measure a reference server with grpc-go's default options (a goroutine per call) beside the fair one (aiconfigd's server options, its stream workers included), as a row of its own")
	writes           = flag.Int("writes", 200, "writes for the cross-replica visibility measurement")
	writers          = flag.Int("writers", 8, "concurrent writers for the write-throughput measurement")
	cacheMaxBytes    = flag.Int64("server-cache-max-bytes", 0, "AICONFIG_CACHE_MAX_BYTES for the aiconfigd servers; 0: aiconfigd's default, sized from the memory they may use (half of GOMEMLIMIT, see -server-memlimit, else of 90% of their cgroup's limit, else 512 MiB)")
	memLimit         = flag.String("server-memlimit", "", "GOMEMLIMIT for the aiconfigd servers, e.g. 900MiB: the Go runtime collects garbage more often to stay under it (default: none, so a heap may grow to twice what it holds)")
	importAccounts   = flag.Int("import", 0, "instead of the load: measure aiconfigd import-django on a generated Django dump of N accounts (a tenth with an override, a tenth with a customized prompt): accounts/s and the import's peak RSS")
	jsonFile         = flag.String("json", "", "also write the table to this file as a JSON list of rows")
	profile          = flag.String("cpuprofile", "", "in the last round, write replica A's CPU profile of the cached GetModelConfig run to this file (the floor's to FILE.floor, GetEffectivePrompt's to FILE.prompt, the cache-off server's to FILE.off) and the load driver's to the same names + .driver")
	memProfile       = flag.Bool("memprofile", false, "with -cpuprofile: also write the allocations of the same runs to FILE.allocs, FILE.floor.allocs, FILE.prompt.allocs, and replica A's heap in use once warmed to FILE.heap")
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == referenceFlag {
		if err := serveReference(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "aiconfig-bench reference server:", err)
			os.Exit(1)
		}
		return
	}
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "aiconfig-bench:", err)
		os.Exit(1)
	}
}

// The calls the load makes, as the rows of the table name them.
const (
	floorName        = "grpc.health.v1.Health/Check (floor)"
	refModelName     = "reference GetModelConfig"
	refPromptName    = "reference GetEffectivePrompt"
	refPerCallName   = "reference GetModelConfig, goroutine per call"
	modelCachedName  = "GetModelConfig cached"
	promptCachedName = "GetEffectivePrompt cached"
	modelOffName     = "GetModelConfig cache-off"
)

//nolint:gocognit // the bench's flag handling and step sequence, read top to bottom once; splitting it would scatter the flags from their use
func run() error {
	if *serverURL == "" {
		return errors.New("set -server-url or AICONFIG_BENCH_SERVER_URL (make bench does)")
	}
	began := time.Now()
	ctx := context.Background()
	dbName := fmt.Sprintf("aiconfig_bench_%d", os.Getpid())
	dbURL, cleanup, err := devdb.Create(ctx, *serverURL, dbName)
	if err != nil {
		return err
	}
	defer cleanup()

	key := secret.NewKey()
	if err := store.MigrateUp(dbURL, nil); err != nil {
		return err
	}
	if *importAccounts > 0 {
		return benchImport(ctx, dbURL, *importAccounts)
	}
	fmt.Printf("seeding %d accounts, every %d with an override and a custom prompt… ", *accounts, customEvery())
	t0 := time.Now()
	if err := seed(ctx, dbURL); err != nil {
		return err
	}
	fmt.Printf("%s\n", time.Since(t0).Round(100*time.Millisecond))
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

	admin := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+adminSecret)
	worker := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+serviceSecret)
	// B sets the platform's API keys before A starts, so that no change
	// notification reaches A while it warms (it would re-encode the answers
	// it has, though to the same messages). B need not preload accounts:
	// the visibility and staleness measurements read two through it.
	b, err := startServer(dbURL, key, "on", false)
	if err != nil {
		return err
	}
	defer b.stop()
	if _, err := pb.NewConfigServiceClient(b.conns[0]).UpdateGlobalSettings(admin, &pb.UpdateGlobalSettingsRequest{Settings: &pb.GlobalSettings{
		Openai: &pb.IntegrationDefaults{ApiKey: "sk-bench-openai-000000000000"}, Dalle: &pb.IntegrationDefaults{ApiKey: "sk-bench-dalle-0000000000000"}}}); err != nil {
		return err
	}
	a, err := startServer(dbURL, key, "on", true)
	if err != nil {
		return err
	}
	defer a.stop()
	off, err := startServer(dbURL, key, "off", false)
	if err != nil {
		return err
	}
	defer off.stop()
	rssIdle := a.rssMB()
	heldIdle, _ := a.metric("aiconfig_cache_accounts") // accounts preloaded at start, if any
	if heldIdle < float64(*accounts) {
		budget, _ := a.metric("aiconfig_cache_bytes")
		fmt.Printf("replica A preloaded %.0f of %d accounts: its cache budget (-server-cache-max-bytes, else aiconfigd's default) filled at %.0f MB; the others load on use, each evicting another\n",
			heldIdle, *accounts, budget/1e6)
	}

	functions := []string{"auto_cluster", "generate_ideas", "generate_content", "generate_image_prompts", "generate_images"}
	promptTypes := []string{"clustering"} // the prompt types the load asks for
	// Callers know their account ids: build them before the clock starts.
	ids := make([]string, *accounts)
	for i := range ids {
		ids[i] = fmt.Sprintf("acct-%d", i+1)
	}

	rep := &report{accounts: *accounts, rssIdle: rssIdle, heldIdle: int(heldIdle), startupA: a.startup}
	refIDs := ids[:min(max(*refAccounts, 1), len(ids))]
	var ref, refPerCall *server
	if *warm {
		// A may already hold every account (a preload at start): then only
		// what it keeps per account, the customized accounts' answers,
		// needs asking for, beside the reference's sample.
		touchAll := int(heldIdle) < len(ids)
		fmt.Printf("warming replica A (it holds %.0f of %d accounts): every function and prompt type of the first %d accounts (the reference's sample) and of the customized ones",
			heldIdle, len(ids), len(refIDs))
		if touchAll {
			fmt.Print(", one call for each other account")
		}
		fmt.Printf("; %d callers…\n", *warmConcurrency)
		// The warm-up is not measured: A may use every CPU meanwhile.
		t0, cpu0, self0 := time.Now(), a.cpu(), selfCPU()
		var ans *answers
		if err := a.unpinned(func() (err error) {
			if ans, rep.warmCalls, err = warmAndCapture(worker, a, ids, functions, promptTypes, len(refIDs), touchAll); err != nil {
				return err
			}
			// A full collection now, of a heap that grew all along,
			// rather than in the first run.
			return a.collectGarbage()
		}); err != nil {
			return err
		}
		rep.warmTime = time.Since(t0)
		rep.warmServerCPU, rep.warmDriverCPU = a.cpu()-cpu0, selfCPU()-self0
		rep.rssWarm, rep.heapWarm = a.rssMB(), a.heapMB()
		if *memProfile && *profile != "" {
			if err := fetchProfile(a, "heap", *profile+".heap"); err != nil {
				return err
			}
		}
		fmt.Printf("warmed in %s (%d calls, %.0f calls/s); %d distinct answers; starting the reference servers\n",
			rep.warmTime.Round(100*time.Millisecond), rep.warmCalls, float64(rep.warmCalls)/rep.warmTime.Seconds(), len(ans.values))
		if ref, refPerCall, err = startReferences(ans); err != nil {
			return err
		}
		defer ref.stop()
		if refPerCall != nil {
			defer refPerCall.stop()
		}
		rep.refAccounts = len(refIDs)
		checked := min(500, len(refIDs))
		reordered, err := checkReference(worker, a, ref, ans, checked)
		if err != nil {
			return err
		}
		if refPerCall != nil {
			if _, err := checkReference(worker, a, refPerCall, ans, checked); err != nil {
				return err
			}
		}
		if reordered > 0 {
			fmt.Printf("checked %d accounts' answers: %d of replica A's are now encoded with map entries in another order than captured (the same messages)\n", checked, reordered)
		}
	} else {
		fmt.Println("not warming (-warm=false): no reference server, and the first cached runs include first reads")
	}

	health := func(ctx context.Context, conn *grpc.ClientConn, _ *rand.Rand) error {
		_, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		return err
	}
	// The calls of uniformly random accounts of ids.
	modelConfigOf := func(ids []string) call {
		return func(ctx context.Context, conn *grpc.ClientConn, r *rand.Rand) error {
			_, err := pb.NewConfigServiceClient(conn).GetModelConfig(ctx, &pb.GetModelConfigRequest{
				AccountId: ids[r.IntN(len(ids))], Function: functions[r.IntN(len(functions))]})
			return err
		}
	}
	promptOf := func(ids []string) call {
		return func(ctx context.Context, conn *grpc.ClientConn, r *rand.Rand) error {
			_, err := pb.NewPromptServiceClient(conn).GetEffectivePrompt(ctx, &pb.GetEffectivePromptRequest{
				AccountId: ids[r.IntN(len(ids))], PromptType: promptTypes[r.IntN(len(promptTypes))]})
			return err
		}
	}
	modelConfig, prompt := modelConfigOf(ids), promptOf(ids)
	type phase struct {
		name    string
		s       *server
		c       call
		ref     string // the row its × reference compares with
		profile string // the -cpuprofile file's suffix; "-": none
	}
	// A round: the floor, the reference, then aiconfigd's hot path.
	round := []phase{{floorName, a, health, refModelName, ".floor"}}
	if ref != nil {
		// The reference holds the sample's answers only: its load draws
		// from those accounts.
		round = append(round, phase{refModelName, ref, modelConfigOf(refIDs), refModelName, "-"}, phase{refPromptName, ref, promptOf(refIDs), refPromptName, "-"})
		if refPerCall != nil {
			// Compared with the fair reference: what a goroutine per
			// call gains or costs a bare server.
			round = append(round, phase{refPerCallName, refPerCall, modelConfigOf(refIDs), refModelName, "-"})
		}
	}
	round = append(round, phase{modelCachedName, a, modelConfig, refModelName, ""}, phase{promptCachedName, a, prompt, refPromptName, ".prompt"})
	// Cache-off is compared with pgbench sending the same statements
	// (without pgbench: with the reference server, as the floor is).
	offRef := refModelName
	pgbench := findPgbench()
	if pgbench != "" {
		offRef = pgbenchName
		round = append(round, phase{name: pgbenchName, ref: pgbenchName, profile: "-"})
	} else {
		fmt.Println("no pgbench of PostgreSQL 14 or later found: cache-off is compared with the reference server only")
	}
	round = append(round, phase{modelOffName, off, modelConfig, offRef, ".off"})
	script := pgbenchScript(serviceSecret, len(ids))
	measure := func(p phase, profileFile string) error {
		fmt.Printf("measuring %s…\n", p.name)
		var res result
		var err error
		if p.name == pgbenchName {
			res, err = runPgbench(pgbench, dbURL, script)
		} else {
			res, err = measureOnce(worker, p.s, p.c, profileFile)
		}
		if err != nil {
			return err
		}
		rep.add(p.name, p.ref, res)
		return nil
	}
	for r := range *rounds {
		for _, p := range round {
			file := ""
			if *profile != "" && r == *rounds-1 && p.profile != "-" {
				file = *profile + p.profile
			}
			if err := measure(p, file); err != nil {
				return err
			}
		}
	}
	// A last floor, reference and pgbench close the last round: every run
	// then has them measured just before its round and just after.
	for _, p := range round {
		if p.name != p.ref && p.name != floorName {
			continue // not a base of comparison
		}
		if err := measure(p, ""); err != nil {
			return err
		}
	}
	if rep.visibility, err = visibility(admin, a, b); err != nil {
		return err
	}
	rep.rssA, rep.heapA = a.rssMB(), a.heapMB()
	if rep.writes, err = writeLoad(admin, a, ids); err != nil {
		return err
	}
	if rep.clients, err = measureClients(a, b, ids, functions, serviceSecret, adminSecret); err != nil {
		return err
	}
	rep.print(os.Stdout)
	if *jsonFile != "" {
		if err := rep.writeJSON(*jsonFile); err != nil {
			return err
		}
	}
	fmt.Printf("\nbench took %s\n", time.Since(began).Round(time.Second))
	return nil
}
