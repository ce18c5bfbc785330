package api

import (
	"context"
	"strconv"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/cache"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/resolve"
	"github.com/igny8/aiconfig/internal/store"
	"github.com/igny8/aiconfig/internal/validate"
)

// Prompts are items of the customizable-item mechanism (items.go) whose
// content is their text; their RPCs keep their own messages.

// promptAPI declares the prompt kind to the API.
type promptAPI struct{}

func (promptAPI) effective(e resolve.EffectiveItem) proto.Message { return effectiveToPB(e) }

func (promptAPI) version(_ string, c domain.Content, _ bool) *pb.ItemVersion {
	return &pb.ItemVersion{Version: &pb.ItemVersion_Prompt{Prompt: promptText(c)}}
}

// check: the text must use the global prompt's variables, and no others.
func (promptAPI) check(c *domain.Collector, prefix string, content domain.Content, g *domain.GlobalItem) {
	var vars []string
	if g != nil {
		vars = domain.GlobalPromptOf(*g).Variables
	}
	validate.CheckTemplate(c, prefix+"text", promptText(content), vars)
}

// promptText is a prompt's content as text ("" for none).
func promptText(c domain.Content) string {
	t, _ := c.(domain.PromptText)
	return string(t)
}

// PromptServer implements aiconfig.v1.PromptService.
type PromptServer struct {
	pb.UnimplementedPromptServiceServer
	Store *store.Store
	// Cache serves the effective-prompt reads.
	Cache *cache.Cache
	// Draining closes when the server starts a graceful stop: watches end.
	Draining <-chan struct{}
}

func globalPromptToPB(p domain.GlobalPrompt) *pb.GlobalPrompt {
	return &pb.GlobalPrompt{PromptType: p.PromptType, Text: p.Text, Description: p.Description, Variables: p.Variables, Revision: p.Revision}
}

// accountPromptToPB is what an account stores for a prompt after a change
// (nothing stored: what a reset would store, at revision 0).
func accountPromptToPB(accountID string, st store.ItemState) *pb.AccountPrompt {
	p := st.Stored
	if p == nil {
		reset := resolve.Reset(*st.Global)
		p = &reset
	}
	return &pb.AccountPrompt{AccountId: accountID, PromptType: p.ID, PromptValue: promptText(p.Content),
		DefaultPrompt: promptText(p.Default), IsCustomized: p.IsCustomized, Revision: p.Revision}
}

func effectiveToPB(e resolve.EffectiveItem) *pb.EffectivePrompt {
	meta, _ := e.Meta.(domain.PromptMeta)
	return &pb.EffectivePrompt{PromptType: e.ID, Text: promptText(e.Content), Source: pb.Source(e.Source), IsCustomized: e.IsCustomized,
		DefaultChanged: e.DefaultChanged, GlobalRevision: e.GlobalRevision, Plan: pb.Plan(e.Plan), Revision: e.Revision,
		Variables: meta.Variables, OverridesSuppressed: e.OverridesSuppressed}
}

func promptKey(promptType string) domain.ItemKey {
	return domain.ItemKey{Kind: domain.ItemPrompt, ID: promptType}
}

// resolveOne loads and resolves one account's prompt of one type.
func (s *PromptServer) resolveOne(ctx context.Context, accountID, promptType string) (resolve.EffectiveItem, error) {
	if err := validate.CheckPromptType("prompt_type", promptType); err != nil {
		return resolve.EffectiveItem{}, err
	}
	acct, g, err := loadAccount(ctx, s.Cache, accountID, true)
	if err != nil {
		return resolve.EffectiveItem{}, err
	}
	return usableItem(acct, g, promptKey(promptType))
}

// GetEffectivePrompt returns the text an account uses for one prompt
// type, for in-process callers; gRPC callers are served
// effectivePromptAnswer's bytes (wire.go).
func (s *PromptServer) GetEffectivePrompt(ctx context.Context, req *pb.GetEffectivePromptRequest) (*pb.EffectivePrompt, error) {
	b, err := s.effectivePromptAnswer(ctx, req)
	return decoded(&pb.EffectivePrompt{}, b, err)
}

