package api

import (
	"context"
	"fmt"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/igny8/aiconfig/internal/cache"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/resolve"
	"github.com/igny8/aiconfig/internal/secret"
	"github.com/igny8/aiconfig/internal/store"
	"github.com/igny8/aiconfig/internal/validate"
)

// ConfigServer implements aiconfig.v1.ConfigService.
type ConfigServer struct {
	pb.UnimplementedConfigServiceServer
	Store *store.Store
	// Cache serves GetModelConfig from memory (or from the database when disabled).
	Cache *cache.Cache
	// Secrets seals new API keys and opens them for SERVICE callers; nil
	// when no secret key is configured (then no key can be set or read).
	Secrets *secret.Keys
	// Draining closes when the server starts a graceful stop: watches end.
	Draining <-chan struct{}
}

func checkIntegration(field string, i pb.Integration) (domain.Integration, error) {
	d := domain.Integration(i)
	if !d.Valid() {
		return d, domain.InvalidField(field, "must be one of %s", domain.EnumNames(0))
	}
	return d, nil
}

// GetModelConfig resolves one account's configuration for one function,
// for in-process callers; gRPC callers are served modelConfigAnswer's
// bytes (wire.go).
func (s *ConfigServer) GetModelConfig(ctx context.Context, req *pb.GetModelConfigRequest) (*pb.ModelConfig, error) {
	b, err := s.modelConfigAnswer(ctx, req)
	return decoded(&pb.ModelConfig{}, b, err)
}

// modelConfigAnswer is GetModelConfig's answer, encoded.
func (s *ConfigServer) modelConfigAnswer(ctx context.Context, req *pb.GetModelConfigRequest) ([]byte, error) {
	acct, g, err := loadAccount(ctx, s.Cache, req.GetAccountId(), false)
	if err != nil {
		return nil, err
	}
	return s.modelConfigBytes(ctx, acct, g, req.GetFunction())
}

// modelConfigBytes is one account's model configuration for a function,
// encoded for the caller.
//
// The hot path answers from bytes encoded ahead of time, so nothing is
// resolved or encoded per call. An account with no override for the
// function's provider gets the answer every account of its plan gets:
// encoded once per global layer, function and plan, with the account's
// revision appended. An account with an override has its own answer, kept
// with its cached data per function. A SERVICE caller's key is appended
// last (protobuf fields may come in any order), so no copy of a key is
// kept per account.
func (s *ConfigServer) modelConfigBytes(ctx context.Context, acct *cache.Account, g *cache.Global, function string) ([]byte, error) {
	slot, ok := domain.FunctionIndex(function)
	if !ok || !s.Cache.Enabled() {
		return encode(s.build(acct, g, function, callerRole(ctx)))
	}
	integ, err := resolve.IntegrationFor(function, g.Settings)
	if err != nil {
		return nil, err
	}
	var b []byte
	var rev int64 // to append: only a shared answer lacks it
	if acct.HasOverride(integ) {
		b, err = acct.Memo(slot, g, func() ([]byte, error) { return s.encode(acct, g, function, true) })
	} else {
		b, err = g.Shared(cache.SharedKey{Kind: "model", Name: function, Plan: acct.Account.Plan},
			func() ([]byte, error) { return s.encode(acct, g, function, false) })
		rev = resolve.ModelConfigRevision(g.Settings, g.Catalog, acct.Account)
	}
	if err != nil {
		return nil, err
	}
	sealed, err := resolve.KeyFor(g.Settings, integ, callerRole(ctx))
	if err != nil {
		return nil, err
	}
	key := ""
	if sealed != "" {
		if key, err = s.openKey(g, integ, sealed); err != nil {
			return nil, err
		}
	}
	if rev == 0 && key == "" {
		return b, nil
	}
	out := make([]byte, 0, len(b)+protowire.SizeTag(revisionField)+protowire.SizeVarint(uint64(rev))+
		protowire.SizeTag(apiKeyField)+protowire.SizeBytes(len(key)))
	out = append(out, b...)
	if rev != 0 {
		out = protowire.AppendVarint(protowire.AppendTag(out, revisionField, protowire.VarintType), uint64(rev))
	}
	if key != "" {
		out = protowire.AppendString(protowire.AppendTag(out, apiKeyField, protowire.BytesType), key)
	}
	return out, nil
}

