package access

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/igny8/aiconfig/internal/audit"
	"github.com/igny8/aiconfig/internal/domain"
)

// Store is what access needs from the database.
type Store interface {
	Authenticate(ctx context.Context, secretHash [32]byte) (*domain.Principal, bool, error)
	GetAccount(ctx context.Context, id string) (domain.Account, error)
	RecordDenied(ctx context.Context, reason, resource, accountID string) error
}

type principalKey struct{}

// WithPrincipal stores the caller in a context. p is shared, not copied
// (the hot path avoids an allocation): do not modify it afterwards.
func WithPrincipal(ctx context.Context, p *domain.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the authenticated caller.
func PrincipalFrom(ctx context.Context) (domain.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*domain.Principal)
	if !ok {
		return domain.Principal{}, false
	}
	return *p, true
}

// Public reports whether a method needs no token: health and reflection.
func Public(fullMethod string) bool {
	return strings.HasPrefix(fullMethod, "/grpc.health.v1.") || strings.HasPrefix(fullMethod, "/grpc.reflection.")
}

// Guard authenticates and authorizes every call.
type Guard struct {
	rules Rules
	store Store
}

// NewGuard loads the rules from the proto descriptors.
func NewGuard(store Store) (*Guard, error) {
	rules, err := LoadRules()
	if err != nil {
		return nil, err
	}
	return &Guard{rules: rules, store: store}, nil
}

// Authenticate turns the bearer token into a principal, in the context and
// in the call's audit record (for audit rows and the call log).
func (g *Guard) Authenticate(ctx context.Context) (context.Context, error) {
	secret, err := auth.AuthFromMD(ctx, "bearer")
	if err != nil || secret == "" {
		return nil, &domain.Error{Code: domain.CodeUnauthenticated, Reason: domain.ReasonTokenMissing,
			Message: "missing bearer token: send metadata 'authorization: Bearer <token>'"}
	}
	p, ok, err := g.store.Authenticate(ctx, HashSecret(secret))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &domain.Error{Code: domain.CodeUnauthenticated, Reason: domain.ReasonTokenInvalid,
			Message: "the bearer token is unknown or revoked"}
	}
	audit.SetActor(ctx, *p)
	return WithPrincipal(ctx, p), nil
}

// Authorize applies the method's rule to the principal and request. For an
// ACCOUNT principal that left the account empty, it fills in its own.
func (g *Guard) Authorize(ctx context.Context, fullMethod string, req proto.Message) error {
	rule, ok := g.rules[fullMethod]
	if !ok {
		return &domain.Error{Code: domain.CodePermissionDenied, Reason: domain.ReasonRuleMissing,
			Message: fmt.Sprintf("%s declares no access rule and is refused", fullMethod)}
	}
	p, _ := PrincipalFrom(ctx)
	if !rule.Allows(p.Role) {
		return roleNotAllowed(p.Role, fullMethod, rule.Roles, "")
	}
	if len(rule.AccountField) == 0 {
		return nil
	}
	target := rule.TargetAccount(req)
	if target == "" && len(rule.GlobalRoles) > 0 && p.Role != domain.RoleAccount {
		// The global items, not an account's: no plan to gate on.
		if !slices.Contains(rule.GlobalRoles, p.Role) {
			return roleNotAllowed(p.Role, fullMethod, rule.GlobalRoles, " with "+fieldPath(rule)+" empty (on the global items)")
		}
		return nil
	}
	if p.Role == domain.RoleAccount {
		switch target {
		case "":
			target = p.AccountID
			rule.SetTargetAccount(req, target)
		case p.AccountID:
		default:
			return &domain.Error{Code: domain.CodePermissionDenied, Reason: domain.ReasonAccountScope,
				Message:  fmt.Sprintf("this token is bound to account %q and cannot act on account %q", p.AccountID, target),
				Metadata: map[string]string{"token_account_id": p.AccountID, "account_id": target}}
		}
	}
	if rule.MinPlan == domain.PlanUnknown {
		return nil
	}
	if target == "" {
		return domain.InvalidField(fieldPath(rule), "is required")
	}
	a, err := g.store.GetAccount(ctx, target)
	if err != nil {
		return err
	}
	if a.Plan < rule.MinPlan {
		cur, req := planName(a.Plan), planName(rule.MinPlan)
		return &domain.Error{Code: domain.CodePermissionDenied, Reason: domain.ReasonPlanUpgradeRequired,
			Message:  fmt.Sprintf("account %q is on %s; this needs %s or higher", target, cur, req),
			Metadata: map[string]string{"current_plan": cur, "required_plan": req, "account_id": target}}
	}
	return nil
}

