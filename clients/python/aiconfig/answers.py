"""The answers, as immutable values shared with the cache. ModelConfig
keeps its API key out of repr() and str(), so logging an answer never
logs the key."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType
from typing import Mapping, Optional, Tuple

from aiconfig.v1 import common_pb2, config_pb2, prompt_pb2


@dataclasses.dataclass(frozen=True)
class Adjustment:
    """A stored value resolution could not use, and what it used instead."""

    field: str
    requested: str
    applied: str
    reason: str


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """What a worker needs for one AI call. Enums are their proto names
    (integration "INTEGRATION_OPENAI", plan "PLAN_STARTER", sources values
    "SOURCE_GLOBAL" / "SOURCE_ACCOUNT"); optional parameters are None when
    the model does not take them."""

    function: str
    integration: str
    model: str
    api_key: str = dataclasses.field(repr=False)  # set only for SERVICE tokens
    api_key_set: bool
    temperature: Optional[float]
    max_tokens: Optional[int]
    image_size: Optional[str]
    image_quality: Optional[str]
    image_style: Optional[str]
    sources: Mapping[str, str]
    plan: str
    overrides_suppressed: bool
    revision: int
    adjustments: Tuple[Adjustment, ...]

    @classmethod
    def from_pb(cls, m: config_pb2.ModelConfig) -> "ModelConfig":
        opt = lambda f: getattr(m, f) if m.HasField(f) else None  # noqa: E731
        return cls(
            function=m.function, integration=_name(common_pb2.Integration, m.integration), model=m.model,
            api_key=m.api_key, api_key_set=m.api_key_set,
            temperature=opt("temperature"), max_tokens=opt("max_tokens"), image_size=opt("image_size"),
            image_quality=opt("image_quality"), image_style=opt("image_style"),
            sources=MappingProxyType({k: _name(common_pb2.Source, v) for k, v in m.sources.items()}),
            plan=_name(common_pb2.Plan, m.plan), overrides_suppressed=m.overrides_suppressed, revision=m.revision,
            adjustments=tuple(Adjustment(a.field, a.requested, a.applied, a.reason) for a in m.adjustments),
        )


@dataclasses.dataclass(frozen=True)
class EffectivePrompt:
    """The prompt text an account uses for a prompt type, and why."""

    prompt_type: str
    text: str
    source: str
    is_customized: bool
    default_changed: bool
    global_revision: int
    plan: str
    revision: int
    variables: Tuple[str, ...]
    overrides_suppressed: bool

    @classmethod
    def from_pb(cls, p: prompt_pb2.EffectivePrompt) -> "EffectivePrompt":
        return cls(
            prompt_type=p.prompt_type, text=p.text, source=_name(common_pb2.Source, p.source),
            is_customized=p.is_customized, default_changed=p.default_changed, global_revision=p.global_revision,
            plan=_name(common_pb2.Plan, p.plan), revision=p.revision, variables=tuple(p.variables),
            overrides_suppressed=p.overrides_suppressed,
        )


def _name(enum, value: int) -> str:
    try:
        return enum.Name(value)
    except ValueError:  # a value newer than these stubs
        return str(value)
