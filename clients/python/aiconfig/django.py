"""aiconfig.django: the drop-in for the platform's legacy call sites
(SPEC section 18), answered from the client's in-process cache.

    from aiconfig.django import get_effective_prompt, get_model_config, shadow, sync_account

    cfg = get_model_config(function_name="generate_content", account=account)
    # {"api_key": ..., "model": ..., "temperature": ..., "max_tokens": ...}
    text = get_effective_prompt(account=account, prompt_type="content_generation")

    # Before switching: keep the legacy answer, compare aiconfig's.
    get_model_config = shadow(legacy.get_model_config, sample=0.1)

    # The billing model's post_save:
    post_save.connect(lambda sender, instance, **kw: transaction.on_commit(lambda: sync_account(instance)),
                      sender=Account, weak=False)

Settings: ``settings.AICONFIG`` when Django is configured, else (and for
any key it leaves out) the environment:

    AICONFIG = {
        "TARGET": "aiconfig:50051",   # AICONFIG_TARGET
        "TOKEN": "...",               # AICONFIG_TOKEN: a SERVICE token (the only role that receives API keys)
        "INSECURE": False,            # AICONFIG_INSECURE=1: plaintext (a sidecar on loopback)
        "ACCOUNT_ID": None,           # how an instance gives its id: attribute name or callable; default str(pk)
        "NAME": None,                 # sync_account: the account's name (attribute or callable); default .name
        "PLAN": None,                 # sync_account: {slug: "PLAN_..."} added to the four, or callable(account)
        "OPTIONS": {},                # more keyword arguments of aiconfig.Client (timeout, max_stale, TLS, ...)
    }

One aiconfig.Client per process, created on first use (the Client itself
is fork safe: a Celery prefork child builds its own channel, feed and
cache); reset() closes it so that the next call reads the settings again
(Django's setting_changed signal for AICONFIG does it too).

Only get_model_config's and sync_account's handling of model instances
uses Django's conventions (.pk, .plan.slug); nothing here imports Django
unless Django's settings are configured, so the module works without
Django installed (ids as text or numbers, settings from the environment).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import logging
import math
import os
import random
import threading
import time
from types import MappingProxyType
from typing import Any, Callable, Dict, Mapping, Optional, Tuple, Union

import grpc

from aiconfig.answers import Account, ModelConfig
from aiconfig.client import Client
# ConfigurationError: the drop-in's settings missing or wrong (no TARGET, an
# unknown AICONFIG key, ...); the client's own, so that one except clause
# (aiconfig.ConfigurationError) catches both.
from aiconfig.errors import AiconfigError, ConfigurationError, FieldViolation, InvalidArgumentError
from aiconfig.reasons import Reason

log = logging.getLogger("aiconfig.django")

TEXT_FIELDS = ("api_key", "model", "temperature", "max_tokens")
IMAGE_FIELDS = ("api_key", "model", "image_size", "image_quality", "image_style")
_IMAGE_INTEGRATIONS = frozenset({"INTEGRATION_DALLE", "INTEGRATION_RUNWARE"})
_IMAGE_FUNCTIONS = frozenset({"generate_images"})

PLANS = ("PLAN_FREE", "PLAN_STARTER", "PLAN_GROWTH", "PLAN_SCALE")
# The platform's plan slugs, as the import maps them by default.
DEFAULT_PLANS: Mapping[str, str] = MappingProxyType(
    {"free": "PLAN_FREE", "starter": "PLAN_STARTER", "growth": "PLAN_GROWTH", "scale": "PLAN_SCALE"})

_KEYS = frozenset({"TARGET", "TOKEN", "INSECURE", "ACCOUNT_ID", "NAME", "PLAN", "OPTIONS"})
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


class UnknownPlanError(InvalidArgumentError):
    """sync_account: the account's plan is none of aiconfig's four and
    AICONFIG["PLAN"] does not map it. metadata: account_id, plan."""

    def __init__(self, account_id: str, plan: str, message: str) -> None:
        super().__init__(grpc.StatusCode.INVALID_ARGUMENT, message, Reason.VALIDATION_FAILED,
                         {"account_id": account_id, "plan": plan},
                         [FieldViolation("account.plan", "one of " + ", ".join(PLANS))])

    def __reduce__(self):
        return (type(self), (self.metadata["account_id"], self.metadata["plan"], self.message))


# Settings.


@dataclasses.dataclass(frozen=True)
class Settings:
    """The drop-in's settings, as read from Django's settings.AICONFIG and
    the environment (token kept out of repr)."""

    target: str
    token: str = dataclasses.field(repr=False)
    insecure: bool
    account_id: Union[None, str, Callable[[Any], Any]]
    name: Union[None, str, Callable[[Any], Any]]
    plan: Union[None, Mapping[str, Any], Callable[[Any], Any]]
    options: Mapping[str, Any]


def _django_settings() -> Optional[Mapping[str, Any]]:
    """settings.AICONFIG when Django is installed and configured; None
    otherwise (never configures Django itself)."""
    try:
        from django.conf import settings as dj
        from django.core.exceptions import ImproperlyConfigured
    except ImportError:
        return None
    if not dj.configured and not os.environ.get("DJANGO_SETTINGS_MODULE"):
        return None
    try:
        value = getattr(dj, "AICONFIG", None)
    except ImproperlyConfigured:
        return None
    if value is not None and not isinstance(value, Mapping):
        raise ConfigurationError("settings.AICONFIG must be a dict")
    _watch_django_settings()
    return value


_watching = False


def _watch_django_settings() -> None:
    """Drops the shared client when settings.AICONFIG changes (Django's
    override_settings and friends send setting_changed)."""
    global _watching
    if _watching:
        return
    from django.core.signals import setting_changed

    def changed(setting: str = "", **kw: Any) -> None:
        if setting == "AICONFIG":
            reset()

    setting_changed.connect(changed, weak=False, dispatch_uid="aiconfig.django.reset")
    _watching = True


def _rule(conf: Mapping[str, Any], key: str, what: str) -> Any:
    v = conf.get(key)
    if v is not None and not (isinstance(v, str) or callable(v)):
        raise ConfigurationError(f'AICONFIG["{key}"] must be an attribute name or a callable ({what})')
    return v


def read_settings() -> Settings:
    """The settings now in force: settings.AICONFIG key by key, else the
    environment (AICONFIG_TARGET, AICONFIG_TOKEN, AICONFIG_INSECURE)."""
    conf = dict(_django_settings() or {})
    unknown = sorted(set(conf) - _KEYS)
    if unknown:
        raise ConfigurationError(f"settings.AICONFIG has unknown keys {unknown}; the keys are {sorted(_KEYS)}")
    target = conf.get("TARGET") or os.environ.get("AICONFIG_TARGET", "")
    if not target:
        raise ConfigurationError('aiconfig.django needs the service address: settings.AICONFIG["TARGET"] '
                                 'or the environment variable AICONFIG_TARGET (host:port)')
    token = conf.get("TOKEN") or os.environ.get("AICONFIG_TOKEN", "")
    insecure = conf.get("INSECURE")
    if insecure is None:
        raw = os.environ.get("AICONFIG_INSECURE", "").strip().lower()
        if raw not in _TRUE | _FALSE:
            raise ConfigurationError(f"AICONFIG_INSECURE={raw!r}: use 1 or 0 (true/false, yes/no, on/off)")
        insecure = raw in _TRUE
    plan = conf.get("PLAN")
    if plan is not None and not (isinstance(plan, Mapping) or callable(plan)):
        raise ConfigurationError('AICONFIG["PLAN"] must map plan slugs to PLAN_FREE / PLAN_STARTER / PLAN_GROWTH '
                                 '/ PLAN_SCALE, or be a callable taking the account')
    options = conf.get("OPTIONS") or {}
    if not isinstance(options, Mapping):
        raise ConfigurationError('AICONFIG["OPTIONS"] must be a dict of aiconfig.Client keyword arguments')
    return Settings(target=str(target), token=str(token), insecure=bool(insecure),
                    account_id=_rule(conf, "ACCOUNT_ID", "taking the account, returning its id"),
                    name=_rule(conf, "NAME", "taking the account, returning its name"),
                    plan=plan, options=MappingProxyType(dict(options)))


# The shared client.

_lock = threading.Lock()
_shared: Optional[Tuple[Client, Settings]] = None


def _state() -> Tuple[Client, Settings]:
    s = _shared
    if s is not None:
        return s
    return _open()


def _open() -> Tuple[Client, Settings]:
    global _shared
    with _lock:
        if _shared is None:
            st = read_settings()
            _shared = (Client(st.target, token=st.token or None, insecure=st.insecure, **st.options), st)
        return _shared


def client() -> Client:
    """The process's shared aiconfig.Client, created from the settings on
    first use."""
    return _state()[0]


def reset() -> None:
    """Closes the shared client; the next call reads the settings again."""
    global _shared
    with _lock:
        s, _shared = _shared, None
    if s is not None:
        s[0].close()


def _after_fork_in_child() -> None:
    # Another thread may have held the lock at the fork. The client itself
    # is kept: it opens a channel of its own in this process.
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


# Accounts.


def _bad_account(message: str) -> InvalidArgumentError:
    return InvalidArgumentError(grpc.StatusCode.INVALID_ARGUMENT, message, Reason.VALIDATION_FAILED, {},
                                [FieldViolation("account", message)])


def _account_id(account: Any, st: Settings) -> str:
    if isinstance(account, str):
        if not account:
            raise _bad_account("the account id is empty")
        return account
    if isinstance(account, int) and not isinstance(account, bool):
        return str(account)
    rule = st.account_id
    if rule is None:
        value = getattr(account, "pk", None)
        if value is None:
            raise _bad_account(f"{type(account).__name__} has no pk (an unsaved instance?): pass the account's id, "
                               'or say how to find it with AICONFIG["ACCOUNT_ID"]')
    elif callable(rule):
        value = rule(account)
    else:
        value = account
        for part in rule.split("."):
            value = getattr(value, part)
    if value is None or value == "":
        raise _bad_account(f"{type(account).__name__} has no account id ({rule or 'pk'} is empty)")
    return str(value)


def account_id(account: Any) -> str:
    """The aiconfig account id of account: an id as text (or a number) as
    it is, else from the instance by AICONFIG["ACCOUNT_ID"] (an attribute,
    dotted path, or callable); by default its primary key as text, which is
    what aiconfigd import-django names accounts by."""
    return _account_id(account, _state()[1])


# The reads.


class ModelConfigDict(dict):
    """The note's dict, whose repr and str leave the API key out (logging
    it logs no key); otherwise a plain dict."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr({k: ("<redacted>" if k == "api_key" and v else v) for k, v in self.items()})

    __str__ = __repr__

    def __reduce__(self):
        return (dict, (dict(self),))


