package main

// The reference server: what a bare grpc-go server costs to answer the hot
// path's calls. It serves the real method names with the very bytes
// replica A answered during warm-up for the sample accounts (the first
// -reference-accounts; its load draws from those), looked up in a map by
// the request's (account_id, function) or (account_id, prompt_type), read
// from the request's bytes by hand: no interceptors, no authentication, no
// cache, and a codec that sends the stored bytes as they are (as
// aiconfigd's does). By default it runs with aiconfigd's own server
// options (server.Transport.Options with app.Defaults: its stream workers,
// keepalive, request size), so "× reference" compares like with like; with
// -grpc-defaults, with grpc-go's defaults (a goroutine per call), as a
// second row. It runs as its own process, this binary re-executed with
// -reference-server, pinned like the other servers, so its CPU per call is
// measured the same way.

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // registers the default codec
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/app"
	"github.com/igny8/aiconfig/internal/devdb"
)

// referenceFlag, as the first argument, runs the reference server instead
// of the bench (see serveReference).
const referenceFlag = "-reference-server"

// rawMessage is an encoded message: rawCodec sends and receives it as its
// bytes.
type rawMessage struct{ b []byte }

// rawCodec is gRPC's proto codec, except that a *rawMessage travels as its
// bytes, unparsed and (when sent) uncopied.
type rawCodec struct{ encoding.CodecV2 }

func newRawCodec() rawCodec { return rawCodec{encoding.GetCodecV2("proto")} }

func (c rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	if m, ok := v.(*rawMessage); ok {
		return mem.BufferSlice{mem.SliceBuffer(m.b)}, nil
	}
	return c.CodecV2.Marshal(v)
}

func (c rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if m, ok := v.(*rawMessage); ok {
		m.b = data.Materialize()
		return nil
	}
	return c.CodecV2.Unmarshal(data, v)
}

// answers are replica A's answers to the SERVICE caller for each of the
// sample accounts (the first -reference-accounts) × every function and
// prompt type the load asks for. Accounts of a plan without customizations get
// identical answers (every seeded row has revision 1), so each distinct
// answer is kept once.
type answers struct {
	ids, functions, promptTypes []string
	values                      []string // distinct answers
	// slots holds, for account i, the value index of each function's
	// answer, then each prompt type's: row i is slots[i*width:][:width].
	slots []uint32
}

func (a *answers) width() int { return len(a.functions) + len(a.promptTypes) }

// call is the request whose answer goes in slot j of account i's row.
func (a *answers) call(i, j int) (method string, req any) {
	return callOf(a.ids[i], a.functions, a.promptTypes, j)
}

// callOf is the jth call of an account's row: each function's
// GetModelConfig, then each prompt type's GetEffectivePrompt.
func callOf(id string, functions, promptTypes []string, j int) (method string, req any) {
	if j < len(functions) {
		return pb.ConfigService_GetModelConfig_FullMethodName, &pb.GetModelConfigRequest{AccountId: id, Function: functions[j]}
	}
	return pb.PromptService_GetEffectivePrompt_FullMethodName, &pb.GetEffectivePromptRequest{AccountId: id, PromptType: promptTypes[j-len(functions)]}
}

