"""The README's configuration reference stays complete as settings grow: every key of the
settings model has a row, and no row documents a key that does not exist."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from stacks.settings import NAMESPACE, StackSettings

README = Path(__file__).resolve().parent.parent / "README.md"
POOLS = ("systemNodes", "appNodes")  # documented once, as cluster.<pool>.<field>
NOT_CONFIG = {"environment", "region"}  # the stack name, and aws:region


def _model_keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    keys = set()
    for name, field in model.model_fields.items():
        key = f"{prefix}{field.alias or name}"
        if not prefix and key in NOT_CONFIG:
            continue
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys |= _model_keys(annotation, f"{key}.")
            if key.rsplit(".", 1)[-1] in POOLS:
                keys.add(key)  # the pool itself has a row (its shape per environment)
        else:
            keys.add(key)
    return keys


def _documented_keys() -> set[str]:
    """First cells of the reference table; `a.b.c` / `d` documents a.b.c and a.b.d."""
    keys = set()
    for line in README.read_text().splitlines():
        match = re.match(rf"^\| (`(?:{NAMESPACE}|aws):[^|]*)\|", line)
        if not match or match.group(1).startswith("`aws:region`"):
            continue
        names = re.findall(r"`([^`]+)`", match.group(1))
        first = names[0].removeprefix(f"{NAMESPACE}:").replace("aws:", "aws.")
        prefix = first.rsplit(".", 1)[0] + "." if "." in first else ""
        keys |= {first} | {prefix + sibling for sibling in names[1:]}
    return keys


def _normalise(key: str) -> str:
    for pool in POOLS:
        key = key.replace(f"cluster.{pool}.", "cluster.<pool>.")
    return key


def test_every_setting_is_documented() -> None:
    model = {_normalise(key) for key in _model_keys(StackSettings)}
    documented = _documented_keys()
    assert model - documented == set(), "settings missing from the README's reference"
    assert documented - model == set(), "README rows for settings that do not exist"
