package api

import (
	"context"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/cache"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/resolve"
	"github.com/igny8/aiconfig/internal/store"
	"github.com/igny8/aiconfig/internal/validate"
)

// Kinds with own items (author profiles, content strategies) have the same
// services, one message type M each. itemCodec is a kind's declaration;
// itemService serves the shared RPCs for it.

// itemCodec converts a kind's content to and from its message M, and
// validates it. The bookkeeping fields every such message has (id,
// archived, source, ...) are set by name.
type itemCodec[M proto.Message] struct {
	kind   domain.ItemKind
	toPB   func(domain.Content) M
	fromPB func(M) domain.Content
	valid  func(c *domain.Collector, prefix string, content domain.Content)
	// fields are M's bookkeeping fields, by name.
	fields map[protoreflect.Name]protoreflect.FieldDescriptor
}

// bookkeeping are the fields of an item message that are not content.
var bookkeeping = []protoreflect.Name{"id", "archived", "source", "is_customized", "default_changed", "revision",
	"overrides_suppressed", "global_revision"}

// newItemCodec declares a kind; a message without the bookkeeping fields
// stops the program at start.
func newItemCodec[M proto.Message](kind domain.ItemKind, toPB func(domain.Content) M, fromPB func(M) domain.Content,
	valid func(*domain.Collector, string, domain.Content)) itemCodec[M] {
	k := itemCodec[M]{kind: kind, toPB: toPB, fromPB: fromPB, valid: valid, fields: map[protoreflect.Name]protoreflect.FieldDescriptor{}}
	var zero M
	desc := zero.ProtoReflect().Descriptor()
	for _, name := range bookkeeping {
		if k.fields[name] = desc.Fields().ByName(name); k.fields[name] == nil {
			panic("item message " + string(desc.FullName()) + " has no field " + string(name))
		}
	}
	return k
}

// message is the kind's message for an item as e resolves it.
func (k itemCodec[M]) message(e resolve.EffectiveItem) M {
	m := k.toPB(e.Content)
	r, f := m.ProtoReflect(), k.fields
	r.Set(f["id"], protoreflect.ValueOfString(e.ID))
	r.Set(f["archived"], protoreflect.ValueOfBool(e.Archived))
	r.Set(f["source"], protoreflect.ValueOfEnum(protoreflect.EnumNumber(e.Source)))
	r.Set(f["is_customized"], protoreflect.ValueOfBool(e.IsCustomized))
	r.Set(f["default_changed"], protoreflect.ValueOfBool(e.DefaultChanged))
	r.Set(f["revision"], protoreflect.ValueOfInt64(e.Revision))
	r.Set(f["overrides_suppressed"], protoreflect.ValueOfBool(e.OverridesSuppressed))
	r.Set(f["global_revision"], protoreflect.ValueOfInt64(e.GlobalRevision))
	return m
}

// global is the message of a global item as the library shows it.
func (k itemCodec[M]) global(g domain.GlobalItem) M {
	return k.message(resolve.EffectiveItem{Kind: g.Kind, ID: g.ID, Content: g.Content, Archived: g.Archived, Source: resolve.SourceGlobal,
		Revision: g.Revision, GlobalRevision: g.Revision})
}

func (k itemCodec[M]) effective(e resolve.EffectiveItem) proto.Message { return k.message(e) }

func (k itemCodec[M]) version(id string, c domain.Content, archived bool) *pb.ItemVersion {
	m := k.message(resolve.EffectiveItem{ID: id, Content: c, Archived: archived})
	v := &pb.ItemVersion{}
	r := v.ProtoReflect()
	r.Set(r.Descriptor().Fields().ByName(protoreflect.Name(k.kind.String())), protoreflect.ValueOfMessage(m.ProtoReflect()))
	return v
}

func (k itemCodec[M]) check(c *domain.Collector, prefix string, content domain.Content, _ *domain.GlobalItem) {
	k.valid(c, prefix, content)
}

// merge applies an AIP-134 update to base: each path in paths takes in's
// value (cleared when in leaves it unset); without paths, every content
// field in sets changes.
func (k itemCodec[M]) merge(base domain.Content, in M, paths []string) (domain.Content, error) {
	m := k.toPB(base)
	r, src := m.ProtoReflect(), in.ProtoReflect()
	all := r.Descriptor().Fields()
	var content []string
	for i := range all.Len() {
		if name := all.Get(i).Name(); !slices.Contains(bookkeeping, name) {
			content = append(content, string(name))
		}
	}
	if paths == nil {
		for _, name := range content {
			if src.Has(all.ByName(protoreflect.Name(name))) {
				paths = append(paths, name)
			}
		}
	}
	var c domain.Collector
	for _, p := range paths {
		if !slices.Contains(content, p) {
			c.Add("update_mask", "unknown path %q; allowed paths: %s", p, strings.Join(content, ", "))
			continue
		}
		if fd := all.ByName(protoreflect.Name(p)); src.Has(fd) {
			r.Set(fd, src.Get(fd))
		} else {
			r.Clear(fd)
		}
	}
	return k.fromPB(m), c.Err(domain.ReasonValidationFailed)
}

// itemService serves the RPCs AuthorProfileService and
// ContentStrategyService share, for one kind.
type itemService[M proto.Message] struct {
	codec itemCodec[M]
	store *store.Store
	cache *cache.Cache
}

