"""`plan STACK --diff BASE.json`: what changed against an earlier `--json` document.

Resources are matched by URN; inputs are compared path by path. Changes to protected or
stateful resources are flagged, and so are inputs whose change makes the provider replace the
resource (`stacks/data/replacement.json`, each list citing the provider source it comes from).
Secrets are `[secret]` in both documents, so a changed secret cannot show and none can leak.
"""

from __future__ import annotations

import json
from typing import Any

from .document import SCHEMA_VERSION
from .estimates import table
from .render import fit, short_type


class BaseDocumentError(ValueError):
    """BASE.json is not a plan document this version can compare with."""


def load_base(text: str, source: str) -> dict[str, Any]:
    try:
        base = json.loads(text)
    except ValueError as error:
        raise BaseDocumentError(f"{source}: not JSON ({error})") from None
    version = base.get("schemaVersion") if isinstance(base, dict) else None
    if not isinstance(version, str) or version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise BaseDocumentError(
            f"{source}: schemaVersion {version!r} is not comparable; expected a `plan --json` "
            f"document of schema {SCHEMA_VERSION.split('.')[0]}.x"
        )
    if "resources" not in base:
        raise BaseDocumentError(f"{source}: holds no plan (an error document?)")
    return base


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat |= _flatten(item, f"{prefix}.{key}" if prefix else key)
        return flat
    if isinstance(value, list) and value:
        flat = {}
        for index, item in enumerate(value):
            flat |= _flatten(item, f"{prefix}.{index}" if prefix else str(index))
        return flat
    return {prefix: value}


def _replacing_paths(type_token: str) -> list[tuple[str, str]]:
    """(input path, source id) of the inputs that force a replacement of this type."""
    types = table("replacement")["types"]
    rules = [types.get(type_token)]
    if type_token.startswith("kubernetes:"):
        rules.append(types.get("kubernetes:*"))
    return [(path, rule["source"]) for rule in rules if rule for path in rule["paths"]]


def _forced_by(type_token: str, path: str) -> str | None:
    for rule_path, source in _replacing_paths(type_token):
        if path == rule_path or path.startswith(rule_path + "."):
            return source
    return None


def is_stateful(type_token: str) -> bool:
    return type_token in table("replacement")["stateful"]["types"]


def _changes(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    before, after = _flatten(old["inputs"]), _flatten(new["inputs"])
    changes = []
    for path in sorted(before.keys() | after.keys()):
        if before.get(path) != after.get(path) or (path in before) != (path in after):
            change = {"path": path, "old": before.get(path), "new": after.get(path)}
            source = _forced_by(new["type"], path)
            changes.append({**change, "forcesReplacement": source is not None, "source": source})
    if old["protect"] != new["protect"]:
        changes.append(
            {
                "path": "(protect)",
                "old": old["protect"],
                "new": new["protect"],
                "forcesReplacement": False,
                "source": None,
            }
        )
    return changes


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {
        "urn": resource["urn"],
        "type": resource["type"],
        "name": resource["name"],
        "layer": resource["layer"],
        "protect": resource["protect"],
        "stateful": is_stateful(resource["type"]),
    }


def diff(base: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """Added, removed and changed resources between two plan documents of one stack."""
    old = {item["urn"]: item for item in base["resources"]}
    new = {item["urn"]: item for item in current["resources"]}
    changed = []
    for urn in sorted(old.keys() & new.keys()):
        changes = _changes(old[urn], new[urn])
        if changes:
            replaces = any(change["forcesReplacement"] for change in changes)
            changed.append({**_entry(new[urn]), "replaces": replaces, "changes": changes})
    result = {
        "base": {"stack": base.get("stack"), "generator": base.get("generator")},
        "added": [_entry(new[urn]) for urn in sorted(new.keys() - old.keys())],
        "removed": [_entry(old[urn]) for urn in sorted(old.keys() - new.keys())],
        "changed": changed,
    }
    result["dataAtRisk"] = [
        item["urn"]
        for item in [*result["removed"], *(c for c in changed if c["replaces"])]
        if item["stateful"]
    ]
    return result


def _value(value: Any) -> str:
    return "(absent)" if value is None else json.dumps(value, ensure_ascii=False)


def _line(sign: str, item: dict[str, Any], extra: str = "") -> str:
    flags = ["protected"] * item["protect"] + ["stateful"] * item["stateful"]
    marks = f" [{', '.join(flags)}]" if flags else ""
    label = f"{short_type(item['type'])} {item['name']}"
    return fit(f"  {sign} {item['layer']:<9} {label}{marks}{extra}")


def render(result: dict[str, Any], base_name: str) -> str:
    """`terraform plan`-like text: one line per resource, one per changed input path."""
    replaced = sum(item["replaces"] for item in result["changed"])
    lines = [
        fit(
            f"Diff against {base_name}: {len(result['added'])} to add, "
            f"{len(result['changed'])} to change ({replaced} replaced), "
            f"{len(result['removed'])} to remove"
        )
    ]
    lines += [_line("+", item) for item in result["added"]]
    lines += [_line("-", item, "  DELETED") for item in result["removed"]]
    for item in result["changed"]:
        lines.append(_line("~", item, "  REPLACED" if item["replaces"] else ""))
        for change in item["changes"]:
            why = f"  (forces replacement: {change['source']})" if change["source"] else ""
            values = f"{_value(change['old'])} → {_value(change['new'])}"
            lines.append(fit(f"      {change['path']}: {values}{why}"))
    if result["dataAtRisk"]:
        count = len(result["dataAtRisk"])
        lines.append(f"Data at risk: {count} stateful resource(s) replaced or deleted")
    return "\n".join(lines) + "\n"
