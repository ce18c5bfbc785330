package server

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
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

// kind sorts a call: not logged (public), a write, a read logged in full
// (DEBUG on) or a read logged only on failure.
type callKind int

const (
	unlogged callKind = iota
	write
	readFull
	readFailure
)

func (l callLogging) kind(ctx context.Context, method string) callKind {
	switch {
	case access.Public(method):
		return unlogged
	case !l.isRead(method):
		return write
	case l.log.Enabled(ctx, slog.LevelDebug):
		return readFull
	}
	return readFailure
}

func (l callLogging) unary() grpc.UnaryServerInterceptor {
	opts := []logging.Option{logging.WithLogOnEvents(logging.FinishCall), logging.WithFieldsFromContext(callFields)}
	writes := logging.UnaryServerInterceptor(l.logger, opts...)
	reads := logging.UnaryServerInterceptor(l.logger, append(opts, logging.WithLevels(readLevels))...)
	failures := l.readFailures()
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		switch l.kind(ctx, info.FullMethod) {
		case write:
			return writes(ctx, req, info, handler)
		case readFull:
			return reads(ctx, req, info, handler)
		case readFailure:
			return failures(ctx, req, info, handler)
		}
		return handler(ctx, req)
	}
}

func (l callLogging) stream() grpc.StreamServerInterceptor {
	opts := []logging.Option{logging.WithLogOnEvents(logging.FinishCall), logging.WithFieldsFromContext(callFields)}
	writes := logging.StreamServerInterceptor(l.logger, opts...)
	reads := logging.StreamServerInterceptor(l.logger, append(opts, logging.WithLevels(readLevels))...)
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		switch l.kind(ss.Context(), info.FullMethod) {
		case write:
			return writes(srv, ss, info, handler)
		case readFull:
			return reads(srv, ss, info, handler)
		case readFailure:
			start := time.Now()
			err := handler(srv, ss)
			l.logFailure(ss.Context(), info.FullMethod, "server_stream", start, err)
			return err
		}
		return handler(srv, ss)
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
