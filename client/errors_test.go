package client

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
)

// wantError fails unless err is an *Error with code and reason.
func wantError(t *testing.T, what string, err error, code codes.Code, reason string) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: %v (%T), want an *Error %s %s", what, err, err, code, reason)
	}
	if e.Code != code || e.Reason != reason {
		t.Fatalf("%s: %s %s (%s), want %s %s", what, e.Code, e.Reason, e.Message, code, reason)
	}
	if status.Code(err) != code {
		t.Errorf("%s: status.Code = %s, want %s", what, status.Code(err), code)
	}
	return e
}

// Every reason of SPEC section 8 the server can send, through the client:
// its reads directly, other RPCs through Conn and ErrorFrom.
func TestErrorsCarryTheirReason(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.client()
	ctx := context.Background()
	newClient := func(opts ...Option) *Client {
		cl, err := New(s.addr, append([]Option{WithInsecure(), WithCacheSize(0)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cl.Close() })
		return cl
	}

	_, err := newClient().ModelConfig(ctx, "acme", "generate_content")
	wantError(t, "no token", err, codes.Unauthenticated, ReasonTokenMissing)
	_, err = newClient(WithToken(s.env.RevokedToken(t))).ModelConfig(ctx, "acme", "generate_content")
	wantError(t, "revoked token", err, codes.Unauthenticated, ReasonTokenInvalid)
	acmeOnly := newClient(WithToken(s.env.Token(t, domain.RoleAccount, "acme")))
	_, err = acmeOnly.ModelConfig(ctx, "beta", "generate_content")
	wantError(t, "account token on another account", err, codes.PermissionDenied, ReasonAccountScope)

	_, err = c.ModelConfig(ctx, "nobody", "generate_content")
	if e := wantError(t, "unknown account", err, codes.NotFound, ReasonAccountNotFound); e.Metadata["account_id"] != "nobody" {
		t.Errorf("metadata %v does not name the account", e.Metadata)
	}
	_, err = c.ModelConfig(ctx, "acme", "write_poems")
	if e := wantError(t, "unknown function", err, codes.InvalidArgument, ReasonUnknownFunction); len(e.FieldViolations) == 0 || e.FieldViolations[0].Field != "function" {
		t.Errorf("violations %v do not name the function", e.FieldViolations)
	}
	_, err = c.EffectivePrompt(ctx, "acme", "haiku")
	wantError(t, "unknown prompt type", err, codes.NotFound, ReasonPromptTypeNotFound)
	_, err = c.ModelConfig(ctx, "acme", "generate_images") // no DALL-E key is set
	wantError(t, "no key for the provider", err, codes.FailedPrecondition, ReasonAPIKeyNotConfigured)
	_, err = c.RenderPrompt(ctx, "acme", "clustering", map[string]string{})
	if e := wantError(t, "render without a variable", err, codes.InvalidArgument, ReasonValidationFailed); len(e.FieldViolations) != 1 || !strings.Contains(e.FieldViolations[0].Description, "{{keywords}}") {
		t.Errorf("violations %v do not name {{keywords}}", e.FieldViolations)
	}

	// Other RPCs, on the client's connection (which carries its token).
	admin := newClient(WithToken(s.admin))
	config, prompts := pb.NewConfigServiceClient(admin.Conn()), pb.NewPromptServiceClient(admin.Conn())
	accounts, tokens := pb.NewAccountServiceClient(admin.Conn()), pb.NewTokenServiceClient(admin.Conn())
	_, err = pb.NewConfigServiceClient(c.Conn()).GetGlobalSettings(ctx, &pb.GetGlobalSettingsRequest{})
	wantError(t, "service token on an admin RPC", ErrorFrom(err), codes.PermissionDenied, ReasonRoleNotAllowed)
	s.env.Account(t, "freebie", domain.PlanFree)
	_, err = prompts.CustomizePrompt(ctx, &pb.CustomizePromptRequest{AccountId: "freebie", PromptType: "clustering", Text: "{{keywords}}!"})
	if e := wantError(t, "free plan", ErrorFrom(err), codes.PermissionDenied, ReasonPlanUpgradeRequired); e.Metadata["required_plan"] != "PLAN_STARTER" {
		t.Errorf("metadata %v", e.Metadata)
	}
	_, err = config.GetIntegrationOverride(ctx, &pb.GetIntegrationOverrideRequest{AccountId: "beta", Integration: pb.Integration_INTEGRATION_ANTHROPIC})
	wantError(t, "no override", ErrorFrom(err), codes.NotFound, ReasonOverrideNotFound)
	_, err = config.UpsertIntegrationOverride(ctx, &pb.UpsertIntegrationOverrideRequest{Override: &pb.IntegrationOverride{
		AccountId: "beta", Integration: pb.Integration_INTEGRATION_OPENAI, Model: proto.String("gpt-99")}})
	wantError(t, "unknown model", ErrorFrom(err), codes.InvalidArgument, ReasonModelNotAllowed)
	_, err = accounts.UpsertAccount(ctx, &pb.UpsertAccountRequest{Account: &pb.Account{Id: "beta", Name: "Beta", Plan: pb.Plan_PLAN_STARTER}, ExpectedRevision: proto.Int64(1)})
	wantError(t, "stale expected_revision", ErrorFrom(err), codes.Aborted, ReasonRevisionMismatch)
	_, err = tokens.RevokeToken(ctx, &pb.RevokeTokenRequest{Id: "no-such-token"})
	wantError(t, "unknown token id", ErrorFrom(err), codes.NotFound, ReasonTokenNotFound)
	_, err = config.UpsertModel(ctx, &pb.UpsertModelRequest{Model: &pb.Model{Integration: pb.Integration_INTEGRATION_OPENAI, Model: "gpt-4o-mini",
		DisplayName: "GPT-4o mini", Enabled: false, MaxOutputTokens: proto.Int32(16384), MinTemperature: proto.Float64(0), MaxTemperature: proto.Float64(2)}})
	wantError(t, "disabling the default model", ErrorFrom(err), codes.FailedPrecondition, ReasonModelInUse)

	if _, err := s.env.Store.CompactChanges(ctx, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	stream, err := pb.NewChangeServiceClient(admin.Conn()).WatchChanges(ctx, &pb.WatchChangesRequest{FromRevision: 1})
	if err == nil {
		_, err = stream.Recv()
	}
	if e := wantError(t, "compacted feed", ErrorFrom(err), codes.OutOfRange, ReasonRevisionCompacted); e.Metadata["oldest_revision"] == "" {
		t.Errorf("metadata %v has no oldest_revision", e.Metadata)
	}

	// The database down, and an account the server does not hold.
	if _, err := c.ModelConfig(ctx, "beta", "generate_content"); err != nil {
		t.Fatal(err) // the server now holds the token
	}
	s.env.Account(t, "gamma", domain.PlanStarter)
	s.env.Outage(t)
	_, err = c.ModelConfig(ctx, "gamma", "generate_content")
	wantError(t, "database down", err, codes.Unavailable, ReasonStoreUnavailable)
}

// Every reason decodes from the status details, whichever code carries it.
func TestErrorFromDecodesEveryReason(t *testing.T) {
	for _, reason := range clientReasons(t) {
		st, err := status.New(codes.FailedPrecondition, "what went wrong").WithDetails(
			&errdetails.ErrorInfo{Reason: reason, Domain: "aiconfig", Metadata: map[string]string{"k": "v"}},
			&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "f", Description: "d"}}})
		if err != nil {
			t.Fatal(err)
		}
		e := ErrorFrom(st.Err()).(*Error)
		if e.Code != codes.FailedPrecondition || e.Reason != reason || e.Metadata["k"] != "v" || e.Message != "what went wrong" ||
			len(e.FieldViolations) != 1 || e.FieldViolations[0] != (FieldViolation{"f", "d"}) {
			t.Errorf("%s decoded as %+v", reason, e)
		}
		if back := ErrorFrom(e).(*Error); back != e {
			t.Errorf("ErrorFrom(*Error) is not the same error")
		}
		if rt := ErrorFrom(e.GRPCStatus().Err()).(*Error); rt.Reason != reason || len(rt.FieldViolations) != 1 {
			t.Errorf("%s: GRPCStatus does not round-trip: %+v", reason, rt)
		}
	}
	// Another domain's reason is not ours.
	st, _ := status.New(codes.Internal, "x").WithDetails(&errdetails.ErrorInfo{Reason: "QUOTA", Domain: "googleapis.com"})
	if e := ErrorFrom(st.Err()).(*Error); e.Reason != "" {
		t.Errorf("foreign reason decoded: %+v", e)
	}
	if e := ErrorFrom(context.DeadlineExceeded).(*Error); e.Code != codes.DeadlineExceeded {
		t.Errorf("context error decoded as %s", e.Code)
	}
}

// reasonConsts returns the string constants named Reason* in a Go file.
func reasonConsts(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, name := range vs.Names {
			if i >= len(vs.Values) {
				break
			}
			if lit, ok := vs.Values[i].(*ast.BasicLit); ok && strings.HasPrefix(name.Name, "Reason") && lit.Kind == token.STRING {
				v, _ := strconv.Unquote(lit.Value)
				out[v] = name.Name
			}
		}
		return true
	})
	return out
}

func clientReasons(t *testing.T) []string {
	var out []string
	for v := range reasonConsts(t, "reasons.go") {
		out = append(out, v)
	}
	return out
}
