"""The data model of a synthesized stack, independent of how it is rendered."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
STACK_TYPE = "pulumi:pulumi:Stack"


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and SECRET_SIG_KEY in value


def redact(value: Any) -> Any:
    """The value with every secret replaced by `[secret]`, safe to print or serialize."""
    if is_secret(value):
        return "[secret]"
    if isinstance(value, dict):
        return {key: redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def unwrap(value: Any) -> Any:
    """The value with secrets unwrapped (for assertions on what the engine receives)."""
    if is_secret(value):
        return unwrap(value["value"])
    if isinstance(value, dict):
        return {key: unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    return value


def value_at(value: Any, path: str, default: Any = None) -> Any:
    """The item at a dotted path of nested dicts and lists (`blockDeviceMappings.0.ebs`)."""
    for part in path.split("."):
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return default
    return value


@dataclass
class PlannedResource:
    """One registration, as the engine would see it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None
    provider: str | None
    """URN of the explicit provider (None: the default provider)."""
    inputs: dict[str, Any]
    """Engine (camelCase) input names; secrets stay wrapped so nothing leaks by accident."""
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    protect: bool
    ignore_changes: list[str]
    aliases: list[str]
    create_timeout: float = 0.0
    """Seconds of the `custom_timeouts.create` option (0: the provider's default)."""
    delete_before_replace: bool = False
    """Whether a replacement deletes the old object first (the option of that name)."""

    def get(self, path: str, default: Any = None) -> Any:
        """Input at a dotted path (`vpcConfig.endpointPublicAccess`), secrets unwrapped."""
        return value_at(unwrap(self.inputs), path, default)


@dataclass
class Plan:
    """Resources of a stack in registration order, plus its outputs."""

    stack: str
    resources: list[PlannedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    layers: dict[str, Plan] = field(default_factory=dict)
    """For a whole stack: the plan of each layer (`platform`, `workloads`) by name."""

    def of_type(self, type_token: str) -> list[PlannedResource]:
        return [resource for resource in self.resources if resource.type == type_token]

    def one(self, type_token: str) -> PlannedResource:
        found = self.of_type(type_token)
        if len(found) != 1:
            raise LookupError(f"expected one {type_token}, found {len(found)}")
        return found[0]

    def by_urn(self, urn: str) -> PlannedResource:
        for resource in self.resources:
            if resource.urn == urn:
                return resource
        raise LookupError(urn)

    def named(self, name: str) -> PlannedResource:
        for resource in self.resources:
            if resource.name == name:
                return resource
        raise LookupError(name)

    def children(self, urn: str) -> list[PlannedResource]:
        return [resource for resource in self.resources if resource.parent == urn]

    def top_component(self, resource: PlannedResource) -> PlannedResource | None:
        """The outermost component containing `resource` (None for top-level resources)."""
        by_urn = {item.urn: item for item in self.resources}
        top = None
        current = by_urn.get(resource.parent or "")
        while current is not None:
            top = current
            current = by_urn.get(current.parent or "")
        return top

    def counts(self) -> Counter[str]:
        return Counter(resource.type for resource in self.resources if resource.custom)
