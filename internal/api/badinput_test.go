package api_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/testsrv"
)

// rawCodec sends a request given as bytes as they are (so a test can send
// what a proto library would refuse to encode) and decodes answers as usual.
type rawCodec struct{ encoding.CodecV2 }

func (c rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	if b, ok := v.([]byte); ok {
		return mem.BufferSlice{mem.SliceBuffer(b)}, nil
	}
	return c.CodecV2.Marshal(v)
}

// TestBadTextIsInvalidArgument: text PostgreSQL cannot store — a NUL
// character, or a string that is not UTF-8 at all — is INVALID_ARGUMENT
// naming the field, in any request, instead of INTERNAL.
func TestBadTextIsInvalidArgument(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_STARTER)

	_, err := env.Accounts.UpsertAccount(admin, &pb.UpsertAccountRequest{Account: &pb.Account{Id: "acct", Name: "Acme\x00Inc", Plan: pb.Plan_PLAN_STARTER}})
	testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "account.name")
	_, err = env.Prompts.CustomizePrompt(admin, &pb.CustomizePromptRequest{AccountId: "acct", PromptType: "ideas", Text: "x\x00 {{clusters}}"})
	testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "text")
	_, err = env.Audit.ListAuditEvents(admin, &pb.ListAuditEventsRequest{Resource: "accounts/\x00"})
	testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "resource")
	_, err = env.Prompts.RenderPrompt(admin, &pb.RenderPromptRequest{AccountId: "acct", PromptType: "ideas", Variables: map[string]string{"clusters": "a\x00"}})
	testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "variables[clusters]")

	// Invalid UTF-8, nested (account.name), sent as raw bytes.
	account := protowire.AppendTag(nil, 1, protowire.BytesType)
	account = protowire.AppendString(account, "acct")
	account = protowire.AppendTag(account, 2, protowire.BytesType)
	account = protowire.AppendBytes(account, []byte("caf\xe9"))
	account = protowire.AppendTag(account, 3, protowire.VarintType)
	account = protowire.AppendVarint(account, uint64(pb.Plan_PLAN_STARTER))
	req := protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), account)
	codec := grpc.ForceCodecV2(rawCodec{encoding.GetCodecV2("proto")})
	err = env.Conn.Invoke(admin, pb.AccountService_UpsertAccount_FullMethodName, req, &pb.Account{}, codec)
	testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "account.name")
	// Bytes that are no message at all: INVALID_ARGUMENT once the caller is
	// authenticated (UNAUTHENTICATED before), unary or streaming.
	truncated := []byte{0x0a, 0xff}
	err = env.Conn.Invoke(admin, pb.AccountService_UpsertAccount_FullMethodName, truncated, &pb.Account{}, codec)
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "not a valid UpsertAccount request message") {
		t.Fatalf("a truncated message: %v", err)
	}
	err = env.Conn.Invoke(context.Background(), pb.ConfigService_GetModelConfig_FullMethodName, truncated, &pb.ModelConfig{}, codec)
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("a truncated message without a token: %v", err)
	}
	stream, err := env.Conn.NewStream(admin, &grpc.StreamDesc{ServerStreams: true}, pb.ConfigService_WatchModelConfig_FullMethodName, codec)
	if err == nil {
		if err = stream.SendMsg(truncated); err == nil {
			_ = stream.CloseSend()
			err = stream.RecvMsg(&pb.ModelConfig{})
		}
	}
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "not a valid WatchModelConfig request message") {
		t.Fatalf("a truncated message on a stream: %v", err)
	}
}

