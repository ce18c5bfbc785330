package client

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	_ "github.com/igny8/aiconfig/gen/aiconfig/v1" // registers the services' descriptors
)

// IdempotencyKeyHeader is the metadata a write's idempotency key travels
// in (SPEC 17). The client sets a fresh one on every write it sends,
// unless the caller's outgoing metadata already has one, and keeps it
// across that write's retries: the server answers a retry of a write that
// committed with the first answer, and writes nothing again.
const IdempotencyKeyHeader = "idempotency-key"

// writeMethods are the aiconfig methods with side effects: those whose
// proto idempotency_level is not NO_SIDE_EFFECTS (as the server's access
// rules read them).
var writeMethods = sync.OnceValue(func() map[string]bool {
	out := map[string]bool{}
	protoregistry.GlobalFiles.RangeFilesByPackage("aiconfig.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := 0; i < fd.Services().Len(); i++ {
			sd := fd.Services().Get(i)
			for j := 0; j < sd.Methods().Len(); j++ {
				md := sd.Methods().Get(j)
				opts, _ := md.Options().(*descriptorpb.MethodOptions)
				if !md.IsStreamingClient() && !md.IsStreamingServer() &&
					opts.GetIdempotencyLevel() != descriptorpb.MethodOptions_NO_SIDE_EFFECTS {
					out["/"+string(sd.FullName())+"/"+string(md.Name())] = true
				}
			}
		}
		return true
	})
	return out
})

// newIdempotencyKey is 128 random bits.
func newIdempotencyKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// unary is the client's interceptor on every call of its connection
// (its own and those of stubs on Conn). A read passes straight through. A
// write gets an idempotency key and is retried, with that key, when the
// server could not be reached (UNAVAILABLE, as invoke retries reads),
// within the call's deadline (the client's WithTimeout when it has none).
// A TLS handshake that met a plaintext server is a configuration error,
// not an outage: it is answered as ErrServerPlaintext and not retried.
func (c *Client) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if !writeMethods()[method] {
		return c.plain(invoker(ctx, method, req, reply, cc, opts...))
	}
	if md, _ := metadata.FromOutgoingContext(ctx); len(md.Get(IdempotencyKeyHeader)) == 0 {
		ctx = metadata.AppendToOutgoingContext(ctx, IdempotencyKeyHeader, newIdempotencyKey())
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.opts.timeout)
		defer cancel()
	}
	return retryUnavailable(ctx, maxAttempts, func(ctx context.Context) error {
		return c.plain(invoker(ctx, method, req, reply, cc, opts...))
	})
}

// ErrServerPlaintext is the answer of every call while the server answers
// this client's TLS handshake in plaintext: a configuration error, which
// retrying cannot mend (so it is FAILED_PRECONDITION, not UNAVAILABLE).
var ErrServerPlaintext = &Error{Code: codes.FailedPrecondition,
	Message: "the server speaks plaintext, but this client uses TLS (the default): connect with client.WithInsecure() " +
		"(development, e.g. `make run`, or a sidecar on loopback), or serve TLS (AICONFIG_TLS_CERT, AICONFIG_TLS_KEY)"}

// plain turns an UNAVAILABLE caused by a TLS client meeting a plaintext
// server into ErrServerPlaintext.
func (c *Client) plain(err error) error {
	if err != nil && c.tlsPlaintext.Load() && status.Code(err) == codes.Unavailable {
		return ErrServerPlaintext
	}
	return err
}

// tlsProbe is TLS credentials that notice a plaintext server: its first
// bytes are no TLS record (an HTTP/2 SETTINGS frame, for a gRPC server).
type tlsProbe struct {
	credentials.TransportCredentials
	plaintext *atomic.Bool
}

func (p tlsProbe) ClientHandshake(ctx context.Context, authority string, raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn, info, err := p.TransportCredentials.ClientHandshake(ctx, authority, raw)
	var rh tls.RecordHeaderError
	switch {
	case errors.As(err, &rh):
		p.plaintext.Store(true)
		return nil, nil, fmt.Errorf("%s: %w", ErrServerPlaintext.Message, err)
	case err == nil:
		p.plaintext.Store(false)
	}
	return conn, info, err
}

func (p tlsProbe) Clone() credentials.TransportCredentials {
	return tlsProbe{TransportCredentials: p.TransportCredentials.Clone(), plaintext: p.plaintext}
}