// GetGenerationContext is everything a generation job needs, for
// in-process callers; gRPC callers are served generationContextAnswer's
// bytes (wire.go).
func (s *ConfigServer) GetGenerationContext(ctx context.Context, req *pb.GetGenerationContextRequest) (*pb.GenerationContext, error) {
	b, err := s.generationContextAnswer(ctx, req)
	return decoded(&pb.GenerationContext{}, b, err)
}

// The fields of GenerationContext and its request, by kind with own items.
var (
	contextRequestFields = kindFields(&pb.GetGenerationContextRequest{}, "%s_id")
	contextItemFields    = kindFields(&pb.GenerationContext{}, "%s")
	contextFields        = (&pb.GenerationContext{}).ProtoReflect().Descriptor().Fields()
)

// generationContextAnswer is GetGenerationContext's answer, encoded: the
// bytes of the four reads it is made of (GetModelConfig,
// GetEffectivePrompt, GetAuthorProfile, GetContentStrategy), each served
// as that read serves it, so the parts equal those reads by construction.
func (s *ConfigServer) generationContextAnswer(ctx context.Context, req *pb.GetGenerationContextRequest) ([]byte, error) {
	acct, g, err := loadAccount(ctx, s.Cache, req.GetAccountId(), true)
	if err != nil {
		return nil, err
	}
	fn, err := resolve.FunctionOf(req.GetFunction())
	if err != nil {
		return nil, err
	}
	mc, err := s.modelConfigBytes(ctx, acct, g, req.GetFunction())
	if err != nil {
		return nil, err
	}
	prompt, err := itemAnswer(s.Cache, acct, g, promptKey(fn.PromptType))
	if err != nil {
		return nil, err
	}
	parts := [][]byte{mc, prompt}
	numbers := []protowire.Number{contextFields.ByName("model_config").Number(), contextFields.ByName("prompt").Number()}
	for _, k := range domain.OwnKinds {
		fd := contextRequestFields[k]
		id := req.ProtoReflect().Get(fd).String()
		if id != "" {
			if err := validate.CheckSlug(string(fd.Name()), id); err != nil {
				return nil, err
			}
		} else if id = defaultItemID(acct, g, k); id == "" {
			continue // none named, and no default
		}
		b, err := itemAnswer(s.Cache, acct, g, domain.ItemKey{Kind: k, ID: id})
		if err != nil {
			return nil, err
		}
		parts, numbers = append(parts, b), append(numbers, contextItemFields[k].Number())
	}
	size := 0
	for i, b := range parts {
		size += protowire.SizeTag(numbers[i]) + protowire.SizeBytes(len(b))
	}
	rev := uint64(max(g.Revision, acct.Account.ConfigRevision))
	revField := contextFields.ByName("revision").Number()
	out := make([]byte, 0, size+protowire.SizeTag(revField)+protowire.SizeVarint(rev))
	for i, b := range parts {
		out = protowire.AppendBytes(protowire.AppendTag(out, numbers[i], protowire.BytesType), b)
	}
	return protowire.AppendVarint(protowire.AppendTag(out, revField, protowire.VarintType), rev), nil
}

// encode builds an answer without the API key, and without the revision
// unless withRevision (a shared answer gets each account's appended).
func (s *ConfigServer) encode(acct *cache.Account, g *cache.Global, function string, withRevision bool) ([]byte, error) {
	m, err := s.build(acct, g, function, domain.RoleAdmin) // no key
	if err != nil {
		return nil, err
	}
	if !withRevision {
		m.Revision = 0
	}
	return deterministic.Marshal(m)
}

// Field numbers appended to encoded answers.
var (
	apiKeyField   = modelConfigField("api_key")
	revisionField = modelConfigField("revision")
)

func modelConfigField(name protoreflect.Name) protowire.Number {
	return (&pb.ModelConfig{}).ProtoReflect().Descriptor().Fields().ByName(name).Number()
}

// openKey opens a platform key once per global-layer version.
func (s *ConfigServer) openKey(g *cache.Global, integ domain.Integration, sealed string) (string, error) {
	key, err := g.APIKey(integ, sealed, func(sealed string) (string, error) {
		return s.Secrets.Open(sealed, domain.KeyAAD(integ))
	})
	if err != nil {
		return "", &domain.Error{Code: domain.CodeFailedPrecondition, Reason: domain.ReasonAPIKeyUnreadable,
			Message:  fmt.Sprintf("the stored %s API key cannot be decrypted (%v); an operator must configure the right AICONFIG_SECRET_KEY", integ, err),
			Metadata: map[string]string{"integration": integ.String()}}
	}
	return key, nil
}