def config_dict(cfg: ModelConfig) -> ModelConfigDict:
    """A ModelConfig as the legacy get_model_config returned it: api_key,
    model, temperature, max_tokens; for an image function api_key, model,
    image_size, image_quality, image_style."""
    image = cfg.integration in _IMAGE_INTEGRATIONS or cfg.function in _IMAGE_FUNCTIONS
    return ModelConfigDict((f, getattr(cfg, f)) for f in (IMAGE_FIELDS if image else TEXT_FIELDS))


def get_model_config(function_name: str, account: Any) -> ModelConfigDict:
    """The note's get_model_config: the dict a worker calls its provider
    with, for an account (instance or id) and a function (auto_cluster,
    generate_ideas, generate_content, generate_image_prompts,
    generate_images). From the cache; raises AiconfigError subclasses
    (NotFoundError ACCOUNT_NOT_FOUND for an account aiconfig does not have,
    FailedPreconditionError API_KEY_NOT_CONFIGURED, ...)."""
    c, st = _state()
    return config_dict(c.model_config(_account_id(account, st), function_name))


def get_effective_prompt(account: Any, prompt_type: str) -> str:
    """The note's AIPrompt.get_effective_prompt: the prompt text the
    account uses for prompt_type."""
    c, st = _state()
    return c.effective_prompt(_account_id(account, st), prompt_type).text


