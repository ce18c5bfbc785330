// Package client is the Go client of aiconfig: model configurations,
// prompts and generation contexts for generation workers, from memory.
//
//	c, err := client.New("aiconfig:50051", client.WithToken(os.Getenv("AICONFIG_TOKEN")))
//	cfg, err := c.ModelConfig(ctx, accountID, "generate_content")
//	// cfg.Model, cfg.GetTemperature(), cfg.APIKey(), ...
//	job, err := c.GenerationContext(ctx, &pb.GetGenerationContextRequest{AccountId: accountID, Function: "generate_content"})
//	// job.APIKey(), job.GetModelConfig().GetModel(), job.GetPrompt().GetText(), job.GetAuthorProfile(), ...
//
// Answers are kept in a bounded in-process cache, filled on a miss and
// invalidated by one ChangeService.WatchChanges stream per client, so a
// cached read makes no call. While the server or the feed is down, cached
// answers are served for up to WithMaxStale (default 10 minutes) after
// the feed was last in step. Every call has a deadline (WithTimeout,
// default 2 s); calls that found the server unavailable are retried with
// jittered backoff. Failures are *Error, with the code, the stable
// reason (the Reason constants), metadata and field violations.
//
// Writes sent on the client's connection (pb.NewAccountServiceClient(
// c.Conn()).UpsertAccount(...) and the like) carry a fresh idempotency key
// (SPEC 17) and are retried with it when the server could not be reached,
// so a write whose answer was lost is not applied twice. A client left on
// TLS (the default) against a plaintext server fails at once with
// ErrServerPlaintext, not a retryable UNAVAILABLE.
package client

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/render"
)

// Client is safe for concurrent use. Close it when done.
type Client struct {
	conn    *grpc.ClientConn
	config  pb.ConfigServiceClient
	prompts pb.PromptServiceClient
	changes pb.ChangeServiceClient
	opts    options
	log     *slog.Logger
	cache   *cache

	closed atomic.Bool
	// tlsPlaintext: the last TLS handshake met a plaintext server.
	tlsPlaintext atomic.Bool
	stop         context.CancelFunc
	feed         sync.WaitGroup
}

// New connects to target (host:port, or any gRPC target such as
// dns:///aiconfig:50051). The connection is made on first use; the change
// feed starts at once.
func New(target string, opts ...Option) (*Client, error) {
	o := defaults()
	for _, f := range opts {
		f(&o)
	}
	creds, err := o.transport()
	if err != nil {
		return nil, err
	}
	c := &Client{opts: o, log: o.log, cache: newCache(o.cacheSize)}
	if !o.insecure {
		creds = tlsProbe{TransportCredentials: creds, plaintext: &c.tlsPlaintext}
	}
	dial := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		// Writes carry an idempotency key and are retried with it.
		grpc.WithChainUnaryInterceptor(c.unary),
		// Back soon after a server restart (gRPC's default waits up to 2 min).
		grpc.WithConnectParams(grpc.ConnectParams{MinConnectTimeout: 5 * time.Second,
			Backoff: backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 5 * time.Second}}),
		// The feed stream lives for hours: notice a dead peer (the server
		// allows a ping every 10 s).
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 30 * time.Second, Timeout: 10 * time.Second, PermitWithoutStream: true}),
	}
	if o.token != "" {
		dial = append(dial, grpc.WithPerRPCCredentials(bearer{md: map[string]string{"authorization": "Bearer " + o.token}, tls: !o.insecure}))
	}
	conn, err := grpc.NewClient(target, append(dial, o.dial...)...)
	if err != nil {
		return nil, err
	}
	c.conn, c.config, c.prompts, c.changes = conn, pb.NewConfigServiceClient(conn), pb.NewPromptServiceClient(conn), pb.NewChangeServiceClient(conn)
	if c.log == nil {
		c.log = slog.Default()
	}
	ctx, stop := context.WithCancel(context.Background())
	c.stop = stop
	if o.cacheSize > 0 {
		c.feed.Go(func() { c.follow(ctx) })
	}
	return c, nil
}

// Close stops the change feed and closes the connection.
func (c *Client) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	c.stop()
	c.feed.Wait()
	return c.conn.Close()
}

// Conn is the client's connection, for the RPCs the client does not wrap
// (its calls carry the token, writes an idempotency key and their retries;
// ErrorFrom decodes their errors).
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// Stats returns the cache's counters and the change feed's state.
func (c *Client) Stats() Stats { return c.cache.stats() }

// ModelConfig is a resolved model configuration (GetModelConfig's answer).
// It is shared with the cache: read it, never modify it (proto.Clone
// first). Printing it, logging it with slog or encoding it as JSON leaves
// the API key out; APIKey returns it.
type ModelConfig struct{ *pb.ModelConfig }

// APIKey is the provider API key; set only for SERVICE tokens.
func (m ModelConfig) APIKey() string { return m.GetApiKey() }

