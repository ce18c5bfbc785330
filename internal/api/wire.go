package api

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // registers the default codec
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/cache"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/secret"
	"github.com/igny8/aiconfig/internal/store"
)

// The hot path's one door. GetModelConfig, GetEffectivePrompt,
// GetAuthorProfile, GetContentStrategy and GetGenerationContext (made of
// the other four's bytes) answer with bytes encoded ahead of time
// (memoized per account or shared per plan). Over gRPC those bytes travel
// as an answer, which only Codec knows and sends as it is — no sizing,
// allocation or copy per call. Register routes these methods to the
// functions that return bytes; every other caller of the handlers
// (in-process Go code, tests) gets ordinary, decoded messages from them.

// answer is an encoded message of a method's response type.
type answer []byte

// Codec is gRPC's proto codec, except that it sends an answer's bytes as
// they are.
func Codec() encoding.CodecV2 { return codec{encoding.GetCodecV2("proto")} }

type codec struct{ encoding.CodecV2 }

func (c codec) Marshal(v any) (mem.BufferSlice, error) {
	if a, ok := v.(answer); ok {
		return mem.BufferSlice{mem.SliceBuffer(a)}, nil
	}
	return c.CodecV2.Marshal(v)
}

// Unmarshal decodes a request. gRPC answers a decoding failure at once as
// INTERNAL, naming nothing; but a request that cannot be decoded is the
// caller's mistake. So a string field holding invalid UTF-8 becomes NUL,
// which validate.Text (run on every request) refuses naming the field; and
// bytes that are no message of the type leave it empty but marked (see
// MalformedRequest), for the request check (server/text.go) to refuse as
// INVALID_ARGUMENT after the call is authenticated.
func (c codec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.CodecV2.Unmarshal(data, v)
	m, ok := v.(proto.Message)
	if err == nil || !ok {
		return err
	}
	var utf8Err interface{ InvalidUTF8() bool }
	if errors.As(err, &utf8Err) {
		if clean, ok := withoutBadUTF8(data.Materialize(), m.ProtoReflect().Descriptor()); ok {
			proto.Reset(m)
			if proto.Unmarshal(clean, m) == nil {
				return nil
			}
		}
	}
	proto.Reset(m)
	mark := protowire.AppendTag(nil, malformedField, protowire.BytesType)
	m.ProtoReflect().SetUnknown(protowire.AppendString(mark, err.Error()))
	return nil
}

// malformedField numbers the mark of an undecodable request: the largest
// field number, which no message of this API uses.
const malformedField = protowire.MaxValidNumber

// MalformedRequest is the INVALID_ARGUMENT for a request the codec could
// not decode, or nil.
func MalformedRequest(method string, req any) error {
	m, ok := req.(proto.Message)
	if !ok {
		return nil
	}
	u := m.ProtoReflect().GetUnknown()
	if len(u) == 0 {
		return nil
	}
	if num, typ, n := protowire.ConsumeTag(u); num != malformedField || typ != protowire.BytesType || n < 0 {
		return nil
	} else if why, m := protowire.ConsumeString(u[n:]); m >= 0 {
		_, name, _ := strings.Cut(strings.TrimPrefix(method, "/"), "/")
		return &domain.Error{Code: domain.CodeInvalid, Reason: domain.ReasonValidationFailed,
			Message: fmt.Sprintf("the request is not a valid %s request message (%s)", name, why)}
	}
	return nil
}

// withoutBadUTF8 re-encodes a message with each invalid UTF-8 byte of its
// string fields (at any depth) replaced by NUL; ok is false if the bytes
// are not a well-formed message.
func withoutBadUTF8(b []byte, md protoreflect.MessageDescriptor) (out []byte, ok bool) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, false
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return nil, false
		}
		field, value := b[:n+m], b[n:n+m]
		b = b[n+m:]
		fd := md.Fields().ByNumber(num)
		if fd == nil || typ != protowire.BytesType || (fd.Kind() != protoreflect.StringKind && fd.Kind() != protoreflect.MessageKind) {
			out = append(out, field...)
			continue
		}
		inner, _ := protowire.ConsumeBytes(value)
		if fd.Kind() == protoreflect.MessageKind {
			if inner, ok = withoutBadUTF8(inner, fd.Message()); !ok {
				return nil, false
			}
		} else if !utf8.Valid(inner) {
			inner = []byte(strings.ToValidUTF8(string(inner), "\x00"))
		}
		out = protowire.AppendBytes(protowire.AppendTag(out, num, typ), inner)
	}
	return out, true
}

// Deps are what the services are built from.
type Deps struct {
	Store   *store.Store
	Cache   *cache.Cache    // hot-path reads
	Secrets *secret.Keys    // nil: no secret key configured
	Feed    *store.Follower // the change feed, for WatchChanges
	// FeedProgress: how often an idle WatchChanges stream gets a progress event.
	FeedProgress time.Duration
	// Draining closes when the server starts a graceful stop: streams end.
	Draining <-chan struct{}
}

