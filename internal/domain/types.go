// Package domain holds the plain types and errors shared by the resolver,
// the store and the gRPC handlers. It has no dependencies on either side.
package domain

import (
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

// Integration is an AI provider.
type Integration int

const (
	IntegrationUnknown Integration = iota
	OpenAI
	Anthropic
	DallE
	Runware
)

// Integrations lists every provider in a stable order.
var Integrations = []Integration{OpenAI, Anthropic, DallE, Runware}

var integrationNames = map[Integration]string{OpenAI: "openai", Anthropic: "anthropic", DallE: "dalle", Runware: "runware"}

// String is the integration's database name.
func (i Integration) String() string {
	if n, ok := integrationNames[i]; ok {
		return n
	}
	return fmt.Sprintf("integration(%d)", int(i))
}

// Valid reports whether i is a known provider.
func (i Integration) Valid() bool { _, ok := integrationNames[i]; return ok }

// Kind says whether the provider makes text or images.
func (i Integration) Kind() Kind {
	if i == DallE || i == Runware {
		return KindImage
	}
	return KindText
}

// ParseIntegration maps a database name back to an Integration.
func ParseIntegration(s string) (Integration, error) {
	for i, n := range integrationNames {
		if n == s {
			return i, nil
		}
	}
	return IntegrationUnknown, fmt.Errorf("unknown integration %q", s)
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

// Functions is the fixed catalog of what a worker does, and the kind of
// provider each one needs.
var Functions = map[string]Kind{
	"auto_cluster":           KindText,
	"generate_ideas":         KindText,
	"generate_content":       KindText,
	"generate_image_prompts": KindText,
	"generate_images":        KindImage,
}

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
	ID       string
	Name     string
	Plan     Plan
	Revision int64
	// ConfigRevision moves with every write to the account or its overrides.
	ConfigRevision int64
}

// Model is one catalog entry. A text model with no temperature range takes
// no temperature; an image option with an empty list does not apply.
type Model struct {
	Integration     Integration
	ID              string
	DisplayName     string
	Enabled         bool
	MaxOutputTokens *int32
	MinTemperature  *float64
	MaxTemperature  *float64
	ImageSizes      []string
	ImageQualities  []string
	ImageStyles     []string
	Revision        int64
}

// TakesTemperature reports whether the model accepts a temperature.
func (m Model) TakesTemperature() bool { return m.MinTemperature != nil && m.MaxTemperature != nil }

// Params are the tunable fields shared by global defaults and overrides.
// nil means unset.
type Params struct {
	Model        *string
	Temperature  *float64
	MaxTokens    *int32
	ImageSize    *string
	ImageQuality *string
	ImageStyle   *string
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

// FieldsFor lists the parameter fields that belong to an integration's kind.
func FieldsFor(k Kind) []string {
	if k == KindImage {
		return []string{FieldModel, FieldImageSize, FieldImageQuality, FieldImageStyle}
	}
	return []string{FieldModel, FieldTemperature, FieldMaxTokens}
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

// KeyAAD is the associated data binding a sealed key to its row, so a
// ciphertext copied to another integration's row does not open.
func KeyAAD(i Integration) string { return "global_integration_defaults/" + i.String() }

// Defaults are the platform key and default parameters of one provider.
type Defaults struct {
	Integration Integration
	APIKey      SealedKey
	Params      Params
}

// GlobalSettings is the platform-wide singleton.
type GlobalSettings struct {
	Defaults         map[Integration]Defaults
	TextIntegration  Integration
	ImageIntegration Integration
	Revision         int64
}

// Override is an account's parameter choices for one provider.
type Override struct {
	AccountID   string
	Integration Integration
	Params      Params
	Revision    int64
}

// Token is a bearer token's public record.
type Token struct {
	ID        string
	Name      string
	Role      Role
	AccountID string
	CreatedAt time.Time
	RevokedAt *time.Time // nil while active
}

// Principal is the authenticated caller.
type Principal struct {
	TokenID   string
	Name      string
	Role      Role
	AccountID string // ACCOUNT role only
}

// GlobalPrompt is the platform default for one prompt type.
type GlobalPrompt struct {
	PromptType  string
	Text        string
	Description string
	Variables   []string
	Revision    int64
}

// AccountPrompt is an account's stored prompt for one type.
type AccountPrompt struct {
	AccountID     string
	PromptType    string
	PromptValue   string
	DefaultPrompt string
	IsCustomized  bool
	Revision      int64
}

// PromptHistoryEntry is one recorded prompt change.
type PromptHistoryEntry struct {
	ID         int64
	AccountID  string // empty for a global prompt
	PromptType string
	Action     string
	ActorName  string
	ActorRole  Role
	OldText    string
	NewText    string
	Revision   int64
	CreatedAt  time.Time
}

// Prompt history actions.
const (
	ActionCustomize    = "customize"
	ActionReset        = "reset"
	ActionBulkReset    = "bulk_reset"
	ActionUpsertGlobal = "upsert_global"
)
