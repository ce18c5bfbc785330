package domain

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Customizable items: prompts, author profiles and content strategies are
// one mechanism. The platform keeps a library of global items of each
// kind; an account may customize a global item (keeping the global
// content it started from, so it can tell when the global moved, and
// reset to the live global) and, for some kinds, create items of its own.
// Every change is a history entry; an entry can be restored.

// ItemKind is a kind of customizable item (see ItemKinds). Its numbers
// match the proto enum aiconfig.v1.ItemKind.
type ItemKind int

const (
	ItemKindUnknown ItemKind = iota
	ItemPrompt
	ItemAuthorProfile
	ItemContentStrategy
)

// ItemKindInfo is what the service knows of one kind below its API.
type ItemKindInfo struct {
	Kind ItemKind
	// Name is the database name (a row of item_kinds), the suffix of the
	// proto enum value (ITEM_KIND_<NAME>), and for kinds with Own items
	// names the "default_<name>_id" fields of Account and GlobalSettings.
	Name string
	// Collection names resources: accounts/<id>/<collection>/<item>,
	// global_<collection>/<item>.
	Collection string
	// Noun names one item in messages.
	Noun string
	// Own: accounts may create items of their own, counted against their
	// plan's limit, and name a default.
	Own bool
	// NotFound is the NOT_FOUND reason for an id an account cannot use.
	NotFound string
	// decode reads stored content; decodeMeta a global item's meta (nil:
	// the kind has none).
	decode, decodeMeta func([]byte) (any, error)
}

// ItemKinds is the registry every part of the service iterates. Adding a
// kind takes an entry here with its content type, a row of item_kinds
// and its seed items in a migration, the proto (ITEM_KIND_<NAME>, its
// message and service, an ItemVersion field; for Own kinds the
// default_<name>_id fields), and its API declaration (internal/api);
// TestItemKindRegistry fails while a piece is missing.
var ItemKinds = []ItemKindInfo{
	{ItemPrompt, "prompt", "prompts", "prompt type", false, ReasonPromptTypeNotFound,
		decodeAs[PromptText], decodeAs[PromptMeta]},
	{ItemAuthorProfile, "author_profile", "author_profiles", "author profile", true, ReasonAuthorProfileNotFound,
		decodeAs[AuthorProfile], nil},
	{ItemContentStrategy, "content_strategy", "content_strategies", "content strategy", true, ReasonContentStrategyNotFound,
		decodeAs[ContentStrategy], nil},
}

func decodeAs[T any](b []byte) (any, error) {
	var v T
	err := json.Unmarshal(b, &v)
	return v, err
}

// info is the kind's registry entry, or nil. (The registry lists the
// kinds in number order; the hot path asks for names.)
func (k ItemKind) info() *ItemKindInfo {
	if k > 0 && int(k) <= len(ItemKinds) && ItemKinds[k-1].Kind == k {
		return &ItemKinds[k-1]
	}
	return nil
}

// Info is the kind's registry entry (zero for an unknown kind).
func (k ItemKind) Info() ItemKindInfo {
	if i := k.info(); i != nil {
		return *i
	}
	return ItemKindInfo{}
}

// ANoun is Noun with its indefinite article: "an author profile".
func (i ItemKindInfo) ANoun() string {
	if i.Noun != "" && strings.ContainsRune("aeiou", rune(i.Noun[0])) {
		return "an " + i.Noun
	}
	return "a " + i.Noun
}

// Valid reports whether k is a registered kind.
func (k ItemKind) Valid() bool { return k.info() != nil }

// String is the kind's database name.
func (k ItemKind) String() string {
	if i := k.info(); i != nil {
		return i.Name
	}
	return fmt.Sprintf("item_kind(%d)", int(k))
}

// MessageName is the kind's proto message name ("AuthorProfile").
func (k ItemKind) MessageName() string { return camel(k.String()) }

// ListName is what the kind's List RPCs are named after ("AuthorProfiles").
func (k ItemKind) ListName() string { return camel(k.Info().Collection) }

