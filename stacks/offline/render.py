"""Rendering a `Plan` for people (rich tables) and machines (JSON). Secrets never appear."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from .model import Plan, PlannedResource, redact

if TYPE_CHECKING:
    from policies.guardrails.offline import Finding
    from stacks.settings import StackSettings

# The inputs worth a glance per resource type; everything is in --json.
KEY_INPUTS: dict[str, tuple[str, ...]] = {
    "pulumi:providers:aws": ("region",),
    "aws:ec2/vpc:Vpc": ("cidrBlock",),
    "aws:ec2/subnet:Subnet": ("tags.tier", "cidrBlock", "availabilityZone"),
    "aws:ec2/natGateway:NatGateway": ("availabilityMode", "subnetId"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("vpcEndpointType", "serviceName"),
    "aws:ec2/flowLog:FlowLog": ("trafficType", "maxAggregationInterval"),
    "aws:cloudwatch/logGroup:LogGroup": ("retentionInDays", "kmsKeyId"),
    "aws:kms/key:Key": ("tags.data-domain", "enableKeyRotation", "deletionWindowInDays"),
    "aws:kms/alias:Alias": ("name",),
    "aws:eks/cluster:Cluster": (
        "name",
        "version",
        "upgradePolicy.supportType",
        "accessConfig.authenticationMode",
        "vpcConfig.endpointPublicAccess",
        "encryptionConfig.resources",
        "enabledClusterLogTypes",
    ),
    "aws:eks/nodeGroup:NodeGroup": (
        "labels.crm-platform/pool",
        "amiType",
        "instanceTypes",
        "scalingConfig.minSize",
        "scalingConfig.maxSize",
    ),
    "aws:ec2/launchTemplate:LaunchTemplate": (
        "metadataOptions.httpTokens",
        "metadataOptions.httpPutResponseHopLimit",
        "blockDeviceMappings.0.ebs.encrypted",
    ),
    "aws:eks/addon:Addon": ("addonName", "addonVersion"),
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": ("principalArn", "accessScope.type"),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": ("url",),
    "kubernetes:storage.k8s.io/v1:StorageClass": ("metadata.name", "parameters.encrypted"),
    "kubernetes:helm.sh/v3:Release": ("chart", "version", "namespace"),
    "aws:rds/instance:Instance": (
        "identifier",
        "instanceClass",
        "engineVersion",
        "multiAz",
        "availabilityZone",
        "replicateSourceDb",
        "storageEncrypted",
    ),
    "aws:rds/parameterGroup:ParameterGroup": ("family",),
    "aws:elasticache/replicationGroup:ReplicationGroup": (
        "engine",
        "engineVersion",
        "nodeType",
        "numCacheClusters",
        "automaticFailoverEnabled",
        "multiAzEnabled",
        "transitEncryptionMode",
    ),
    "aws:s3/bucket:Bucket": ("bucket",),
    "aws:s3/bucketVersioning:BucketVersioning": ("versioningConfiguration.status",),
}


def _short_type(type_token: str) -> str:
    """`aws:ec2/subnet:Subnet` → `ec2.Subnet`."""
    parts = type_token.split(":")
    module = parts[1].split("/")[0] if len(parts) > 2 else parts[0]
    return f"{module}.{parts[-1]}"


def _plain(value: Any) -> Any:
    """Engine numbers are doubles; show 30.0 as 30."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _summary(resource: PlannedResource) -> str:
    shown = []
    for path in KEY_INPUTS.get(resource.type, ()):
        value = resource.get(path)
        if value is not None:
            shown.append(f"{path.split('.')[-1]}={_plain(redact(value))}")
    return " ".join(shown)


def _groups(plan: Plan) -> dict[str, list[PlannedResource]]:
    """Resources by the outermost component holding them ("stack" for top-level ones)."""
    groups: dict[str, list[PlannedResource]] = defaultdict(list)
    for resource in plan.resources:
        if not resource.custom:
            continue
        top = plan.top_component(resource)
        groups[f"{top.name} ({_short_type(top.type)})" if top else "stack"].append(resource)
    return groups