// TestPageTokensAreChecked: a page token must be one this service issued
// for the same query; anything else is INVALID_ARGUMENT naming page_token.
func TestPageTokensAreChecked(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	for _, id := range []string{"a", "b", "c"} {
		setPlan(t, env, admin, id, pb.Plan_PLAN_FREE)
	}
	for _, tok := range []string{"garbage", "Zm9v", "!!!", "AQ"} {
		_, err := env.Accounts.ListAccounts(admin, &pb.ListAccountsRequest{PageToken: tok})
		testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "page_token")
		_, err = env.Tokens.ListTokens(admin, &pb.ListTokensRequest{PageToken: tok})
		testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "page_token")
		_, err = env.Audit.ListAuditEvents(admin, &pb.ListAuditEventsRequest{PageToken: tok})
		testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "page_token")
	}
	first, err := env.Accounts.ListAccounts(admin, &pb.ListAccountsRequest{PageSize: 2})
	if err != nil || first.GetNextPageToken() == "" {
		t.Fatalf("first page: %v, %v", first, err)
	}
	rest, err := env.Accounts.ListAccounts(admin, &pb.ListAccountsRequest{PageSize: 2, PageToken: first.GetNextPageToken()})
	if err != nil || len(rest.GetAccounts()) != 1 || rest.GetAccounts()[0].GetId() != "c" {
		t.Fatalf("second page: %v, %v", rest, err)
	}
	// A token of another RPC, or of the same RPC with other filters.
	_, err = env.Tokens.ListTokens(admin, &pb.ListTokensRequest{PageToken: first.GetNextPageToken()})
	testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "page_token")
	events, err := env.Audit.ListAuditEvents(admin, &pb.ListAuditEventsRequest{Resource: "accounts/", PageSize: 1})
	if err != nil || events.GetNextPageToken() == "" {
		t.Fatalf("audit page: %v, %v", events, err)
	}
	_, err = env.Audit.ListAuditEvents(admin, &pb.ListAuditEventsRequest{Resource: "tokens/", PageSize: 1, PageToken: events.GetNextPageToken()})
	testsrv.WantViolation(t, err, domain.ReasonValidationFailed, "page_token")
	if _, err := env.Audit.ListAuditEvents(admin, &pb.ListAuditEventsRequest{Resource: "accounts/", PageSize: 1, PageToken: events.GetNextPageToken()}); err != nil {
		t.Fatalf("the token with its own filters: %v", err)
	}
}

// TestContractGaps: a Free account may clear an override field (SPEC 1:
// clearing is allowed on every plan) but not set one; a bulk reset naming
// an unknown prompt type is NOT_FOUND.
func TestContractGaps(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_STARTER)
	if _, err := env.Config.UpsertIntegrationOverride(admin, upsertReq("acct", pb.Integration_INTEGRATION_OPENAI,
		&pb.IntegrationOverride{Model: proto.String("gpt-4.1"), MaxTokens: proto.Int32(9000)})); err != nil {
		t.Fatal(err)
	}
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_FREE)
	account := testsrv.Ctx(env.Token(t, domain.RoleAccount, "acct"))
	o, err := env.Config.UpsertIntegrationOverride(account, upsertReq("", pb.Integration_INTEGRATION_OPENAI, &pb.IntegrationOverride{}, "max_tokens"))
	if err != nil || o.MaxTokens != nil || o.GetModel() != "gpt-4.1" {
		t.Fatalf("a Free account clearing max_tokens: %v, %v", o, err)
	}
	_, err = env.Config.UpsertIntegrationOverride(account, upsertReq("", pb.Integration_INTEGRATION_OPENAI, &pb.IntegrationOverride{MaxTokens: proto.Int32(100)}, "max_tokens"))
	testsrv.WantError(t, err, codes.PermissionDenied, domain.ReasonPlanUpgradeRequired)
	_, err = env.Config.UpsertIntegrationOverride(account, upsertReq("", pb.Integration_INTEGRATION_OPENAI, &pb.IntegrationOverride{Model: proto.String("gpt-4o")}))
	testsrv.WantError(t, err, codes.PermissionDenied, domain.ReasonPlanUpgradeRequired)

	_, err = env.Prompts.BulkResetPrompts(admin, &pb.BulkResetPromptsRequest{PromptTypes: []string{"ideas", "no_such_type"}})
	f := testsrv.WantError(t, err, codes.NotFound, domain.ReasonPromptTypeNotFound)
	if f.Info.GetMetadata()["prompt_type"] != "no_such_type" {
		t.Errorf("metadata %v does not name the type", f.Info.GetMetadata())
	}
}