# The write.


def _plan_value(value: Any) -> Optional[str]:
    if isinstance(value, str):
        if value in PLANS:
            return value
        return DEFAULT_PLANS.get(value.lower())
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= len(PLANS):
        return PLANS[value - 1]
    return None


def _plan(account: Any, aid: str, st: Settings) -> str:
    rule = st.plan
    if callable(rule):
        raw = rule(account)
        plan = _plan_value(raw)
        if plan is None:
            raise UnknownPlanError(aid, str(raw), f'account {aid}: AICONFIG["PLAN"] returned {raw!r}, which is '
                                                  f"none of {', '.join(PLANS)}")
        return plan
    p = getattr(account, "plan", None)
    if p is None:
        raise _bad_account(f"account {aid} has no plan: give it one, or say how to find it with AICONFIG[\"PLAN\"] "
                           "(a callable taking the account)")
    slug = p if isinstance(p, str) else getattr(p, "slug", None)
    if not isinstance(slug, str):
        raise _bad_account(f"account {aid}: its plan has no slug; say how to find the plan with AICONFIG[\"PLAN\"] "
                           "(a callable taking the account)")
    mapping = dict(DEFAULT_PLANS)
    mapping.update(rule or {})
    plan = _plan_value(mapping[slug]) if slug in mapping else _plan_value(slug)
    if plan is None:
        raise UnknownPlanError(aid, slug, f"account {aid}: plan {slug!r} is none of aiconfig's four "
                                          f"({', '.join(PLANS)}); map it, e.g. AICONFIG[\"PLAN\"] = "
                                          f"{{{slug!r}: \"PLAN_SCALE\"}} (as the import's mapping does)")
    return plan


