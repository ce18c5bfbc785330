package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"strconv"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/igny8/aiconfig/internal/audit"
)

// RequestIDHeader carries a call's id in and out.
const RequestIDHeader = "x-request-id"

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// Generated ids are a random per-process prefix and a counter: unique
// across replicas and restarts in practice, and free on the hot path.
var (
	idPrefix  = newIDPrefix()
	idCounter atomic.Uint64
)

func newIDPrefix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b) + "-"
}

// requestID takes the caller's x-request-id when it is sane, else makes
// one; echoes it in the response header, the log line and the audit call.
func requestID(ctx context.Context, method string) context.Context {
	id := ""
	if v := metadata.ValueFromIncomingContext(ctx, RequestIDHeader); len(v) > 0 && requestIDPattern.MatchString(v[0]) {
		id = v[0]
	} else {
		id = idPrefix + strconv.FormatUint(idCounter.Add(1), 36)
	}
	_ = grpc.SetHeader(ctx, metadata.Pairs(RequestIDHeader, id))
	return audit.WithCall(ctx, audit.Call{RPC: method, RequestID: id})
}

func unaryRequestID() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		return handler(requestID(ctx, info.FullMethod), req)
	}
}

type ctxStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s ctxStream) Context() context.Context { return s.ctx }

func streamRequestID() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return handler(srv, ctxStream{ss, requestID(ss.Context(), info.FullMethod)})
	}
}
