package api

import (
	"context"
	"fmt"
	"slices"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // registers the default codec
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/cache"
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

// Deps are what the services are built from.
type Deps struct {
	Store   *store.Store
	Cache   *cache.Cache    // hot-path reads
	Secrets *secret.Keyring // nil: no secret key configured
	Feed    *store.Follower // the change feed, for WatchChanges
	// FeedProgress: how often an idle WatchChanges stream gets a progress event.
	FeedProgress time.Duration
	// Draining closes when the server starts a graceful stop: streams end.
	Draining <-chan struct{}
}

// Register registers every aiconfig.v1 service on s, the hot-path methods
// answering through Codec (the server must use it:
// grpc.ForceServerCodecV2(Codec())).
func Register(s *grpc.Server, d Deps) {
	config := &ConfigServer{Store: d.Store, Cache: d.Cache, Secrets: d.Secrets, Draining: d.Draining}
	prompts := &PromptServer{Store: d.Store, Cache: d.Cache, Draining: d.Draining}
	profiles := &AuthorProfileServer{items: &itemService[*pb.AuthorProfile]{codec: authorProfiles, store: d.Store, cache: d.Cache}}
	strategies := &ContentStrategyServer{items: &itemService[*pb.ContentStrategy]{codec: contentStrategies, store: d.Store, cache: d.Cache}}
	s.RegisterService(fast(pb.ConfigService_ServiceDesc, map[string]grpc.MethodHandler{
		"GetModelConfig":       byteHandler(pb.ConfigService_GetModelConfig_FullMethodName, config.modelConfigAnswer),
		"GetGenerationContext": byteHandler(pb.ConfigService_GetGenerationContext_FullMethodName, config.generationContextAnswer),
	}), config)
	s.RegisterService(fast(pb.PromptService_ServiceDesc, map[string]grpc.MethodHandler{
		"GetEffectivePrompt": byteHandler(pb.PromptService_GetEffectivePrompt_FullMethodName, prompts.effectivePromptAnswer),
	}), prompts)
	s.RegisterService(fast(pb.AuthorProfileService_ServiceDesc, map[string]grpc.MethodHandler{
		"GetAuthorProfile": byteHandler(pb.AuthorProfileService_GetAuthorProfile_FullMethodName,
			func(ctx context.Context, req *pb.GetAuthorProfileRequest) ([]byte, error) {
				return profiles.items.getAnswer(ctx, req.GetAccountId(), req.GetId())
			}),
	}), profiles)
	s.RegisterService(fast(pb.ContentStrategyService_ServiceDesc, map[string]grpc.MethodHandler{
		"GetContentStrategy": byteHandler(pb.ContentStrategyService_GetContentStrategy_FullMethodName,
			func(ctx context.Context, req *pb.GetContentStrategyRequest) ([]byte, error) {
				return strategies.items.getAnswer(ctx, req.GetAccountId(), req.GetId())
			}),
	}), strategies)
	pb.RegisterHistoryServiceServer(s, &HistoryServer{Store: d.Store})
	pb.RegisterAccountServiceServer(s, &AccountServer{Store: d.Store})
	pb.RegisterTokenServiceServer(s, &TokenServer{Store: d.Store})
	pb.RegisterAuditServiceServer(s, &AuditServer{Store: d.Store})
	pb.RegisterChangeServiceServer(s, &ChangeServer{Store: d.Store, Feed: d.Feed, Draining: d.Draining, Progress: d.FeedProgress})
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
			b, err := fn(ctx, req.(PReq))
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

// encode is the answer of a message built per call (the uncached paths).
func encode[M proto.Message](m M, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	return proto.Marshal(m)
}

// decoded is the message an answer encodes, into m, for in-process callers.
func decoded[M proto.Message](m M, b []byte, err error) (M, error) {
	if err != nil {
		var none M
		return none, err
	}
	return m, proto.Unmarshal(b, m)
}
