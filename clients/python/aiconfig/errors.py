"""Errors: every failure is an AiconfigError, of a subclass per gRPC code,
carrying the code, the stable reason (see aiconfig.Reason), the metadata
and, for INVALID_ARGUMENT, the bad fields."""

from __future__ import annotations

from typing import Mapping, NamedTuple, Optional, Sequence

import grpc

from aiconfig._rpc import error_details_pb2, status_pb2

ERROR_DOMAIN = "aiconfig"

_STATUS_DETAILS_KEY = "grpc-status-details-bin"
_ERROR_INFO = "google.rpc.ErrorInfo"
_BAD_REQUEST = "google.rpc.BadRequest"


class FieldViolation(NamedTuple):
    field: str
    description: str


class AiconfigError(Exception):
    """A failed call. Messages come from the server, which never puts an
    API key or a token in them."""

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        reason: str = "",
        metadata: Optional[Mapping[str, str]] = None,
        field_violations: Sequence[FieldViolation] = (),
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason
        self.metadata = dict(metadata or {})
        self.field_violations = list(field_violations)

    def __reduce__(self):
        # Picklable whole (Celery and multiprocessing send task errors to
        # another process).
        return (type(self), (self.code, self.message, self.reason, self.metadata, self.field_violations))

    def __str__(self) -> str:
        reason = f" {self.reason}" if self.reason else ""
        return f"{self.code.name}{reason}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code.name}, reason={self.reason!r}, message={self.message!r})"


class InvalidArgumentError(AiconfigError):
    """INVALID_ARGUMENT: see field_violations."""


class NotFoundError(AiconfigError):
    """NOT_FOUND: ACCOUNT_NOT_FOUND, PROMPT_TYPE_NOT_FOUND, ..."""


class PermissionDeniedError(AiconfigError):
    """PERMISSION_DENIED: ROLE_NOT_ALLOWED, ACCOUNT_SCOPE, PLAN_UPGRADE_REQUIRED."""


class UnauthenticatedError(AiconfigError):
    """UNAUTHENTICATED: TOKEN_MISSING, TOKEN_INVALID."""


class FailedPreconditionError(AiconfigError):
    """FAILED_PRECONDITION: API_KEY_NOT_CONFIGURED, ..."""


class AlreadyExistsError(AiconfigError):
    """ALREADY_EXISTS: ITEM_ALREADY_EXISTS (an own item's id the account already uses)."""


class AbortedError(AiconfigError):
    """ABORTED: REVISION_MISMATCH (a stale expected_revision)."""


class OutOfRangeError(AiconfigError):
    """OUT_OF_RANGE: REVISION_COMPACTED."""


class ResourceExhaustedError(AiconfigError):
    """RESOURCE_EXHAUSTED: PLAN_LIMIT_REACHED, RATE_LIMITED."""


class UnavailableError(AiconfigError):
    """UNAVAILABLE: the server is down or unreachable (no reason), or
    cannot reach its database (STORE_UNAVAILABLE)."""


class DeadlineExceededError(AiconfigError):
    """DEADLINE_EXCEEDED: the call's deadline passed."""


class ConfigurationError(FailedPreconditionError):
    """The client is set up in a way that cannot work, found by the client
    (code FAILED_PRECONDITION, no reason): e.g. TLS (the default) against a
    plaintext server, or aiconfig.django's settings missing or wrong. Not an
    UnavailableError: retrying cannot help."""

    def __init__(self, message: str, code: grpc.StatusCode = grpc.StatusCode.FAILED_PRECONDITION, reason: str = "",
                 metadata: Optional[Mapping[str, str]] = None, field_violations: Sequence[FieldViolation] = ()):
        super().__init__(code, message, reason, metadata, field_violations)

    def __reduce__(self):
        return (type(self), (self.message, self.code, self.reason, self.metadata, self.field_violations))


_BY_CODE = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgumentError,
    grpc.StatusCode.NOT_FOUND: NotFoundError,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDeniedError,
    grpc.StatusCode.UNAUTHENTICATED: UnauthenticatedError,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPreconditionError,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExistsError,
    grpc.StatusCode.ABORTED: AbortedError,
    grpc.StatusCode.OUT_OF_RANGE: OutOfRangeError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhaustedError,
    grpc.StatusCode.UNAVAILABLE: UnavailableError,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceededError,
}


def error(code: grpc.StatusCode, message: str, reason: str = "", metadata=None, field_violations=()) -> AiconfigError:
    """The AiconfigError subclass for code."""
    return _BY_CODE.get(code, AiconfigError)(code, message, reason, metadata, field_violations)


def from_rpc_error(e: grpc.RpcError) -> AiconfigError:
    """Decodes a failed call: code, message, and the ErrorInfo and
    BadRequest the server attaches in grpc-status-details-bin."""
    code = e.code() if hasattr(e, "code") else grpc.StatusCode.UNKNOWN
    message = (e.details() if hasattr(e, "details") else None) or ""
    trailers = (e.trailing_metadata() if hasattr(e, "trailing_metadata") else None) or ()
    return from_status(code, message, next((v for k, v in trailers if k == _STATUS_DETAILS_KEY), None))


def from_status(code: grpc.StatusCode, message: str, details: Optional[bytes]) -> AiconfigError:
    """Builds the error from a code, a message and a serialized
    google.rpc.Status (None when the server sent none)."""
    reason, metadata, violations = "", {}, []
    if details:
        try:
            st = status_pb2.Status.FromString(details)
        except Exception:  # not ours to fail on: keep code and message
            st = status_pb2.Status()
        for any_ in st.details:
            kind = any_.type_url.rsplit("/", 1)[-1]
            if kind == _ERROR_INFO:
                info = error_details_pb2.ErrorInfo.FromString(any_.value)
                if info.domain == ERROR_DOMAIN:
                    reason, metadata = info.reason, dict(info.metadata)
            elif kind == _BAD_REQUEST:
                br = error_details_pb2.BadRequest.FromString(any_.value)
                violations = [FieldViolation(v.field, v.description) for v in br.field_violations]
    return error(code, message, reason, metadata, violations)
