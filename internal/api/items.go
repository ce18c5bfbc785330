package api

import (
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/cache"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/resolve"
	"github.com/igny8/aiconfig/internal/store"
)

// The customizable-item mechanism at the API. Prompts, author profiles and
// content strategies are all served by the functions in this file: reads
// from the cache (resolved by internal/resolve, answers encoded once),
// writes as store.ItemChange functions (customize, own items, reset,
// delete, restore). A kind declares only its itemAPI, in its own file.

// itemAPI is one kind's part of the API: its proto message and its
// validation.
type itemAPI interface {
	// effective is the kind's answer for an item as an account uses it
	// (the message its Get RPC returns).
	effective(e resolve.EffectiveItem) proto.Message
	// version is content at a point of the history (archived: a global
	// item's flag after the change).
	version(id string, c domain.Content, archived bool) *pb.ItemVersion
	// check validates content about to be stored for an item whose global
	// item is g (nil: an own item); violations are named prefix+field.
	check(c *domain.Collector, prefix string, content domain.Content, g *domain.GlobalItem)
}

// itemAPIs holds every kind's (TestItemKindRegistry checks each
// registered kind has one).
var itemAPIs = map[domain.ItemKind]itemAPI{
	domain.ItemPrompt:          promptAPI{},
	domain.ItemAuthorProfile:   authorProfiles,
	domain.ItemContentStrategy: contentStrategies,
}

// usableItem resolves an account's item; NOT_FOUND when there is no such
// item or the account cannot use it.
func usableItem(acct *cache.Account, g *cache.Global, key domain.ItemKey) (resolve.EffectiveItem, error) {
	var global *domain.GlobalItem
	if v, ok := g.Items[key]; ok {
		global = &v
	}
	stored := acct.Items[key]
	if global == nil && stored == nil {
		return resolve.EffectiveItem{}, store.ItemNotFound(key.Kind, acct.Account.ID, key.ID, "")
	}
	e := resolve.Item(global, acct.Account, stored)
	if e.Usable {
		return e, nil
	}
	plan := acct.Account.Plan.EnumName()
	why := "it is archived"
	switch {
	case global == nil:
		why = "it is the account's own, which " + plan + " does not apply (it is kept, and applies again after an upgrade)"
	case e.IsCustomized:
		why = "it is archived, and " + plan + " does not apply the account's customization of it"
	}
	return e, store.ItemNotFound(key.Kind, acct.Account.ID, key.ID, why)
}

// itemAnswer is an item's Get answer, encoded. For an account that
// stores nothing for the item it depends only on the global item and the
// plan, and is encoded once per global layer, item and plan; an account's
// own version is encoded once per account data and layer.
func itemAnswer(c *cache.Cache, acct *cache.Account, g *cache.Global, key domain.ItemKey) ([]byte, error) {
	_, global := g.Items[key]
	_, stored := acct.Items[key]
	build := func() ([]byte, error) {
		e, err := usableItem(acct, g, key)
		if err != nil {
			return nil, err
		}
		return deterministic.Marshal(itemAPIs[key.Kind].effective(e))
	}
	switch {
	case !c.Enabled() || (!global && !stored):
		return build()
	case stored:
		return acct.MemoItem(key, g, build)
	}
	return g.Shared(cache.SharedKey{Kind: key.Kind.String(), Name: key.ID, Plan: acct.Account.Plan}, build)
}

