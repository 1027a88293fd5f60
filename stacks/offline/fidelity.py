"""AWS's own input rules applied to a synthesized plan: botocore's service models.

Each AWS resource input is mapped to the member of the API operation the provider calls with
it (`aws:rds/instance:Instance.instanceClass` → rds `CreateDBInstance.DBInstanceClass`), and
its value is checked against that member's shape: enum, pattern, length, range and type. A
value that breaks one would make AWS reject the call at `pulumi up`, so the gate treats it as a
mandatory violation. Inputs the provider keeps to itself (timeouts, `skipFinalSnapshot`…) are
declared per type with the reason; anything neither mapped nor declared is reported as
unmapped, so coverage stays honest. The mappings live in `fidelity_map.py`.

Only the slices of the models the mappings use are read, once per process, from a cache
file per botocore version (built from botocore's models on first use).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore
from botocore.loaders import Loader
from pulumi.output import Unknown
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policies.guardrails.offline import Finding

from .aws_data import partition_of, partitions
from .fidelity_map import MAPPINGS, UNMAPPABLE, ApiMapping
from .model import Plan, PlannedResource, is_secret

POLICY = "aws-api-shape"
PARTITION_POLICY = "aws-partition"
SOURCE = f"botocore {botocore.__version__}"
# Java-regex classes botocore's patterns use that Python's `re` lacks (each translation
# accepts at least what the original accepts, so no valid value fails because of it).
_JAVA_CLASSES = {r"\p{L}": r"\w", r"\p{N}": r"\w", r"\p{Z}": r"\s", r"\p{ASCII}": r"\x00-\x7f"}


@dataclass
class Coverage:
    """How much of the plan the check reached."""

    resources: int = 0
    checked: int = 0
    """Leaf values validated against a botocore shape."""
    constrained: int = 0
    """Of those, values whose shape has an enum, pattern, length or range."""
    unknown: int = 0
    """Values unknown until deployment (computed by another resource)."""
    provider_only: int = 0
    """Inputs the provider consumes itself (declared per type with the reason)."""
    unmapped: list[str] = field(default_factory=list)
    """`type: input path` of inputs no mapping covers."""
    unmapped_types: list[str] = field(default_factory=list)
    uncheckable_patterns: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "resources": self.resources,
            "checked": self.checked,
            "constrained": self.constrained,
            "unknown": self.unknown,
            "providerOnly": self.provider_only,
            "unmapped": sorted(set(self.unmapped)),
            "unmappedTypes": sorted(set(self.unmapped_types)),
            "uncheckablePatterns": sorted(set(self.uncheckable_patterns)),
        }


@dataclass
class Report:
    findings: list[Finding]
    coverage: Coverage


_RULE_KEYS = ("type", "enum", "pattern", "min", "max")


def _reachable(model: dict[str, Any], operations: set[str]) -> dict[str, Any]:
    """The operations' input shapes and every shape they refer to."""
    shapes, todo = {}, [model["operations"][name]["input"]["shape"] for name in operations]
    while todo:
        name = todo.pop()
        if name in shapes:
            continue
        body = model["shapes"][name]
        shapes[name] = {key: body[key] for key in _RULE_KEYS if key in body}
        if "members" in body:
            shapes[name]["members"] = {m: {"shape": r["shape"]} for m, r in body["members"].items()}
        for key in ("member", "key", "value"):
            if key in body:
                shapes[name][key] = {"shape": body[key]["shape"]}
        refs = [*body.get("members", {}).values(), body.get("member"), body.get("key")]
        todo += [ref["shape"] for ref in (*refs, body.get("value")) if ref]
    inputs = {name: model["operations"][name]["input"]["shape"] for name in operations}
    return {"operations": inputs, "shapes": shapes}


def _operations_by_service() -> dict[str, set[str]]:
    wanted: dict[str, set[str]] = {}
    for mapping in MAPPINGS.values():
        for variant in mapping.variants():
            wanted.setdefault(variant.service, set()).update(variant.operation_names())
    return wanted


def _cache_file() -> Path:
    wanted = json.dumps(sorted((k, sorted(v)) for k, v in _operations_by_service().items()))
    digest = hashlib.sha256(f"{botocore.__version__}{wanted}".encode()).hexdigest()[:16]
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "crm-platform" / f"botocore-shapes-{digest}.json"