// WatchModelConfig streams the configuration: now, then after every change
// that moves its revision. Changes arrive through the cache, which hears
// every replica's writes; a watch never sends an older revision than one
// it already sent.
func (s *ConfigServer) WatchModelConfig(req *pb.WatchModelConfigRequest, stream pb.ConfigService_WatchModelConfigServer) error {
	ctx := stream.Context()
	return watch(ctx, s.Cache, s.Draining, req.GetAccountId(),
		func() (*pb.ModelConfig, error) { return s.modelConfig(ctx, req.GetAccountId(), req.GetFunction()) },
		func(last, cur *pb.ModelConfig) bool { return cur.GetRevision() > last.GetRevision() },
		stream.Send)
}

// modelConfig resolves a configuration on every call (the memo-free
// path of watches).
func (s *ConfigServer) modelConfig(ctx context.Context, accountID, function string) (*pb.ModelConfig, error) {
	acct, g, err := loadAccount(ctx, s.Cache, accountID, false)
	if err != nil {
		return nil, err
	}
	return s.build(acct, g, function, callerRole(ctx))
}

// build resolves and encodes one configuration for a caller.
func (s *ConfigServer) build(acct *cache.Account, g *cache.Global, function string, caller domain.Role) (*pb.ModelConfig, error) {
	integ, err := resolve.IntegrationFor(function, g.Settings)
	if err != nil {
		return nil, err
	}
	in := resolve.ModelInput{Function: function, Global: g.Settings, Catalog: g.Catalog, Account: acct.Account, Caller: caller}
	in.Override = acct.Overrides[integ]
	mc, err := resolve.Config(in)
	if err != nil {
		return nil, err
	}
	var apiKey string
	if mc.SealedAPIKey != "" {
		// Opened here, at the last moment, and only for SERVICE callers.
		if apiKey, err = s.openKey(g, mc.Integration, mc.SealedAPIKey); err != nil {
			return nil, err
		}
	}
	out := &pb.ModelConfig{
		Function: mc.Function, Integration: pb.Integration(mc.Integration), Model: mc.Model,
		ApiKey: apiKey, ApiKeySet: mc.APIKeySet,
		Temperature: mc.Params.Temperature, MaxTokens: mc.Params.MaxTokens,
		ImageSize: mc.Params.ImageSize, ImageQuality: mc.Params.ImageQuality, ImageStyle: mc.Params.ImageStyle,
		Sources: map[string]pb.Source{}, Plan: pb.Plan(mc.Plan), OverridesSuppressed: mc.OverridesSuppressed, Revision: mc.Revision,
	}
	for k, v := range mc.Sources {
		out.Sources[k] = pb.Source(v)
	}
	for _, a := range mc.Adjustments {
		out.Adjustments = append(out.Adjustments, &pb.Adjustment{Field: a.Field, Requested: a.Requested, Applied: a.Applied, Reason: a.Reason})
	}
	return out, nil
}

// GetGlobalSettings returns the platform defaults with key hints only.
func (s *ConfigServer) GetGlobalSettings(ctx context.Context, _ *pb.GetGlobalSettingsRequest) (*pb.GlobalSettings, error) {
	g, err := s.Store.GetGlobal(ctx)
	if err != nil {
		return nil, err
	}
	return globalToPB(g), nil
}