// accountItems resolves every item of kind k an account has, by id, each
// once: the global ones (as its version where it customized them, as its
// own where an own item shadows one) and its other own items, usable or
// not.
func accountItems(acct *cache.Account, g *cache.Global, k domain.ItemKind) []resolve.EffectiveItem {
	var out []resolve.EffectiveItem
	for _, global := range g.ItemList[k] {
		out = append(out, resolve.Item(&global, acct.Account, acct.Items[domain.ItemKey{Kind: k, ID: global.ID}]))
	}
	for key, stored := range acct.Items {
		if _, shadows := g.Items[key]; key.Kind == k && stored.Own() && !shadows {
			out = append(out, resolve.Item(nil, acct.Account, stored))
		}
	}
	slices.SortFunc(out, func(a, b resolve.EffectiveItem) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// defaultItemID is the item of kind k a generation job of the account
// gets when it names none ("" for none).
func defaultItemID(acct *cache.Account, g *cache.Global, k domain.ItemKind) string {
	return resolve.DefaultID(k, acct.Account, g.Settings, func(id string) bool {
		_, err := usableItem(acct, g, domain.ItemKey{Kind: k, ID: id})
		return err == nil
	})
}

// checked runs an itemAPI's check and returns its violations as an error.
func checked(key domain.ItemKey, prefix string, content domain.Content, g *domain.GlobalItem) error {
	var c domain.Collector
	itemAPIs[key.Kind].check(&c, prefix, content, g)
	return c.Err(domain.ReasonValidationFailed)
}

// setItem is the change that gives an item new content: the account's
// own item, or its customization of the global one (not of an archived
// global it has not customized: those are not offered for new use).
// content computes the new content from what the account uses now;
// violations are named prefix+field.
func setItem(accountID string, key domain.ItemKey, prefix string, content func(cur domain.Content) (domain.Content, error)) store.ItemChange {
	return func(g *domain.GlobalItem, cur *domain.AccountItem, _ domain.Account) (*domain.AccountItem, string, error) {
		var base domain.Content
		switch {
		case cur != nil && cur.Own():
			base = cur.Content
		case g == nil:
			return nil, "", store.ItemNotFound(key.Kind, accountID, key.ID, "")
		case cur != nil && cur.IsCustomized:
			base = cur.Content
		case g.Archived:
			return nil, "", store.ItemNotFound(key.Kind, accountID, key.ID, "it is archived")
		default:
			base = g.Content
		}
		next, err := content(base)
		if err != nil {
			return nil, "", err
		}
		if cur != nil && cur.Own() {
			if err := checked(key, prefix, next, nil); err != nil {
				return nil, "", err
			}
			return &domain.AccountItem{Kind: key.Kind, ID: key.ID, Content: next}, domain.ActionUpdate, nil
		}
		if err := checked(key, prefix, next, g); err != nil {
			return nil, "", err
		}
		n := resolve.Customize(*g, cur, next)
		return &n, domain.ActionCustomize, nil
	}
}

// createItem is the change that adds an own item (content checked by the
// caller); its id must be new in the account and no global id: either is
// ALREADY_EXISTS ITEM_ALREADY_EXISTS (AIP-133), the account's own first
// (it shadows a global published later with its id).
func createItem(accountID string, key domain.ItemKey, prefix string, content domain.Content) store.ItemChange {
	return func(g *domain.GlobalItem, cur *domain.AccountItem, _ domain.Account) (*domain.AccountItem, string, error) {
		switch {
		case cur != nil && cur.Own():
			return nil, "", store.ItemAlreadyExists(key.Kind, accountID, key.ID, prefix+"id", false)
		case g != nil:
			return nil, "", store.ItemAlreadyExists(key.Kind, accountID, key.ID, prefix+"id", true)
		case cur != nil:
			return nil, "", store.ItemAlreadyExists(key.Kind, accountID, key.ID, prefix+"id", false)
		}
		return &domain.AccountItem{Kind: key.Kind, ID: key.ID, Content: content}, domain.ActionCreate, nil
	}
}

// deleteItem is the change that deletes an own item.
func deleteItem(accountID string, key domain.ItemKey) store.ItemChange {
	return func(g *domain.GlobalItem, cur *domain.AccountItem, _ domain.Account) (*domain.AccountItem, string, error) {
		switch {
		case cur != nil && cur.Own():
			return nil, domain.ActionDelete, nil
		case g != nil:
			return nil, "", domain.InvalidField("id", "%q is a global %s, which cannot be deleted: Reset%s returns the account to it",
				key.ID, key.Kind.Info().Noun, key.Kind.MessageName())
		}
		return nil, "", store.ItemNotFound(key.Kind, accountID, key.ID, "")
	}
}

// resetItem is the change that returns a customization to the live global
// item. An account that stores nothing for it has nothing to reset.
func resetItem(accountID string, key domain.ItemKey) store.ItemChange {
	return func(g *domain.GlobalItem, cur *domain.AccountItem, _ domain.Account) (*domain.AccountItem, string, error) {
		switch {
		case cur != nil && cur.Own() && g != nil:
			return nil, "", domain.InvalidField("id", "%q is the account's own %s, which shadows the global one of that id for this account; "+
				"delete it to use the global one", key.ID, key.Kind.Info().Noun)
		case cur != nil && cur.Own():
			return nil, "", domain.InvalidField("id", "%q is the account's own %s, which has no global version to reset to (delete it instead)",
				key.ID, key.Kind.Info().Noun)
		case g == nil:
			return nil, "", store.ItemNotFound(key.Kind, accountID, key.ID, "")
		case cur == nil:
			return nil, "", nil
		}
		next := resolve.Reset(*g)
		return &next, domain.ActionReset, nil
	}
}

// restoreItem is the change that gives an account's item the content a
// history entry recorded: a customization of the global item when there
// is one (so restoring the global's content resets), else its own item
// (re-created if it was deleted, within the plan's limit).
func restoreItem(e domain.HistoryEntry) store.ItemChange {
	return func(g *domain.GlobalItem, cur *domain.AccountItem, _ domain.Account) (*domain.AccountItem, string, error) {
		if err := checkRestored(e, g); err != nil {
			return nil, "", err
		}
		next := domain.AccountItem{Kind: e.Kind, ID: e.ItemID, Content: e.New}
		if g != nil && (cur == nil || !cur.Own()) { // an own item shadowing g stays the account's own
			next = resolve.Customize(*g, cur, e.New)
		}
		return &next, domain.ActionRestore, nil
	}
}

// restoreGlobal gives a global item the content a history entry recorded,
// keeping the rest (a prompt's variables, archived).
func restoreGlobal(e domain.HistoryEntry, cur domain.GlobalItem) (domain.GlobalItem, error) {
	if err := checkRestored(e, &cur); err != nil {
		return cur, err
	}
	cur.Content = e.New
	return cur, nil
}

// checkRestored validates a version being restored against the item as it
// is now (a prompt's text must still use its declared variables).
func checkRestored(e domain.HistoryEntry, g *domain.GlobalItem) error {
	var c domain.Collector
	itemAPIs[e.Kind].check(&c, "", e.New, g)
	if len(c.Violations) == 0 {
		return nil
	}
	var parts []string
	for _, v := range c.Violations {
		parts = append(parts, v.Field+": "+v.Description)
	}
	return domain.InvalidField("entry_id", "entry %d's version no longer fits the %s as it is now (%s)", e.ID, e.Kind.Info().Noun, strings.Join(parts, "; "))
}

// kindFields finds, for each kind with own items, the field of message m
// named by format (e.g. "default_%s_id"). A kind without one stops the
// program at start: it would otherwise be silently ignored.
func kindFields(m proto.Message, format string) map[domain.ItemKind]protoreflect.FieldDescriptor {
	out := map[domain.ItemKind]protoreflect.FieldDescriptor{}
	desc := m.ProtoReflect().Descriptor()
	for _, k := range domain.OwnKinds {
		name := fmt.Sprintf(format, k)
		fd := desc.Fields().ByName(protoreflect.Name(name))
		if fd == nil {
			panic(fmt.Sprintf("item kind %q has no field %q in %s", k, name, desc.FullName()))
		}
		out[k] = fd
	}
	return out
}