@functools.cache
def _models() -> dict[str, dict[str, Any]]:
    """The slices of botocore's models the mappings use, cached on disk per botocore version
    and mapping (reading the full models costs ~0.25 s; the slice, a few milliseconds)."""
    cache = _cache_file()
    try:
        return json.loads(cache.read_text())
    except (OSError, ValueError):
        pass
    loader = Loader()
    models = {
        service: _reachable(loader.load_service_model(service, "service-2"), operations)
        for service, operations in _operations_by_service().items()
    }
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        temporary = cache.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(models))
        temporary.replace(cache)
    except OSError:
        pass  # a read-only home only costs the next run the same 0.25 s
    return models


def service_model(service: str) -> dict[str, Any]:
    return _models()[service]


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str] | None:
    for java, python in _JAVA_CLASSES.items():
        pattern = pattern.replace(java, python)
    pattern = pattern.replace(r"[\w-_]", r"[\w_-]")
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _normal(name: str) -> str:
    return name.replace("_", "").lower()


@dataclass(frozen=True)
class _Shape:
    """A botocore shape, with where it came from (for messages)."""

    service: str
    operation: str
    member: str
    name: str

    @property
    def body(self) -> dict[str, Any]:
        return service_model(self.service)["shapes"][self.name]

    def child(self, member: str, shape_name: str) -> _Shape:
        """A member's shape (`member` is a list's item: shown as `[]`)."""
        path = f"{self.member}[]" if member == "member" else f"{self.member}.{member}"
        return _Shape(self.service, self.operation, path, shape_name)

    def find_member(self, pulumi_name: str) -> _Shape | None:
        wanted = _normal(pulumi_name)
        for member, ref in self.body.get("members", {}).items():
            if _normal(member) == wanted:
                return self.child(member, ref["shape"])
        return None

    def at(self, path: str) -> _Shape:
        """The shape at a member path; list levels are crossed implicitly, and a map's
        `key` or `value` names its entries' shapes."""
        shape = self
        for part in path.split("."):
            while shape.body["type"] == "list":
                shape = shape.child("member", shape.body["member"]["shape"])
            body = shape.body
            ref = body[part] if body["type"] == "map" else body["members"][part]
            shape = shape.child(part, ref["shape"])
        return shape

    def source(self) -> str:
        return f"{SOURCE} {self.service} {self.operation}{self.member} (shape {self.name})"


def _operation_shape(service: str, operation: str) -> _Shape:
    input_shape = service_model(service)["operations"][operation]
    return _Shape(service, operation, "", input_shape)


def resolve(mapping: ApiMapping, spec: str) -> _Shape:
    """`Operation:Member.Path`, or `Member.Path` in the first of the mapping's operations
    that has it (KeyError if none has)."""
    operation, _, path = spec.rpartition(":")
    for candidate in (operation,) if operation else mapping.operations:
        try:
            return _operation_shape(mapping.service, candidate).at(path)
        except KeyError:
            if operation:
                raise
    raise KeyError(f"{spec} in {mapping.operations}")


