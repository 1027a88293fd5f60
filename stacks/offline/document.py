"""The plan as a JSON document: the stable machine contract of `plan STACK --json`.

Described by `schemas/plan.schema.json` (its `schemaVersion`): same stack, same bytes; whole
numbers stay ints, provider inputs are objects, secrets are `[secret]`, and every resource
says its layer and kind (component, custom resource or provider).
"""

from __future__ import annotations

import datetime
import json
from collections import Counter
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..settings.upgrade_calendar import (
    END_OF_STANDARD_SUPPORT,
    WARN_DAYS,
    support_status,
    today_utc,
)
from .model import Plan, PlannedResource, redact

if TYPE_CHECKING:
    from policies.guardrails.offline import Finding
    from stacks.settings import StackSettings

SCHEMA_VERSION = "1.1"  # 1.1: upgradeCalendar
GENERATOR = {"name": "crm-platform", "version": __version__}
PROVIDER_PREFIX = "pulumi:providers:"


def plain(value: Any) -> Any:
    """Secrets redacted; engine doubles that hold whole numbers (30.0) back to ints."""
    value = redact(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def _decoded(value: Any) -> Any:
    """A provider input as the provider reads it: the engine passes provider config as strings,
    JSON-encoded for everything but strings."""
    if not isinstance(value, str) or not value:
        return value
    if value[0] in "{[" or value in ("true", "false") or value.lstrip("-").isdigit():
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def kind(resource: PlannedResource) -> str:
    if not resource.custom:
        return "component"
    return "provider" if resource.type.startswith(PROVIDER_PREFIX) else "custom"


def _inputs(resource: PlannedResource) -> dict[str, Any]:
    inputs = plain(resource.inputs)
    if kind(resource) == "provider":
        return {key: _decoded(value) for key, value in inputs.items()}
    return inputs


def _resource(resource: PlannedResource, layer: str, plan: Plan) -> dict[str, Any]:
    top = plan.top_component(resource)
    return {
        "urn": resource.urn,
        "layer": layer,
        "kind": kind(resource),
        "type": resource.type,
        "name": resource.name,
        "component": top.name if top else None,
        "parent": resource.parent,
        "provider": resource.provider,
        "protect": resource.protect,
        "inputs": _inputs(resource),
        "dependencies": sorted(set(resource.dependencies)),
    }


def layers_of(plan: Plan) -> dict[str, Plan]:
    return plan.layers or {"platform": plan}


def _counts(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "entries": len(resources),
        "byKind": dict(sorted(Counter(item["kind"] for item in resources).items())),
        "byLayer": dict(sorted(Counter(item["layer"] for item in resources).items())),
        "byType": dict(sorted(Counter(item["type"] for item in resources).items())),
    }


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        "policy": finding.policy,
        "severity": finding.severity,
        "enforcement": finding.enforcement,
        "urn": finding.urn,
        "resource": finding.resource_name,
        "message": finding.message,
        "remediation": finding.remediation,
        "acknowledged": finding.acknowledged,
    }


def gate(findings: list[Finding]) -> dict[str, Any]:
    mandatory = sum(finding.blocking for finding in findings)
    return {
        "verdict": "FAIL" if mandatory else "PASS",
        "mandatory": mandatory,
        "advisory": len(findings) - mandatory,
        "acknowledged": sum(finding.acknowledged for finding in findings),
        "findings": sorted(
            (_finding(finding) for finding in findings),
            key=lambda item: (item["enforcement"], item["policy"], item["urn"] or ""),
        ),
    }


def to_document(
    plan: Plan,
    *,
    header: dict[str, Any],
    findings: list[Finding],
    capacity: dict[str, Any],
    estimates: dict[str, Any],
) -> dict[str, Any]:
    """The whole contract: header (stack, profile, region), resources of both layers sorted
    by URN, counts that add up to the listed entries, outputs, gate, capacity, estimates."""
    layers = layers_of(plan)
    resources = sorted(
        (
            _resource(resource, name, layer)
            for name, layer in layers.items()
            for resource in layer.resources
        ),
        key=lambda item: item["urn"],
    )
    document = {
        "schemaVersion": SCHEMA_VERSION,
        "generator": GENERATOR,
        **header,
        "resources": resources,
        "counts": _counts(resources),
        "outputs": {name: plain(layer.outputs) for name, layer in layers.items()},
        "policies": gate(findings),
        "capacity": capacity,
        "estimates": estimates,
    }
    document["verdict"] = verdict_line(document)
    return document


