package api_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/testsrv"
)

// TestProviderRegistry fails when a provider lacks any of its pieces: the
// proto enum value and settings field, conversion both ways, validation by
// its kind, its catalog models and its global defaults row — and when the
// proto names a provider the registry does not.
func TestProviderRegistry(t *testing.T) {
	env := testsrv.Start(t)
	admin := testsrv.Ctx(env.Token(t, domain.RoleAdmin, ""))
	setPlan(t, env, admin, "acct", pb.Plan_PLAN_STARTER)
	for num, name := range pb.Integration_name {
		if num != 0 && !domain.Integration(num).Valid() {
			t.Errorf("the proto has %s, the registry (domain.Providers) does not", name)
		}
	}
	settings := (&pb.GlobalSettings{}).ProtoReflect().Descriptor().Fields()
	stored, err := env.Store.GetGlobal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range domain.Providers {
		t.Run(p.Name, func(t *testing.T) {
			if v, ok := pb.Integration_value[p.Integration.EnumName()]; !ok || v != int32(p.Integration) {
				t.Fatalf("proto enum %s = %d (present %t), registry number %d", p.Integration.EnumName(), v, ok, p.Integration)
			}
			fd := settings.ByName(protoreflect.Name(p.Name))
			if fd == nil {
				t.Fatalf("GlobalSettings has no field %q", p.Name)
			}
			// Catalog and the defaults row (the migration's CHECKs admit it).
			models, err := env.Config.ListModels(admin, &pb.ListModelsRequest{Integration: pb.Integration(p.Integration)})
			if err != nil || len(models.GetModels()) == 0 {
				t.Fatalf("no enabled catalog model: %v, %v", models, err)
			}
			d, ok := stored.Defaults[p.Integration]
			if !ok || d.Params.Model == nil {
				t.Fatal("no global defaults row")
			}
			// Conversion both ways and validation against the catalog: set
			// another catalog model (one the other defaults fit) through the
			// provider's own field.
			in := &pb.GlobalSettings{}
			var got *pb.GlobalSettings
			var other string
			for _, m := range models.GetModels() {
				if other = m.GetModel(); other == *d.Params.Model {
					continue
				}
				in.ProtoReflect().Set(fd, protoreflect.ValueOfMessage((&pb.IntegrationDefaults{Model: other}).ProtoReflect()))
				if got, err = env.Config.UpdateGlobalSettings(admin, &pb.UpdateGlobalSettingsRequest{Settings: in}); err == nil {
					break
				}
			}
			if got == nil {
				t.Fatalf("no other catalog model could be set as %s.model: %v", p.Name, err)
			}
			if m := got.ProtoReflect().Get(fd).Message().Interface().(*pb.IntegrationDefaults).GetModel(); m != other {
				t.Fatalf("GlobalSettings.%s.model = %q after the update, want %q", p.Name, m, other)
			}
			in.ProtoReflect().Set(fd, protoreflect.ValueOfMessage((&pb.IntegrationDefaults{Model: "no-such-model"}).ProtoReflect()))
			_, err = env.Config.UpdateGlobalSettings(admin, &pb.UpdateGlobalSettingsRequest{Settings: in})
			testsrv.WantViolation(t, err, domain.ReasonModelNotAllowed, "settings."+p.Name+".model")
			// Validation by kind: a field of the other kind is refused.
			o := &pb.IntegrationOverride{AccountId: "acct", Integration: pb.Integration(p.Integration)}
			wrong := "override.image_size"
			if p.Kind == domain.KindImage {
				o.MaxTokens, wrong = proto.Int32(100), "override.max_tokens"
			} else {
				o.ImageSize = proto.String("1024x1024")
			}
			_, err = env.Config.UpsertIntegrationOverride(admin, &pb.UpsertIntegrationOverrideRequest{Override: o})
			f := testsrv.WantViolation(t, err, domain.ReasonValidationFailed, wrong)
			if !strings.Contains(f.Violations[wrong], p.Name) {
				t.Errorf("violation %q does not name the provider", f.Violations[wrong])
			}
		})
	}
}
