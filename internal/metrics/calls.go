package metrics

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
)

// Calls are the gRPC server metrics, with go-grpc-middleware's names and
// labels (dashboards keep working), resolved once per method instead of
// hashing label values on every call. A method's series exist from the
// start for started calls and OK answers (so rates start at zero); error
// codes and the duration histogram appear when first seen, which keeps the
// series at start to a few per method.
type Calls struct {
	started  *prometheus.CounterVec
	handled  *prometheus.CounterVec
	duration *prometheus.HistogramVec

	mu      sync.Mutex
	methods map[string]*Method
}

func newCalls() *Calls {
	labels := []string{"grpc_type", "grpc_service", "grpc_method"}
	return &Calls{
		started: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "grpc_server_started_total",
			Help: "RPCs started on the server."}, labels),
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "grpc_server_handled_total",
			Help: "RPCs completed on the server, by code."}, append(labels, "grpc_code")),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "grpc_server_handling_seconds",
			Help:    "Time to answer an RPC.",
			Buckets: []float64{.00025, .0005, .001, .0025, .005, .01, .05, .25, 1}}, labels),
		methods: map[string]*Method{},
	}
}

func (c *Calls) collectors() []prometheus.Collector {
	return []prometheus.Collector{c.started, c.handled, c.duration}
}

// Method is one method's instruments.
type Method struct {
	labels   []string
	started  prometheus.Counter
	duration prometheus.Observer
	handled  [17]atomic.Pointer[counter] // by code, made on first use
	mu       sync.Mutex
	vec      *prometheus.CounterVec
	once     sync.Once
	dvec     *prometheus.HistogramVec
}

// Method returns the instruments of a method (typ "unary" or
// "server_stream"), creating its series on first use.
func (c *Calls) Method(typ, service, name string) *Method {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := typ + "/" + service + "/" + name
	if m, ok := c.methods[key]; ok {
		return m
	}
	labels := []string{typ, service, name}
	m := &Method{labels: labels, started: c.started.WithLabelValues(labels...), vec: c.handled, dvec: c.duration}
	m.handled[codes.OK].Store(&counter{c.handled.WithLabelValues(append(labels, codes.OK.String())...)})
	c.methods[key] = m
	return m
}

// Start counts a call started.
func (m *Method) Start() { m.started.Inc() }

// Done counts a call answered with code after d.
func (m *Method) Done(code codes.Code, d time.Duration) {
	m.once.Do(func() { m.duration = m.dvec.WithLabelValues(m.labels...) })
	m.duration.Observe(d.Seconds())
	if int(code) >= len(m.handled) {
		code = codes.Unknown
	}
	h := m.handled[code].Load()
	if h == nil {
		m.mu.Lock()
		if h = m.handled[code].Load(); h == nil {
			h = &counter{m.vec.WithLabelValues(append(m.labels, code.String())...)}
			m.handled[code].Store(h)
		}
		m.mu.Unlock()
	}
	h.Inc()
}

type counter struct{ prometheus.Counter }