def render_text(plan: Plan, console: Console) -> None:
    """Resources grouped by component, counts by type, and the stack outputs."""
    # Sorted, so two plans of the same stack print the same (registration order varies).
    for group, resources in sorted(_groups(plan).items(), key=lambda g: (g[0] != "stack", g[0])):
        table = Table(title=f"{group}: {len(resources)} resources", title_justify="left")
        table.add_column("type")
        table.add_column("name")
        table.add_column("key settings", overflow="fold")
        for resource in sorted(resources, key=lambda item: (item.type, item.name)):
            marker = " [protected]" if resource.protect else ""
            table.add_row(
                _short_type(resource.type),
                escape(resource.name + marker),
                escape(_summary(resource)),
            )
        console.print(table)
    counts = Table(title="Resources by type", title_justify="left")
    counts.add_column("type")
    counts.add_column("count", justify="right")
    for type_token, count in sorted(plan.counts().items()):
        counts.add_row(type_token, str(count))
    counts.add_row("total", str(sum(plan.counts().values())), style="bold")
    console.print(counts)
    outputs = Table(title="Stack outputs", title_justify="left")
    outputs.add_column("output")
    outputs.add_column("value", overflow="fold")
    for key, value in sorted(redact(plan.outputs).items()):
        # Text, not markup: a secret's ARN holds ":secret:", which rich turns into an emoji.
        outputs.add_row(key, Text(value if isinstance(value, str) else json.dumps(value)))
    console.print(outputs)


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


def render_capacity(settings: StackSettings, console: Console) -> None:
    numbers = capacity(settings)
    table = Table(title="Capacity (S = N x C) and connection budget", title_justify="left")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    rows = [
        ("peak requests/s (S)", numbers["peakRequestsPerSecond"]),
        ("requests/s per server pod (C)", numbers["requestsPerServerPod"]),
        ("headroom", f"{numbers['headroomPercent']}%"),
        ("server pods N (min..max)", "{min}..{max}".format(**numbers["serverPods"])),
        ("worker pods (min..max)", "{min}..{max}".format(**numbers["workerPods"])),
        ("pool size (PG_POOL_MAX_CONNECTIONS; 2 pools per process)", numbers["poolSize"]),
        ("processes at peak (+2 during a rollout)", numbers["processesAtPeak"]),
        ("connections at peak", numbers["connectionsAtPeak"]),
        (
            f"budget: 80% of max_connections of {numbers['databaseInstanceClass']}",
            f"{numbers['connectionBudget']} of {numbers['maxConnections']}",
        ),
    ]
    for label, value in rows:
        table.add_row(label, str(value))
    console.print(table)


def render_findings(findings: list[Finding], console: Console) -> None:
    """Policy results grouped by severity, mandatory first within each group."""
    blocking = sum(finding.blocking for finding in findings)
    if not findings:
        console.print("[bold green]Policies: no violations.[/]")
        return
    acknowledged = sum(finding.acknowledged for finding in findings)
    table = Table(
        title=f"Policies: {blocking} mandatory, {len(findings) - blocking} advisory "
        f"({acknowledged} acknowledged by suppressions)",
        title_justify="left",
    )
    for column in ("severity", "enforcement", "policy", "resource", "message and remediation"):
        table.add_column(column, overflow="fold")
    for finding in sorted(findings, key=lambda f: not f.blocking):
        style = "bold red" if finding.blocking else "yellow"
        table.add_row(
            finding.severity or "-",
            f"[{style}]{finding.enforcement}[/]",
            finding.policy,
            escape(finding.resource_name or "(stack)"),
            escape(f"{finding.message} Fix: {finding.remediation}"),
        )
    console.print(table)


def to_json(
    plan: Plan, settings: StackSettings | None = None, findings: list[Finding] | None = None
) -> dict[str, Any]:
    """The plan as plain JSON data with every secret redacted."""
    document: dict[str, Any] = {
        "stack": plan.stack,
        "resources": [
            {
                "urn": resource.urn,
                "type": resource.type,
                "name": resource.name,
                "custom": resource.custom,
                "parent": resource.parent,
                "provider": resource.provider,
                "protect": resource.protect,
                "inputs": redact(resource.inputs),
                "dependencies": resource.dependencies,
            }
            for resource in sorted(plan.resources, key=lambda item: item.urn)
        ],
        "counts": dict(sorted(plan.counts().items())),
        "outputs": redact(plan.outputs),
    }
    if settings is not None:
        document["capacity"] = capacity(settings)
    if findings is not None:
        document["policies"] = {
            "mandatory": sum(finding.blocking for finding in findings),
            "advisory": sum(not finding.blocking for finding in findings),
            "acknowledged": sum(finding.acknowledged for finding in findings),
            "findings": [
                {
                    "policy": f.policy,
                    "severity": f.severity,
                    "enforcement": f.enforcement,
                    "urn": f.urn,
                    "resource": f.resource_name,
                    "message": f.message,
                    "remediation": f.remediation,
                }
                for f in findings
            ],
        }
    return document
