// Package domain holds the plain types and errors shared by the resolver,
// the store and the gRPC handlers. It has no dependencies on either side.
package domain

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Plan is an account's tier; the order is the upgrade order. The numbers
// of Plan, Integration and Role match the proto enums of aiconfig.v1, so
// the API layer converts by a plain cast after checking Valid.
type Plan int

const (
	PlanUnknown Plan = iota
	PlanFree
	PlanStarter
	PlanGrowth
	PlanScale
)

var planNames = map[Plan]string{PlanFree: "free", PlanStarter: "starter", PlanGrowth: "growth", PlanScale: "scale"}

// String is the plan's database name.
func (p Plan) String() string {
	if n, ok := planNames[p]; ok {
		return n
	}
	return fmt.Sprintf("plan(%d)", int(p))
}

// EnumName is the plan as the API's enum names it (PLAN_STARTER), for
// messages a caller acts on.
func (p Plan) EnumName() string { return enumName("PLAN_", p.String()) }

// enumName is the proto enum value name of a Plan, Integration or Role:
// the enum's prefix and the database name in upper case. The one place
// that rule is written (the proto's numbers match, see Plan).
func enumName(prefix, name string) string { return prefix + strings.ToUpper(name) }

// MarshalText writes the database name, for JSON.
func (p Plan) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// Valid reports whether p is one of the four plans.
func (p Plan) Valid() bool { _, ok := planNames[p]; return ok }

// AppliesOverrides reports whether the plan uses stored overrides and
// customizations. Free keeps them stored but ignores them.
func (p Plan) AppliesOverrides() bool { return p >= PlanStarter }

// ParsePlan maps a database name back to a Plan.
func ParsePlan(s string) (Plan, error) {
	for p, n := range planNames {
		if n == s {
			return p, nil
		}
	}
	return PlanUnknown, fmt.Errorf("unknown plan %q", s)
}

// Kind says what an integration produces.
type Kind int

const (
	KindText Kind = iota + 1
	KindImage
)

// Phrase names the kind in messages.
func (k Kind) Phrase() string {
	if k == KindImage {
		return "an image provider"
	}
	return "a text provider"
}

// Integration is an AI provider (see Providers). Its numbers match the
// proto enum aiconfig.v1.Integration.
type Integration int

const (
	IntegrationUnknown Integration = iota
	OpenAI
	Anthropic
	DallE
	Runware
)

// Provider is everything the service knows of one AI provider.
type Provider struct {
	Integration Integration
	// Name is the database name, the field of aiconfig.v1.GlobalSettings
	// holding its defaults, and the prefix of its update_mask paths.
	Name string
	Kind Kind
}

// Providers is the registry every part of the service iterates. Adding a
// provider takes an entry here, the proto (INTEGRATION_<NAME> with this
// number, a GlobalSettings field named Name) and a migration (the CHECK
// constraints naming it, its catalog models, its global defaults row);
// TestProviderRegistry fails while any piece is missing.
var Providers = []Provider{
	{OpenAI, "openai", KindText},
	{Anthropic, "anthropic", KindText},
	{DallE, "dalle", KindImage},
	{Runware, "runware", KindImage},
}

// Integrations lists every provider's integration, in registry order.
var Integrations = func() []Integration {
	out := make([]Integration, len(Providers))
	for i, p := range Providers {
		out[i] = p.Integration
	}
	return out
}()

func (i Integration) provider() (Provider, bool) {
	for _, p := range Providers {
		if p.Integration == i {
			return p, true
		}
	}
	return Provider{}, false
}

// String is the integration's database name.
func (i Integration) String() string {
	if p, ok := i.provider(); ok {
		return p.Name
	}
	return fmt.Sprintf("integration(%d)", int(i))
}

// EnumName is the integration's proto enum name, e.g. INTEGRATION_OPENAI.
func (i Integration) EnumName() string { return enumName("INTEGRATION_", i.String()) }

// MarshalText writes the database name, for JSON.
func (i Integration) MarshalText() ([]byte, error) { return []byte(i.String()), nil }

// Valid reports whether i is a known provider.
func (i Integration) Valid() bool { _, ok := i.provider(); return ok }

// Kind says whether the provider makes text or images (0 if unknown).
func (i Integration) Kind() Kind {
	p, _ := i.provider()
	return p.Kind
}

// ParseIntegration maps a database name back to an Integration.
func ParseIntegration(s string) (Integration, error) {
	for _, p := range Providers {
		if p.Name == s {
			return p.Integration, nil
		}
	}
	return IntegrationUnknown, fmt.Errorf("unknown integration %q", s)
}