// warmAndCapture warms A as a long-running replica would be warm, so that
// no round pays for first reads, and keeps the answers of the first
// sample accounts for the reference server. Per account it asks for:
//   - every function and prompt type of the sample accounts, capturing
//     the answers;
//   - every function and prompt type of the other customized accounts
//     (every customEvery()th), whose answers A keeps per account (the
//     other accounts' are shared per plan, and built by the sample's);
//   - one call for each other account when touchAll (A does not hold
//     every account already), which loads the account.
//
// Workers take accounts in turn: an account's first call loads it, the
// others hit the cache. It returns the answers and the calls made.
//
//nolint:gocognit // one measured sequence (warm, capture, check) whose steps share the counters; a bench tool, not served code
func warmAndCapture(ctx context.Context, a *server, ids, functions, promptTypes []string, sample int, touchAll bool) (*answers, int, error) {
	ans := &answers{ids: ids[:sample], functions: functions, promptTypes: promptTypes}
	w := ans.width()
	ans.slots = make([]uint32, sample*w)
	var mu sync.Mutex
	index := map[string]uint32{}
	intern := func(b []byte) uint32 {
		mu.Lock()
		defer mu.Unlock()
		i, ok := index[string(b)]
		if !ok {
			s := string(b)
			i = uint32(len(ans.values))
			ans.values = append(ans.values, s)
			index[s] = i
		}
		return i
	}
	every := customEvery()
	g, ctx := errgroup.WithContext(ctx)
	var next, done, calls atomic.Int64
	start := time.Now()
	go func() { // progress, for the long warm-ups of many accounts
		t := time.NewTicker(15 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				n, took := done.Load(), time.Since(start)
				left := time.Duration(float64(took) * float64(len(ids)-int(n)) / float64(max(n, 1)))
				fmt.Printf("  %d of %d accounts, %.0f calls/s, about %s to go\n", n, len(ids), float64(calls.Load())/took.Seconds(), left.Round(time.Second))
			}
		}
	}()
	// The driver's live heap is small and it allocates per call: collect
	// less often while warming, which is not measured.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	codec := grpc.ForceCodecV2(newRawCodec())
	for k := range *warmConcurrency {
		g.Go(func() error {
			conn := a.conns[k%len(a.conns)]
			var reply rawMessage
			ask := func(method string, req any) error {
				calls.Add(1)
				if err := conn.Invoke(ctx, method, req, &reply, codec); err != nil {
					return fmt.Errorf("warming: %s %v: %w", method, req, err)
				}
				return nil
			}
			for i := int(next.Add(1) - 1); i < len(ids); i = int(next.Add(1) - 1) {
				switch {
				case i < sample:
					for j := range w {
						if err := ask(ans.call(i, j)); err != nil {
							return err
						}
						ans.slots[i*w+j] = intern(reply.b)
					}
				case (i+1)%every == 0: // acct-(i+1) is customized (see seed)
					for j := range w {
						if err := ask(callOf(ids[i], functions, promptTypes, j)); err != nil {
							return err
						}
					}
				case touchAll:
					if err := ask(callOf(ids[i], functions, promptTypes, 0)); err != nil {
						return err
					}
				}
				done.Add(1)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, 0, err
	}
	return ans, int(calls.Load()), nil
}

// The answers file, written by the bench and read by the reference server:
// a header line, then uvarint-length-prefixed strings and uvarints.
const answersHeader = "aiconfig-bench answers v1\n"

func (a *answers) writeFile(name string) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var buf []byte
	num := func(n int) {
		buf = binary.AppendUvarint(buf[:0], uint64(n))
		w.Write(buf)
	}
	str := func(s string) { num(len(s)); w.WriteString(s) }
	strs := func(ss []string) {
		num(len(ss))
		for _, s := range ss {
			str(s)
		}
	}
	w.WriteString(answersHeader)
	strs(a.functions)
	strs(a.promptTypes)
	strs(a.values)
	strs(a.ids)
	for _, v := range a.slots {
		num(int(v))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func readAnswers(name string) (*answers, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	var rerr error
	num := func() int {
		n, err := binary.ReadUvarint(r)
		if err != nil && rerr == nil {
			rerr = err
		}
		return int(n)
	}
	var buf []byte
	str := func() string {
		n := num()
		if rerr != nil {
			return ""
		}
		buf = slices.Grow(buf[:0], n)[:n]
		if _, err := io.ReadFull(r, buf); err != nil && rerr == nil {
			rerr = err
		}
		return string(buf)
	}
	strs := func() []string {
		n := num()
		var ss []string
		for i := 0; i < n && rerr == nil; i++ {
			ss = append(ss, str())
		}
		return ss
	}
	head := make([]byte, len(answersHeader))
	if _, err := io.ReadFull(r, head); err != nil || string(head) != answersHeader {
		return nil, fmt.Errorf("%s is not an answers file", name)
	}
	a := &answers{functions: strs(), promptTypes: strs(), values: strs(), ids: strs()}
	a.slots = make([]uint32, len(a.ids)*a.width())
	for i := range a.slots {
		if a.slots[i] = uint32(num()); int(a.slots[i]) >= len(a.values) && rerr == nil {
			rerr = errors.New("value index out of range")
		}
	}
	if rerr != nil {
		return nil, fmt.Errorf("reading %s: %w", name, rerr)
	}
	return a, nil
}

// referenceTable is what the reference server answers from: the answers
// by account id, each kept once.
type referenceTable struct {
	functions, promptTypes []string
	accounts               map[string]int32 // id → row
	width                  int
	slots                  []*rawMessage // row i: slots[i*width:][:width], as in answers
}

func newReferenceTable(a *answers) *referenceTable {
	values := make([]*rawMessage, len(a.values))
	for i, v := range a.values {
		values[i] = &rawMessage{b: []byte(v)}
	}
	t := &referenceTable{functions: a.functions, promptTypes: a.promptTypes, accounts: make(map[string]int32, len(a.ids)),
		width: a.width(), slots: make([]*rawMessage, len(a.slots))}
	for i, id := range a.ids {
		t.accounts[id] = int32(i)
	}
	for i, v := range a.slots {
		t.slots[i] = values[v]
	}
	return t
}

// answer is the stored answer to a request whose bytes are req: its
// account_id (field 1) and the key at some position of keys (field 2),
// offset in a row by off; or NOT_FOUND. The request is read by hand, as a
// server that knows its two fields would: no message is built.
func (t *referenceTable) answer(req []byte, keys []string, off int) (*rawMessage, error) {
	id, key, ok := parseRequest(req)
	if !ok {
		return nil, status.Error(codes.InvalidArgument, "the request is not two string fields")
	}
	if row, ok := t.accounts[string(id)]; ok {
		for k, name := range keys {
			if name == string(key) {
				return t.slots[int(row)*t.width+off+k], nil
			}
		}
	}
	return nil, status.Errorf(codes.NotFound, "no answer stored for %q, %q", id, key)
}

// parseRequest reads fields 1 and 2, both strings, of an encoded request
// (GetModelConfigRequest and GetEffectivePromptRequest alike), skipping
// any other field.
func parseRequest(b []byte) (field1, field2 []byte, ok bool) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, nil, false
		}
		b = b[n:]
		if typ == protowire.BytesType && (num == 1 || num == 2) {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, nil, false
			}
			if num == 1 {
				field1 = v
			} else {
				field2 = v
			}
			b = b[n:]
			continue
		}
		if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
			return nil, nil, false
		}
		b = b[n:]
	}
	return field1, field2, true
}