// Register registers every aiconfig.v1 service on s, the hot-path methods
// answering through Codec (the server must use it:
// grpc.ForceServerCodecV2(Codec())).
func Register(s grpc.ServiceRegistrar, d Deps) {
	config := &ConfigServer{Store: d.Store, Cache: d.Cache, Secrets: d.Secrets, Draining: d.Draining}
	prompts := &PromptServer{Store: d.Store, Cache: d.Cache, Draining: d.Draining}
	profiles := &AuthorProfileServer{items: &itemService[*pb.AuthorProfile]{codec: authorProfiles, store: d.Store, cache: d.Cache}}
	strategies := &ContentStrategyServer{items: &itemService[*pb.ContentStrategy]{codec: contentStrategies, store: d.Store, cache: d.Cache}}
	for desc, impl := range map[*grpc.ServiceDesc]any{
		fast(pb.ConfigService_ServiceDesc, map[string]grpc.MethodHandler{
			"GetModelConfig":       byteHandler(pb.ConfigService_GetModelConfig_FullMethodName, config.modelConfigAnswer),
			"GetGenerationContext": byteHandler(pb.ConfigService_GetGenerationContext_FullMethodName, config.generationContextAnswer),
		}): config,
		fast(pb.PromptService_ServiceDesc, map[string]grpc.MethodHandler{
			"GetEffectivePrompt": byteHandler(pb.PromptService_GetEffectivePrompt_FullMethodName, prompts.effectivePromptAnswer),
		}): prompts,
		fast(pb.AuthorProfileService_ServiceDesc, map[string]grpc.MethodHandler{
			"GetAuthorProfile": byteHandler(pb.AuthorProfileService_GetAuthorProfile_FullMethodName,
				func(ctx context.Context, req *pb.GetAuthorProfileRequest) ([]byte, error) {
					return profiles.items.getAnswer(ctx, req.GetAccountId(), req.GetId())
				}),
		}): profiles,
		fast(pb.ContentStrategyService_ServiceDesc, map[string]grpc.MethodHandler{
			"GetContentStrategy": byteHandler(pb.ContentStrategyService_GetContentStrategy_FullMethodName,
				func(ctx context.Context, req *pb.GetContentStrategyRequest) ([]byte, error) {
					return strategies.items.getAnswer(ctx, req.GetAccountId(), req.GetId())
				}),
		}): strategies,
		&pb.HistoryService_ServiceDesc: &HistoryServer{Store: d.Store},
		&pb.AccountService_ServiceDesc: &AccountServer{Store: d.Store},
		&pb.TokenService_ServiceDesc:   &TokenServer{Store: d.Store},
		&pb.AuditService_ServiceDesc:   &AuditServer{Store: d.Store},
		&pb.ChangeService_ServiceDesc:  &ChangeServer{Store: d.Store, Feed: d.Feed, Draining: d.Draining, Progress: d.FeedProgress},
	} {
		s.RegisterService(desc, impl)
	}
}

// fast is desc with the handlers of some methods replaced.
func fast(desc grpc.ServiceDesc, handlers map[string]grpc.MethodHandler) *grpc.ServiceDesc {
	desc.Methods = slices.Clone(desc.Methods)
	for name, h := range handlers {
		i := slices.IndexFunc(desc.Methods, func(m grpc.MethodDesc) bool { return m.MethodName == name })
		if i < 0 {
			panic(fmt.Sprintf("%s has no method %s", desc.ServiceName, name))
		}
		desc.Methods[i].Handler = h
	}
	return &desc
}

// byteHandler is a unary handler, through the interceptors like any other,
// whose answer is fn's bytes.
func byteHandler[Req any, PReq interface {
	*Req
	proto.Message
}](method string, fn func(context.Context, PReq) ([]byte, error)) grpc.MethodHandler {
	return func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
		in := PReq(new(Req))
		if err := dec(in); err != nil {
			return nil, err
		}
		h := func(ctx context.Context, req any) (any, error) {
			b, err := fn(ctx, req.(PReq)) //nolint:forcetypeassert // the generated handler decodes into the PReq the route was registered with
			if err != nil {
				return nil, err
			}
			return answer(b), nil
		}
		if interceptor == nil {
			return h(ctx, in)
		}
		return interceptor(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: method}, h)
	}
}

// deterministic encodes maps (ModelConfig.sources) in key order, so an
// answer encoded again has the same bytes.
var deterministic = proto.MarshalOptions{Deterministic: true}

// encode is the answer of a message built per call (the uncached paths).
func encode[M proto.Message](m M, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	return deterministic.Marshal(m)
}

// decoded is the message an answer encodes, into m, for in-process callers.
func decoded[M proto.Message](m M, b []byte, err error) (M, error) {
	if err != nil {
		var none M
		return none, err
	}
	return m, proto.Unmarshal(b, m)
}
