package domain

import (
	"errors"
	"fmt"
	"strings"
)

// Code is the class of a domain error; the gRPC layer maps each to one
// status code, once, in internal/server.
type Code int

const (
	CodeInvalid Code = iota + 1
	CodeNotFound
	CodeAborted
	CodeFailedPrecondition
	CodePermissionDenied
	CodeUnauthenticated
	CodeUnavailable
	CodeOutOfRange
	CodeResourceExhausted
	CodeAlreadyExists
)

// Stable reasons (SPEC section 8), carried in google.rpc.ErrorInfo.
const (
	ReasonTokenMissing        = "TOKEN_MISSING"
	ReasonTokenInvalid        = "TOKEN_INVALID"
	ReasonRoleNotAllowed      = "ROLE_NOT_ALLOWED"
	ReasonAccountScope        = "ACCOUNT_SCOPE"
	ReasonPlanUpgradeRequired = "PLAN_UPGRADE_REQUIRED"
	ReasonRuleMissing         = "ACCESS_RULE_MISSING"
	ReasonAccountNotFound     = "ACCOUNT_NOT_FOUND"
	ReasonOverrideNotFound    = "OVERRIDE_NOT_FOUND"
	ReasonPromptTypeNotFound  = "PROMPT_TYPE_NOT_FOUND"
	ReasonTokenNotFound       = "TOKEN_NOT_FOUND"
	ReasonValidationFailed    = "VALIDATION_FAILED"
	ReasonUnknownFunction     = "UNKNOWN_FUNCTION"
	ReasonModelNotAllowed     = "MODEL_NOT_ALLOWED"
	ReasonRevisionMismatch    = "REVISION_MISMATCH"
	ReasonAPIKeyNotConfigured = "API_KEY_NOT_CONFIGURED"
	ReasonMigrationsPending   = "MIGRATIONS_PENDING"
	ReasonAPIKeyUnreadable    = "API_KEY_UNREADABLE"
	ReasonSecretKeyMissing    = "SECRET_KEY_NOT_CONFIGURED"
	ReasonModelInUse          = "MODEL_IN_USE"
	ReasonStoreUnavailable    = "STORE_UNAVAILABLE"
	ReasonRevisionCompacted   = "REVISION_COMPACTED"
	ReasonRateLimited         = "RATE_LIMITED"
	ReasonKeyNotDeployed      = "KEY_NOT_DEPLOYED"

	ReasonAuthorProfileNotFound   = "AUTHOR_PROFILE_NOT_FOUND"
	ReasonContentStrategyNotFound = "CONTENT_STRATEGY_NOT_FOUND"
	ReasonHistoryEntryNotFound    = "HISTORY_ENTRY_NOT_FOUND"
	ReasonPlanLimitReached        = "PLAN_LIMIT_REACHED"
	ReasonItemInUse               = "ITEM_IN_USE"
	ReasonItemAlreadyExists       = "ITEM_ALREADY_EXISTS"

	// SPEC 17: an idempotency key sent again with another request, and
	// the retry of a call whose answer held a secret shown only once.
	ReasonIdempotencyKeyReused = "IDEMPOTENCY_KEY_REUSED"
	ReasonSecretShownOnce      = "SECRET_SHOWN_ONCE"
)

// Violation is one bad field of a request.
type Violation struct {
	Field       string
	Description string
}

// Error is the one error type the domain returns to callers. Message is
// written for a person running grpcurl and never holds a secret.
type Error struct {
	Code       Code
	Reason     string
	Message    string
	Metadata   map[string]string
	Violations []Violation
}

func (e *Error) Error() string {
	if len(e.Violations) == 0 {
		return e.Message
	}
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = v.Field + ": " + v.Description
	}
	return e.Message + ": " + strings.Join(parts, "; ")
}

// Invalid builds an INVALID_ARGUMENT error from field violations.
func Invalid(reason string, violations ...Violation) *Error {
	return &Error{Code: CodeInvalid, Reason: reason, Message: "invalid request", Violations: violations}
}

// InvalidField is Invalid with a single violation.
func InvalidField(field, format string, args ...any) *Error {
	return Invalid(ReasonValidationFailed, Violation{Field: field, Description: fmt.Sprintf(format, args...)})
}

// NotFound builds a NOT_FOUND error.
func NotFound(reason, format string, args ...any) *Error {
	return &Error{Code: CodeNotFound, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// AccountNotFound is the NOT_FOUND for an unknown account id.
func AccountNotFound(id string) *Error {
	e := NotFound(ReasonAccountNotFound, "account %q does not exist", id)
	e.Metadata = map[string]string{"account_id": id}
	return e
}

// RevisionMismatch is the ABORTED for a stale expected_revision.
func RevisionMismatch(resource string, expected, actual int64) *Error {
	return &Error{
		Code:   CodeAborted,
		Reason: ReasonRevisionMismatch,
		Message: fmt.Sprintf("%s is at revision %d, not the expected %d: read it again and retry",
			resource, actual, expected),
		Metadata: map[string]string{"expected_revision": fmt.Sprint(expected), "current_revision": fmt.Sprint(actual)},
	}
}

// Unavailable is the UNAVAILABLE for a database that does not answer.
func Unavailable() *Error {
	return &Error{Code: CodeUnavailable, Reason: ReasonStoreUnavailable, Message: "the configuration database is unreachable; retry shortly"}
}

// Collector gathers violations so a request reports every bad field at once.
type Collector struct{ Violations []Violation }

// Add records a violation.
func (c *Collector) Add(field, format string, args ...any) {
	c.Violations = append(c.Violations, Violation{Field: field, Description: fmt.Sprintf(format, args...)})
}

// Merge adds the violations of err, a validation *Error or one wrapping
// it (the Check* helpers of validate return those). Any other non-nil error
// is recorded as one violation of field with its message, rather than lost.
func (c *Collector) Merge(field string, err error) {
	var de *Error
	switch {
	case err == nil:
	case errors.As(err, &de) && len(de.Violations) > 0:
		c.Violations = append(c.Violations, de.Violations...)
	default:
		c.Violations = append(c.Violations, Violation{Field: field, Description: err.Error()})
	}
}

// Err returns nil when nothing was recorded, else an INVALID_ARGUMENT with reason.
func (c *Collector) Err(reason string) error {
	if len(c.Violations) == 0 {
		return nil
	}
	return Invalid(reason, c.Violations...)
}
