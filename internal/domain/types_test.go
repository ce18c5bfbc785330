package domain

import (
	"testing"

	pb "github.com/igny8/aiconfig/gen/aiconfig/v1"
)

// EnumName is built by one rule (enumName) for Plan, Integration and Role;
// this holds it equal to the proto's own enum value names.
func TestEnumNamesMatchTheProto(t *testing.T) {
	n := 0
	for p := PlanFree; p.Valid(); p++ {
		if want := pb.Plan_name[int32(p)]; p.EnumName() != want {
			t.Errorf("Plan %d: EnumName %q, proto %q", p, p.EnumName(), want)
		}
		n++
	}
	for _, i := range Integrations {
		if want := pb.Integration_name[int32(i)]; i.EnumName() != want {
			t.Errorf("Integration %d: EnumName %q, proto %q", i, i.EnumName(), want)
		}
		n++
	}
	for r := RoleAdmin; r.Valid(); r++ {
		if want := pb.Role_name[int32(r)]; r.EnumName() != want {
			t.Errorf("Role %d: EnumName %q, proto %q", r, r.EnumName(), want)
		}
		n++
	}
	if n < 4+3+2 {
		t.Fatalf("checked only %d enum values", n)
	}
}
