package access

import (
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	aiconfigv1 "github.com/igny8/aiconfig/gen/aiconfig/v1"
	"github.com/igny8/aiconfig/internal/domain"
)

// Rule is one RPC's access rule, read from its proto method option.
type Rule struct {
	Method       string // "/aiconfig.v1.ConfigService/GetModelConfig"
	Roles        []domain.Role
	AccountField []protoreflect.Name            // path into the request; empty when the RPC targets no account
	accountFDs   []protoreflect.FieldDescriptor // AccountField resolved once, at load
	MinPlan      domain.Plan                    // PlanUnknown: no plan gate
	// clears is set (plan_exempt_clears) to the request's resource and
	// update_mask fields: a request that only clears fields skips the gate.
	clears *clearFields
	// GlobalRoles may leave the account field empty to act on the global
	// items (no plan gate then); see AccessRule.global_roles.
	GlobalRoles []domain.Role
	// Write is true unless the method is marked idempotency_level =
	// NO_SIDE_EFFECTS; denied writes are audited.
	Write bool
}

// Rules maps full method names to rules.
type Rules map[string]Rule

// LoadRules reads the access option of every method of every service in
// the aiconfig.v1 package. Methods without a rule are absent (and so
// refused); malformed rules are an error, caught at start-up and in tests.
func LoadRules() (Rules, error) {
	rules := Rules{}
	var errs []string
	protoregistry.GlobalFiles.RangeFilesByPackage("aiconfig.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := 0; i < fd.Services().Len(); i++ {
			sd := fd.Services().Get(i)
			for j := 0; j < sd.Methods().Len(); j++ {
				md := sd.Methods().Get(j)
				r, ok, err := ruleOf(md)
				if err != nil {
					errs = append(errs, err.Error())
				}
				if ok {
					rules[r.Method] = r
				}
			}
		}
		return true
	})
	if len(errs) > 0 {
		return nil, fmt.Errorf("bad access rules: %s", strings.Join(errs, "; "))
	}
	return rules, nil
}

// IsWrite reports whether a method is a write: every method not marked
// idempotency_level = NO_SIDE_EFFECTS (the access rules, the idempotency
// keys and the HTTP door's GET all read it here).
func IsWrite(md protoreflect.MethodDescriptor) bool {
	opts, _ := md.Options().(*descriptorpb.MethodOptions)
	return opts.GetIdempotencyLevel() != descriptorpb.MethodOptions_NO_SIDE_EFFECTS
}

// MethodName is the gRPC full method name of a method descriptor.
func MethodName(md protoreflect.MethodDescriptor) string {
	return "/" + string(md.Parent().FullName()) + "/" + string(md.Name())
}

func ruleOf(md protoreflect.MethodDescriptor) (Rule, bool, error) {
	opts := md.Options()
	if opts == nil || !proto.HasExtension(opts, aiconfigv1.E_Access) {
		return Rule{}, false, nil
	}
	pb := proto.GetExtension(opts, aiconfigv1.E_Access).(*aiconfigv1.AccessRule) //nolint:forcetypeassert // GetExtension returns the extension's declared type
	r := Rule{Method: MethodName(md), MinPlan: domain.Plan(pb.GetMinPlan()), Write: IsWrite(md)}
	for _, role := range pb.GetRoles() {
		r.Roles = append(r.Roles, domain.Role(role))
	}
	for _, role := range pb.GetGlobalRoles() {
		r.GlobalRoles = append(r.GlobalRoles, domain.Role(role))
	}
	if f := pb.GetAccountField(); f != "" {
		for _, part := range strings.Split(f, ".") {
			r.AccountField = append(r.AccountField, protoreflect.Name(part))
		}
		fds, err := accountField(md.Input(), r.AccountField)
		if err != nil {
			return r, false, fmt.Errorf("%s: %w", r.Method, err)
		}
		r.accountFDs = fds
	}
	if pb.GetPlanExemptClears() {
		c, err := clearsOf(md.Input(), r.AccountField)
		if err != nil {
			return r, false, fmt.Errorf("%s: plan_exempt_clears: %w", r.Method, err)
		}
		r.clears = c
	}
	if len(r.AccountField) == 0 && (r.MinPlan != domain.PlanUnknown || len(r.GlobalRoles) > 0) {
		return r, false, fmt.Errorf("%s: min_plan and global_roles need account_field", r.Method)
	}
	if len(r.AccountField) == 0 && slices.Contains(r.Roles, domain.RoleAccount) && !pb.GetAccountUnscoped() {
		return r, false, fmt.Errorf("%s: ROLE_ACCOUNT needs account_field, or account_unscoped for an RPC that reads no account's data", r.Method)
	}
	return r, true, nil
}

