"""Reading `Pulumi.<stack>.yaml` the way the Pulumi CLI hands it to a program."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from .settings import SettingsError

ROOT = Path(__file__).resolve().parent.parent


def stack_names() -> list[str]:
    """Stacks that have a `Pulumi.<stack>.yaml` next to `Pulumi.yaml`."""
    return sorted(path.name.split(".")[1] for path in ROOT.glob("Pulumi.*.yaml"))


def read_stack_config(stack: str) -> dict[str, str]:
    """The flat config map (`namespace:key` → string, structures JSON-encoded) of a stack."""
    path = ROOT / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise SettingsError(
            [f"stack {stack!r}: no file {path.name}; known stacks: {', '.join(stack_names())}."]
        )
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise SettingsError([f"{path.name}: not valid YAML ({exc})."]) from None
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise SettingsError([f"{path.name}: 'config' must be a mapping of keys to values."])
    flat: dict[str, str] = {}
    for key, value in config.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            raise SettingsError(
                [
                    f"{key}: encrypted values are not read by this program; secrets are generated "
                    "or managed by AWS, so remove it from the stack file."
                ]
            )
        flat[key] = value if isinstance(value, str) else json.dumps(value)
    return flat