// camel writes snake_case as CamelCase.
func camel(s string) string {
	var b strings.Builder
	for _, part := range strings.Split(s, "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// MarshalText writes the database name, for JSON (also as a map key).
func (k ItemKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// ParseItemKind maps a database name back to a kind.
func ParseItemKind(s string) (ItemKind, error) {
	for _, i := range ItemKinds {
		if i.Name == s {
			return i.Kind, nil
		}
	}
	return ItemKindUnknown, fmt.Errorf("unknown item kind %q", s)
}

// OwnKinds lists the kinds accounts may create items of.
var OwnKinds = func() []ItemKind {
	var out []ItemKind
	for _, i := range ItemKinds {
		if i.Own {
			out = append(out, i.Kind)
		}
	}
	return out
}()

// DecodeContent reads stored content of kind k.
func (k ItemKind) DecodeContent(b []byte) (Content, error) {
	i := k.info()
	if i == nil {
		return nil, fmt.Errorf("unknown item kind %d", k)
	}
	v, err := i.decode(b)
	if err != nil {
		return nil, fmt.Errorf("stored %s content: %w", i.Name, err)
	}
	c, ok := v.(Content)
	if !ok {
		return nil, fmt.Errorf("stored %s content decodes to %T, not a Content", i.Name, v)
	}
	return c, nil
}

// DecodeMeta reads a stored global item's meta of kind k (nil when the
// kind has none).
func (k ItemKind) DecodeMeta(b []byte) (any, error) {
	if i := k.info(); i != nil && i.decodeMeta != nil {
		return i.decodeMeta(b)
	}
	return nil, nil
}

// Content is the customizable part of an item, of the kind's type:
// PromptText, AuthorProfile or ContentStrategy. It is stored as JSON.
type Content interface {
	// Equal reports whether o is the same content.
	Equal(o Content) bool
}

// PromptText is a prompt's content: its text.
type PromptText string

// Equal implements Content.
func (t PromptText) Equal(o Content) bool { return o == Content(t) }

// PromptMeta are a global prompt's fields that accounts do not customize.
type PromptMeta struct {
	Description string `json:"description"`
	// Variables are the placeholder names the text uses, written {{name}}.
	Variables []string `json:"variables"`
}

// GlobalPrompt is a global prompt item seen whole, as the prompt API and
// import files show it.
type GlobalPrompt struct {
	PromptType  string   `json:"prompt_type"`
	Text        string   `json:"text"`
	Description string   `json:"description"`
	Variables   []string `json:"variables"`
	Revision    int64    `json:"revision"`
}

// Item is p as a global item.
func (p GlobalPrompt) Item() GlobalItem {
	return GlobalItem{Kind: ItemPrompt, ID: p.PromptType, Content: PromptText(p.Text),
		Meta: PromptMeta{Description: p.Description, Variables: p.Variables}, Revision: p.Revision}
}

// GlobalPromptOf is a global prompt item seen whole.
func GlobalPromptOf(g GlobalItem) GlobalPrompt {
	m, _ := g.Meta.(PromptMeta)
	t, _ := g.Content.(PromptText)
	return GlobalPrompt{PromptType: g.ID, Text: string(t), Description: m.Description, Variables: m.Variables, Revision: g.Revision}
}

// AuthorProfile is a profile's content: the voice a job writes with.
type AuthorProfile struct {
	Name        string `json:"name" yaml:"name"`
	Description string `json:"description" yaml:"description,omitempty"`
	Tone        string `json:"tone" yaml:"tone,omitempty"`
	Language    string `json:"language" yaml:"language"`
	Audience    string `json:"audience" yaml:"audience,omitempty"`
	StyleGuide  string `json:"style_guide" yaml:"style_guide"`
}

// Equal implements Content.
func (p AuthorProfile) Equal(o Content) bool { return o == Content(p) }

// ContentStrategy is a strategy's content: the plan a job writes to.
type ContentStrategy struct {
	Name                string   `json:"name" yaml:"name"`
	Description         string   `json:"description" yaml:"description,omitempty"`
	Objective           string   `json:"objective" yaml:"objective,omitempty"`
	Audience            string   `json:"audience" yaml:"audience,omitempty"`
	ArticleTypes        []string `json:"article_types" yaml:"article_types,flow"`
	WordCountMin        int32    `json:"word_count_min" yaml:"word_count_min"`
	WordCountMax        int32    `json:"word_count_max" yaml:"word_count_max"`
	KeywordGuidelines   string   `json:"keyword_guidelines" yaml:"keyword_guidelines,omitempty"`
	StructureGuidelines string   `json:"structure_guidelines" yaml:"structure_guidelines,omitempty"`
}

// Equal implements Content.
func (s ContentStrategy) Equal(o Content) bool {
	x, ok := o.(ContentStrategy)
	if !ok || !slices.Equal(s.ArticleTypes, x.ArticleTypes) {
		return false // (slices.Equal: a nil and an empty list are equal, unlike for DeepEqual)
	}
	s.ArticleTypes, x.ArticleTypes = nil, nil
	return reflect.DeepEqual(s, x)
}

// ArticleTypes are the kinds of article a content strategy may name.
var ArticleTypes = []string{"blog_post", "how_to", "listicle", "guide", "comparison", "review", "news", "landing_page", "product_description"}

// ItemKey names an item of a kind.
type ItemKey struct {
	Kind ItemKind
	ID   string
}

// GlobalItem is an item of the platform library.
type GlobalItem struct {
	Kind    ItemKind `json:"kind"`
	ID      string   `json:"id"`
	Content Content  `json:"content"`
	// Meta holds the kind's global-only fields (PromptMeta), or nil.
	Meta     any   `json:"meta,omitempty"`
	Archived bool  `json:"archived"`
	Revision int64 `json:"revision"`
}

// Rev is the item's revision; 0 for none (g nil), as expected_revision
// compares it.
func (g *GlobalItem) Rev() int64 {
	if g == nil {
		return 0
	}
	return g.Revision
}

// AccountItem is an account's stored item: its customization of a global
// item, or an item of its own.
type AccountItem struct {
	AccountID string   `json:"account_id"`
	Kind      ItemKind `json:"kind"`
	ID        string   `json:"id"`
	Content   Content  `json:"content"`
	// Default is the global content when the account last customized or
	// reset; nil for an item of the account's own.
	Default      Content `json:"default,omitempty"`
	IsCustomized bool    `json:"is_customized"`
	Revision     int64   `json:"revision"`
}

// Rev is the item's revision; 0 for none (a nil).
func (a *AccountItem) Rev() int64 {
	if a == nil {
		return 0
	}
	return a.Revision
}

// Own reports whether the item is the account's own (no global item).
func (a AccountItem) Own() bool { return a.Default == nil }

// HistoryEntry is one recorded change to an item.
type HistoryEntry struct {
	ID        int64
	Kind      ItemKind
	AccountID string // empty for a global item
	ItemID    string
	Action    string
	ActorName string
	ActorRole Role
	// Old and New are the content as used before and after the change (nil:
	// the item did not exist, or was deleted).
	Old, New Content
	// Archived is a global item's flag after the change.
	Archived  bool
	Revision  int64
	CreatedAt time.Time
}

// History actions.
const (
	ActionUpsertGlobal = "upsert_global"
	ActionCustomize    = "customize"
	ActionReset        = "reset"
	ActionBulkReset    = "bulk_reset"
	ActionCreate       = "create"
	ActionUpdate       = "update"
	ActionDelete       = "delete"
	ActionRestore      = "restore"
)

// PlanLimit is how many items of one kind of their own the accounts of
// one plan may keep.
type PlanLimit struct {
	Plan     Plan     `json:"plan"`
	Kind     ItemKind `json:"kind"`
	MaxItems int32    `json:"max_items"`
	Revision int64    `json:"revision"`
}

// MaxPlanLimit bounds a plan limit (plan_limits states it as a CHECK).
const MaxPlanLimit = 10000