func (t *referenceTable) getModelConfig(_ any, _ context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
	var req rawMessage
	if err := dec(&req); err != nil {
		return nil, err
	}
	return t.answer(req.b, t.functions, 0)
}

func (t *referenceTable) getEffectivePrompt(_ any, _ context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
	var req rawMessage
	if err := dec(&req); err != nil {
		return nil, err
	}
	return t.answer(req.b, t.promptTypes, len(t.functions))
}

// serveReference is the reference server's process: it reads the answers
// file and serves the two hot-path methods until interrupted.
func serveReference(args []string) error {
	fs := flag.NewFlagSet("aiconfig-bench "+referenceFlag, flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "gRPC listen address")
	file := fs.String("answers", "", "the answers file the bench wrote")
	grpcDefaults := fs.Bool("grpc-defaults", false, "grpc-go's default server options (a goroutine per call) rather than aiconfigd's")
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, err := readAnswers(*file)
	if err != nil {
		return err
	}
	t := newReferenceTable(a)
	a = nil              //nolint:ineffassign,staticcheck // drop the reference so FreeOSMemory below can return the file's copy
	debug.FreeOSMemory() // collect the file's copy now, not while measured
	opts, err := referenceOptions(*grpcDefaults)
	if err != nil {
		return err
	}
	s := grpc.NewServer(append(opts, grpc.ForceServerCodecV2(newRawCodec()))...)
	s.RegisterService(&grpc.ServiceDesc{
		ServiceName: pb.ConfigService_ServiceDesc.ServiceName,
		HandlerType: (*any)(nil),
		Methods:     []grpc.MethodDesc{{MethodName: "GetModelConfig", Handler: t.getModelConfig}},
	}, t)
	s.RegisterService(&grpc.ServiceDesc{
		ServiceName: pb.PromptService_ServiceDesc.ServiceName,
		HandlerType: (*any)(nil),
		Methods:     []grpc.MethodDesc{{MethodName: "GetEffectivePrompt", Handler: t.getEffectivePrompt}},
	}, t)
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { <-ctx.Done(); s.Stop() }()
	return s.Serve(lis)
}

