"""Prompt rendering with exactly the server's rules (internal/resolve
Render): every {{placeholder}} needs a value, a supplied variable must be
one the prompt declares or uses, and values are inserted literally in one
pass, never expanded again or escaped. The cases in
internal/resolve/testdata/render.json hold the two implementations equal."""

from __future__ import annotations

import re
from typing import Iterable, List, Mapping

from aiconfig.errors import FieldViolation, InvalidArgumentError
from aiconfig.reasons import Reason

import grpc

# Every {{...}} without braces inside, as the server finds them.
_PLACEHOLDER = re.compile(r"\{\{([^{}]*)\}\}")


def placeholders(text: str) -> List[str]:
    """The distinct names written {{name}} in text, in order of first use."""
    names: List[str] = []
    for m in _PLACEHOLDER.finditer(text):
        if m.group(1) not in names:
            names.append(m.group(1))
    return names


def render(text: str, declared: Iterable[str], variables: Mapping[str, str]) -> str:
    """Fills text's placeholders from variables; raises InvalidArgumentError
    (reason VALIDATION_FAILED) naming every missing or unknown variable."""
    declared = list(declared)
    used = placeholders(text)
    violations: List[FieldViolation] = []
    missing = [n for n in used if n not in variables]
    if missing:
        violations.append(FieldViolation("variables", "missing values for " + _list_or_none(missing)))
    for name in sorted(n for n in variables if n not in declared and n not in used):
        violations.append(FieldViolation(
            f"variables[{name}]",
            f"this prompt has no variable {_go_quote(name)}; its variables: {_list_or_none(declared)}"))
    if violations:
        message = "invalid request: " + "; ".join(f"{v.field}: {v.description}" for v in violations)
        raise InvalidArgumentError(grpc.StatusCode.INVALID_ARGUMENT, message, Reason.VALIDATION_FAILED, {}, violations)
    return _PLACEHOLDER.sub(lambda m: variables[m.group(1)], text)


def _list_or_none(names: List[str]) -> str:
    return ", ".join("{{" + n + "}}" for n in names) if names else "none"


_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def _go_quote(s: str) -> str:
    """A string quoted as Go's %q (strconv.Quote) quotes it, as the
    server's messages do."""
    out = ['"']
    for ch in s:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        elif ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)