func (m ModelConfig) redacted() *pb.ModelConfig {
	if m.ModelConfig == nil || m.GetApiKey() == "" {
		return m.ModelConfig
	}
	r := proto.Clone(m.ModelConfig).(*pb.ModelConfig) //nolint:forcetypeassert // Clone returns the type it is given
	r.ApiKey = "[redacted]"
	return r
}

// String is the configuration without its API key.
func (m ModelConfig) String() string { return m.redacted().String() }

// GoString is String, so %#v does not print the key either.
func (m ModelConfig) GoString() string { return "client.ModelConfig{" + m.String() + "}" }

// LogValue is String, for log/slog.
func (m ModelConfig) LogValue() slog.Value { return slog.StringValue(m.String()) }

// MarshalJSON is the proto JSON form without the API key.
func (m ModelConfig) MarshalJSON() ([]byte, error) { return protojson.Marshal(m.redacted()) }

// ModelConfig returns the configuration an account uses for a function
// (auto_cluster, generate_ideas, generate_content, generate_image_prompts,
// generate_images).
func (c *Client) ModelConfig(ctx context.Context, accountID, function string) (ModelConfig, error) {
	k := key{account: accountID, kind: kindModelConfig, name: function}
	if v, ok := c.cache.get(k); ok {
		return ModelConfig{v.(*pb.ModelConfig)}, nil //nolint:forcetypeassert // the cache stores each key kind with one message type
	}
	m, err := load(c, ctx, k, func(ctx context.Context) (*pb.ModelConfig, error) {
		return c.config.GetModelConfig(ctx, &pb.GetModelConfigRequest{AccountId: accountID, Function: function})
	})
	return ModelConfig{m}, err
}

// EffectivePrompt returns the prompt an account uses for a prompt type. It
// is shared with the cache: read it, never modify it.
func (c *Client) EffectivePrompt(ctx context.Context, accountID, promptType string) (*pb.EffectivePrompt, error) {
	k := key{account: accountID, kind: kindEffectivePrompt, name: promptType}
	if v, ok := c.cache.get(k); ok {
		return v.(*pb.EffectivePrompt), nil //nolint:forcetypeassert // the cache stores each key kind with one message type
	}
	return load(c, ctx, k, func(ctx context.Context) (*pb.EffectivePrompt, error) {
		return c.prompts.GetEffectivePrompt(ctx, &pb.GetEffectivePromptRequest{AccountId: accountID, PromptType: promptType})
	})
}

// GenerationContext is everything a generation job needs in one answer
// (GetGenerationContext's): the function's model configuration, the
// effective prompt of its prompt type, and the author profile and content
// strategy to write with. It is shared with the cache: read it, never
// modify it. Printing it, logging it with slog or encoding it as JSON
// leaves the API key out; APIKey returns it, and Config is the model
// configuration as ModelConfig returns it. (The embedded field
// GenerationContext.ModelConfig is the bare message: it prints the key.)
type GenerationContext struct{ *pb.GenerationContext }

// APIKey is the provider API key; set only for SERVICE tokens.
func (g GenerationContext) APIKey() string { return g.GetModelConfig().GetApiKey() }

// Config is the model configuration, printing without its key.
func (g GenerationContext) Config() ModelConfig { return ModelConfig{g.GetModelConfig()} }

func (g GenerationContext) redacted() *pb.GenerationContext {
	if g.GenerationContext == nil || g.APIKey() == "" {
		return g.GenerationContext
	}
	r := proto.Clone(g.GenerationContext).(*pb.GenerationContext) //nolint:forcetypeassert // Clone returns the type it is given
	r.ModelConfig.ApiKey = "[redacted]"
	return r
}

// String is the context without its API key.
func (g GenerationContext) String() string { return g.redacted().String() }

// GoString is String, so %#v does not print the key either.
func (g GenerationContext) GoString() string { return "client.GenerationContext{" + g.String() + "}" }

// LogValue is String, for log/slog.
func (g GenerationContext) LogValue() slog.Value { return slog.StringValue(g.String()) }

// MarshalJSON is the proto JSON form without the API key.
func (g GenerationContext) MarshalJSON() ([]byte, error) { return protojson.Marshal(g.redacted()) }

// GenerationContext returns everything a generation job of req.Function
// needs: the function's model configuration and prompt, and the author
// profile and content strategy named by req (else the account's defaults,
// else the platform's). A named one the account cannot use is NOT_FOUND
// (ReasonAuthorProfileNotFound, ReasonContentStrategyNotFound, metadata
// author_profile_id or content_strategy_id). Each part equals its own
// read: ModelConfig, EffectivePrompt, GetAuthorProfile, GetContentStrategy.
func (c *Client) GenerationContext(ctx context.Context, req *pb.GetGenerationContextRequest) (GenerationContext, error) {
	k := key{account: req.GetAccountId(), kind: kindGenerationContext, name: contextName(req)}
	if v, ok := c.cache.get(k); ok {
		return GenerationContext{v.(*pb.GenerationContext)}, nil //nolint:forcetypeassert // the cache stores each key kind with one message type
	}
	g, err := load(c, ctx, k, func(ctx context.Context) (*pb.GenerationContext, error) {
		return c.config.GetGenerationContext(ctx, req)
	})
	return GenerationContext{g}, err
}

