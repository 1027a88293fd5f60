"""The offline policy gate: the crm-guardrails pack evaluated on a synthesized plan, plus the
fidelity check of every AWS input against botocore's models (`fidelity.py`) and of every IAM
document against AWS's IAM definitions (`iam_lint.py`).

The same policy objects `pulumi preview --policy-pack policies` runs, fed with what the engine
would send them (inputs, provider inputs, parents, dependencies). A value botocore's model
rejects, or an IAM action, ARN or condition key AWS does not define, is a mandatory finding:
AWS would refuse the call at `pulumi up` (or the grant would silently do nothing), so passing
the gate with it would only move the failure to the deploy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from policies.guardrails.offline import Finding, evaluate

from . import fidelity, iam_lint
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


@dataclass(frozen=True)
class Review:
    findings: list[Finding]
    coverage: fidelity.Coverage
    """How many AWS inputs the fidelity check reached."""
    iam: iam_lint.IamCoverage
    """How many IAM documents were linted against AWS's IAM definitions."""


def review(plan: Plan, policy_config: dict[str, Any]) -> Review:
    """Findings of the policy pack on every resource and on each stack as a whole, and of the
    fidelity check on every AWS input, with the latter's coverage. A plan of both layers is
    gated layer by layer, as the engine gates each layer's own preview."""
    layers = list(plan.layers.values()) or [plan]
    shapes = fidelity.check(plan)
    iam_findings, iam_coverage = iam_lint.check(plan)
    findings = [finding for layer in layers for finding in _check_one(layer, policy_config)]
    findings += [*shapes.findings, *iam_findings]
    findings.sort(key=lambda f: (SEVERITY_ORDER.index(f.severity), f.policy, f.urn or ""))
    return Review(findings, shapes.coverage, iam_coverage)


def check(plan: Plan, policy_config: dict[str, Any]) -> list[Finding]:
    """The findings of `review`."""
    return review(plan, policy_config).findings