// effectivePromptAnswer is GetEffectivePrompt's answer, encoded once per
// global layer, prompt type and plan, or per account data for a stored
// prompt (itemAnswer).
func (s *PromptServer) effectivePromptAnswer(ctx context.Context, req *pb.GetEffectivePromptRequest) ([]byte, error) {
	if err := validate.CheckPromptType("prompt_type", req.GetPromptType()); err != nil {
		return nil, err
	}
	acct, g, err := loadAccount(ctx, s.Cache, req.GetAccountId(), true)
	if err != nil {
		return nil, err
	}
	return itemAnswer(s.Cache, acct, g, promptKey(req.GetPromptType()))
}

// WatchEffectivePrompt streams the effective prompt: now, then after every
// change to it (same machinery as WatchModelConfig).
func (s *PromptServer) WatchEffectivePrompt(req *pb.WatchEffectivePromptRequest, stream pb.PromptService_WatchEffectivePromptServer) error {
	ctx := stream.Context()
	return watch(ctx, s.Cache, s.Draining, req.GetAccountId(),
		func() (*pb.EffectivePrompt, error) {
			e, err := s.resolveOne(ctx, req.GetAccountId(), req.GetPromptType())
			return effectiveToPB(e), err
		},
		func(last, cur *pb.EffectivePrompt) bool { return !proto.Equal(last, cur) },
		stream.Send)
}

// ListEffectivePrompts resolves every prompt type for an account.
func (s *PromptServer) ListEffectivePrompts(ctx context.Context, req *pb.ListEffectivePromptsRequest) (*pb.ListEffectivePromptsResponse, error) {
	acct, g, err := loadAccount(ctx, s.Cache, req.GetAccountId(), true)
	if err != nil {
		return nil, err
	}
	out := &pb.ListEffectivePromptsResponse{}
	for _, e := range accountItems(acct, g, domain.ItemPrompt) {
		out.Prompts = append(out.Prompts, effectiveToPB(e))
	}
	return out, nil
}

func (s *PromptServer) changePrompt(ctx context.Context, accountID, promptType string, expected *int64, change store.ItemChange) (*pb.AccountPrompt, error) {
	if err := validate.CheckAccountID("account_id", accountID); err != nil {
		return nil, err
	}
	if err := validate.CheckPromptType("prompt_type", promptType); err != nil {
		return nil, err
	}
	st, err := s.Store.ChangeAccountItem(ctx, accountID, promptKey(promptType), expected, change)
	if err != nil {
		return nil, err
	}
	return accountPromptToPB(accountID, st), nil
}

// CustomizePrompt sets an account's own text (plan >= Starter, enforced by the rule).
func (s *PromptServer) CustomizePrompt(ctx context.Context, req *pb.CustomizePromptRequest) (*pb.AccountPrompt, error) {
	text := domain.PromptText(req.GetText())
	return s.changePrompt(ctx, req.GetAccountId(), req.GetPromptType(), req.ExpectedRevision,
		setItem(req.GetAccountId(), promptKey(req.GetPromptType()), "", func(domain.Content) (domain.Content, error) { return text, nil }))
}

// ResetPrompt returns an account prompt to the live global text. An
// account that never stored one has nothing to reset: no write.
func (s *PromptServer) ResetPrompt(ctx context.Context, req *pb.ResetPromptRequest) (*pb.AccountPrompt, error) {
	return s.changePrompt(ctx, req.GetAccountId(), req.GetPromptType(), req.ExpectedRevision,
		resetItem(req.GetAccountId(), promptKey(req.GetPromptType())))
}

// RenderPrompt fills the effective text's variables.
func (s *PromptServer) RenderPrompt(ctx context.Context, req *pb.RenderPromptRequest) (*pb.RenderPromptResponse, error) {
	e, err := s.resolveOne(ctx, req.GetAccountId(), req.GetPromptType())
	if err != nil {
		return nil, err
	}
	meta, _ := e.Meta.(domain.PromptMeta)
	text, err := resolve.Render(promptText(e.Content), meta.Variables, req.GetVariables())
	if err != nil {
		return nil, err
	}
	return &pb.RenderPromptResponse{Text: text, Source: pb.Source(e.Source), PromptType: e.ID, GlobalRevision: e.GlobalRevision}, nil
}