// prefix names the request field that holds the item ("author_profile.").
func (s *itemService[M]) prefix() string { return s.codec.kind.String() + "." }

func (s *itemService[M]) key(id string) domain.ItemKey {
	return domain.ItemKey{Kind: s.codec.kind, ID: id}
}

// idOf is the id an item message names.
func (s *itemService[M]) idOf(m M) string {
	return m.ProtoReflect().Get(s.codec.fields["id"]).String()
}

// itemList is a List RPC's answer.
type itemList[M proto.Message] struct {
	usable, suppressed []M
	defaultID          string
}

func (s *itemService[M]) list(ctx context.Context, accountID string) (itemList[M], error) {
	var out itemList[M]
	acct, g, err := loadAccount(ctx, s.cache, accountID, true)
	if err != nil {
		return out, err
	}
	for _, e := range accountItems(acct, g, s.codec.kind) {
		switch {
		case e.Usable:
			out.usable = append(out.usable, s.codec.message(e))
		case e.OverridesSuppressed: // stored, not applied by the plan: own, or a customization of an archived item
			out.suppressed = append(out.suppressed, s.codec.message(e))
		}
	}
	out.defaultID = defaultItemID(acct, g, s.codec.kind)
	return out, nil
}

// getAnswer is the Get RPC's answer, encoded (wire.go).
func (s *itemService[M]) getAnswer(ctx context.Context, accountID, id string) ([]byte, error) {
	if err := validate.CheckSlug("id", id); err != nil {
		return nil, err
	}
	acct, g, err := loadAccount(ctx, s.cache, accountID, true)
	if err != nil {
		return nil, err
	}
	return itemAnswer(s.cache, acct, g, s.key(id))
}

// change applies an item change.
func (s *itemService[M]) change(ctx context.Context, accountID, id string, expected *int64, change store.ItemChange) (store.ItemState, error) {
	if err := validate.CheckAccountID("account_id", accountID); err != nil {
		return store.ItemState{}, err
	}
	return s.store.ChangeAccountItem(ctx, accountID, s.key(id), expected, change)
}

// changed applies an item change and answers the item as it resolves after.
func (s *itemService[M]) changed(ctx context.Context, accountID, id string, expected *int64, change store.ItemChange) (M, error) {
	st, err := s.change(ctx, accountID, id, expected, change)
	if err != nil {
		var none M
		return none, err
	}
	return s.codec.message(resolve.Item(st.Global, st.Account, st.Stored)), nil
}

func (s *itemService[M]) create(ctx context.Context, accountID string, in M) (M, error) {
	var none M
	id, content := s.idOf(in), s.codec.fromPB(in)
	var c domain.Collector
	if err := validate.CheckSlug(s.prefix()+"id", id); err != nil {
		c.Merge(s.prefix()+"id", err)
	}
	s.codec.valid(&c, s.prefix(), content)
	if err := c.Err(domain.ReasonValidationFailed); err != nil {
		return none, err
	}
	return s.changed(ctx, accountID, id, nil, createItem(accountID, s.key(id), s.prefix(), content))
}

func (s *itemService[M]) update(ctx context.Context, accountID string, in M, mask *fieldmaskpb.FieldMask, expected *int64) (M, error) {
	var none M
	id := s.idOf(in)
	if err := validate.CheckSlug(s.prefix()+"id", id); err != nil {
		return none, err
	}
	return s.changed(ctx, accountID, id, expected, setItem(accountID, s.key(id), s.prefix(), func(cur domain.Content) (domain.Content, error) {
		return s.codec.merge(cur, in, maskPaths(mask))
	}))
}

func (s *itemService[M]) delete(ctx context.Context, accountID, id string, expected *int64) error {
	if err := validate.CheckSlug("id", id); err != nil {
		return err
	}
	_, err := s.change(ctx, accountID, id, expected, deleteItem(accountID, s.key(id)))
	return err
}

func (s *itemService[M]) reset(ctx context.Context, accountID, id string, expected *int64) (M, error) {
	if err := validate.CheckSlug("id", id); err != nil {
		var none M
		return none, err
	}
	return s.changed(ctx, accountID, id, expected, resetItem(accountID, s.key(id)))
}

func (s *itemService[M]) listGlobal(ctx context.Context) ([]M, error) {
	list, err := s.store.ListGlobalItems(ctx, s.codec.kind)
	if err != nil {
		return nil, err
	}
	out := make([]M, len(list))
	for i, g := range list {
		out[i] = s.codec.global(g)
	}
	return out, nil
}

func (s *itemService[M]) upsertGlobal(ctx context.Context, in M, expected *int64) (M, error) {
	var none M
	it := domain.GlobalItem{Kind: s.codec.kind, ID: s.idOf(in), Content: s.codec.fromPB(in),
		Archived: in.ProtoReflect().Get(s.codec.fields["archived"]).Bool()}
	var c domain.Collector
	if err := validate.CheckSlug(s.prefix()+"id", it.ID); err != nil {
		c.Merge(s.prefix()+"id", err)
	}
	s.codec.valid(&c, s.prefix(), it.Content)
	if err := c.Err(domain.ReasonValidationFailed); err != nil {
		return none, err
	}
	saved, err := s.store.UpsertGlobalItem(ctx, it, expected)
	if err != nil {
		return none, err
	}
	return s.codec.global(saved), nil
}
