"""Reading `Pulumi.<stack>.yaml` the way the Pulumi CLI hands it to a program, strictly.

The Pulumi CLI parses stack files with a YAML 1.2 parser: `yes`/`on` are strings, only
`true`/`false` are booleans, and an unquoted `1.30` is the number 1.3. This reader resolves
scalars the same way, so the offline plan sees what `pulumi up` sees, and refuses what would
be silently lost: a key written twice (YAML keeps only the last) and an unquoted number whose
digits a parser changes (`1.30` → 1.3, `16.10` → 16.1).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, ClassVar

import yaml

from .settings import SettingsError

ROOT = Path(__file__).resolve().parent.parent
_YAML_11_ONLY = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
_YAML_11_ONLY |= {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value"}


class StackFileError(yaml.YAMLError):
    """A stack file YAML accepts but this program refuses (the message is for the user)."""


class _StackFileLoader(yaml.SafeLoader):
    """PyYAML's safe loader with the YAML 1.2 core schema and no duplicate keys."""

    yaml_implicit_resolvers: ClassVar[dict] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in _YAML_11_ONLY]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        lines: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in lines:
                raise StackFileError(
                    f"key {key!r} is written twice (lines {lines[key]} and {line}); YAML would "
                    "keep only the second and silently drop the first. Merge them into one."
                )
            lines[key] = line
        return super().construct_mapping(node, deep=deep)


def _construct_number(loader: _StackFileLoader, node: yaml.ScalarNode) -> int | float:
    text = node.value
    value = float(text) if re.search(r"[.eE]", text) else int(text)
    if isinstance(value, float) and repr(value) != text:
        raise StackFileError(
            f"line {node.start_mark.line + 1}: the unquoted number {text} is read as "
            f'{value!r} (by Pulumi too); quote it to keep it as written: "{text}".'
        )
    return value


_StackFileLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_StackFileLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789")
)
_StackFileLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$"),
    list("-+.0123456789"),
)
_StackFileLoader.add_constructor("tag:yaml.org,2002:int", _construct_number)
_StackFileLoader.add_constructor("tag:yaml.org,2002:float", _construct_number)


def stack_names() -> list[str]:
    """Stacks that have a `Pulumi.<stack>.yaml` next to `Pulumi.yaml`."""
    return sorted(path.name.split(".")[1] for path in ROOT.glob("Pulumi.*.yaml"))


def parse_stack_file(name: str, raw: bytes) -> dict[str, Any]:
    """The `config:` mapping of a stack file's bytes; SettingsError with one message if the
    file is not UTF-8, not YAML, not a mapping, or is refused by the rules above."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SettingsError(
            [
                f"{name}: not UTF-8 text (byte {raw[exc.start]:#04x} on line {line}); "
                "save it as UTF-8."
            ]
        ) from None
    try:
        document = yaml.load(text, Loader=_StackFileLoader)  # a SafeLoader subclass
    except StackFileError as exc:
        raise SettingsError([f"{name}: {exc}"]) from None
    except yaml.YAMLError as exc:
        raise SettingsError([f"{name}: not valid YAML ({' '.join(str(exc).split())})."]) from None
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise SettingsError(
            [f"{name}: must be a mapping with a 'config:' section, not a {_kind(document)}."]
        )
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise SettingsError(
            [f"{name}: 'config' must be a mapping of keys to values, not a {_kind(config)}."]
        )
    return config


def _kind(value: Any) -> str:
    return "list" if isinstance(value, list) else f"single value ({value!r})"


def read_stack_config(stack: str) -> dict[str, str]:
    """The flat config map (`namespace:key` → string, structures JSON-encoded) of a stack."""
    path = ROOT / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise SettingsError(
            [f"stack {stack!r}: no file {path.name}; known stacks: {', '.join(stack_names())}."]
        )
    config = parse_stack_file(path.name, path.read_bytes())
    flat: dict[str, str] = {}
    for key, value in config.items():
        if not isinstance(key, str) or ":" not in key:
            raise SettingsError(
                [f"{path.name}: config key {key!r} must be written as namespace:name, e.g. "
                 f"crm-platform:{key} or aws:{key}."]
            )  # fmt: skip
        if isinstance(value, dict) and set(value) == {"secure"}:
            raise SettingsError(
                [
                    f"{key}: encrypted values are not read by this program; secrets are generated "
                    "or managed by AWS, so remove it from the stack file."
                ]
            )
        flat[key] = value if isinstance(value, str) else json.dumps(value)
    return flat
