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

func accountPromptToPB(p domain.AccountPrompt) *pb.AccountPrompt {
	return &pb.AccountPrompt{AccountId: p.AccountID, PromptType: p.PromptType, PromptValue: p.PromptValue,
		DefaultPrompt: p.DefaultPrompt, IsCustomized: p.IsCustomized, Revision: p.Revision}
}

func effectiveToPB(e resolve.EffectivePrompt) *pb.EffectivePrompt {
	return &pb.EffectivePrompt{PromptType: e.PromptType, Text: e.Text, Source: pb.Source(e.Source), IsCustomized: e.IsCustomized,
		DefaultChanged: e.DefaultChanged, GlobalRevision: e.GlobalRevision, Plan: pb.Plan(e.Plan), Revision: e.Revision,
		Variables: e.Variables, OverridesSuppressed: e.OverridesSuppressed}
}

// promptInputs loads what one account's prompt of one type resolves from.
// stored is nil when the account keeps no prompt of the type.
func (s *PromptServer) promptInputs(ctx context.Context, accountID, promptType string) (*cache.Account, *cache.Global, domain.GlobalPrompt, *domain.AccountPrompt, error) {
	if err := validate.CheckPromptType("prompt_type", promptType); err != nil {
		return nil, nil, domain.GlobalPrompt{}, nil, err
	}
	acct, g, err := loadAccount(ctx, s.Cache, accountID)
	if err != nil {
		return nil, nil, domain.GlobalPrompt{}, nil, err
	}
	global, ok := g.Prompts[promptType]
	if !ok {
		return nil, nil, domain.GlobalPrompt{}, nil, store.PromptTypeNotFound(promptType)
	}
	var stored *domain.AccountPrompt
	if p, ok := acct.Prompts[promptType]; ok {
		stored = &p
	}
	return acct, g, global, stored, nil
}

// resolveOne loads and resolves one account's prompt of one type.
func (s *PromptServer) resolveOne(ctx context.Context, accountID, promptType string) (resolve.EffectivePrompt, error) {
	acct, _, global, stored, err := s.promptInputs(ctx, accountID, promptType)
	if err != nil {
		return resolve.EffectivePrompt{}, err
	}
	return resolve.ResolvePrompt(global, acct.Account, stored), nil
}

// GetEffectivePrompt returns the text an account uses for one prompt
// type, for in-process callers; gRPC callers are served
// effectivePromptAnswer's bytes (wire.go).
func (s *PromptServer) GetEffectivePrompt(ctx context.Context, req *pb.GetEffectivePromptRequest) (*pb.EffectivePrompt, error) {
	b, err := s.effectivePromptAnswer(ctx, req)
	return decoded(&pb.EffectivePrompt{}, b, err)
}

// effectivePromptAnswer is GetEffectivePrompt's answer, encoded: for an
// account with no stored prompt of the type it depends only on the global
// prompt and the plan, and is encoded once per global layer, prompt type
// and plan; an account's own prompt is encoded once per account data and
// layer.
func (s *PromptServer) effectivePromptAnswer(ctx context.Context, req *pb.GetEffectivePromptRequest) ([]byte, error) {
	acct, g, global, stored, err := s.promptInputs(ctx, req.GetAccountId(), req.GetPromptType())
	if err != nil {
		return nil, err
	}
	build := func() ([]byte, error) {
		return deterministic.Marshal(effectiveToPB(resolve.ResolvePrompt(global, acct.Account, stored)))
	}
	switch {
	case !s.Cache.Enabled():
		return build()
	case stored != nil: // the account's own text: memoized with its data
		return acct.MemoNamed(global.PromptType, g, build)
	}
	return g.Shared(cache.SharedKey{Kind: "prompt", Name: global.PromptType, Plan: acct.Account.Plan}, build)
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
	acct, g, err := loadAccount(ctx, s.Cache, req.GetAccountId())
	if err != nil {
		return nil, err
	}
	out := &pb.ListEffectivePromptsResponse{}
	for _, global := range g.PromptList {
		var stored *domain.AccountPrompt
		if p, ok := acct.Prompts[global.PromptType]; ok {
			stored = &p
		}
		out.Prompts = append(out.Prompts, effectiveToPB(resolve.ResolvePrompt(global, acct.Account, stored)))
	}
	return out, nil
}