// EnumNames lists the proto enum names of the providers of kind k (every
// provider for 0), for messages that say what is allowed.
func EnumNames(k Kind) string {
	var names []string
	for _, p := range Providers {
		if k == 0 || p.Kind == k {
			names = append(names, p.Integration.EnumName())
		}
	}
	return strings.Join(names, ", ")
}

// Role is what a token may do.
type Role int

const (
	RoleUnknown Role = iota
	RoleAdmin
	RoleService
	RoleAccount
)

var roleNames = map[Role]string{RoleAdmin: "admin", RoleService: "service", RoleAccount: "account"}

// String is the role's database name.
func (r Role) String() string {
	if n, ok := roleNames[r]; ok {
		return n
	}
	return fmt.Sprintf("role(%d)", int(r))
}

// EnumName is the role's proto enum name, e.g. ROLE_ADMIN.
func (r Role) EnumName() string { return enumName("ROLE_", r.String()) }

// MarshalText writes the database name, for JSON.
func (r Role) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// Valid reports whether r is a known role.
func (r Role) Valid() bool { _, ok := roleNames[r]; return ok }

// ParseRole maps a database or command-line name back to a Role.
func ParseRole(s string) (Role, error) {
	for r, n := range roleNames {
		if n == strings.ToLower(s) {
			return r, nil
		}
	}
	return RoleUnknown, fmt.Errorf("unknown role %q (want admin, service or account)", s)
}

// Function is one entry of the fixed catalog of what a worker does.
type Function struct {
	// Kind is the kind of provider it needs.
	Kind Kind
	// PromptType is the prompt it uses (GetGenerationContext).
	PromptType string
}

// Functions is the fixed catalog of what a worker does.
var Functions = map[string]Function{
	"auto_cluster":           {KindText, "clustering"},
	"generate_ideas":         {KindText, "ideas"},
	"generate_content":       {KindText, "content_generation"},
	"generate_image_prompts": {KindText, "image_prompt_extraction"},
	"generate_images":        {KindImage, "image_prompt_template"},
}

// FunctionIndex numbers the functions 0..len(Functions)-1 (stable, by
// sorted name), for per-function slots.
func FunctionIndex(name string) (int, bool) {
	i := slices.Index(functionNames, name)
	return i, i >= 0
}

var functionNames = FunctionNames()

