"""Keep secret markers on the values policies read, so no message can echo a secret.

The engine sends secret inputs wrapped as ``{SIG: SECRET_SIG, "value": ...}``, but the SDK's
``Analyze``/``AnalyzeStack`` unwrap them before a policy sees its ``props``. `install` wraps the
SDK's deserializer so that every scalar inside a secret arrives as a `Secret*` subclass of
``str``/``int``/``float``: comparisons work as usual, but ``str()``, ``repr()`` and formatting print
``[secret]``. Secret booleans become the strings ``"true"``/``"false"`` (``bool`` cannot be
subclassed); policies read booleans through `core.as_bool`, which accepts both.
"""

from __future__ import annotations

from typing import Any

import pulumi_policy.policy as _sdk
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY

REDACTED = "[secret]"


class SecretStr(str):
    """A string that came from a secret: usable in comparisons, never printed."""

    __slots__ = ()

    def __str__(self) -> str:
        return REDACTED

    __repr__ = __str__

    def __format__(self, spec: str) -> str:
        return REDACTED


class SecretInt(int):
    """An integer that came from a secret."""

    def __str__(self) -> str:
        return REDACTED

    __repr__ = __str__

    def __format__(self, spec: str) -> str:
        return REDACTED


class SecretFloat(float):
    """A number that came from a secret."""

    def __str__(self) -> str:
        return REDACTED

    __repr__ = __str__

    def __format__(self, spec: str) -> str:
        return REDACTED


SECRET_TYPES = (SecretStr, SecretInt, SecretFloat)


def is_secret(value: Any) -> bool:
    return isinstance(value, SECRET_TYPES)


def _conceal(value: Any) -> Any:
    """Mark every scalar below a secret envelope."""
    if isinstance(value, bool):
        return SecretStr("true" if value else "false")
    if isinstance(value, str):
        return SecretStr(value)
    if isinstance(value, int):
        return SecretInt(value)
    if isinstance(value, float):
        return SecretFloat(value)
    if isinstance(value, list):
        return [_conceal(item) for item in value]
    if isinstance(value, dict):
        return {key: _conceal(item) for key, item in value.items()}
    return value


def _unwrap(value: Any) -> Any:
    """Replace secret envelopes (at any depth) by their concealed contents."""
    if isinstance(value, list):
        return [_unwrap(item) for item in value]
    if isinstance(value, dict):
        if value.get(SPECIAL_SIG_KEY) == SPECIAL_SECRET_SIG:
            return _conceal(_unwrap(value.get("value")))
        return {key: _unwrap(item) for key, item in value.items()}
    return value


def install() -> None:
    """Wrap the SDK's deserializer once per process (the pack and the offline gate share it)."""
    original = _sdk.deserialize_properties
    if getattr(original, "keeps_secret_markers", False):
        return

    def deserialize_properties(props: dict[str, Any], proxy_secrets: bool = False) -> Any:
        # Remediation (proxy_secrets=True) relies on the SDK's own Secret wrapper: leave it be.
        return original(props if proxy_secrets else _unwrap(props), proxy_secrets)

    deserialize_properties.keeps_secret_markers = True  # type: ignore[attr-defined]
    _sdk.deserialize_properties = deserialize_properties