func (s *PromptServer) changePrompt(ctx context.Context, accountID, promptType, action string, expected *int64, change store.PromptChange) (*pb.AccountPrompt, error) {
	if err := validate.CheckAccountID("account_id", accountID); err != nil {
		return nil, err
	}
	if err := validate.CheckPromptType("prompt_type", promptType); err != nil {
		return nil, err
	}
	p, err := s.Store.ChangeAccountPrompt(ctx, accountID, promptType, action, expected, change)
	if err != nil {
		return nil, err
	}
	p.AccountID, p.PromptType = accountID, promptType
	return accountPromptToPB(p), nil
}

// CustomizePrompt sets an account's own text (plan >= Starter, enforced by the rule).
func (s *PromptServer) CustomizePrompt(ctx context.Context, req *pb.CustomizePromptRequest) (*pb.AccountPrompt, error) {
	return s.changePrompt(ctx, req.GetAccountId(), req.GetPromptType(), domain.ActionCustomize, req.ExpectedRevision,
		func(g domain.GlobalPrompt, cur *domain.AccountPrompt) (domain.AccountPrompt, bool, error) {
			next, err := resolve.CustomizePrompt(g, cur, req.GetText())
			return next, err == nil, err
		})
}

// ResetPrompt returns an account prompt to the live global text. An
// account that never stored one has nothing to reset: no write.
func (s *PromptServer) ResetPrompt(ctx context.Context, req *pb.ResetPromptRequest) (*pb.AccountPrompt, error) {
	return s.changePrompt(ctx, req.GetAccountId(), req.GetPromptType(), domain.ActionReset, req.ExpectedRevision,
		func(g domain.GlobalPrompt, cur *domain.AccountPrompt) (domain.AccountPrompt, bool, error) {
			next := resolve.ResetPrompt(g)
			if cur == nil {
				return next, false, nil
			}
			return next, true, nil
		})
}

// RenderPrompt fills the effective text's variables.
func (s *PromptServer) RenderPrompt(ctx context.Context, req *pb.RenderPromptRequest) (*pb.RenderPromptResponse, error) {
	e, err := s.resolveOne(ctx, req.GetAccountId(), req.GetPromptType())
	if err != nil {
		return nil, err
	}
	text, err := resolve.Render(e.Text, e.Variables, req.GetVariables())
	if err != nil {
		return nil, err
	}
	return &pb.RenderPromptResponse{Text: text, Source: pb.Source(e.Source), PromptType: e.PromptType, GlobalRevision: e.GlobalRevision}, nil
}

// GetGlobalPrompt returns one global prompt.
func (s *PromptServer) GetGlobalPrompt(ctx context.Context, req *pb.GetGlobalPromptRequest) (*pb.GlobalPrompt, error) {
	if err := validate.CheckPromptType("prompt_type", req.GetPromptType()); err != nil {
		return nil, err
	}
	p, err := s.Store.GetGlobalPrompt(ctx, req.GetPromptType())
	if err != nil {
		return nil, err
	}
	return globalPromptToPB(p), nil
}

// ListGlobalPrompts lists the global prompts.
func (s *PromptServer) ListGlobalPrompts(ctx context.Context, _ *pb.ListGlobalPromptsRequest) (*pb.ListGlobalPromptsResponse, error) {
	list, err := s.Store.ListGlobalPrompts(ctx)
	if err != nil {
		return nil, err
	}
	out := &pb.ListGlobalPromptsResponse{}
	for _, p := range list {
		out.Prompts = append(out.Prompts, globalPromptToPB(p))
	}
	return out, nil
}

