package server

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/selector"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/igny8/aiconfig/internal/access"
	"github.com/igny8/aiconfig/internal/audit"
)

// callLogging logs one line per call when it finishes: method, code,
// duration, principal and request id. Health checks are not logged.
// Writes log at INFO; successful reads at DEBUG, so the hot path does not
// flood the log at the default level (AICONFIG_LOG_LEVEL=debug shows
// them); failures by their code (WARN for PERMISSION_DENIED, ERROR for
// INTERNAL, ...).
//
// go-grpc-middleware's logging interceptor builds its fields on every
// call even when the line is then dropped; on the read hot path that was
// the largest cost after gRPC itself (make bench, with a CPU profile). So
// reads use it only while DEBUG is enabled, and otherwise a small
// interceptor that logs failures alone, with the same fields.
type callLogging struct {
	log    *slog.Logger
	logger logging.Logger
	isRead func(method string) bool
}

func newCallLogging(log *slog.Logger, rules access.Rules) callLogging {
	return callLogging{
		log: log,
		logger: logging.LoggerFunc(func(ctx context.Context, lvl logging.Level, msg string, fields ...any) {
			log.Log(ctx, slog.Level(lvl), msg, fields...)
		}),
		isRead: func(method string) bool {
			r, ok := rules[method]
			return ok && !r.Write
		},
	}
}

// callFields adds the principal and request id, which inner layers record
// in the call's audit holder.
func callFields(ctx context.Context) logging.Fields {
	c := audit.From(ctx)
	f := logging.Fields{"request_id", c.RequestID}
	if c.Actor.Name != "" {
		f = append(f, "principal.name", c.Actor.Name, "principal.role", c.Actor.Role.String())
	}
	return f
}

func readLevels(code codes.Code) logging.Level {
	if code == codes.OK {
		return logging.LevelDebug
	}
	return logging.DefaultServerCodeToLevel(code)
}

// match selects calls: public ones never; reads or writes; for reads,
// whether DEBUG is on (full logging) or off (failures only).
func (l callLogging) match(reads, debug bool) selector.Matcher {
	return selector.MatchFunc(func(ctx context.Context, c interceptors.CallMeta) bool {
		if access.Public(c.FullMethod()) || l.isRead(c.FullMethod()) != reads {
			return false
		}
		return !reads || l.log.Enabled(ctx, slog.LevelDebug) == debug
	})
}

func (l callLogging) unary() []grpc.UnaryServerInterceptor {
	opts := []logging.Option{logging.WithLogOnEvents(logging.FinishCall), logging.WithFieldsFromContext(callFields)}
	return []grpc.UnaryServerInterceptor{
		selector.UnaryServerInterceptor(logging.UnaryServerInterceptor(l.logger, opts...), l.match(false, false)),
		selector.UnaryServerInterceptor(logging.UnaryServerInterceptor(l.logger, append(opts, logging.WithLevels(readLevels))...), l.match(true, true)),
		selector.UnaryServerInterceptor(l.readFailures(), l.match(true, false)),
	}
}

func (l callLogging) stream() []grpc.StreamServerInterceptor {
	opts := []logging.Option{logging.WithLogOnEvents(logging.FinishCall), logging.WithFieldsFromContext(callFields)}
	return []grpc.StreamServerInterceptor{
		selector.StreamServerInterceptor(logging.StreamServerInterceptor(l.logger, opts...), l.match(false, false)),
		selector.StreamServerInterceptor(logging.StreamServerInterceptor(l.logger, append(opts, logging.WithLevels(readLevels))...), l.match(true, true)),
		selector.StreamServerInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
			start := time.Now()
			err := handler(srv, ss)
			l.logFailure(ss.Context(), info.FullMethod, "server_stream", start, err)
			return err
		}, l.match(true, false)),
	}
}

// readFailures logs a read only when it fails.
func (l callLogging) readFailures() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		l.logFailure(ctx, info.FullMethod, "unary", start, err)
		return resp, err
	}
}

func (l callLogging) logFailure(ctx context.Context, method, kind string, start time.Time, err error) {
	if err == nil {
		return
	}
	code := status.Code(err)
	service, name, _ := strings.Cut(strings.TrimPrefix(method, "/"), "/")
	args := []any{"protocol", "grpc", "grpc.component", "server", "grpc.service", service, "grpc.method", name,
		"grpc.method_type", kind, "grpc.code", code.String(), "grpc.error", err.Error(),
		"grpc.time_ms", float64(time.Since(start).Microseconds()) / 1000}
	args = append(args, callFields(ctx)...)
	l.log.Log(ctx, slog.Level(logging.DefaultServerCodeToLevel(code)), "finished call", args...)
}
