package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/reflect/protoreflect"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/api"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/testsrv"
)

// TestItemKindRegistry fails when a kind of customizable item lacks any
// of its pieces: its API declaration, the proto enum value and history
// field, its item_kinds row, seed items, and for kinds with own items plan
// limits (the default_<kind>_id fields and the item messages' bookkeeping
// fields are checked when the API package starts) — and when the proto or
// the database names a kind the registry does not.
func TestItemKindRegistry(t *testing.T) {
	env := testsrv.Start(t)
	ctx := context.Background()
	for num, name := range pb.ItemKind_name {
		if num != 0 && !domain.ItemKind(num).Valid() {
			t.Errorf("the proto has %s, the registry (domain.ItemKinds) does not", name)
		}
	}
	conn, err := pgx.Connect(ctx, env.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT kind, own FROM item_kinds`)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct {
		Kind string
		Own  bool
	}])
	if err != nil || len(stored) != len(domain.ItemKinds) {
		t.Fatalf("item_kinds rows %v (%v), registry %d kinds", stored, err, len(domain.ItemKinds))
	}
	layer, err := env.Store.LoadGlobalLayer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	version := (&pb.ItemVersion{}).ProtoReflect().Descriptor().Fields()
	for _, info := range domain.ItemKinds {
		t.Run(info.Name, func(t *testing.T) {
			if !api.HasItemAPI(info.Kind) {
				t.Error("no API declaration (itemAPIs)")
			}
			enum := "ITEM_KIND_" + strings.ToUpper(info.Name)
			if v, ok := pb.ItemKind_value[enum]; !ok || v != int32(info.Kind) {
				t.Errorf("proto enum %s = %d (present %t), registry number %d", enum, v, ok, info.Kind)
			}
			if version.ByName(protoreflect.Name(info.Name)) == nil {
				t.Errorf("ItemVersion has no field %q", info.Name)
			}
			found := false
			for _, s := range stored {
				found = found || (s.Kind == info.Name && s.Own == info.Own)
			}
			if !found {
				t.Errorf("no item_kinds row (%s, own %t)", info.Name, info.Own)
			}
			seeds, limits := 0, 0
			for _, it := range layer.Items {
				if it.Kind == info.Kind {
					seeds++
				}
			}
			for _, l := range layer.PlanLimits {
				if l.Kind == info.Kind {
					limits++
				}
			}
			if seeds == 0 {
				t.Error("no seeded global items")
			}
			if info.Own && limits != 3 {
				t.Errorf("%d plan limits, want one per paid plan", limits)
			}
		})
	}
}