def sync_account(account: Any) -> Account:
    """Upserts the account in aiconfig: its id (as get_model_config finds
    it), name (AICONFIG["NAME"], default .name) and plan (AICONFIG["PLAN"],
    default account.plan.slug: free, starter, growth, scale; another slug
    raises UnknownPlanError unless the mapping names it). For the billing
    model's post_save, best from transaction.on_commit so a rolled-back
    change is not sent. The write carries an idempotency key, reused by its
    retries. A downgrade to Free suppresses the account's overrides at
    once; sync_account returns once this process's cache has the change
    (other processes' caches get it from the change feed, in
    milliseconds), so the next get_model_config here ignores them."""
    if isinstance(account, (str, int)):
        raise TypeError("sync_account needs the account instance (its name and plan), not an id")
    c, st = _state()
    aid = _account_id(account, st)
    name = st.name(account) if callable(st.name) else getattr(account, st.name or "name", None)
    if name is None:
        name = str(account)
    return c.upsert_account(aid, str(name), _plan(account, aid, st))


# Shadow mode.

MODEL_CONFIG = "model_config"
PROMPT = "prompt"
# A field is secret when a word of its name is one of these (api_key,
# anthropic_api_key, token; not max_tokens).
_SECRET_WORDS = frozenset({"key", "apikey", "secret", "token", "password", "passwd"})
_MISSING = object()
_ERROR_LOG_INTERVAL = 60.0


def _is_secret(field: str) -> bool:
    return any(w in _SECRET_WORDS for w in field.lower().replace("-", "_").split("_"))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) \
                and not isinstance(b, bool):
            return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def _excerpt(a: str, b: str) -> str:
    i = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    lo = max(0, i - 20)
    return (f"legacy {len(a)} chars, aiconfig {len(b)} chars, first difference at {i}: "
            f"legacy {a[lo:i + 40]!r}, aiconfig {b[lo:i + 40]!r}")


class _Counts:
    def __init__(self) -> None:
        self.calls = self.sampled = self.matched = self.different = self.errors = 0
        self.fields: Dict[str, int] = {}
        self.error_reasons: Dict[str, int] = {}

    def snapshot(self) -> Dict[str, Any]:
        return {"calls": self.calls, "sampled": self.sampled, "matched": self.matched, "different": self.different,
                "errors": self.errors, "fields": dict(self.fields), "error_reasons": dict(self.error_reasons)}


_totals_lock = threading.Lock()
_totals: Dict[str, _Counts] = {MODEL_CONFIG: _Counts(), PROMPT: _Counts()}


def shadow_stats() -> Dict[str, Dict[str, Any]]:
    """Every shadow's counters in this process, summed per kind
    ("model_config", "prompt"); see Shadow.stats."""
    with _totals_lock:
        return {k: c.snapshot() for k, c in _totals.items()}