// roleNotAllowed is the PERMISSION_DENIED for a role not in allowed; scope
// says which use of the method, if not every use.
func roleNotAllowed(role domain.Role, method string, allowed []domain.Role, scope string) error {
	names := make([]string, len(allowed))
	for i, r := range allowed {
		names[i] = "ROLE_" + strings.ToUpper(r.String())
	}
	return &domain.Error{Code: domain.CodePermissionDenied, Reason: domain.ReasonRoleNotAllowed,
		Message:  fmt.Sprintf("role ROLE_%s may not call %s%s; allowed: %s", strings.ToUpper(role.String()), method, scope, strings.Join(names, ", ")),
		Metadata: map[string]string{"role": "ROLE_" + strings.ToUpper(role.String()), "allowed_roles": strings.Join(names, ",")}}
}

func planName(p domain.Plan) string { return "PLAN_" + strings.ToUpper(p.String()) }

func fieldPath(r Rule) string {
	parts := make([]string, len(r.AccountField))
	for i, n := range r.AccountField {
		parts[i] = string(n)
	}
	return strings.Join(parts, ".")
}

// UnaryInterceptor authenticates (except public methods) and authorizes.
func (g *Guard) UnaryInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if Public(info.FullMethod) {
			return handler(ctx, req)
		}
		msg, ok := req.(proto.Message)
		if !ok {
			return nil, fmt.Errorf("request of %s is not a proto message", info.FullMethod)
		}
		authed, err := g.Authenticate(ctx)
		if err != nil {
			g.recordDenied(ctx, info.FullMethod, msg, err)
			return nil, err
		}
		ctx = authed
		if err := g.Authorize(ctx, info.FullMethod, msg); err != nil {
			g.recordDenied(ctx, info.FullMethod, msg, err)
			return nil, err
		}
		return handler(ctx, req)
	}
}

// Rules returns the loaded rules.
func (g *Guard) Rules() Rules { return g.rules }

// recordDenied audits a refused write attempt (reads are not audited).
func (g *Guard) recordDenied(ctx context.Context, method string, req proto.Message, err error) {
	var de *domain.Error
	if !errors.As(err, &de) || (de.Code != domain.CodePermissionDenied && de.Code != domain.CodeUnauthenticated) {
		return
	}
	rule, known := g.rules[method]
	if known && !rule.Write {
		return
	}
	account := ""
	if known && len(rule.AccountField) > 0 {
		account = rule.TargetAccount(req)
	}
	if _, ok := PrincipalFrom(ctx); !ok {
		audit.SetActor(ctx, domain.Principal{Name: "anonymous"})
	}
	// Best effort: the refusal stands even if the database cannot record it.
	_ = g.store.RecordDenied(ctx, de.Reason, "", account)
}

// StreamInterceptor authenticates a stream when it opens and applies the
// method's rule to its request message before the handler sees it. Only
// server-streaming RPCs (one request) are allowed; public streams
// (reflection, health watch) pass.
func (g *Guard) StreamInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if Public(info.FullMethod) {
			return handler(srv, ss)
		}
		ctx, err := g.Authenticate(ss.Context())
		if err != nil {
			return err
		}
		if info.IsClientStream {
			return &domain.Error{Code: domain.CodePermissionDenied, Reason: domain.ReasonRuleMissing,
				Message: fmt.Sprintf("%s streams requests, which the access rules cannot check; refused", info.FullMethod)}
		}
		return handler(srv, &guardedStream{ServerStream: ss, ctx: ctx, guard: g, method: info.FullMethod})
	}
}

// guardedStream authorizes the stream's single request as it is read.
type guardedStream struct {
	grpc.ServerStream
	ctx    context.Context
	guard  *Guard
	method string
	read   bool
}

func (s *guardedStream) Context() context.Context { return s.ctx }

func (s *guardedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if s.read {
		return &domain.Error{Code: domain.CodeInvalid, Reason: domain.ReasonValidationFailed, Message: "this RPC takes one request"}
	}
	s.read = true
	msg, ok := m.(proto.Message)
	if !ok {
		return fmt.Errorf("request of %s is not a proto message", s.method)
	}
	return s.guard.Authorize(s.ctx, s.method, msg)
}
