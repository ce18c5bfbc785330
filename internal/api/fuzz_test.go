package api_test

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/testsrv"
)

// FuzzEveryRPC sends random and mutated requests, as raw bytes, to every
// RPC of the API over a real listener, as every kind of caller, and fails
// on any INTERNAL or UNKNOWN answer: whatever a caller sends, the answer
// says what was wrong with it. `make test` runs the seed corpus (a few
// hand-picked requests per RPC and random ones built from the request
// descriptors); `make fuzz` mutates them for a while.
func FuzzEveryRPC(f *testing.F) {
	env := testsrv.Start(f)
	admin := env.Token(f, domain.RoleAdmin, "")
	for _, id := range []string{"acct", "free"} {
		env.Account(f, id, map[string]domain.Plan{"acct": domain.PlanStarter, "free": domain.PlanFree}[id])
	}
	callers := []string{admin, env.Token(f, domain.RoleService, ""), env.Token(f, domain.RoleAccount, "acct"), ""}
	var methods []string
	for svc, info := range env.Server.GRPC.GetServiceInfo() {
		if strings.HasPrefix(svc, "aiconfig.v1.") {
			for _, m := range info.Methods {
				methods = append(methods, "/"+svc+"/"+m.Name)
			}
		}
	}
	slices.Sort(methods)
	if len(methods) < 25 {
		f.Fatalf("only %d methods found", len(methods))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i, method := range methods {
		in, _ := testsrv.Messages(f, method)
		f.Add(uint8(i), uint8(0), []byte{})
		for range 12 {
			m := in.ProtoReflect().New()
			randomMessage(r, m, 0)
			b, err := proto.Marshal(m.Interface())
			if err != nil {
				f.Fatal(err)
			}
			f.Add(uint8(i), uint8(r.IntN(len(callers))), b)
			// The same with one byte flipped: malformed or out-of-range input.
			if len(b) > 0 {
				flipped := slices.Clone(b)
				flipped[r.IntN(len(flipped))] ^= byte(1 + r.IntN(255))
				f.Add(uint8(i), uint8(r.IntN(len(callers))), flipped)
			}
		}
	}
	codec := grpc.ForceCodecV2(rawCodec{encoding.GetCodecV2("proto")})
	f.Fuzz(func(t *testing.T, mi, ci uint8, req []byte) {
		method := methods[int(mi)%len(methods)]
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if tok := callers[int(ci)%len(callers)]; tok != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
		}
		_, out := testsrv.Messages(t, method)
		var err error
		if strings.HasPrefix(method, "/aiconfig.v1.ChangeService/") || strings.Contains(method, "/Watch") {
			var s grpc.ClientStream
			if s, err = env.Conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, method, codec); err == nil {
				if err = s.SendMsg(req); err == nil {
					_ = s.CloseSend()
					err = s.RecvMsg(out)
				}
			}
		} else {
			err = env.Conn.Invoke(ctx, method, req, out, codec)
		}
		switch c := status.Code(err); c {
		case codes.Internal, codes.Unknown:
			logs := env.Logs.String()
			t.Fatalf("%s (%x) answered %s: %v\nserver log tail:\n%s", method, req, c, err, logs[max(0, len(logs)-1500):])
		case codes.DeadlineExceeded:
			if !strings.Contains(method, "/Watch") { // watches wait for changes
				t.Fatalf("%s (%x) did not answer: %v", method, req, err)
			}
		}
	})
}

// Values random requests are built from: valid ones the service knows,
// and the edges of each type.
var (
	fuzzStrings = []string{"", "acct", "free", "ghost", "generate_content", "generate_images", "ideas", "clustering", "openai",
		"gpt-4.1", "dall-e-3", "1024x1024", "max_tokens", "temperature", "openai.model", "accounts/", "tok_00", "{{keywords}}",
		"Hello {{clusters}}", "a\x00b", strings.Repeat("x", 70000), "ünïcödé ✓", "../../etc", "'; DROP TABLE accounts; --"}
	fuzzInts   = []int64{0, 1, -1, 2, 7, 100, 1000, 1 << 31, -1 << 31, math.MaxInt64, math.MinInt64}
	fuzzFloats = []float64{0, 0.5, 1, 2, -1, 3, math.NaN(), math.Inf(1), math.Inf(-1), 1e308}
)

// randomMessage sets random fields of m, nested messages included.
func randomMessage(r *rand.Rand, m protoreflect.Message, depth int) {
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if r.IntN(2) == 0 || fd.ContainingOneof() != nil && m.WhichOneof(fd.ContainingOneof()) != nil {
			continue
		}
		switch {
		case fd.IsMap():
			mp := m.Mutable(fd).Map()
			for range r.IntN(3) {
				k := randomValue(r, fd.MapKey())
				if fd.MapValue().Kind() == protoreflect.MessageKind {
					v := mp.NewValue()
					randomMessage(r, v.Message(), depth+1)
					mp.Set(k.MapKey(), v)
				} else {
					mp.Set(k.MapKey(), randomValue(r, fd.MapValue()))
				}
			}
		case fd.IsList():
			l := m.Mutable(fd).List()
			for range r.IntN(3) {
				if fd.Kind() == protoreflect.MessageKind {
					v := l.NewElement()
					randomMessage(r, v.Message(), depth+1)
					l.Append(v)
				} else {
					l.Append(randomValue(r, fd))
				}
			}
		case fd.Kind() == protoreflect.MessageKind:
			if depth < 3 {
				randomMessage(r, m.Mutable(fd).Message(), depth+1)
			}
		default:
			m.Set(fd, randomValue(r, fd))
		}
	}
}

func randomValue(r *rand.Rand, fd protoreflect.FieldDescriptor) protoreflect.Value {
	pick := func(n int) int { return r.IntN(n) }
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(fuzzStrings[pick(len(fuzzStrings))])
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(pick(2) == 0)
	case protoreflect.EnumKind:
		return protoreflect.ValueOfEnum(protoreflect.EnumNumber(pick(8) - 1))
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(fuzzInts[pick(len(fuzzInts))]))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(fuzzInts[pick(len(fuzzInts))])
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(uint32(fuzzInts[pick(len(fuzzInts))]))
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(uint64(fuzzInts[pick(len(fuzzInts))]))
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(fuzzFloats[pick(len(fuzzFloats))])
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(float32(fuzzFloats[pick(len(fuzzFloats))]))
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes([]byte(fuzzStrings[pick(len(fuzzStrings))]))
	}
	return protoreflect.Value{}
}
