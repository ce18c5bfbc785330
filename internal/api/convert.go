// Package api holds the thin gRPC handlers: decode the request, call the
// store with the pure rules from internal/resolve, encode the answer.
// Access rules are enforced before a handler runs (internal/access).
package api

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
)

func accountToPB(a domain.Account) *pb.Account {
	out := &pb.Account{Id: a.ID, Name: a.Name, Plan: pb.Plan(a.Plan), Revision: a.Revision}
	setItemIDs(out, accountDefaultFields, a.ItemDefaults)
	return out
}

// The default_<kind>_id fields of the messages that name default items.
var (
	accountDefaultFields  = kindFields(&pb.Account{}, "default_%s_id")
	settingsDefaultFields = kindFields(&pb.GlobalSettings{}, "default_%s_id")
	setDefaultsFields     = kindFields(&pb.SetAccountDefaultsRequest{}, "default_%s_id")
)

// setItemIDs writes ids (by kind) into m's fields.
func setItemIDs(m proto.Message, fields map[domain.ItemKind]protoreflect.FieldDescriptor, ids map[domain.ItemKind]string) {
	for k, fd := range fields {
		m.ProtoReflect().Set(fd, protoreflect.ValueOfString(ids[k]))
	}
}

// itemIDs reads, by kind, the item ids m's fields name: every kind when
// paths is nil (a field left empty then means no change, so it is left
// out), else the kinds whose field paths list ("" clears).
func itemIDs(m proto.Message, fields map[domain.ItemKind]protoreflect.FieldDescriptor, paths []string) map[domain.ItemKind]string {
	out := map[domain.ItemKind]string{}
	for k, fd := range fields {
		id := m.ProtoReflect().Get(fd).String()
		if (paths == nil && id != "") || slices.Contains(paths, string(fd.Name())) {
			out[k] = id
		}
	}
	return out
}

func tokenToPB(t domain.Token) *pb.Token {
	out := &pb.Token{Id: t.ID, Name: t.Name, Role: pb.Role(t.Role), AccountId: t.AccountID, CreateTime: timestamppb.New(t.CreatedAt)}
	if t.RevokedAt != nil {
		out.RevokeTime = timestamppb.New(*t.RevokedAt)
	}
	return out
}

func modelToPB(m domain.Model) *pb.Model {
	return &pb.Model{
		Integration: pb.Integration(m.Integration), Model: m.ID, DisplayName: m.DisplayName, Enabled: m.Enabled,
		MaxOutputTokens: m.MaxOutputTokens, MinTemperature: m.MinTemperature, MaxTemperature: m.MaxTemperature,
		ImageSizes: m.ImageSizes, ImageQualities: m.ImageQualities, ImageStyles: m.ImageStyles, Revision: m.Revision,
	}
}

func modelFromPB(m *pb.Model) domain.Model {
	if m == nil {
		m = &pb.Model{}
	}
	return domain.Model{
		Integration: domain.Integration(m.GetIntegration()), ID: m.GetModel(), DisplayName: m.GetDisplayName(), Enabled: m.GetEnabled(),
		MaxOutputTokens: m.MaxOutputTokens, MinTemperature: m.MinTemperature, MaxTemperature: m.MaxTemperature,
		ImageSizes: m.GetImageSizes(), ImageQualities: m.GetImageQualities(), ImageStyles: m.GetImageStyles(),
	}
}

func overrideToPB(o domain.Override, a domain.Account) *pb.IntegrationOverride {
	p := o.Params
	return &pb.IntegrationOverride{
		AccountId: o.AccountID, Integration: pb.Integration(o.Integration),
		Model: p.Model, Temperature: p.Temperature, MaxTokens: p.MaxTokens,
		ImageSize: p.ImageSize, ImageQuality: p.ImageQuality, ImageStyle: p.ImageStyle,
		Revision: o.Revision, Plan: pb.Plan(a.Plan), OverridesSuppressed: !a.Plan.AppliesOverrides(),
	}
}

func defaultsToPB(d domain.Defaults) *pb.IntegrationDefaults {
	p := d.Params
	return &pb.IntegrationDefaults{
		ApiKeySet: d.APIKey.IsSet(), ApiKeyHint: d.APIKey.Hint,
		Model: domain.Deref(p.Model), Temperature: p.Temperature, MaxTokens: p.MaxTokens,
		ImageSize: p.ImageSize, ImageQuality: p.ImageQuality, ImageStyle: p.ImageStyle,
	}
}

