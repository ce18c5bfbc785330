// Package api holds the thin gRPC handlers: decode the request, call the
// store with the pure rules from internal/resolve, encode the answer.
// Access rules are enforced before a handler runs (internal/access).
package api

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"

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
		return m.Get(settingsFields[integ]).Message().Interface().(*pb.IntegrationDefaults)
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

// Pagination (AIP-158): the page token is the last id of the previous
// page, opaque to clients.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

func pageParams(size int32, token string) (after string, limit int, err error) {
	if size < 0 {
		return "", 0, domain.InvalidField("page_size", "must not be negative")
	}
	limit = int(size)
	if limit == 0 {
		limit = defaultPageSize
	}
	limit = min(limit, maxPageSize)
	if token != "" {
		b, derr := base64.RawURLEncoding.DecodeString(token)
		if derr != nil || len(b) == 0 {
			return "", 0, domain.InvalidField("page_token", "is not a token this service issued; pass next_page_token from the previous page")
		}
		after = string(b)
	}
	return after, limit, nil
}

// pageBefore is pageParams for newest-first lists whose token carries a
// numeric id: it returns that id (0 for the first page) and the limit.
func pageBefore(size int32, token string) (before int64, limit int, err error) {
	after, limit, err := pageParams(size, token)
	if err != nil || after == "" {
		return 0, limit, err
	}
	if before, err = strconv.ParseInt(after, 10, 64); err != nil {
		return 0, 0, domain.InvalidField("page_token", "is not a token this service issued; pass next_page_token from the previous page")
	}
	return before, limit, nil
}

// pageOf trims a result fetched with limit+1 rows and returns the next token.
func pageOf[T any](items []T, limit int, id func(T) string) ([]T, string) {
	if len(items) <= limit {
		return items, ""
	}
	items = items[:limit]
	return items, base64.RawURLEncoding.EncodeToString([]byte(id(items[limit-1])))
}