def capacity(settings: StackSettings) -> dict[str, Any]:
    """The S = N x C sizing and the PostgreSQL connection budget it must fit."""
    sizing = settings.app.capacity
    limit = settings.database.max_connections
    return {
        "peakRequestsPerSecond": sizing.peak_requests_per_second,
        "requestsPerServerPod": sizing.requests_per_server_pod,
        "headroomPercent": sizing.headroom_percent,
        "serverPods": {"min": sizing.min_server_pods, "max": sizing.max_server_pods},
        "workerPods": {"min": sizing.min_worker_pods, "max": sizing.max_worker_pods},
        "poolSize": sizing.pool_size,
        "processesAtPeak": sizing.processes_at_peak(),
        "connectionsAtPeak": sizing.connections_at_peak(),
        "maxConnections": limit,
        "connectionBudget": limit * 8 // 10,
        "databaseInstanceClass": settings.database.instance_class,
    }


def upgrade_calendar(settings: StackSettings, today: datetime.date) -> dict[str, Any]:
    """The cluster's Kubernetes version against the end of its EKS standard support."""
    version = settings.cluster.kubernetes_version
    status, days_left = support_status(version, today)
    end = END_OF_STANDARD_SUPPORT.get(version)
    return {
        "kubernetesVersion": version,
        "endOfStandardSupport": end.isoformat() if end else None,
        "daysLeft": days_left,
        "status": status,
        "warnDays": WARN_DAYS,
    }


def build(plan: Plan, settings: StackSettings, findings: list[Finding]) -> dict[str, Any]:
    """The document of a synthesized and gated stack."""
    from .estimates import deploy_time, monthly_cost

    header = {
        "stack": plan.stack,
        "profile": settings.profile,
        "region": settings.region,
        "residency": {
            "jurisdiction": settings.residency.jurisdiction,
            "allowedRegions": list(settings.residency.allowed_regions),
        },
    }
    estimates = {
        "deployTime": deploy_time(plan),
        "monthlyCost": monthly_cost(plan, settings.region),
    }
    document = to_document(
        plan, header=header, findings=findings, capacity=capacity(settings), estimates=estimates
    )
    document["upgradeCalendar"] = upgrade_calendar(settings, today_utc())
    return document


def error_document(stack: str, exit_code: int, kind_: str, message: str) -> dict[str, Any]:
    """What `--json` prints on stdout when there is no plan: usage, config or program errors."""
    return {
        "schemaVersion": SCHEMA_VERSION,
        "generator": GENERATOR,
        "stack": stack,
        "error": {"exitCode": exit_code, "kind": kind_, "message": message},
    }


def verdict_line(document: dict[str, Any]) -> str:
    """`prod: 171 resources · gate PASS (0 mandatory, 2 advisory) · ~37 min to deploy · …`"""
    counts, policies = document["counts"]["byKind"], document["policies"]
    cost = document["estimates"]["monthlyCost"]
    resources = counts.get("custom", 0) + counts.get("provider", 0)
    bound = "≥" if cost["unknown"] else "~"  # unpriced items make the total a lower bound
    return (
        f"{document['stack']}: {resources} resources · gate {policies['verdict']} "
        f"({policies['mandatory']} mandatory, {policies['advisory']} advisory) · "
        f"~{document['estimates']['deployTime']['minutes']} min to deploy · "
        f"{bound}${cost['knownUsdPerMonth']:,.0f}/month"
    )


def dumps(document: dict[str, Any]) -> str:
    """Deterministic bytes: sorted keys, fixed indentation, a final newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
