"""aiconfig: the Python client of the aiconfig service.

    import aiconfig
    client = aiconfig.Client("aiconfig:50051", token=os.environ["AICONFIG_TOKEN"])
    cfg = client.model_config(account_id, "generate_content")
    prompt = client.render_prompt(account_id, "content_generation", {"idea": idea})

See aiconfig.client for the cache, the change feed and fork safety.
"""

import os as _os
import warnings as _warnings

# Fork safety (Celery prefork, multiprocessing): on Linux gRPC polls with
# one epoll set per process (the "epoll1" engine); a forked child inherits
# that very set, shared with its parent and its siblings, and its calls
# then fail or hang. The "poll" engine keeps no such state. gRPC reads this
# when it starts, at the first channel or server in the process (not at
# import), so it is set here, before the client makes any; a value set in
# the environment is kept. See aiconfig.client for the rest.
_os.environ.setdefault("GRPC_POLL_STRATEGY", "poll")
if _os.environ["GRPC_POLL_STRATEGY"] != "poll":
    _warnings.warn(f"aiconfig: GRPC_POLL_STRATEGY={_os.environ['GRPC_POLL_STRATEGY']}: a process that uses the "
                   "client and then forks (Celery prefork, multiprocessing) needs GRPC_POLL_STRATEGY=poll",
                   RuntimeWarning, stacklevel=2)

from aiconfig.answers import (Account, Adjustment, AuthorProfile, ContentStrategy, EffectivePrompt, GenerationContext,
                              ModelConfig)
from aiconfig.client import Client
from aiconfig.errors import (AbortedError, AiconfigError, AlreadyExistsError, ConfigurationError, DeadlineExceededError,
                             FailedPreconditionError,
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
    "ResourceExhaustedError", "UnavailableError", "DeadlineExceededError", "ConfigurationError",
]