// referenceOptions are the reference server's options: aiconfigd's own,
// taken from where aiconfigd takes them so that they cannot drift, or
// grpc-go's defaults (none).
func referenceOptions(grpcDefaults bool) ([]grpc.ServerOption, error) {
	if grpcDefaults {
		return nil, nil
	}
	return app.Defaults().Transport.Options()
}

// startReferences writes the answers to a file and starts the reference
// servers on them, pinned like the other servers: the fair one, with
// aiconfigd's server options, and, with -reference-per-call, one with
// grpc-go's defaults (nil otherwise).
func startReferences(ans *answers) (fair, perCall *server, err error) {
	f, err := os.CreateTemp("", "aiconfig-bench-answers-*")
	if err != nil {
		return nil, nil, err
	}
	f.Close()
	defer os.Remove(f.Name()) // read by the time the servers answer
	if err := ans.writeFile(f.Name()); err != nil {
		return nil, nil, err
	}
	if fair, err = startReference(ans, f.Name(), false); err != nil {
		return nil, nil, err
	}
	if *referencePerCall {
		if perCall, err = startReference(ans, f.Name(), true); err != nil {
			fair.stop()
			return nil, nil, err
		}
	}
	return fair, perCall, nil
}

// startReference starts a reference server on the answers file.
func startReference(ans *answers, file string, grpcDefaults bool) (*server, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, err := devdb.FreeAddr()
	if err != nil {
		return nil, err
	}
	args := []string{self, referenceFlag, "-listen", addr, "-answers", file}
	if grpcDefaults {
		args = append(args, "-grpc-defaults")
	}
	probe := &pb.GetModelConfigRequest{AccountId: ans.ids[0], Function: ans.functions[0]}
	return startProcess(args, nil, addr, "", func(conn *grpc.ClientConn) error {
		return conn.Invoke(context.Background(), pb.ConfigService_GetModelConfig_FullMethodName, probe, &rawMessage{}, grpc.ForceCodecV2(newRawCodec()))
	})
}

// checkReference asks A and the reference server for the answers of n
// accounts spread over all of them: the reference server must answer the
// captured bytes, and A the same message. A may have re-encoded an answer
// since (after an invalidation), with the entries of a map in another
// order: that is the same message, and checkReference returns how many
// such answers it saw.
func checkReference(ctx context.Context, a, ref *server, ans *answers, n int) (reordered int, err error) {
	codec := grpc.ForceCodecV2(newRawCodec())
	w := ans.width()
	n = min(n, len(ans.ids))
	for k := range n {
		i := k * len(ans.ids) / n
		for j := range w {
			method, req := ans.call(i, j)
			var fromA, fromRef rawMessage
			if err := a.conns[0].Invoke(ctx, method, req, &fromA, codec); err != nil {
				return 0, err
			}
			if err := ref.conns[0].Invoke(ctx, method, req, &fromRef, codec); err != nil {
				return 0, fmt.Errorf("reference server: %w", err)
			}
			want := ans.values[ans.slots[i*w+j]]
			if string(fromRef.b) != want {
				return 0, fmt.Errorf("%s %v: the reference server answers %d bytes other than the %d captured", method, req, len(fromRef.b), len(want))
			}
			if string(fromA.b) != want {
				var x, y proto.Message = &pb.ModelConfig{}, &pb.ModelConfig{}
				if j >= len(ans.functions) {
					x, y = &pb.EffectivePrompt{}, &pb.EffectivePrompt{}
				}
				if len(fromA.b) != len(want) || proto.Unmarshal(fromA.b, x) != nil || proto.Unmarshal([]byte(want), y) != nil || !proto.Equal(x, y) {
					return 0, fmt.Errorf("%s %v: replica A now answers other than it did while warming:\n%v\n%v", method, req, x, y)
				}
				reordered++
			}
		}
	}
	return reordered, nil
}