// UpsertGlobalPrompt creates or replaces a global prompt.
func (s *PromptServer) UpsertGlobalPrompt(ctx context.Context, req *pb.UpsertGlobalPromptRequest) (*pb.GlobalPrompt, error) {
	in := req.GetPrompt()
	p := domain.GlobalPrompt{PromptType: in.GetPromptType(), Text: in.GetText(), Description: in.GetDescription(), Variables: in.GetVariables()}
	if err := validate.ValidateGlobalPrompt(p); err != nil {
		return nil, err
	}
	saved, err := s.Store.UpsertGlobalPrompt(ctx, p, req.ExpectedRevision)
	if err != nil {
		return nil, err
	}
	return globalPromptToPB(saved), nil
}

// BulkResetPrompts resets the selected account prompts to the global text.
func (s *PromptServer) BulkResetPrompts(ctx context.Context, req *pb.BulkResetPromptsRequest) (*pb.BulkResetPromptsResponse, error) {
	var c domain.Collector
	if len(req.GetAccountIds()) == 0 && len(req.GetPromptTypes()) == 0 {
		c.Add("account_ids", "give account_ids, prompt_types or both; resetting every account takes an explicit list of prompt_types")
	}
	for i, id := range req.GetAccountIds() {
		if err := validate.CheckAccountID("account_ids["+strconv.Itoa(i)+"]", id); err != nil {
			c.Violations = append(c.Violations, err.(*domain.Error).Violations...)
		}
	}
	for i, t := range req.GetPromptTypes() {
		if err := validate.CheckPromptType("prompt_types["+strconv.Itoa(i)+"]", t); err != nil {
			c.Violations = append(c.Violations, err.(*domain.Error).Violations...)
		}
	}
	if err := c.Err(domain.ReasonValidationFailed); err != nil {
		return nil, err
	}
	n, err := s.Store.BulkResetPrompts(ctx, req.GetAccountIds(), req.GetPromptTypes())
	if err != nil {
		return nil, err
	}
	return &pb.BulkResetPromptsResponse{ResetCount: int32(n)}, nil
}

// ListPromptHistory pages through prompt changes, newest first.
func (s *PromptServer) ListPromptHistory(ctx context.Context, req *pb.ListPromptHistoryRequest) (*pb.ListPromptHistoryResponse, error) {
	if id := req.GetAccountId(); id != "" {
		if err := validate.CheckAccountID("account_id", id); err != nil {
			return nil, err
		}
	}
	if t := req.GetPromptType(); t != "" {
		if err := validate.CheckPromptType("prompt_type", t); err != nil {
			return nil, err
		}
	}
	p, err := newPage(req.GetPageSize(), req.GetPageToken(), "ListPromptHistory", req.GetAccountId(), req.GetPromptType())
	if err != nil {
		return nil, err
	}
	before, err := p.beforeID()
	if err != nil {
		return nil, err
	}
	list, err := s.Store.ListPromptHistory(ctx, req.GetAccountId(), req.GetPromptType(), before, p.limit+1)
	if err != nil {
		return nil, err
	}
	list, next := pageOf(p, list, func(e domain.PromptHistoryEntry) string { return strconv.FormatInt(e.ID, 10) })
	out := &pb.ListPromptHistoryResponse{NextPageToken: next}
	for _, e := range list {
		out.Entries = append(out.Entries, &pb.PromptHistoryEntry{Id: e.ID, AccountId: e.AccountID, PromptType: e.PromptType, Action: e.Action,
			ActorName: e.ActorName, ActorRole: pb.Role(e.ActorRole), OldText: e.OldText, NewText: e.NewText, Revision: e.Revision,
			CreateTime: timestamppb.New(e.CreatedAt)})
	}
	return out, nil
}