class Shadow:
    """A legacy function wrapped by shadow(): called like it, returns what
    it returns."""

    def __init__(self, legacy: Callable[..., Any], kind: str, sample: float, logger: logging.Logger) -> None:
        self.legacy, self.kind, self.sample, self.log = legacy, kind, sample, logger
        self.names = ("function_name", "account") if kind == MODEL_CONFIG else ("account", "prompt_type")
        try:
            self.signature: Optional[inspect.Signature] = inspect.signature(legacy)
        except (TypeError, ValueError):
            self.signature = None
        self._lock = threading.Lock()
        self._counts = _Counts()
        self._error_logged = -math.inf
        self._errors_unlogged = 0
        functools.update_wrapper(self, legacy)

    def __repr__(self) -> str:
        return f"aiconfig.django.shadow({getattr(self.legacy, '__qualname__', self.legacy)!r}, sample={self.sample})"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        answer = self.legacy(*args, **kwargs)  # its exceptions are the caller's, unchanged
        sampled = self.sample >= 1.0 or (self.sample > 0.0 and random.random() < self.sample)
        self._count(lambda c: setattr(c, "calls", c.calls + 1))
        if not sampled:
            return answer
        try:
            account, name = self._arguments(args, kwargs)
            if self.kind == MODEL_CONFIG:
                mine: Any = get_model_config(name, account)
            else:
                mine = get_effective_prompt(account, name)
        except Exception as e:  # noqa: BLE001 - nothing on aiconfig's side may break the legacy call
            self._failed(e, args, kwargs)
            return answer
        self._compare(answer, mine, account, name)
        return answer

    def stats(self) -> Dict[str, Any]:
        """calls (of the legacy function), sampled (compared or failed),
        matched, different (answers with at least one field apart),
        fields ({field: answers where it differed}), errors (aiconfig could
        not answer) and error_reasons ({reason or code: count})."""
        with self._lock:
            return self._counts.snapshot()

    def reset_stats(self) -> None:
        with self._lock:
            self._counts = _Counts()

    # The machinery.

    def _count(self, f: Callable[[_Counts], None]) -> None:
        with self._lock:
            f(self._counts)
        with _totals_lock:
            f(_totals[self.kind])

    def _arguments(self, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Tuple[Any, str]:
        first, second = self.names
        bound: Dict[str, Any] = {}
        if self.signature is not None:
            try:
                bound = dict(self.signature.bind(*args, **kwargs).arguments)
            except TypeError:
                bound = {}
        if first not in bound or second not in bound:  # no such names: the legacy order
            bound = dict(zip(self.names, args))
            bound.update(kwargs)
        if first not in bound or second not in bound:
            raise TypeError(f"shadow: cannot find {first} and {second} among the call's arguments")
        if self.kind == MODEL_CONFIG:
            return bound["account"], bound["function_name"]
        return bound["account"], bound["prompt_type"]

    def _describe(self, account: Any, name: str) -> str:
        try:
            aid = account_id(account)
        except Exception:  # noqa: BLE001
            aid = f"<{type(account).__name__}>"
        if self.kind == MODEL_CONFIG:
            return f"get_model_config(function_name={name!r}, account={aid!r})"
        return f"get_effective_prompt(account={aid!r}, prompt_type={name!r})"

    def _compare(self, legacy: Any, mine: Any, account: Any, name: str) -> None:
        diffs: Dict[str, str] = {}
        if self.kind == MODEL_CONFIG:
            if not isinstance(legacy, Mapping):
                diffs["<answer>"] = f"the legacy answer is a {type(legacy).__name__}, not a dict"
            else:
                for f in list(mine) + [k for k in legacy if k not in mine]:
                    a, b = legacy.get(f, _MISSING), mine.get(f, _MISSING)
                    if _same(a, b):
                        continue
                    if _is_secret(str(f)):
                        diffs[str(f)] = f"{f} differs"  # never the values
                    else:
                        show = lambda v: "(absent)" if v is _MISSING else repr(v)  # noqa: E731
                        diffs[str(f)] = f"{f} differs: legacy {show(a)}, aiconfig {show(b)}"
        elif legacy != mine:
            if isinstance(legacy, str):
                diffs["text"] = "text differs: " + _excerpt(legacy, mine)
            else:
                diffs["text"] = f"text differs: the legacy answer is a {type(legacy).__name__}, not a str"

        def count(c: _Counts) -> None:
            c.sampled += 1
            if not diffs:
                c.matched += 1
                return
            c.different += 1
            for f in diffs:
                c.fields[f] = c.fields.get(f, 0) + 1

        self._count(count)
        if diffs:
            what = self._describe(account, name)
            for message in diffs.values():
                self.log.warning("aiconfig shadow: %s: %s", what, message)

    def _failed(self, e: Exception, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> None:
        reason = (e.reason or e.code.name) if isinstance(e, AiconfigError) else type(e).__name__

        def count(c: _Counts) -> None:
            c.sampled += 1
            c.errors += 1
            c.error_reasons[reason] = c.error_reasons.get(reason, 0) + 1

        self._count(count)
        now = time.monotonic()
        with self._lock:  # one line a minute while aiconfig keeps failing
            if now - self._error_logged < _ERROR_LOG_INTERVAL:
                self._errors_unlogged += 1
                return
            self._error_logged, more, self._errors_unlogged = now, self._errors_unlogged, 0
        detail = str(e) if isinstance(e, AiconfigError) else f"{type(e).__name__}: {e}"
        self.log.warning("aiconfig shadow: %s could not ask aiconfig (the legacy answer stands): %s%s",
                         getattr(self.legacy, "__qualname__", "legacy"), detail,
                         f" ({more} more failures since the last report)" if more else "")


def _kind_of(legacy: Callable[..., Any]) -> Optional[str]:
    try:
        params = inspect.signature(legacy).parameters
    except (TypeError, ValueError):
        params = {}
    if "function_name" in params:
        return MODEL_CONFIG
    if "prompt_type" in params:
        return PROMPT
    name = getattr(legacy, "__name__", "")
    if "model_config" in name:
        return MODEL_CONFIG
    if "prompt" in name:
        return PROMPT
    return None


def shadow(legacy: Optional[Callable[..., Any]] = None, *, sample: float = 1.0, kind: Optional[str] = None,
           logger: Optional[logging.Logger] = None) -> Any:
    """Wraps a legacy get_model_config(function_name, account) or
    get_effective_prompt(account, prompt_type): the wrapper returns the
    legacy answer and, for a sample of calls (0..1; 1: every call), asks
    aiconfig the same question and logs each field that differs (a
    WARNING on the "aiconfig.django" logger; API keys, and any field named
    like a key, secret, token or password, are compared but never logged).
    Differences are counted per field: wrapper.stats(), and
    shadow_stats() for the process. aiconfig failing to answer never
    breaks the legacy call: it is counted (errors, by reason) and logged
    (at most once a minute). kind ("model_config" or "prompt") is found
    from the legacy function's parameters or name when not given. Usable
    as a decorator: @shadow or @shadow(sample=0.1)."""
    if not isinstance(sample, (int, float)) or isinstance(sample, bool) or not 0.0 <= sample <= 1.0:
        raise ValueError(f"shadow: sample must be a number from 0 to 1, not {sample!r}")
    if kind is not None and kind not in (MODEL_CONFIG, PROMPT):
        raise ValueError(f"shadow: kind must be {MODEL_CONFIG!r} or {PROMPT!r}, not {kind!r}")
    if legacy is None:
        return lambda f: shadow(f, sample=sample, kind=kind, logger=logger)
    k = kind or _kind_of(legacy)
    if k is None:
        raise ValueError(f"shadow: cannot tell whether {legacy!r} answers model configurations or prompts; "
                         f"pass kind={MODEL_CONFIG!r} or kind={PROMPT!r}")
    return Shadow(legacy, k, float(sample), logger or log)


__all__ = [
    "get_model_config", "get_effective_prompt", "sync_account", "shadow", "shadow_stats", "Shadow",
    "account_id", "client", "reset", "read_settings", "Settings", "config_dict", "ModelConfigDict",
    "ConfigurationError", "UnknownPlanError", "DEFAULT_PLANS", "TEXT_FIELDS", "IMAGE_FIELDS",
]