// GetGlobalPrompt returns one global prompt.
func (s *PromptServer) GetGlobalPrompt(ctx context.Context, req *pb.GetGlobalPromptRequest) (*pb.GlobalPrompt, error) {
	if err := validate.CheckPromptType("prompt_type", req.GetPromptType()); err != nil {
		return nil, err
	}
	g, err := s.Store.GetGlobalItem(ctx, domain.ItemPrompt, req.GetPromptType())
	if err != nil {
		return nil, err
	}
	return globalPromptToPB(domain.GlobalPromptOf(g)), nil
}

// ListGlobalPrompts lists the global prompts.
func (s *PromptServer) ListGlobalPrompts(ctx context.Context, _ *pb.ListGlobalPromptsRequest) (*pb.ListGlobalPromptsResponse, error) {
	list, err := s.Store.ListGlobalItems(ctx, domain.ItemPrompt)
	if err != nil {
		return nil, err
	}
	out := &pb.ListGlobalPromptsResponse{}
	for _, g := range list {
		out.Prompts = append(out.Prompts, globalPromptToPB(domain.GlobalPromptOf(g)))
	}
	return out, nil
}

// UpsertGlobalPrompt creates or replaces a global prompt.
func (s *PromptServer) UpsertGlobalPrompt(ctx context.Context, req *pb.UpsertGlobalPromptRequest) (*pb.GlobalPrompt, error) {
	in := req.GetPrompt()
	p := domain.GlobalPrompt{PromptType: in.GetPromptType(), Text: in.GetText(), Description: in.GetDescription(), Variables: in.GetVariables()}
	if err := validate.GlobalPrompt(p); err != nil {
		return nil, err
	}
	saved, err := s.Store.UpsertGlobalItem(ctx, p.Item(), req.ExpectedRevision)
	if err != nil {
		return nil, err
	}
	return globalPromptToPB(domain.GlobalPromptOf(saved)), nil
}

// BulkResetPrompts resets the selected account prompts to the global text.
func (s *PromptServer) BulkResetPrompts(ctx context.Context, req *pb.BulkResetPromptsRequest) (*pb.BulkResetPromptsResponse, error) {
	var c domain.Collector
	if len(req.GetAccountIds()) == 0 && len(req.GetPromptTypes()) == 0 {
		c.Add("account_ids", "give account_ids, prompt_types or both; resetting every account takes an explicit list of prompt_types")
	}
	for i, id := range req.GetAccountIds() {
		if err := validate.CheckAccountID("account_ids["+strconv.Itoa(i)+"]", id); err != nil {
			c.Merge("account_ids["+strconv.Itoa(i)+"]", err)
		}
	}
	for i, t := range req.GetPromptTypes() {
		if err := validate.CheckPromptType("prompt_types["+strconv.Itoa(i)+"]", t); err != nil {
			c.Merge("prompt_types["+strconv.Itoa(i)+"]", err)
		}
	}
	if err := c.Err(domain.ReasonValidationFailed); err != nil {
		return nil, err
	}
	n, err := s.Store.BulkReset(ctx, domain.ItemPrompt, req.GetAccountIds(), req.GetPromptTypes())
	if err != nil {
		return nil, err
	}
	return &pb.BulkResetPromptsResponse{ResetCount: int32(n)}, nil
}

// ListPromptHistory pages through prompt changes, newest first (the
// prompts' part of HistoryService.ListHistory, in prompt terms).
func (s *PromptServer) ListPromptHistory(ctx context.Context, req *pb.ListPromptHistoryRequest) (*pb.ListPromptHistoryResponse, error) {
	if t := req.GetPromptType(); t != "" {
		if err := validate.CheckPromptType("prompt_type", t); err != nil {
			return nil, err
		}
	}
	list, next, err := historyPage(ctx, s.Store, req.GetAccountId(), domain.ItemPrompt, req.GetPromptType(), req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &pb.ListPromptHistoryResponse{NextPageToken: next}
	for _, e := range list {
		out.Entries = append(out.Entries, &pb.PromptHistoryEntry{Id: e.ID, AccountId: e.AccountID, PromptType: e.ItemID, Action: e.Action,
			ActorName: e.ActorName, ActorRole: pb.Role(e.ActorRole), OldText: promptText(e.Old), NewText: promptText(e.New), Revision: e.Revision,
			CreateTime: timestamppb.New(e.CreatedAt)})
	}
	return out, nil
}
