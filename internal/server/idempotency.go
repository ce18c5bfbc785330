package server

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/access"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/store"
)

// Idempotent writes (SPEC 17). A write sent with the metadata
// idempotency-key (over HTTP, the Idempotency-Key header, which the
// transcoder passes on as that metadata) is answered once: the store
// records the key, the caller's token, the method, a hash of the request
// and the answer in the write's own transaction (store.Keyed), and a retry
// with the same key and request gets the recorded answer without writing.
//
// It is installed on the write methods only (those whose proto
// idempotency_level is not NO_SIDE_EFFECTS, as the access rules read it),
// innermost, by wrapping their handlers at registration: after the
// access check (it needs the caller's token) and the request check, and
// at no cost to a read, whose handler is left as it was.

// IdempotencyKeyHeader is the metadata that carries a write's key.
const IdempotencyKeyHeader = "idempotency-key"

// keyedRegistrar registers services with their write methods wrapped.
type keyedRegistrar struct {
	*grpc.Server
	store *store.Store
	rules access.Rules
}

func (r keyedRegistrar) RegisterService(desc *grpc.ServiceDesc, impl any) {
	d := *desc
	d.Methods = append([]grpc.MethodDesc(nil), desc.Methods...)
	for i, m := range d.Methods {
		full := "/" + d.ServiceName + "/" + m.MethodName
		if rule, ok := r.rules[full]; ok && rule.Write {
			d.Methods[i].Handler = r.keyed(full, m.Handler)
		}
	}
	r.Server.RegisterService(&d, impl)
}

// keyed wraps a write method's handler so that the innermost step of its
// interceptor chain is the idempotency check.
func (r keyedRegistrar) keyed(full string, h grpc.MethodHandler) grpc.MethodHandler {
	k := &keyedMethod{full: full, store: r.store, response: responseType(full)}
	return func(srv any, ctx context.Context, dec func(any) error, chain grpc.UnaryServerInterceptor) (any, error) {
		return h(srv, ctx, dec, func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			inner := func(ctx context.Context, req any) (any, error) { return k.call(ctx, req, handler) }
			if chain == nil {
				return inner(ctx, req)
			}
			return chain(ctx, req, info, inner)
		})
	}
}

// responseType finds a method's response message type in the registry.
func responseType(full string) protoreflect.MessageType {
	var out protoreflect.MessageType
	protoregistry.GlobalFiles.RangeFilesByPackage("aiconfig.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := 0; i < fd.Services().Len(); i++ {
			sd := fd.Services().Get(i)
			for j := 0; j < sd.Methods().Len(); j++ {
				md := sd.Methods().Get(j)
				if access.MethodName(md) == full {
					out, _ = protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
					return false
				}
			}
		}
		return true
	})
	if out == nil {
		panic("no response type for " + full) // a write method of another package: a programming error
	}
	return out
}

type keyedMethod struct {
	full     string
	store    *store.Store
	response protoreflect.MessageType
}

// idempotencyKey reads the call's key: "" when none was sent.
func idempotencyKey(ctx context.Context) (string, error) {
	v := metadata.ValueFromIncomingContext(ctx, IdempotencyKeyHeader)
	if len(v) == 0 {
		return "", nil
	}
	key := v[0]
	ok := len(v) == 1 && len(key) >= 1 && len(key) <= 128
	for i := 0; ok && i < len(key); i++ {
		ok = key[i] >= 0x20 && key[i] <= 0x7e
	}
	if !ok {
		// The value is not quoted: it could be anything the caller sent.
		return "", domain.InvalidField(IdempotencyKeyHeader,
			"must be one value of 1 to 128 printable ASCII characters (a fresh UUID per request is the usual choice)")
	}
	return key, nil
}

func (k *keyedMethod) call(ctx context.Context, req any, handler grpc.UnaryHandler) (any, error) {
	key, err := idempotencyKey(ctx)
	if err != nil || key == "" {
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
	msg, ok := req.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("request of %s is not a proto message", k.full)
	}
	p, _ := access.PrincipalFrom(ctx)
	enc, err := proto.MarshalOptions{Deterministic: true}.Marshal(msg)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(enc)
	kw := &store.Keyed{TokenID: p.TokenID, Key: key, Method: k.full, Hash: sum[:]}
	// Whatever ends the call (a panic the recovery interceptor outside
	// turns into INTERNAL included), a write still held is rolled back: it
	// holds the revision lock, which every other write waits for. After
	// Commit it is a no-op.
	defer kw.Rollback(ctx)
	// Most retries find their answer here, without touching the write lock.
	rec, err := k.store.LookupKey(ctx, kw.TokenID, kw.Key)
	if err != nil {
		return nil, err
	}
	if rec != nil {
		return k.replay(kw, rec)
	}
	resp, err := handler(store.WithKey(ctx, kw), req)
	if err != nil {
		kw.Rollback(ctx)
		if errors.As(err, &rec) {
			return k.replay(kw, rec)
		}
		return nil, err
	}
	kept, err := keptAnswer(resp)
	if err != nil {
		kw.Rollback(ctx)
		return nil, err
	}
	if err := k.store.Commit(ctx, kw, kept); err != nil {
		if errors.As(err, &rec) {
			return k.replay(kw, rec)
		}
		return nil, err
	}
	return resp, nil
}

// keptAnswer is the answer as recorded: its encoding, but a token's secret
// (shown once, and stored nowhere else but as a hash) is not kept.
func keptAnswer(resp any) ([]byte, error) {
	m, ok := resp.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("answer %T is not a proto message", resp)
	}
	if t, ok := m.(*pb.CreateTokenResponse); ok && t.GetSecret() != "" {
		m = &pb.CreateTokenResponse{Token: t.GetToken()}
	}
	return proto.Marshal(m)
}

// replay answers a retry from what its key recorded.
func (k *keyedMethod) replay(kw *store.Keyed, rec *store.Recorded) (any, error) {
	if !rec.Same(kw) {
		return nil, &domain.Error{Code: domain.CodeFailedPrecondition, Reason: domain.ReasonIdempotencyKeyReused,
			Message: fmt.Sprintf("this idempotency key was already used by this token for a different request (to %s); "+
				"send a fresh key with each new request, and reuse one only to retry the same request", rec.Method),
			Metadata: map[string]string{"method": rec.Method}}
	}
	m := k.response.New().Interface()
	if err := proto.Unmarshal(rec.Answer, m); err != nil {
		return nil, err
	}
	if t, ok := m.(*pb.CreateTokenResponse); ok {
		id := t.GetToken().GetId()
		return nil, &domain.Error{Code: domain.CodeFailedPrecondition, Reason: domain.ReasonSecretShownOnce,
			Message: fmt.Sprintf("the first call with this idempotency key created token %q, but its secret is shown only once "+
				"and its answer was lost: revoke that token and create another", id),
			Metadata: map[string]string{"token_id": id}}
	}
	return m, nil
}