@dataclass
class _Walk:
    resource: PlannedResource
    mapping: ApiMapping
    coverage: Coverage
    findings: list[Finding]

    def top_level(self, key: str) -> _Shape | None:
        for operation in self.mapping.operations:
            root = _operation_shape(self.mapping.service, operation)
            for prefix in ("", *self.mapping.roots):
                shape = root.at(prefix) if prefix else root
                found = shape.find_member(key)
                if found is not None:
                    return found
        return None

    def members(self, value: dict[str, Any], path: str, shape: _Shape | None) -> None:
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if where in self.mapping.provider_only:
                self.coverage.provider_only += 1
                continue
            if where in self.mapping.flattened and isinstance(item, dict):
                self.members(item, where, None)
                continue
            if where in self.mapping.renames:
                target = resolve(self.mapping, self.mapping.renames[where])
            elif shape is None:
                target = self.top_level(key)
            else:
                target = shape.find_member(key)
            if target is None:
                self.coverage.unmapped.append(f"{self.resource.type}: {where}")
                continue
            self.value(item, where, target, secret=False)

    def value(self, value: Any, path: str, shape: _Shape, *, secret: bool) -> None:
        if is_secret(value):
            self.value(value["value"], path, shape, secret=True)
            return
        if isinstance(value, Unknown) or value == UNKNOWN_STRING_VALUE:
            self.coverage.unknown += 1
            return
        body = shape.body
        kind = body["type"]
        if kind == "structure" and isinstance(value, list):
            for item in value:  # a block Pulumi models as a one-item list
                self.value(item, path, shape, secret=secret)
        elif kind == "structure":
            if not isinstance(value, dict):
                self._violate(path, shape, value, secret, "must be an object")
            else:
                self.members(value, path, shape)
        elif kind == "list":
            self._list(value, path, shape, secret)
        elif kind == "map":
            self._map(value, path, shape, secret)
        elif isinstance(value, list):
            for item in value:  # the provider sends one call field per element
                self.value(item, path, shape, secret=secret)
        else:
            self._scalar(value, path, shape, secret)

    def _list(self, value: Any, path: str, shape: _Shape, secret: bool) -> None:
        body = shape.body
        member = shape.child("member", body["member"]["shape"])
        if isinstance(value, dict) and _is_pair_list(member):
            self._pairs(value, path, member, secret)
            return
        items = value if isinstance(value, list) else [value]
        self._bounds(len(items), path, shape, value, secret, "items")
        for item in items:
            self.value(item, path, member, secret=secret)

    def _map(self, value: Any, path: str, shape: _Shape, secret: bool) -> None:
        if not isinstance(value, dict):
            self._violate(path, shape, value, secret, "must be a map")
            return
        body = shape.body
        self._bounds(len(value), path, shape, value, secret, "entries")
        key_shape = shape.child("key", body["key"]["shape"])
        value_shape = shape.child("value", body["value"]["shape"])
        for key, item in value.items():
            self._scalar(key, f"{path}.{key}", key_shape, secret)
            self.value(item, f"{path}.{key}", value_shape, secret=secret)

    def _pairs(self, value: dict[str, Any], path: str, pair: _Shape, secret: bool) -> None:
        """A Pulumi map sent as AWS's list of {Key, Value} (tags) or {Name, Value}
        (CloudWatch dimensions)."""
        names = sorted(pair.body["members"], key=lambda name: not _is_key_name(name))
        key_shape, value_shape = (
            pair.child(name, pair.body["members"][name]["shape"]) for name in names
        )
        for key, item in value.items():
            self._scalar(key, f"{path}.{key}", key_shape, secret)
            self.value(item, f"{path}.{key}", value_shape, secret=secret)

    def _scalar(self, value: Any, path: str, shape: _Shape, secret: bool) -> None:
        self.coverage.checked += 1
        body = shape.body
        constrained = any(key in body for key in ("enum", "pattern", "min", "max"))
        self.coverage.constrained += constrained
        kind = body["type"]
        if kind == "string":
            self._string(value, path, shape, secret)
        elif kind in ("integer", "long", "double", "float"):
            self._number(value, path, shape, secret)
        elif kind == "boolean" and not isinstance(value, bool) and value not in ("true", "false"):
            self._violate(path, shape, value, secret, "must be a boolean")

    def _string(self, value: Any, path: str, shape: _Shape, secret: bool) -> None:
        if not isinstance(value, (str, int, float)):  # bools included: sent as true/false
            self._violate(path, shape, value, secret, "must be a string")
            return
        text = _text(value)
        body = shape.body
        if "enum" in body and text not in body["enum"]:
            self._violate(path, shape, value, secret, f"is not in the enum {body['enum']}")
        self._bounds(len(text), path, shape, value, secret, "characters")
        if "pattern" in body:
            compiled = _compiled(body["pattern"])
            if compiled is None:
                self.coverage.uncheckable_patterns.append(shape.source())
            elif compiled.search(text) is None:
                rule = f"does not match the pattern {body['pattern']!r}"
                self._violate(path, shape, value, secret, rule)

    def _number(self, value: Any, path: str, shape: _Shape, secret: bool) -> None:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self._violate(path, shape, value, secret, "must be a number")
            return
        if isinstance(value, bool) or math.isnan(number):
            self._violate(path, shape, value, secret, "must be a number")
        elif shape.body["type"] in ("integer", "long") and not number.is_integer():
            self._violate(path, shape, value, secret, "must be a whole number")
        else:
            self._bounds(number, path, shape, value, secret, "")

    def _bounds(
        self, size: float, path: str, shape: _Shape, value: Any, secret: bool, unit: str
    ) -> None:
        body = shape.body
        low, high = body.get("min"), body.get("max")
        if (low is not None and size < low) or (high is not None and size > high):
            bounds = f"{'' if low is None else low}..{'' if high is None else high}"
            rule = (
                f"must have a length of {bounds} {unit}"
                if unit
                else f"must be in the range {bounds}"
            )
            self._violate(path, shape, value, secret, rule)

    def _violate(self, path: str, shape: _Shape, value: Any, secret: bool, rule: str) -> None:
        shown = "[secret]" if secret else repr(_text(value) if _scalar_like(value) else value)
        self.findings.append(
            mandatory(
                POLICY,
                self.resource,
                f"input `{path}` = {shown[:200]} {rule}; AWS would reject it. Rule source: "
                f"{shape.source()}.",
                "Use a value the API accepts (see the botocore model named above).",
            )
        )


