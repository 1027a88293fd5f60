"""Offline gate: run the pack's policies on a synthesized stack, in process, without the CLI.

    from policies.guardrails.offline import evaluate
    findings = evaluate(resources, policy_config)
    blocked = any(f.enforcement == "mandatory" for f in findings)

`resources` is a list of dicts, one per registered resource, as the offline plan records them:
    {"type", "name", "urn",
     "props": inputs (camelCase), as `pulumi.runtime.rpc.deserialize_properties(request.object,
              keep_unknowns=True)` returns them: secrets stay wrapped as dicts carrying the key
              4dabf18193072939515e22adb298388d, unknowns are `pulumi.output.Unknown` objects or
              the engine's sentinel strings,
     "parent": urn or None, "dependencies": [urn], "property_dependencies": {prop: [urn]},
     "protect": bool, "create_timeout": seconds of the custom_timeouts.create option (optional),
     "provider": {"type", "name", "urn", "props"} or None}
`policy_config` has the format of `pulumi preview --policy-pack-config` (what
`stacks.policy_config.build_policy_config` returns): {"all": level} and/or
{"<policy>": level | {"enforcementLevel": level, "<property>": value}}.

The gate does what the engine does: it fills defaults from each policy's config schema, applies
the given config, validates it (ValueError if invalid; unlike the engine it also rejects unknown
policy names and properties), sends `Configure`, one `Analyze` per resource (inputs) and one
`AnalyzeStack` to the SDK's own analyzer servicer with the pack's policy objects. Only the
resource policies that apply to a resource's type are given to the servicer for it, and a stack
policy that declares the types it `reads` gets only those resources, which keeps a
~250-resource stack well under a second.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema
import pulumi
from google.protobuf import struct_pb2
from pulumi.output import Unknown
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel
from pulumi_policy.deserialize import serialize_properties
from pulumi_policy.policy import _PolicyAnalyzerServicer
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from . import PACK_NAME, PACK_VERSION, POLICIES, Guardrail
from .core import SUPPRESSIONS, GuardrailResourcePolicy
from .suppressions import ACKNOWLEDGED
from .suppressions import NAME as SUPPRESSION_REPORT

LEVELS = {level.value: level for level in EnforcementLevel}
LEVEL_TO_PROTO = {
    EnforcementLevel.ADVISORY: proto.ADVISORY,
    EnforcementLevel.MANDATORY: proto.MANDATORY,
    EnforcementLevel.REMEDIATE: proto.REMEDIATE,
    EnforcementLevel.DISABLED: proto.DISABLED,
}
PROTO_TO_LEVEL = {value: level.value for level, value in LEVEL_TO_PROTO.items()}
PROTO_TO_SEVERITY = {
    proto.POLICY_SEVERITY_UNSPECIFIED: "",
    proto.POLICY_SEVERITY_LOW: "low",
    proto.POLICY_SEVERITY_MEDIUM: "medium",
    proto.POLICY_SEVERITY_HIGH: "high",
    proto.POLICY_SEVERITY_CRITICAL: "critical",
}


@dataclass(frozen=True)
class Finding:
    """One policy violation (or an advisory "can't run during preview" note)."""

    policy: str
    severity: str  # low | medium | high | critical ("" for preview notes)
    enforcement: str  # mandatory | advisory
    urn: str | None  # None: the stack as a whole
    resource_type: str | None
    resource_name: str | None
    message: str
    remediation: str

    @property
    def blocking(self) -> bool:
        return self.enforcement == EnforcementLevel.MANDATORY.value

    @property
    def acknowledged(self) -> bool:
        """A finding the stack suppressed with a written reason (shown, never blocking)."""
        return self.policy == SUPPRESSION_REPORT and self.message.startswith(ACKNOWLEDGED)


@dataclass(frozen=True)
class PolicySettings:
    level: EnforcementLevel
    properties: dict[str, Any]


def reconcile(
    policy_config: Mapping[str, Any], policies: Sequence[Guardrail] = POLICIES
) -> dict[str, PolicySettings]:
    """Effective level and properties per policy, as the engine computes them; validated."""
    by_name = {policy.name: policy for policy in policies}
    unknown = sorted(set(policy_config) - set(by_name) - {"all"})
    if unknown:
        raise ValueError(f"policy config names unknown policies: {', '.join(unknown)}")
    everything = _level("all", policy_config["all"]) if "all" in policy_config else None
    result = {}
    for name, policy in by_name.items():
        level = everything or policy.enforcement_level or EnforcementLevel.ADVISORY
        properties = dict(policy.defaults)
        given = policy_config.get(name)
        if isinstance(given, Mapping):
            if "enforcementLevel" in given:
                level = _level(name, given["enforcementLevel"])
            properties.update({k: v for k, v in given.items() if k != "enforcementLevel"})
        elif given is not None:
            level = _level(name, given)
        _validate(policy, properties)
        result[name] = PolicySettings(level, properties)
    return result


def _level(name: str, value: Any) -> EnforcementLevel:
    if value not in LEVELS:
        raise ValueError(f"{name}: {value!r} is not an enforcement level ({', '.join(LEVELS)})")
    return LEVELS[value]


def config_document(policy: Guardrail) -> dict[str, Any]:
    """The JSON schema a policy's config properties must satisfy (the engine's, but closed)."""
    schema = policy.config_schema
    return {
        "type": "object",
        "properties": schema.properties if schema else {},
        "required": (schema.required or []) if schema else [],
        "additionalProperties": False,
    }


@functools.cache
def _validator(policy: Guardrail) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(config_document(policy))


def _validate(policy: Guardrail, properties: dict[str, Any]) -> None:
    error = jsonschema.exceptions.best_match(_validator(policy).iter_errors(properties))
    if error is not None:
        where = ".".join(str(part) for part in error.absolute_path) or "config"
        raise ValueError(f"{policy.name}: {where}: {error.message}")


def _servicer(
    policies: Sequence[Guardrail], settings: Mapping[str, PolicySettings]
) -> _PolicyAnalyzerServicer:
    servicer = _PolicyAnalyzerServicer(
        PACK_NAME, PACK_VERSION, list(policies), EnforcementLevel.ADVISORY
    )
    request = proto.ConfigureAnalyzerRequest()
    for policy in policies:
        entry = settings[policy.name]
        request.policyConfig[policy.name].enforcementLevel = LEVEL_TO_PROTO[entry.level]
        request.policyConfig[policy.name].properties.update(entry.properties)
    servicer.Configure(request, None)
    return servicer


def _wire(value: Any) -> Any:
    """A property value as the engine sends it (unknowns as sentinels, assets as signatures)."""
    if isinstance(value, Unknown):
        return UNKNOWN_STRING_VALUE
    if isinstance(value, Mapping):
        return {str(key): _wire(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_wire(item) for item in value]
    if isinstance(value, pulumi.Asset | pulumi.Archive):
        return serialize_properties(value)
    if value is None or isinstance(value, str | bool | int | float):
        return value
    raise TypeError(f"cannot send a {type(value).__name__} to the policy pack")


def _struct(props: Mapping[str, Any] | None) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(_wire(props or {}))
    return struct


def _provider(resource: Mapping[str, Any]) -> proto.AnalyzerProviderResource | None:
    provider = resource.get("provider")
    if not provider:
        return None
    return proto.AnalyzerProviderResource(
        type=provider["type"],
        properties=_struct(provider.get("props")),
        urn=provider["urn"],
        name=provider["name"],
    )


def _options(resource: Mapping[str, Any]) -> proto.AnalyzerResourceOptions:
    options = proto.AnalyzerResourceOptions(
        protect=bool(resource.get("protect")), parent=resource.get("parent") or ""
    )
    if resource.get("create_timeout"):
        options.customTimeouts.create = float(resource["create_timeout"])
    return options


def _analyze_request(resource: Mapping[str, Any]) -> proto.AnalyzeRequest:
    return proto.AnalyzeRequest(
        type=resource["type"],
        properties=_struct(resource.get("props")),
        urn=resource["urn"],
        name=resource["name"],
        options=_options(resource),
        provider=_provider(resource),
    )


def _stack_request(resources: Iterable[Mapping[str, Any]]) -> proto.AnalyzeStackRequest:
    request = proto.AnalyzeStackRequest()
    for resource in resources:
        item = request.resources.add(
            type=resource["type"],
            properties=_struct(resource.get("props")),
            urn=resource["urn"],
            name=resource["name"],
            options=_options(resource),
            provider=_provider(resource),
            parent=resource.get("parent") or "",
            dependencies=list(resource.get("dependencies") or []),
        )
        for prop, urns in (resource.get("property_dependencies") or {}).items():
            item.propertyDependencies[prop].urns.extend(urns)
    return request


def _may_report(policy: Guardrail, settings: Mapping[str, PolicySettings]) -> bool:
    """False for the suppression report of a stack without suppressions: it has nothing to say,
    and skipping it spares a pass over every resource."""
    return policy.name != SUPPRESSION_REPORT or bool(settings[policy.name].properties[SUPPRESSIONS])


class _Gate:
    """The reconciled config with its configured servicers, reused while the config is the same."""

    def __init__(self, policy_config: Mapping[str, Any]) -> None:
        self.settings = reconcile(policy_config)
        self.enabled = [
            policy
            for policy in POLICIES
            if self.settings[policy.name].level != EnforcementLevel.DISABLED
        ]
        self._by_type: dict[str, _PolicyAnalyzerServicer | None] = {}
        stack = [
            p
            for p in self.enabled
            if not isinstance(p, GuardrailResourcePolicy) and _may_report(p, self.settings)
        ]
        whole = [p for p in stack if getattr(p, "reads", None) is None]
        self.stack = _servicer(whole, self.settings) if whole else None
        self.focused = [(p.reads, _servicer([p], self.settings)) for p in stack if p not in whole]

    def for_type(self, kind: str) -> _PolicyAnalyzerServicer | None:
        """A servicer holding only the resource policies that apply to `kind`."""
        if kind not in self._by_type:
            applicable = [
                p
                for p in self.enabled
                if isinstance(p, GuardrailResourcePolicy) and p.applies_to(kind)
            ]
            self._by_type[kind] = _servicer(applicable, self.settings) if applicable else None
        return self._by_type[kind]


@functools.lru_cache(maxsize=8)
def _gate(config_json: str) -> _Gate:
    return _Gate(json.loads(config_json))


REMEDIATION = {policy.name: policy.remediation_steps or "" for policy in POLICIES}


def evaluate(
    resources: Sequence[Mapping[str, Any]], policy_config: Mapping[str, Any]
) -> list[Finding]:
    """Findings of every enabled policy on `resources` (see the module docstring)."""
    gate = _gate(json.dumps(policy_config, sort_keys=True))
    by_urn = {resource["urn"]: resource for resource in resources}
    findings: list[Finding] = []

    def collect(response: proto.AnalyzeResponse, default_urn: str | None) -> None:
        for diagnostic in response.diagnostics:
            urn = diagnostic.urn or default_urn
            resource = by_urn.get(urn or "", {})
            message = diagnostic.message.removeprefix(diagnostic.description).strip()
            findings.append(
                Finding(
                    policy=diagnostic.policyName,
                    severity=PROTO_TO_SEVERITY[diagnostic.severity],
                    enforcement=PROTO_TO_LEVEL[diagnostic.enforcementLevel],
                    urn=urn,
                    resource_type=resource.get("type"),
                    resource_name=resource.get("name"),
                    message=message,
                    remediation=REMEDIATION[diagnostic.policyName],
                )
            )

    for resource in resources:
        servicer = gate.for_type(resource["type"])
        if servicer is not None:
            collect(servicer.Analyze(_analyze_request(resource), None), resource["urn"])
    if gate.stack is not None and resources:
        collect(gate.stack.AnalyzeStack(_stack_request(resources), None), None)
    for reads, servicer in gate.focused:
        relevant = [resource for resource in resources if reads(resource["type"])]
        if relevant:
            collect(servicer.AnalyzeStack(_stack_request(relevant), None), None)
    return findings
