package access

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/igny8/aiconfig/internal/audit"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/validate"
)

// Store is what access needs from the database (through the cache).
type Store interface {
	Authenticate(ctx context.Context, secretHash [32]byte) (*domain.Principal, bool, error)
	// Cached is Authenticate without a database query: a token known in memory.
	Cached(secretHash [32]byte) (*domain.Principal, bool)
	GetAccount(ctx context.Context, id string) (domain.Account, error)
}

// WithPrincipal is a context whose call is made by p (for in-process
// callers and tests; a served call gets its principal from Authenticate).
// p is shared, not copied: do not modify it afterwards.
func WithPrincipal(ctx context.Context, p *domain.Principal) context.Context {
	return audit.WithActor(ctx, p)
}

// PrincipalFrom returns the authenticated caller.
func PrincipalFrom(ctx context.Context) (domain.Principal, bool) {
	p, ok := audit.Actor(ctx)
	if !ok {
		return domain.Principal{}, false
	}
	return *p, true
}

// Public reports whether a method needs no token: health and reflection.
func Public(fullMethod string) bool {
	return strings.HasPrefix(fullMethod, "/grpc.health.v1.") || strings.HasPrefix(fullMethod, "/grpc.reflection.")
}

// Guard authenticates and authorizes every call, and keeps floods off the
// database and the audit log (limits.go).
type Guard struct {
	rules  Rules
	store  Store
	unauth *limiters // per peer: calls without a valid token
	writes *limiters // per token: write calls
	denied *DeniedLog
}

// NewGuard loads the rules from the proto descriptors.
func NewGuard(store Store, limits Limits, denied *DeniedLog) (*Guard, error) {
	rules, err := LoadRules()
	if err != nil {
		return nil, err
	}
	return &Guard{rules: rules, store: store, denied: denied,
		unauth: newLimiters(limits.Unauthenticated, limits.UnauthenticatedBurst),
		writes: newLimiters(limits.Writes, limits.WritesBurst)}, nil
}

// missingToken is the UNAUTHENTICATED for a call without a bearer token.
func missingToken(ctx context.Context) *domain.Error {
	msg := "missing bearer token: send metadata 'authorization: Bearer <token>'"
	if v := metadata.ValueFromIncomingContext(ctx, "authorization"); len(v) > 0 && v[0] != "" {
		// A token sent without its scheme is the usual slip: say so
		// (without echoing the value, which may be the token).
		msg = "the authorization metadata is not 'Bearer <token>': write the word Bearer and a space before the token"
	}
	return &domain.Error{Code: domain.CodeUnauthenticated, Reason: domain.ReasonTokenMissing, Message: msg}
}

var (
	errTokenInvalid = &domain.Error{Code: domain.CodeUnauthenticated, Reason: domain.ReasonTokenInvalid,
		Message: "the bearer token is unknown or revoked"}
)

// Authenticate turns the bearer token into a principal, in the context and
// in the call's audit record (for audit rows and the call log). A call
// without a valid token spends one of the peer's allowance (Limits), and
// a peer that spent it is refused RATE_LIMITED before any database query,
// so forged tokens cannot become a flood of queries. Valid tokens spend
// nothing, however many are looked up at once (workers behind one
// address starting together, or every call with the cache off): lookups
// from one address run at most a burst at a time, the others waiting for
// a slot, and each failed one is charged as it fails.
func (g *Guard) Authenticate(ctx context.Context) (context.Context, error) {
	secret, err := auth.AuthFromMD(ctx, "bearer")
	var hash [32]byte
	switch {
	case err != nil || secret == "":
		err = missingToken(ctx)
	case !WellFormed(secret):
		err = errTokenInvalid
	default:
		hash = HashSecret(secret)
		if p, ok := g.store.Cached(hash); ok {
			return g.authenticated(ctx, p), nil
		}
	}
	bucket := g.unauth.get(Peer(ctx))
	if !bucket.has() {
		return nil, rateLimited("too many calls without a valid token from this address")
	}
	if err != nil {
		bucket.charge()
		return nil, err
	}
	release, err := bucket.enter(ctx)
	if err != nil {
		return nil, err
	}
	if !bucket.has() { // failed lookups spent it while this one waited
		release()
		return nil, rateLimited("too many calls without a valid token from this address")
	}
	p, ok, err := g.store.Authenticate(ctx, hash)
	release()
	switch {
	case err != nil:
		return nil, err // the database's failure, not the caller's
	case !ok:
		bucket.charge()
		return nil, errTokenInvalid
	}
	return g.authenticated(ctx, p), nil
}

func (g *Guard) authenticated(ctx context.Context, p *domain.Principal) context.Context {
	audit.SetActor(ctx, p)
	return ctx
}

// Authorize applies the method's rule to the principal and request. For an
// ACCOUNT principal that left the account empty, it fills in its own.
func (g *Guard) Authorize(ctx context.Context, fullMethod string, req proto.Message) error {
	rule, ok := g.rules[fullMethod]
	p, _ := PrincipalFrom(ctx)
	return g.authorize(ctx, p, fullMethod, rule, ok, req)
}

// authorize is Authorize with the principal and the method's rule (known:
// whether it has one) already looked up.
func (g *Guard) authorize(ctx context.Context, p domain.Principal, fullMethod string, rule Rule, known bool, req proto.Message) error {
	if !known {
		return &domain.Error{Code: domain.CodePermissionDenied, Reason: domain.ReasonRuleMissing,
			Message: fmt.Sprintf("%s declares no access rule and is refused", fullMethod)}
	}
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
	if rule.MinPlan == domain.PlanUnknown || rule.OnlyClears(req) {
		return nil
	}
	if err := validate.CheckAccountID(fieldPath(rule), target); err != nil {
		return err
	}
	a, err := g.store.GetAccount(ctx, target)
	if err != nil {
		return err
	}
	if a.Plan < rule.MinPlan {
		cur, req := a.Plan.EnumName(), rule.MinPlan.EnumName()
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
		names[i] = r.EnumName()
	}
	return &domain.Error{Code: domain.CodePermissionDenied, Reason: domain.ReasonRoleNotAllowed,
		Message:  fmt.Sprintf("role %s may not call %s%s; allowed: %s", role.EnumName(), method, scope, strings.Join(names, ", ")),
		Metadata: map[string]string{"role": role.EnumName(), "allowed_roles": strings.Join(names, ",")}}
}

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
		p, _ := PrincipalFrom(ctx)
		rule, known := g.rules[info.FullMethod]
		if known && rule.Write && !g.writes.get(p.TokenID).take() {
			err := rateLimited("too many writes with this token")
			g.recordDenied(ctx, info.FullMethod, msg, err)
			return nil, err
		}
		if err := g.authorize(ctx, p, info.FullMethod, rule, known, msg); err != nil {
			g.recordDenied(ctx, info.FullMethod, msg, err)
			return nil, err
		}
		return handler(ctx, req)
	}
}

// Rules returns the loaded rules.
func (g *Guard) Rules() Rules { return g.rules }

// recordDenied audits a refused write attempt (reads are not audited), in
// aggregate under a flood (DeniedLog).
func (g *Guard) recordDenied(ctx context.Context, method string, req proto.Message, err error) {
	var de *domain.Error
	if !errors.As(err, &de) || (de.Code != domain.CodePermissionDenied && de.Code != domain.CodeUnauthenticated &&
		de.Code != domain.CodeResourceExhausted) {
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
		audit.SetActor(ctx, &domain.Principal{Name: "anonymous"})
	}
	g.denied.note(ctx, de.Reason, account)
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