def _scalar_like(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def _text(value: Any) -> str:
    """How the provider serializes a scalar into a string member: `true`/`false`, and engine
    doubles holding whole numbers as integers."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _is_key_name(member: str) -> bool:
    return _normal(member).endswith("key") or _normal(member) == "name"


def _is_pair_list(member: _Shape) -> bool:
    body = member.body
    names = list(body.get("members", {}))
    return (
        body["type"] == "structure"
        and len(names) == 2
        and any(_is_key_name(name) for name in names)
        and any(_normal(name).endswith("value") for name in names)
    )


def _aws_resources(plan: Plan) -> Iterator[PlannedResource]:
    for resource in plan.resources:
        if resource.custom and resource.type.startswith("aws:"):
            yield resource


_ARN = re.compile(r"arn:([a-z0-9-]+):")


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(input path, text) of every string in an input value, secrets included (never shown)."""
    if is_secret(value):
        yield from _strings(value["value"], path)
    elif isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, path)


def _regions(plan: Plan) -> tuple[dict[str, str], set[str]]:
    """Region of each explicit AWS provider, and the partitions those regions are in."""
    regions = {
        r.urn: r.inputs["region"]
        for r in plan.resources
        if r.type == "pulumi:providers:aws" and isinstance(r.inputs.get("region"), str)
    }
    return regions, {partition_of(region).name for region in regions.values()}


def partition_findings(plan: Plan) -> list[Finding]:
    """An ARN of another partition in a resource's inputs (`arn:aws:` in an `aws-eusc` stack)
    names something that cannot exist where the resource lives."""
    known = {partition.name for partition in partitions()}
    regions, stack_partitions = _regions(plan)
    findings = []
    for resource in plan.resources:
        own = resource.inputs.get("region")
        region = own if isinstance(own, str) else regions.get(resource.provider or "")
        if region is not None:
            expected = partition_of(region).name
        elif len(stack_partitions) == 1:  # Kubernetes objects: the stack's partition
            expected = next(iter(stack_partitions))
        else:
            continue
        for path, text in _strings(resource.inputs):
            found = _ARN.findall(text) if "arn:" in text else ()
            wrong = sorted({p for p in found if p in known and p != expected})
            if wrong:
                findings.append(_partition_finding(resource, path, wrong, expected))
    return findings


def _partition_finding(
    resource: PlannedResource, path: str, wrong: list[str], expected: str
) -> Finding:
    return mandatory(
        PARTITION_POLICY,
        resource,
        f"input `{path}` holds an ARN of partition {', '.join(wrong)}, but the resource is in "
        f"partition {expected}. Rule source: {SOURCE} partitions.json.",
        "Build ARNs with aws.get_partition (never a literal partition).",
    )


def mandatory(policy: str, resource: PlannedResource, problem: str, remediation: str) -> Finding:
    """A blocking finding on `resource`: what AWS would refuse, and where the rule comes from."""
    return Finding(
        policy=policy,
        severity="high",
        enforcement="mandatory",
        urn=resource.urn,
        resource_type=resource.type,
        resource_name=resource.name,
        message=f"{resource.type} {resource.name!r}: {problem}",
        remediation=remediation,
    )


def check(plan: Plan) -> Report:
    """Findings (one per value AWS would reject) and the coverage of the check."""
    coverage, findings = Coverage(), partition_findings(plan)
    for resource in _aws_resources(plan):
        mapping = MAPPINGS.get(resource.type)
        if mapping is None:
            if resource.type not in UNMAPPABLE:
                coverage.unmapped_types.append(resource.type)
            continue
        coverage.resources += 1
        walk = _Walk(resource, mapping.select(resource.inputs), coverage, findings)
        walk.members(resource.inputs, "", None)
    return Report(findings, coverage)
