"""AWS's own input rules, read from botocore's service models (no value copied from memory).

* Tag values: the `TagValue` shape of the Resource Groups API (botocore
  `data/resource-groups/2017-11-27/service-2.json`): at most 256 letters, numbers, spaces and
  `_ . : / = + - @` — the rule AWS documents for tags on every service. Python's `re` has no
  `\\p{…}` classes, so the pattern's Unicode categories are checked with `unicodedata`.
* Role session names and external ids: STS `roleSessionNameType` and `externalIdType`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import botocore.session

_CATEGORY_NAMES = {"L": "letters", "N": "numbers", "Z": "spaces"}


@dataclass(frozen=True)
class StringRule:
    """Length bounds and allowed characters of a botocore string shape."""

    min_length: int
    max_length: int
    allowed: Callable[[str], bool]
    description: str

    def problem(self, value: str) -> str | None:
        """Why `value` breaks the rule (in words), or None."""
        if not self.min_length <= len(value) <= self.max_length:
            return f"must be {self.min_length} to {self.max_length} characters long"
        bad = sorted({char for char in value if not self.allowed(char)})
        if bad:
            return f"must hold only {self.description} (not {' '.join(map(repr, bad))})"
        return None


def _shape(service: str, name: str) -> dict:
    return botocore.session.get_session().get_service_model(service).shape_for(name).metadata


def _rule(service: str, shape: str, min_length: int = 1) -> StringRule:
    """The rule of a shape whose pattern is one repeated character class, `^([...]*)$`."""
    metadata = _shape(service, shape)
    body = re.fullmatch(r"\^?\(?\[(.*)\]\*\)?\$?", metadata["pattern"]).group(1)
    categories = re.findall(r"\\p\{(\w)\}", body)
    rest = re.sub(r"\\p\{\w\}", "", body)
    char_class = re.compile(f"[{rest}]", re.ASCII)
    literals = re.sub(r"\\(.)", r"\1", rest.replace("\\w", "_"))
    words = [_CATEGORY_NAMES[c] for c in categories] or (
        ["letters", "numbers"] if "\\w" in rest else []
    )

    def allowed(char: str) -> bool:
        return unicodedata.category(char)[0] in categories or bool(char_class.fullmatch(char))

    return StringRule(
        min_length=max(metadata.get("min", 0), min_length),
        max_length=metadata["max"],
        allowed=allowed,
        description=f"{', '.join(words)} and {' '.join(literals)}",
    )


@cache
def tag_value_rule() -> StringRule:
    return _rule("resource-groups", "TagValue")


@cache
def session_name_rule() -> StringRule:
    return _rule("sts", "roleSessionNameType")


@cache
def external_id_rule() -> StringRule:
    return _rule("sts", "externalIdType")
