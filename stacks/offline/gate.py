"""The offline policy gate: the crm-guardrails pack evaluated on a synthesized plan.

The same policy objects `pulumi preview --policy-pack policies` runs, fed with what the engine
would send them (inputs, provider inputs, parents, dependencies).
"""

from __future__ import annotations

from typing import Any

from policies.guardrails.offline import Finding, evaluate

from .model import Plan, PlannedResource

SEVERITY_ORDER = ("critical", "high", "medium", "low", "")


def _as_pack_input(resource: PlannedResource, providers: dict[str, PlannedResource]) -> dict:
    provider = providers.get(resource.provider or "")
    return {
        "type": resource.type,
        "name": resource.name,
        "urn": resource.urn,
        "props": resource.inputs,
        "parent": resource.parent,
        "dependencies": resource.dependencies,
        "property_dependencies": resource.property_dependencies,
        "protect": resource.protect,
        "create_timeout": resource.create_timeout,
        "provider": None
        if provider is None
        else {
            "type": provider.type,
            "name": provider.name,
            "urn": provider.urn,
            "props": provider.inputs,
        },
    }


def _check_one(plan: Plan, policy_config: dict[str, Any]) -> list[Finding]:
    providers = {r.urn: r for r in plan.resources if r.type.startswith("pulumi:providers:")}
    resources = [_as_pack_input(resource, providers) for resource in plan.resources]
    return evaluate(resources, policy_config)


def check(plan: Plan, policy_config: dict[str, Any]) -> list[Finding]:
    """Findings of the policy pack on every resource and on each stack as a whole. A plan of
    both layers is gated layer by layer, as the engine gates each layer's own preview."""
    layers = list(plan.layers.values()) or [plan]
    findings = [finding for layer in layers for finding in _check_one(layer, policy_config)]
    return sorted(findings, key=lambda f: (SEVERITY_ORDER.index(f.severity), f.policy, f.urn or ""))
