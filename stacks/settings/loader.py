"""Reading stack configuration once, applying the profile, and validating it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from .errors import SettingsError, describe
from .model import StackSettings
from .profiles import PROFILES

NAMESPACE = "crm-platform"
# aws:* keys this program reads (and hands to its explicit providers); anything else in the aws
# namespace is most likely a typo, because an explicit provider would silently ignore it.
AWS_KEYS = {"aws:region": "region"} | {
    f"aws:{key}": key for key in ("profile", "assumeRoles", "allowedAccountIds")
}
_RENAMES = {
    "region": "aws:region",
    "environment": "stack name",
    "profile": f"{NAMESPACE}:profile",
    "aws": "aws:",
}
_BOOLEANS = {"true": True, "false": False}


def _decode(raw: Any) -> Any:
    """Pulumi hands every value over as a string: objects and lists arrive JSON-encoded, and a
    top-level YAML `true`/`false` as the string "true"/"false"."""
    if isinstance(raw, str) and raw[:1] in ("{", "["):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return _BOOLEANS.get(raw, raw) if isinstance(raw, str) else raw


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _known_keys(model: type[BaseModel], prefix: tuple = ()) -> dict[tuple, list[str]]:
    """Allowed camelCase keys at every nesting level, for 'did you mean' answers."""
    keys = {prefix: sorted(field.alias or name for name, field in model.model_fields.items())}
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys |= _known_keys(annotation, (*prefix, field.alias or name))
    return keys


def load_settings(stack: str, config: Mapping[str, Any]) -> StackSettings:
    """Validate a stack's flat config map (`namespace:key` → value) against its profile.

    Raises SettingsError with one message per problem; nothing else is raised for user error.
    """
    errors: list[str] = []
    project_values: dict[str, Any] = {}
    for full_key, raw in sorted(config.items()):
        namespace, _, key = full_key.partition(":")
        if namespace == NAMESPACE and key in ("region", "environment"):
            # Only aws:region and the stack name may set these.
            errors.append(
                f"{full_key}: unknown setting (value {raw!r}); set {_RENAMES[key]} instead."
            )
        elif namespace == NAMESPACE:
            project_values[key] = _decode(raw)
        elif namespace == "aws":
            if full_key == "aws:region":
                project_values["region"] = _decode(raw)
            elif full_key in AWS_KEYS:
                project_values.setdefault("aws", {})[AWS_KEYS[full_key]] = _decode(raw)
            else:
                errors.append(
                    f"{full_key}: unknown setting (value {raw!r}); this program reads only "
                    f"{', '.join(AWS_KEYS)} from the aws namespace."
                )
    profile = project_values.get("profile", stack)
    if profile not in PROFILES:
        errors.append(
            f"{NAMESPACE}:profile: {profile!r} is not allowed; it must be one of "
            f"{', '.join(PROFILES)} (it defaults to the stack name)."
        )
        raise SettingsError(errors)
    document = _merge(PROFILES[profile], project_values)
    document |= {"profile": profile, "environment": stack}
    try:
        settings = StackSettings.model_validate(document)
    except ValidationError as exc:
        known = _known_keys(StackSettings)
        known[()] = [key for key in known[()] if key not in ("region", "environment", "aws")]
        errors += describe(exc, NAMESPACE, known, _RENAMES)
        settings = None
    if errors:
        raise SettingsError(errors)
    return settings