// UpdateGlobalSettings applies an AIP-134 partial update.
func (s *ConfigServer) UpdateGlobalSettings(ctx context.Context, req *pb.UpdateGlobalSettingsRequest) (*pb.GlobalSettings, error) {
	in := req.GetSettings()
	patch := resolve.GlobalPatch{Defaults: map[domain.Integration]resolve.DefaultsPatch{}, Paths: maskPaths(req.GetUpdateMask())}
	var c domain.Collector
	for _, integ := range domain.Integrations {
		d := defaultsIn(in, integ)
		key, err := s.sealKey(&c, integ, d.GetApiKey())
		if err != nil {
			return nil, err
		}
		patch.Defaults[integ] = resolve.DefaultsPatch{APIKey: key, Params: domain.Params{
			Model: nonEmpty(d.GetModel()), Temperature: d.Temperature, MaxTokens: d.MaxTokens,
			ImageSize: d.ImageSize, ImageQuality: d.ImageQuality, ImageStyle: d.ImageStyle,
		}}
	}
	if err := c.Err(domain.ReasonValidationFailed); err != nil {
		return nil, err
	}
	if i := in.GetTextIntegration(); i != pb.Integration_INTEGRATION_UNSPECIFIED {
		d := domain.Integration(i)
		patch.TextIntegration = &d
	}
	if i := in.GetImageIntegration(); i != pb.Integration_INTEGRATION_UNSPECIFIED {
		d := domain.Integration(i)
		patch.ImageIntegration = &d
	}
	patch.ItemDefaults = itemIDs(in, settingsDefaultFields, nil)
	g, err := s.Store.UpdateGlobal(ctx, req.ExpectedRevision, func(cur domain.GlobalSettings, models []domain.Model) (domain.GlobalSettings, error) {
		next, _, err := resolve.ApplyGlobalPatch(cur, patch, domain.NewCatalog(models))
		return next, err
	})
	if err != nil {
		return nil, err
	}
	return globalToPB(g), nil
}

// sealKey checks and seals a key given in a request; nil when none was given.
func (s *ConfigServer) sealKey(c *domain.Collector, integ domain.Integration, key string) (*domain.SealedKey, error) {
	if key == "" {
		return nil, nil
	}
	before := len(c.Violations)
	validate.CheckAPIKey(c, "settings."+integ.String()+"."+domain.FieldAPIKey, key)
	if len(c.Violations) > before {
		return nil, nil
	}
	sealed, err := s.Secrets.Seal(key, domain.KeyAAD(integ))
	if err != nil {
		return nil, &domain.Error{Code: domain.CodeFailedPrecondition, Reason: domain.ReasonSecretKeyMissing,
			Message: "API keys cannot be stored: the server has no secret key to encrypt them (set AICONFIG_SECRET_KEY and restart)"}
	}
	return &domain.SealedKey{Sealed: sealed, Hint: secret.Hint(key)}, nil
}

// ListModels lists the catalog, optionally one integration's.
func (s *ConfigServer) ListModels(ctx context.Context, req *pb.ListModelsRequest) (*pb.ListModelsResponse, error) {
	var filter domain.Integration
	if req.GetIntegration() != pb.Integration_INTEGRATION_UNSPECIFIED {
		var err error
		if filter, err = checkIntegration("integration", req.GetIntegration()); err != nil {
			return nil, err
		}
	}
	models, err := s.Store.ListModels(ctx)
	if err != nil {
		return nil, err
	}
	out := &pb.ListModelsResponse{}
	for _, m := range models {
		if (filter == domain.IntegrationUnknown || m.Integration == filter) && (m.Enabled || req.GetIncludeDisabled()) {
			out.Models = append(out.Models, modelToPB(m))
		}
	}
	return out, nil
}

