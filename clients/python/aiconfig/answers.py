"""The answers, as immutable values shared with the cache. ModelConfig
(and so GenerationContext, which holds one) keeps its API key out of
repr() and str(), so logging an answer never logs the key."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType
from typing import Mapping, Optional, Tuple

from aiconfig.v1 import account_pb2, author_profile_pb2, common_pb2, config_pb2, content_strategy_pb2, prompt_pb2


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


@dataclasses.dataclass(frozen=True)
class AuthorProfile:
    """Who the text is written as: tone, language, audience, style guide.
    source is "SOURCE_GLOBAL" or "SOURCE_ACCOUNT"; the revisions and flags
    are as in aiconfig.v1.AuthorProfile."""

    id: str
    name: str
    description: str
    tone: str
    language: str
    audience: str
    style_guide: str
    archived: bool
    source: str
    is_customized: bool
    default_changed: bool
    revision: int
    overrides_suppressed: bool
    global_revision: int

    @classmethod
    def from_pb(cls, p: author_profile_pb2.AuthorProfile) -> "AuthorProfile":
        return cls(
            id=p.id, name=p.name, description=p.description, tone=p.tone, language=p.language, audience=p.audience,
            style_guide=p.style_guide, archived=p.archived, source=_name(common_pb2.Source, p.source),
            is_customized=p.is_customized, default_changed=p.default_changed, revision=p.revision,
            overrides_suppressed=p.overrides_suppressed, global_revision=p.global_revision,
        )


@dataclasses.dataclass(frozen=True)
class ContentStrategy:
    """What the text is for and how it is built: objective, article types,
    word counts, keyword and structure guidelines."""

    id: str
    name: str
    description: str
    objective: str
    audience: str
    article_types: Tuple[str, ...]
    word_count_min: int
    word_count_max: int
    keyword_guidelines: str
    structure_guidelines: str
    archived: bool
    source: str
    is_customized: bool
    default_changed: bool
    revision: int
    overrides_suppressed: bool
    global_revision: int

    @classmethod
    def from_pb(cls, s: content_strategy_pb2.ContentStrategy) -> "ContentStrategy":
        return cls(
            id=s.id, name=s.name, description=s.description, objective=s.objective, audience=s.audience,
            article_types=tuple(s.article_types), word_count_min=s.word_count_min, word_count_max=s.word_count_max,
            keyword_guidelines=s.keyword_guidelines, structure_guidelines=s.structure_guidelines, archived=s.archived,
            source=_name(common_pb2.Source, s.source), is_customized=s.is_customized, default_changed=s.default_changed,
            revision=s.revision, overrides_suppressed=s.overrides_suppressed, global_revision=s.global_revision,
        )


@dataclasses.dataclass(frozen=True)
class GenerationContext:
    """Everything a generation job needs: the function's model
    configuration (its api_key left out of repr() and str(), as always),
    the effective prompt of the function's prompt type, and the author
    profile and content strategy to write with (None when none is named
    and there is no default). revision is the newest of everything it was
    computed from."""

    model_config: ModelConfig
    prompt: EffectivePrompt
    author_profile: Optional[AuthorProfile]
    content_strategy: Optional[ContentStrategy]
    revision: int

    @property
    def api_key(self) -> str:
        """The provider API key; set only for SERVICE tokens."""
        return self.model_config.api_key

    @classmethod
    def from_pb(cls, g: config_pb2.GenerationContext) -> "GenerationContext":
        return cls(
            model_config=ModelConfig.from_pb(g.model_config), prompt=EffectivePrompt.from_pb(g.prompt),
            author_profile=AuthorProfile.from_pb(g.author_profile) if g.HasField("author_profile") else None,
            content_strategy=ContentStrategy.from_pb(g.content_strategy) if g.HasField("content_strategy") else None,
            revision=g.revision,
        )


@dataclasses.dataclass(frozen=True)
class Account:
    """An account as the service holds it (AccountService); plan is the
    enum's proto name ("PLAN_STARTER")."""

    id: str
    name: str
    plan: str
    revision: int
    default_author_profile_id: str
    default_content_strategy_id: str

    @classmethod
    def from_pb(cls, a: account_pb2.Account) -> "Account":
        return cls(id=a.id, name=a.name, plan=_name(common_pb2.Plan, a.plan), revision=a.revision,
                   default_author_profile_id=a.default_author_profile_id,
                   default_content_strategy_id=a.default_content_strategy_id)

def _name(enum, value: int) -> str:
    try:
        return enum.Name(value)
    except ValueError:  # a value newer than these stubs
        return str(value)