// accountField resolves a path to the string field that holds the account
// id, checking every step but the last is a singular message field.
func accountField(md protoreflect.MessageDescriptor, path []protoreflect.Name) ([]protoreflect.FieldDescriptor, error) {
	var fds []protoreflect.FieldDescriptor
	for i, name := range path {
		fd := md.Fields().ByName(name)
		if fd == nil || fd.IsList() || fd.IsMap() {
			return nil, fmt.Errorf("account_field: %s has no singular field %q", md.FullName(), name)
		}
		fds = append(fds, fd)
		if i == len(path)-1 {
			if fd.Kind() != protoreflect.StringKind {
				return nil, fmt.Errorf("account_field: %s is not a string", fd.FullName())
			}
			break
		}
		if fd.Kind() != protoreflect.MessageKind {
			return nil, fmt.Errorf("account_field: %s is not a message", fd.FullName())
		}
		md = fd.Message()
	}
	return fds, nil
}

// TargetAccount reads the account id a request names under the rule.
func (r Rule) TargetAccount(req proto.Message) string {
	m := req.ProtoReflect()
	fds := r.accountFDs
	for _, fd := range fds[:len(fds)-1] {
		if !m.Has(fd) {
			return ""
		}
		m = m.Get(fd).Message()
	}
	return m.Get(fds[len(fds)-1]).String()
}

// Allows reports whether the role may call the RPC.
func (r Rule) Allows(role domain.Role) bool { return slices.Contains(r.Roles, role) }

// SetTargetAccount writes the account id into the request, creating
// intermediate messages as needed.
func (r Rule) SetTargetAccount(req proto.Message, id string) {
	m := req.ProtoReflect()
	fds := r.accountFDs
	for _, fd := range fds[:len(fds)-1] {
		m = m.Mutable(fd).Message()
	}
	m.Set(fds[len(fds)-1], protoreflect.ValueOfString(id))
}

type clearFields struct {
	resource, mask protoreflect.FieldDescriptor
}

// clearsOf finds the request's resource (where the account field starts)
// and its update_mask.
func clearsOf(md protoreflect.MessageDescriptor, accountField []protoreflect.Name) (*clearFields, error) {
	if len(accountField) < 2 {
		return nil, fmt.Errorf("needs an account_field inside the resource message")
	}
	c := &clearFields{resource: md.Fields().ByName(accountField[0]), mask: md.Fields().ByName("update_mask")}
	if c.mask == nil || c.mask.Message() == nil || c.mask.Message().FullName() != "google.protobuf.FieldMask" {
		return nil, fmt.Errorf("%s has no google.protobuf.FieldMask update_mask", md.FullName())
	}
	return c, nil
}

// OnlyClears reports whether req, under a plan_exempt_clears rule, names
// in its update_mask only fields of the resource it leaves unset: it
// clears them back to their defaults and sets nothing.
func (r Rule) OnlyClears(req proto.Message) bool {
	if r.clears == nil {
		return false
	}
	m := req.ProtoReflect()
	paths := m.Get(r.clears.mask).Message().Interface().(*fieldmaskpb.FieldMask).GetPaths() //nolint:forcetypeassert // the field is a FieldMask by the rule's own descriptor check
	if len(paths) == 0 {
		return false
	}
	res := m.Get(r.clears.resource).Message()
	for _, p := range paths {
		fd := r.clears.resource.Message().Fields().ByName(protoreflect.Name(p))
		if fd == nil || res.Has(fd) {
			return false
		}
	}
	return true
}