func globalToPB(g domain.GlobalSettings) *pb.GlobalSettings {
	out := &pb.GlobalSettings{TextIntegration: pb.Integration(g.TextIntegration), ImageIntegration: pb.Integration(g.ImageIntegration),
		Revision: g.Revision}
	setItemIDs(out, settingsDefaultFields, g.ItemDefaults)
	for _, integ := range domain.Integrations {
		out.ProtoReflect().Set(settingsFields[integ], protoreflect.ValueOfMessage(defaultsToPB(g.Defaults[integ]).ProtoReflect()))
	}
	return out
}

// settingsFields maps each provider to its field of GlobalSettings, named
// after it (domain.Providers). A provider without one stops the program
// at start: it would otherwise be silently ignored.
var settingsFields = func() map[domain.Integration]protoreflect.FieldDescriptor {
	fields := (&pb.GlobalSettings{}).ProtoReflect().Descriptor().Fields()
	want := (&pb.IntegrationDefaults{}).ProtoReflect().Descriptor()
	out := map[domain.Integration]protoreflect.FieldDescriptor{}
	for _, p := range domain.Providers {
		fd := fields.ByName(protoreflect.Name(p.Name))
		if fd == nil || fd.Message() != want {
			panic(fmt.Sprintf("provider %q has no IntegrationDefaults field %q in aiconfig.v1.GlobalSettings", p.Name, p.Name))
		}
		out[p.Integration] = fd
	}
	return out
}()

// defaultsIn is a provider's part of settings (empty when absent).
func defaultsIn(settings *pb.GlobalSettings, integ domain.Integration) *pb.IntegrationDefaults {
	if m := settings.ProtoReflect(); m.IsValid() && m.Has(settingsFields[integ]) {
		return m.Get(settingsFields[integ]).Message().Interface().(*pb.IntegrationDefaults) //nolint:forcetypeassert // settingsFields holds only IntegrationDefaults fields
	}
	return &pb.IntegrationDefaults{}
}

// maskPaths returns nil for a missing or empty mask: AIP-134 treats both
// as "the fields present in the request".
func maskPaths(m *fieldmaskpb.FieldMask) []string {
	if len(m.GetPaths()) == 0 {
		return nil
	}
	return m.GetPaths()
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Pagination (AIP-158).
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// page is one page request: its size and where it starts. Page tokens are
// opaque: a version byte, 8 bytes of a hash of the query they were issued
// for (its RPC and filters, not the page size) and the last key of the
// previous page. A token that is not one, or was issued for another query,
// is INVALID_ARGUMENT.
type page struct {
	limit int
	after string // "" for the first page
	query [8]byte
}

const pageTokenVersion = 1

func newPage(size int32, token string, query ...string) (page, error) {
	if size < 0 {
		return page{}, domain.InvalidField("page_size", "must not be negative")
	}
	p := page{limit: min(int(size), maxPageSize)}
	if p.limit == 0 {
		p.limit = defaultPageSize
	}
	sum := sha256.Sum256([]byte(strings.Join(query, "\x00")))
	copy(p.query[:], sum[:])
	if token == "" {
		return p, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) < 1+len(p.query)+1 || b[0] != pageTokenVersion || !utf8.Valid(b[1+len(p.query):]) {
		return page{}, domain.InvalidField("page_token", "is not a page token of this service; pass next_page_token from the previous page, or none for the first page")
	}
	if [8]byte(b[1:9]) != p.query {
		return page{}, domain.InvalidField("page_token", "was issued for a different query; keep the filters of the request that returned it")
	}
	p.after = string(b[9:])
	return p, nil
}

// beforeID is the start of a newest-first page keyed by numeric ids (0:
// from the newest).
func (p page) beforeID() (int64, error) {
	if p.after == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(p.after, 10, 64)
	if err != nil || id <= 0 {
		return 0, domain.InvalidField("page_token", "is not a page token of this service; pass next_page_token from the previous page")
	}
	return id, nil
}

// pageOf trims a result fetched with limit+1 rows and returns the next token.
func pageOf[T any](p page, items []T, key func(T) string) ([]T, string) {
	if len(items) <= p.limit {
		return items, ""
	}
	items = items[:p.limit]
	b := append([]byte{pageTokenVersion}, p.query[:]...)
	return items, base64.RawURLEncoding.EncodeToString(append(b, key(items[p.limit-1])...))
}
