package server

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/igny8/aiconfig/internal/access"
	"github.com/igny8/aiconfig/internal/audit"
	"github.com/igny8/aiconfig/internal/metrics"
)

// calls is the outer layer of every call, in one interceptor, because each
// layer of the chain is paid on every call of the hot path: the call's
// record (audit.Call: RPC, caller, request id — the one value it adds to
// the context), a panic's recovery, the mapping of its error to a status,
// its metrics (instruments resolved once per method) and its log line.
//
// One line per call when it finishes: writes at INFO, failures by their
// code, successful reads at DEBUG (so the hot path does not flood the log),
// health and reflection never. A request id is made only when something
// needs one (an audit row, a log line, a failure); it is taken from the
// caller's x-request-id when sane, and sent back in the answer's header
// whenever the call has one.
type calls struct {
	log     *slog.Logger
	metrics *metrics.Calls // nil: no metrics
	rules   access.Rules
	methods map[string]*callMethod // filled by describe before serving; read-only after
}

type callMethod struct {
	full, service, name, kind string // full: /service/name; kind: unary or server_stream
	public, read              bool
	m                         *metrics.Method // nil without metrics
}

// RequestIDHeader carries a call's id in and out.
const RequestIDHeader = "x-request-id"

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// describe resolves every method the server serves, once.
func (c *calls) describe(s *grpc.Server) {
	c.methods = map[string]*callMethod{}
	for svc, info := range s.GetServiceInfo() {
		for _, mi := range info.Methods {
			c.methods["/"+svc+"/"+mi.Name] = c.newMethod(svc, mi.Name, mi.IsServerStream)
		}
	}
}

func (c *calls) newMethod(service, name string, stream bool) *callMethod {
	full := "/" + service + "/" + name
	m := &callMethod{full: full, service: service, name: name, kind: "unary", public: access.Public(full)}
	if stream {
		m.kind = "server_stream"
	}
	if r, ok := c.rules[full]; ok {
		m.read = !r.Write
	}
	if c.metrics != nil {
		m.m = c.metrics.Method(m.kind, service, name)
	}
	return m
}

func (c *calls) method(full string, stream bool) *callMethod {
	if m, ok := c.methods[full]; ok {
		return m
	}
	service, name, _ := strings.Cut(strings.TrimPrefix(full, "/"), "/")
	return c.newMethod(service, name, stream) // not registered: gRPC answers it
}

// begin starts a call's record.
func (c *calls) begin(ctx context.Context, full string, m *callMethod) context.Context {
	if m.m != nil {
		m.m.Start()
	}
	id := ""
	if v := metadata.ValueFromIncomingContext(ctx, RequestIDHeader); len(v) > 0 && requestIDPattern.MatchString(v[0]) {
		id = v[0]
	}
	return audit.WithCall(ctx, audit.Call{RPC: full, RequestID: id})
}

var errPanicked = status.Error(codes.Internal, "internal error; the server log has the details")

// end maps the call's error, counts it, and logs it.
func (c *calls) end(ctx context.Context, m *callMethod, start time.Time, err error, panicked any) error {
	if panicked != nil {
		c.log.ErrorContext(ctx, "panic in handler", "grpc.method", m.name, "request_id", audit.From(ctx).RequestID, "panic", panicked)
		err = errPanicked
	}
	err = toStatus(ctx, c.log, m.full, err)
	code := status.Code(err)
	elapsed := time.Since(start)
	if m.m != nil {
		m.m.Done(code, elapsed)
	}
	level := slog.Level(logging.DefaultServerCodeToLevel(code))
	switch {
	case code == codes.OK && m.read:
		level = slog.LevelDebug
	case code == codes.OK:
		level = slog.LevelInfo
	}
	// A call that failed, wrote, or is logged has an id, and says it.
	if m.public || (code == codes.OK && m.read && !c.log.Enabled(ctx, level)) {
		return err
	}
	call := audit.From(ctx)
	_ = grpc.SetHeader(ctx, metadata.Pairs(RequestIDHeader, call.RequestID))
	if !c.log.Enabled(ctx, level) {
		return err
	}
	args := []any{"protocol", "grpc", "grpc.component", "server", "grpc.service", m.service, "grpc.method", m.name,
		"grpc.method_type", m.kind, "grpc.start_time", start.UTC().Format(time.RFC3339), "grpc.code", code.String(),
		"grpc.time_ms", float64(elapsed.Microseconds()) / 1000, "request_id", call.RequestID}
	if err != nil {
		args = append(args, "grpc.error", err.Error())
	}
	if call.Actor.Name != "" {
		args = append(args, "principal.name", call.Actor.Name, "principal.role", call.Actor.Role.String())
	}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		args = append(args, "peer.address", p.Addr.String())
	}
	c.log.Log(ctx, level, "finished call", args...)
	return err
}

func (c *calls) unary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		m := c.method(info.FullMethod, false)
		start := time.Now()
		ctx = c.begin(ctx, info.FullMethod, m)
		defer func() { err = c.end(ctx, m, start, err, recover()) }()
		return handler(ctx, req)
	}
}

func (c *calls) stream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		m := c.method(info.FullMethod, true)
		start := time.Now()
		ctx := c.begin(ss.Context(), info.FullMethod, m)
		defer func() { err = c.end(ctx, m, start, err, recover()) }()
		return handler(srv, ctxStream{ss, ctx})
	}
}

type ctxStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s ctxStream) Context() context.Context { return s.ctx }