// UpsertModel creates or replaces a catalog entry, refusing a change that
// would leave a global default invalid.
func (s *ConfigServer) UpsertModel(ctx context.Context, req *pb.UpsertModelRequest) (*pb.Model, error) {
	m := modelFromPB(req.GetModel())
	if err := validate.Model(m); err != nil {
		return nil, err
	}
	saved, err := s.Store.UpsertModel(ctx, m, req.ExpectedRevision, func(g domain.GlobalSettings, after []domain.Model) error {
		if err := validate.GlobalSettings(g, domain.NewCatalog(after), nil); err != nil {
			return &domain.Error{Code: domain.CodeFailedPrecondition, Reason: domain.ReasonModelInUse,
				Message:  fmt.Sprintf("this change would make the global defaults invalid (%v); change the global settings first", err),
				Metadata: map[string]string{"model": m.ID, "integration": m.Integration.String()}}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return modelToPB(saved), nil
}

// ListPlanLimits lists how many own items each plan may keep, per kind.
func (s *ConfigServer) ListPlanLimits(ctx context.Context, _ *pb.ListPlanLimitsRequest) (*pb.ListPlanLimitsResponse, error) {
	list, err := s.Store.ListPlanLimits(ctx)
	if err != nil {
		return nil, err
	}
	out := &pb.ListPlanLimitsResponse{}
	for _, l := range list {
		out.PlanLimits = append(out.PlanLimits, planLimitToPB(l))
	}
	return out, nil
}

// UpdatePlanLimit sets one plan's limit for one kind.
func (s *ConfigServer) UpdatePlanLimit(ctx context.Context, req *pb.UpdatePlanLimitRequest) (*pb.PlanLimit, error) {
	in := req.GetPlanLimit()
	l := domain.PlanLimit{Plan: domain.Plan(in.GetPlan()), Kind: domain.ItemKind(in.GetKind()), MaxItems: in.GetMaxItems()}
	if err := validate.PlanLimit(l); err != nil {
		return nil, err
	}
	saved, err := s.Store.UpdatePlanLimit(ctx, l, req.ExpectedRevision)
	if err != nil {
		return nil, err
	}
	return planLimitToPB(saved), nil
}

func planLimitToPB(l domain.PlanLimit) *pb.PlanLimit {
	return &pb.PlanLimit{Plan: pb.Plan(l.Plan), Kind: pb.ItemKind(l.Kind), MaxItems: l.MaxItems, Revision: l.Revision}
}

// GetIntegrationOverride returns one override.
func (s *ConfigServer) GetIntegrationOverride(ctx context.Context, req *pb.GetIntegrationOverrideRequest) (*pb.IntegrationOverride, error) {
	if err := validate.CheckAccountID("account_id", req.GetAccountId()); err != nil {
		return nil, err
	}
	integ, err := checkIntegration("integration", req.GetIntegration())
	if err != nil {
		return nil, err
	}
	o, a, err := s.Store.GetOverride(ctx, req.GetAccountId(), integ)
	if err != nil {
		return nil, err
	}
	return overrideToPB(o, a), nil
}

// ListIntegrationOverrides returns an account's overrides.
func (s *ConfigServer) ListIntegrationOverrides(ctx context.Context, req *pb.ListIntegrationOverridesRequest) (*pb.ListIntegrationOverridesResponse, error) {
	if err := validate.CheckAccountID("account_id", req.GetAccountId()); err != nil {
		return nil, err
	}
	list, a, err := s.Store.ListOverrides(ctx, req.GetAccountId())
	if err != nil {
		return nil, err
	}
	out := &pb.ListIntegrationOverridesResponse{}
	for _, o := range list {
		out.Overrides = append(out.Overrides, overrideToPB(o, a))
	}
	return out, nil
}

// UpsertIntegrationOverride creates or updates an override (AIP-134 mask).
func (s *ConfigServer) UpsertIntegrationOverride(ctx context.Context, req *pb.UpsertIntegrationOverrideRequest) (*pb.IntegrationOverride, error) {
	in := req.GetOverride()
	if in == nil {
		in = &pb.IntegrationOverride{}
	}
	if err := validate.CheckAccountID("override.account_id", in.GetAccountId()); err != nil {
		return nil, err
	}
	integ, err := checkIntegration("override.integration", in.GetIntegration())
	if err != nil {
		return nil, err
	}
	patch := resolve.OverridePatch{Paths: maskPaths(req.GetUpdateMask()), Params: domain.Params{
		Model: in.Model, Temperature: in.Temperature, MaxTokens: in.MaxTokens,
		ImageSize: in.ImageSize, ImageQuality: in.ImageQuality, ImageStyle: in.ImageStyle,
	}}
	o, a, err := s.Store.UpsertOverride(ctx, in.GetAccountId(), integ, req.ExpectedRevision,
		func(cur domain.Params, g domain.GlobalSettings, models []domain.Model) (domain.Params, error) {
			next, err := resolve.ApplyOverridePatch(cur, patch, integ)
			if err != nil {
				return next, err
			}
			return next, validate.Override(domain.Override{Integration: integ, Params: next}, g, domain.NewCatalog(models))
		})
	if err != nil {
		return nil, err
	}
	return overrideToPB(o, a), nil
}

// DeleteIntegrationOverride removes an override.
func (s *ConfigServer) DeleteIntegrationOverride(ctx context.Context, req *pb.DeleteIntegrationOverrideRequest) (*pb.DeleteIntegrationOverrideResponse, error) {
	if err := validate.CheckAccountID("account_id", req.GetAccountId()); err != nil {
		return nil, err
	}
	integ, err := checkIntegration("integration", req.GetIntegration())
	if err != nil {
		return nil, err
	}
	if err := s.Store.DeleteOverride(ctx, req.GetAccountId(), integ, req.ExpectedRevision); err != nil {
		return nil, err
	}
	return &pb.DeleteIntegrationOverrideResponse{}, nil
}