// contextName is a generation context's key name: the function, profile
// id and strategy id, the first two length-prefixed so that no two
// requests share a name.
func contextName(req *pb.GetGenerationContextRequest) string {
	f, p := req.GetFunction(), req.GetAuthorProfileId()
	return strconv.Itoa(len(f)) + ":" + f + strconv.Itoa(len(p)) + ":" + p + req.GetContentStrategyId()
}

// RenderPrompt fills the effective prompt's {{variables}} here, by the
// server's own rules (package render, which the server uses too): every placeholder needs a value (a
// missing one is INVALID_ARGUMENT naming it), a variable the prompt does
// not declare is refused, and values are inserted literally, never
// expanded again or escaped.
func (c *Client) RenderPrompt(ctx context.Context, accountID, promptType string, vars map[string]string) (string, error) {
	p, err := c.EffectivePrompt(ctx, accountID, promptType)
	if err != nil {
		return "", err
	}
	text, err := render.Render(p.GetText(), p.GetVariables(), vars)
	if err != nil {
		var re *render.Error
		if errors.As(err, &re) { // the server answers these as INVALID_ARGUMENT
			return "", &Error{Code: codes.InvalidArgument, Reason: re.Reason, Message: re.Error(), FieldViolations: violations(re)}
		}
		return "", err
	}
	return text, nil
}

func violations(re *render.Error) []FieldViolation {
	out := make([]FieldViolation, len(re.Violations))
	for i, v := range re.Violations {
		out[i] = FieldViolation{Field: v.Field, Description: v.Description}
	}
	return out
}

// load answers a read the cache could not: from the server, storing the
// answer when its ticket allows, or from what the cache holds when the
// server cannot answer.
func load[T proto.Message](c *Client, ctx context.Context, k key, call func(context.Context) (T, error)) (T, error) {
	var zero T
	if c.closed.Load() {
		return zero, ErrClosed
	}
	// With the feed out of step, an entry held is the answer to fall back
	// on: do not wait for a connection that is not there, and do not retry.
	fb, held := c.cache.fallback(k, c.opts.maxStale)
	if held && c.conn.GetState() != connectivity.Ready {
		c.conn.Connect()
		c.cache.served()
		return fb.(T), nil //nolint:forcetypeassert // entries under a key are always that key's T
	}
	t := c.cache.begin(k.account)
	if t == nil && k.account != "" && c.cache.awaitFirstStep(ctx) {
		t = c.cache.begin(k.account)
	}
	var v T
	attempts := maxAttempts
	if held {
		attempts = 1
	}
	err := c.invoke(ctx, attempts, func(ctx context.Context) (err error) {
		v, err = call(ctx)
		return err
	})
	c.cache.finish(t, k, v, err == nil)
	if err != nil {
		if unavailable(err) {
			if v, ok := c.cache.fallback(k, c.opts.maxStale); ok {
				c.cache.served()
				return v.(T), nil //nolint:forcetypeassert // entries under a key are always that key's T
			}
		}
		return zero, ErrorFrom(err)
	}
	return v, nil
}

// Retries of a call the server could not take: 3 attempts, 100 ms then
// 200 ms apart (jittered; longer than the connection's first reconnect
// backoff, so a retry finds a new connection), within the call's deadline.
const (
	maxAttempts = 3
	retryDelay  = 100 * time.Millisecond
)

// invoke runs call with the client's deadline, retrying UNAVAILABLE.
func (c *Client) invoke(ctx context.Context, attempts int, call func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.timeout)
	defer cancel()
	return retryUnavailable(ctx, attempts, call)
}

// retryUnavailable runs call up to attempts times while it fails with
// UNAVAILABLE, jittered backoff between, within ctx's deadline (the
// retries of reads, invoke, and of keyed writes, unary).
func retryUnavailable(ctx context.Context, attempts int, call func(context.Context) error) error {
	wait := retryWait{base: retryDelay, max: retryDelay << maxAttempts}
	for i := 1; ; i++ {
		err := call(ctx)
		if err == nil || i >= attempts || status.Code(err) != codes.Unavailable {
			return err
		}
		t := time.NewTimer(wait.next())
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// bearer sends the token; over TLS only, unless WithInsecure was asked.
type bearer struct {
	md  map[string]string
	tls bool
}

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return b.md, nil
}
func (b bearer) RequireTransportSecurity() bool { return b.tls }
