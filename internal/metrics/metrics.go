// Package metrics exposes Prometheus metrics: gRPC server metrics with
// handling-time histograms (calls.go), the database pool, the cache and
// its invalidation lag, and build info.
package metrics

import (
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/igny8/aiconfig/internal/buildinfo"
	"github.com/igny8/aiconfig/internal/cache"
	"github.com/igny8/aiconfig/internal/store"
)

// Metrics is the registry and the instruments the server feeds.
type Metrics struct {
	Registry *prometheus.Registry
	Calls    *Calls
	lag      prometheus.Histogram
}

// New registers every metric; f may be nil.
func New(st *store.Store, c *cache.Cache, f *store.Follower) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		Calls:    newCalls(),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "aiconfig_cache_invalidation_lag_seconds",
			Help:    "Time from a write's commit to this replica applying it from the change feed.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5},
		}),
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), m.lag)
	reg.MustRegister(m.Calls.collectors()...)

	version := buildinfo.Get().Version // what `aiconfigd version` prints
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "aiconfig_build_info", Help: "Build information; always 1."}, []string{"version", "schema_version"})
	build.WithLabelValues(version, strconv.FormatUint(uint64(store.ExpectedVersion()), 10)).Set(1)
	reg.MustRegister(build)

	pool := func(name, help string, f func(s poolStat) float64) {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "aiconfig_db_pool_" + name, Help: help},
			func() float64 { return f(st.PoolStat()) }))
	}
	pool("total_conns", "Connections in the pool.", func(s poolStat) float64 { return float64(s.TotalConns()) })
	pool("acquired_conns", "Connections in use.", func(s poolStat) float64 { return float64(s.AcquiredConns()) })
	pool("idle_conns", "Idle connections.", func(s poolStat) float64 { return float64(s.IdleConns()) })
	pool("max_conns", "Pool size limit.", func(s poolStat) float64 { return float64(s.MaxConns()) })
	poolCounter := func(name, help string, f func(s poolStat) float64) {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "aiconfig_db_pool_" + name, Help: help},
			func() float64 { return f(st.PoolStat()) }))
	}
	poolCounter("acquire_wait_seconds_total", "Time spent waiting for a connection.", func(s poolStat) float64 { return s.AcquireDuration().Seconds() })
	poolCounter("empty_acquire_total", "Acquires that had to wait for a connection.", func(s poolStat) float64 { return float64(s.EmptyAcquireCount()) })

	if c != nil {
		counter := func(name, help string, f func() uint64) {
			reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "aiconfig_cache_" + name, Help: help},
				func() float64 { return float64(f()) }))
		}
		counter("hits_total", "Reads answered from memory.", c.Stats.Hits.Load)
		counter("misses_total", "Reads that loaded from the database.", c.Stats.Misses.Load)
		counter("stale_served_total", "Stale entries served because the database was unreachable.", c.Stats.StaleServed.Load)
		counter("invalidations_total", "Changes applied to the cache.", c.Stats.Invalidations.Load)
		counter("listener_resets_total", "Times the cache revalidated everything (changes it had not applied were compacted away).", c.Stats.ListenerResets.Load)
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "aiconfig_cache_accounts", Help: "Accounts held in memory."},
			func() float64 { return float64(c.Len()) }))
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "aiconfig_cache_bytes",
			Help: "Memory the cached accounts take, estimated (bounded by AICONFIG_CACHE_MAX_BYTES)."},
			func() float64 { return float64(c.Bytes()) }))
	}
	if f != nil {
		f.Lag = func(d time.Duration) { m.lag.Observe(d.Seconds()) }
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "aiconfig_cache_listener_connected",
			Help: "1 while the change feed is followed up to date."},
			func() float64 {
				if f.Connected.Load() {
					return 1
				}
				return 0
			}))
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "aiconfig_changes_applied_revision",
			Help: "The newest revision of the change feed this replica has applied."},
			func() float64 { return float64(f.Position()) }))
	}
	return m
}

type poolStat interface {
	TotalConns() int32
	AcquiredConns() int32
	IdleConns() int32
	MaxConns() int32
	AcquireDuration() time.Duration
	EmptyAcquireCount() int64
}

// Handler serves /metrics, and /debug/pprof/ when withPprof is set.
func (m *Metrics) Handler(withPprof bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry}))
	if withPprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}
