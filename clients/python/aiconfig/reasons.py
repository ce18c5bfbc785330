"""The stable reasons of the server's errors (google.rpc.ErrorInfo, domain
"aiconfig"), as AiconfigError.reason carries them.

This is the Python list; client/reasons.go is the Go one, and a Go test
(client/reasons_test.go) holds both equal to the server's.
"""


class Reason:
    # UNAUTHENTICATED
    TOKEN_MISSING = "TOKEN_MISSING"  # no bearer token
    TOKEN_INVALID = "TOKEN_INVALID"  # unknown or revoked token

    # PERMISSION_DENIED
    ROLE_NOT_ALLOWED = "ROLE_NOT_ALLOWED"  # the token's role may not call the RPC
    ACCOUNT_SCOPE = "ACCOUNT_SCOPE"  # an ACCOUNT token naming another account
    PLAN_UPGRADE_REQUIRED = "PLAN_UPGRADE_REQUIRED"  # metadata current_plan, required_plan
    ACCESS_RULE_MISSING = "ACCESS_RULE_MISSING"  # the RPC declares no access rule

    # NOT_FOUND
    ACCOUNT_NOT_FOUND = "ACCOUNT_NOT_FOUND"
    PROMPT_TYPE_NOT_FOUND = "PROMPT_TYPE_NOT_FOUND"
    OVERRIDE_NOT_FOUND = "OVERRIDE_NOT_FOUND"
    TOKEN_NOT_FOUND = "TOKEN_NOT_FOUND"
    AUTHOR_PROFILE_NOT_FOUND = "AUTHOR_PROFILE_NOT_FOUND"  # metadata author_profile_id
    CONTENT_STRATEGY_NOT_FOUND = "CONTENT_STRATEGY_NOT_FOUND"  # metadata content_strategy_id
    HISTORY_ENTRY_NOT_FOUND = "HISTORY_ENTRY_NOT_FOUND"

    # INVALID_ARGUMENT, with field violations
    VALIDATION_FAILED = "VALIDATION_FAILED"
    UNKNOWN_FUNCTION = "UNKNOWN_FUNCTION"
    MODEL_NOT_ALLOWED = "MODEL_NOT_ALLOWED"

    # ABORTED
    REVISION_MISMATCH = "REVISION_MISMATCH"  # a stale expected_revision

    # FAILED_PRECONDITION
    API_KEY_NOT_CONFIGURED = "API_KEY_NOT_CONFIGURED"  # the platform has no key for the provider
    API_KEY_UNREADABLE = "API_KEY_UNREADABLE"  # a stored key does not open with the server's keys
    SECRET_KEY_NOT_CONFIGURED = "SECRET_KEY_NOT_CONFIGURED"  # the server cannot seal API keys
    MIGRATIONS_PENDING = "MIGRATIONS_PENDING"
    MODEL_IN_USE = "MODEL_IN_USE"  # a catalog change would break a global default
    KEY_NOT_DEPLOYED = "KEY_NOT_DEPLOYED"  # secrets rotate: a live replica lacks the new key
    ITEM_IN_USE = "ITEM_IN_USE"  # archiving the platform's default item
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"  # a key sent again with another request
    SECRET_SHOWN_ONCE = "SECRET_SHOWN_ONCE"  # a retried CreateToken whose secret was lost; metadata token_id

    # OUT_OF_RANGE
    REVISION_COMPACTED = "REVISION_COMPACTED"  # metadata oldest_revision

    # ALREADY_EXISTS
    ITEM_ALREADY_EXISTS = "ITEM_ALREADY_EXISTS"  # metadata owner (account or platform), <kind>_id

    # RESOURCE_EXHAUSTED
    PLAN_LIMIT_REACHED = "PLAN_LIMIT_REACHED"  # metadata plan, limit
    RATE_LIMITED = "RATE_LIMITED"

    # UNAVAILABLE
    STORE_UNAVAILABLE = "STORE_UNAVAILABLE"  # the server cannot reach its database