// FunctionNames lists the function catalog sorted, for error messages.
func FunctionNames() []string {
	names := make([]string, 0, len(Functions))
	for n := range Functions {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Account is a customer account.
type Account struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Plan     Plan   `json:"plan"`
	Revision int64  `json:"revision"`
	// ConfigRevision moves with every write to the account or its overrides.
	ConfigRevision int64 `json:"config_revision"`
	// ItemDefaults names, per kind with own items, the item the account's
	// generation jobs get when they name none (nil: no defaults).
	ItemDefaults map[ItemKind]string `json:"item_defaults,omitempty"`
}

// Model is one catalog entry. A text model with no temperature range takes
// no temperature; an image option with an empty list does not apply.
type Model struct {
	Integration     Integration `json:"integration"`
	ID              string      `json:"model"`
	DisplayName     string      `json:"display_name"`
	Enabled         bool        `json:"enabled"`
	MaxOutputTokens *int32      `json:"max_output_tokens,omitempty"`
	MinTemperature  *float64    `json:"min_temperature,omitempty"`
	MaxTemperature  *float64    `json:"max_temperature,omitempty"`
	ImageSizes      []string    `json:"image_sizes,omitempty"`
	ImageQualities  []string    `json:"image_qualities,omitempty"`
	ImageStyles     []string    `json:"image_styles,omitempty"`
	Revision        int64       `json:"revision"`
}

// TakesTemperature reports whether the model accepts a temperature.
func (m Model) TakesTemperature() bool { return m.MinTemperature != nil && m.MaxTemperature != nil }

// Deref is *p, or the zero value when p is nil (an unset optional field).
func Deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// Params are the tunable fields shared by global defaults and overrides.
// nil means unset.
type Params struct {
	Model        *string  `json:"model,omitempty"`
	Temperature  *float64 `json:"temperature,omitempty"`
	MaxTokens    *int32   `json:"max_tokens,omitempty"`
	ImageSize    *string  `json:"image_size,omitempty"`
	ImageQuality *string  `json:"image_quality,omitempty"`
	ImageStyle   *string  `json:"image_style,omitempty"`
}

// Field names, as used in field masks, sources and violations.
const (
	FieldModel        = "model"
	FieldTemperature  = "temperature"
	FieldMaxTokens    = "max_tokens"
	FieldImageSize    = "image_size"
	FieldImageQuality = "image_quality"
	FieldImageStyle   = "image_style"
	FieldAPIKey       = "api_key"
)

// ParamFields lists the Params fields in declaration order.
var ParamFields = []string{FieldModel, FieldTemperature, FieldMaxTokens, FieldImageSize, FieldImageQuality, FieldImageStyle}

var (
	textFields  = []string{FieldModel, FieldTemperature, FieldMaxTokens}
	imageFields = []string{FieldModel, FieldImageSize, FieldImageQuality, FieldImageStyle}
)

// FieldsFor lists the parameter fields that belong to an integration's
// kind. The slice is shared: do not modify it.
func FieldsFor(k Kind) []string {
	if k == KindImage {
		return imageFields
	}
	return textFields
}

// IsSet reports whether the named field is non-nil.
func (p Params) IsSet(field string) bool {
	switch field {
	case FieldModel:
		return p.Model != nil
	case FieldTemperature:
		return p.Temperature != nil
	case FieldMaxTokens:
		return p.MaxTokens != nil
	case FieldImageSize:
		return p.ImageSize != nil
	case FieldImageQuality:
		return p.ImageQuality != nil
	case FieldImageStyle:
		return p.ImageStyle != nil
	}
	return false
}

// CopyField sets the named field of p to its value in src (nil included).
func (p *Params) CopyField(field string, src Params) {
	switch field {
	case FieldModel:
		p.Model = src.Model
	case FieldTemperature:
		p.Temperature = src.Temperature
	case FieldMaxTokens:
		p.MaxTokens = src.MaxTokens
	case FieldImageSize:
		p.ImageSize = src.ImageSize
	case FieldImageQuality:
		p.ImageQuality = src.ImageQuality
	case FieldImageStyle:
		p.ImageStyle = src.ImageStyle
	}
}

// SealedKey is a platform API key as stored: sealed by internal/secret,
// with the hint reads may show. The plaintext exists only while a write is
// sealed and when GetModelConfig answers a SERVICE caller.
type SealedKey struct {
	Sealed string
	Hint   string
}

// IsSet reports whether a key is stored.
func (k SealedKey) IsSet() bool { return k.Sealed != "" }

// MarshalJSON shows only whether a key is set and its hint, so neither the
// key nor its ciphertext can reach an audit row or a log through JSON.
func (k SealedKey) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Set  bool   `json:"set"`
		Hint string `json:"hint,omitempty"`
	}{k.IsSet(), k.Hint})
}

// KeyAAD is the associated data binding a sealed key to its row, so a
// ciphertext copied to another integration's row does not open.
func KeyAAD(i Integration) string { return "global_integration_defaults/" + i.String() }

// Defaults are the platform key and default parameters of one provider.
type Defaults struct {
	Integration Integration `json:"-"`
	APIKey      SealedKey   `json:"api_key"`
	Params      Params      `json:"params"`
}

// GlobalSettings is the platform-wide singleton.
type GlobalSettings struct {
	Defaults         map[Integration]Defaults `json:"defaults"`
	TextIntegration  Integration              `json:"text_integration"`
	ImageIntegration Integration              `json:"image_integration"`
	// ItemDefaults names, per kind with own items, the platform's default
	// global item (an account without a usable default of its own gets it).
	ItemDefaults map[ItemKind]string `json:"item_defaults,omitempty"`
	Revision     int64               `json:"revision"`
}

// Override is an account's parameter choices for one provider.
type Override struct {
	AccountID   string      `json:"account_id"`
	Integration Integration `json:"integration"`
	Params      Params      `json:"params"`
	Revision    int64       `json:"revision"`
}

// Token is a bearer token's public record.
type Token struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Role      Role       `json:"role"`
	AccountID string     `json:"account_id,omitempty"`
	CreatedAt time.Time  `json:"create_time"`
	RevokedAt *time.Time `json:"revoke_time,omitempty"` // nil while active
}

// Principal is the authenticated caller.
type Principal struct {
	TokenID   string
	Name      string
	Role      Role
	AccountID string // ACCOUNT role only
}

// AuditEvent is one audit log row.
type AuditEvent struct {
	ID           int64
	CreatedAt    time.Time
	ActorTokenID string
	ActorName    string
	ActorRole    Role
	RPC          string
	Resource     string
	AccountID    string
	Outcome      string
	Reason       string
	Before       []byte // JSON, or nil
	After        []byte // JSON, or nil
	RequestID    string
	Peer         string // denied attempts: the caller's address
	Count        int    // attempts the row stands for (denied attempts are aggregated under a flood)
}
