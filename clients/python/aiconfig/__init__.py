"""aiconfig: the Python client of the aiconfig service.

    import aiconfig
    client = aiconfig.Client("aiconfig:50051", token=os.environ["AICONFIG_TOKEN"])
    cfg = client.model_config(account_id, "generate_content")
    prompt = client.render_prompt(account_id, "content_generation", {"idea": idea})

See aiconfig.client for the cache, the change feed and fork safety.
"""

from aiconfig.answers import (Account, Adjustment, AuthorProfile, ContentStrategy, EffectivePrompt, GenerationContext,
                              ModelConfig)
from aiconfig.client import Client
from aiconfig.errors import (AbortedError, AiconfigError, AlreadyExistsError, DeadlineExceededError, FailedPreconditionError,
                             FieldViolation, InvalidArgumentError, NotFoundError, OutOfRangeError,
                             PermissionDeniedError, ResourceExhaustedError, UnauthenticatedError,
                             UnavailableError)
from aiconfig.reasons import Reason
from aiconfig.render import render

__version__ = "0.1.0"

__all__ = [
    "Client", "Account", "ModelConfig", "EffectivePrompt", "Adjustment", "GenerationContext", "AuthorProfile", "ContentStrategy",
    "Reason", "render",
    "AiconfigError", "FieldViolation", "InvalidArgumentError", "NotFoundError", "PermissionDeniedError",
    "UnauthenticatedError", "FailedPreconditionError", "AlreadyExistsError", "AbortedError", "OutOfRangeError",
    "ResourceExhaustedError", "UnavailableError", "DeadlineExceededError",
]
