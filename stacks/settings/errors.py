"""Turning validation failures into one readable message per bad setting."""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence

from pydantic import ValidationError


class FieldError(ValueError):
    """Raised by cross-field validators to point at one key below the model being checked."""

    def __init__(self, key: str, value: object, allowed: str) -> None:
        super().__init__(f"{key}|{allowed}")
        self.key, self.value, self.allowed = key, value, allowed


class SettingsError(Exception):
    """Invalid stack configuration; `messages` holds one line per problem."""

    def __init__(self, messages: Sequence[str]) -> None:
        super().__init__("\n".join(messages))
        self.messages = list(messages)


def _show(value: object) -> str:
    if isinstance(value, str):
        return repr(value)
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except TypeError:
        return repr(value)


def _type_text(error: dict, allowed_keys: list[str]) -> str | None:
    """What a value of the wrong type should have been, in the stack file's terms."""
    value, kind, ctx = error["input"], error["type"], error.get("ctx") or {}
    if kind == "string_type" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return (
            f'must be written in quotes, e.g. "{value}": YAML reads an unquoted number as a '
            "number (and turns 1.30 into 1.3)"
        )
    if kind == "int_type" and isinstance(value, bool):
        return "must be a whole number, not true/false"
    return {
        "string_type": "must be a text value",
        "int_type": "must be a whole number, written without quotes",
        "bool_type": "must be true or false, written without quotes",
        "list_type": "must be a list",
        "dict_type": "must be a mapping of keys to values",
        "model_type": f"must be a mapping of keys to values ({', '.join(allowed_keys)})",
        "too_short": f"must list at least {ctx.get('min_length')} item(s)",
        "too_long": f"must list at most {ctx.get('max_length')} item(s)",
    }.get(kind)


def _allowed_text(error: dict, allowed_keys: list[str]) -> str:
    typed = _type_text(error, allowed_keys)
    if typed:
        return typed
    message: str = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message.replace("Input should be", "must be")


def _config_key(namespace: str, loc: tuple, renames: dict[str, str]) -> str:
    """`('network', 'azCount')` → `crm-platform:network.azCount` (list indexes as `.0`)."""
    parts = [str(part) for part in loc]
    if parts and parts[0] in renames:
        head = renames[parts[0]]
        if head.endswith(":"):  # a namespace of its own, e.g. aws:assumeRoles.0.roleArn
            return head + ".".join(parts[1:])
        return ".".join([head, *parts[1:]])
    return f"{namespace}:{'.'.join(parts)}" if parts else namespace


def describe(
    error: ValidationError,
    namespace: str,
    known_keys: dict[tuple, list[str]],
    renames: dict[str, str],
) -> list[str]:
    """One message per pydantic error naming the key, the bad value and what is allowed.

    `known_keys` maps a location (tuple of camelCase keys) to the keys allowed there, so an
    unknown key can be answered with the allowed ones and the closest match. `renames` maps
    top-level fields that do not come from the project namespace (e.g. `region` ←
    `aws:region`) to the name the user wrote.
    """
    messages = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        ctx_error = (item.get("ctx") or {}).get("error")
        if isinstance(ctx_error, FieldError):
            sub = tuple(ctx_error.key.split("."))
            key = _config_key(namespace, loc + sub, renames)
            messages.append(
                f"{key}: {_show(ctx_error.value)} is not allowed; it {ctx_error.allowed}."
            )
            continue
        key = _config_key(namespace, loc, renames)
        if item["type"] == "extra_forbidden":
            allowed = known_keys.get(loc[:-1], [])
            hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            suggestion = f" Did you mean '{hint[0]}'?" if hint else ""
            messages.append(
                f"{key}: unknown setting (value {_show(item['input'])}); allowed keys here: "
                f"{', '.join(allowed)}.{suggestion}"
            )
        elif item["type"] == "missing":
            messages.append(f"{key}: required setting is missing.")
        else:
            allowed = _allowed_text(item, known_keys.get(loc, []))
            messages.append(f"{key}: {_show(item['input'])} is not allowed; it {allowed}.")
    return messages
