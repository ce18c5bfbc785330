package client

// Reasons are the stable google.rpc.ErrorInfo reasons the server returns
// (domain "aiconfig"), as Error.Reason carries them. This is the Go list;
// clients/python/aiconfig/reasons.py is the Python one, and a test holds
// both equal to the server's (internal/domain/errors.go).
const (
	// UNAUTHENTICATED
	ReasonTokenMissing = "TOKEN_MISSING" // no bearer token
	ReasonTokenInvalid = "TOKEN_INVALID" // unknown or revoked token

	// PERMISSION_DENIED
	ReasonRoleNotAllowed      = "ROLE_NOT_ALLOWED"      // the token's role may not call the RPC
	ReasonAccountScope        = "ACCOUNT_SCOPE"         // an ACCOUNT token naming another account
	ReasonPlanUpgradeRequired = "PLAN_UPGRADE_REQUIRED" // metadata current_plan, required_plan
	ReasonAccessRuleMissing   = "ACCESS_RULE_MISSING"   // the RPC declares no access rule (deny by default)

	// NOT_FOUND
	ReasonAccountNotFound         = "ACCOUNT_NOT_FOUND"
	ReasonPromptTypeNotFound      = "PROMPT_TYPE_NOT_FOUND"
	ReasonOverrideNotFound        = "OVERRIDE_NOT_FOUND"
	ReasonTokenNotFound           = "TOKEN_NOT_FOUND"
	ReasonAuthorProfileNotFound   = "AUTHOR_PROFILE_NOT_FOUND"   // metadata author_profile_id
	ReasonContentStrategyNotFound = "CONTENT_STRATEGY_NOT_FOUND" // metadata content_strategy_id
	ReasonHistoryEntryNotFound    = "HISTORY_ENTRY_NOT_FOUND"

	// INVALID_ARGUMENT, with field violations
	ReasonValidationFailed = "VALIDATION_FAILED"
	ReasonUnknownFunction  = "UNKNOWN_FUNCTION"
	ReasonModelNotAllowed  = "MODEL_NOT_ALLOWED"

	// ABORTED
	ReasonRevisionMismatch = "REVISION_MISMATCH" // a stale expected_revision

	// FAILED_PRECONDITION
	ReasonAPIKeyNotConfigured = "API_KEY_NOT_CONFIGURED"    // the platform has no key for the provider
	ReasonAPIKeyUnreadable    = "API_KEY_UNREADABLE"        // a stored key does not open with the server's secret keys
	ReasonSecretKeyMissing    = "SECRET_KEY_NOT_CONFIGURED" // the server cannot seal API keys
	ReasonMigrationsPending   = "MIGRATIONS_PENDING"
	ReasonModelInUse          = "MODEL_IN_USE"     // a catalog change would break a global default
	ReasonKeyNotDeployed      = "KEY_NOT_DEPLOYED" // secrets rotate: a live replica lacks the new key
	ReasonItemInUse           = "ITEM_IN_USE"      // archiving the platform's default item
	// IDEMPOTENCY_KEY_REUSED: an idempotency key sent again with a different
	// request (metadata method). SECRET_SHOWN_ONCE: the retry of a
	// CreateToken whose first answer (the secret) was lost; metadata token_id.
	ReasonIdempotencyKeyReused = "IDEMPOTENCY_KEY_REUSED"
	ReasonSecretShownOnce      = "SECRET_SHOWN_ONCE"

	// OUT_OF_RANGE
	ReasonRevisionCompacted = "REVISION_COMPACTED" // metadata oldest_revision: the change feed must start over

	// ALREADY_EXISTS
	ReasonItemAlreadyExists = "ITEM_ALREADY_EXISTS" // metadata owner (account or platform), <kind>_id

	// RESOURCE_EXHAUSTED
	ReasonPlanLimitReached = "PLAN_LIMIT_REACHED" // metadata plan, limit
	ReasonRateLimited      = "RATE_LIMITED"

	// UNAVAILABLE
	ReasonStoreUnavailable = "STORE_UNAVAILABLE" // the server cannot reach its database
)
