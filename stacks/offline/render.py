"""The plan for people: a one-screen summary (default) and a resource tree (`--details`).

Plain text at most 100 columns wide, rendered from the JSON document so both say the same;
secrets never appear (the document has them redacted).
"""

from __future__ import annotations

import json
import textwrap
from collections import Counter, defaultdict
from typing import Any

from .model import value_at

WIDTH = 100

# The inputs worth a glance per resource type in the tree; everything is in --json.
KEY_INPUTS: dict[str, tuple[str, ...]] = {
    "pulumi:providers:aws": ("region",),
    "aws:ec2/vpc:Vpc": ("cidrBlock",),
    "aws:ec2/subnet:Subnet": ("tags.tier", "cidrBlock", "availabilityZone"),
    "aws:ec2/natGateway:NatGateway": ("availabilityMode",),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("vpcEndpointType", "serviceName"),
    "aws:cloudwatch/logGroup:LogGroup": ("retentionInDays",),
    "aws:kms/key:Key": ("tags.data-domain", "enableKeyRotation", "deletionWindowInDays"),
    "aws:eks/cluster:Cluster": ("version", "vpcConfig.endpointPublicAccess"),
    "aws:eks/nodeGroup:NodeGroup": (
        "instanceTypes",
        "scalingConfig.minSize",
        "scalingConfig.maxSize",
    ),
    "aws:eks/addon:Addon": ("addonName", "addonVersion"),
    "kubernetes:helm.sh/v3:Release": ("chart", "version", "namespace"),
    "aws:rds/instance:Instance": ("instanceClass", "engineVersion", "multiAz", "availabilityZone"),
    "aws:elasticache/replicationGroup:ReplicationGroup": ("nodeType", "numCacheClusters"),
    "aws:lb/loadBalancer:LoadBalancer": ("loadBalancerType", "internal"),
    "aws:lb/listener:Listener": ("port", "protocol", "sslPolicy"),
}


def short_type(type_token: str) -> str:
    """`aws:ec2/subnet:Subnet` → `ec2.Subnet`."""
    parts = type_token.split(":")
    module = parts[1].split("/")[0] if len(parts) > 2 else parts[0]
    return f"{module}.{parts[-1]}"


def fit(text: str, width: int = WIDTH) -> str:
    """One line of at most `width` characters (a list of names cut short)."""
    return text if len(text) <= width else text[: width - 1] + "…"


def wrap(text: str, indent: str = "    ") -> list[str]:
    """A sentence over as many lines of at most WIDTH characters as it needs."""
    return textwrap.wrap(text, WIDTH, subsequent_indent=indent, break_on_hyphens=False)


def key_settings(resource: dict[str, Any]) -> str:
    shown = []
    for path in KEY_INPUTS.get(resource["type"], ()):
        value = value_at(resource["inputs"], path)
        if value is not None:
            text = value if isinstance(value, str) else json.dumps(value)
            shown.append(f"{path.split('.')[-1]}={text}")
    return " ".join(shown)


def _component_label(component: dict[str, Any] | None) -> str:
    return f"{component['name']} ({short_type(component['type'])})" if component else "top level"


def _counts_table(document: dict[str, Any]) -> list[str]:
    """Custom resources per outermost component and layer."""
    by_name = {item["name"]: item for item in document["resources"] if item["kind"] == "component"}
    layers = sorted({item["layer"] for item in document["resources"]})
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for item in document["resources"]:
        if item["kind"] != "component":
            counts[_component_label(by_name.get(item["component"] or ""))][item["layer"]] += 1
    rows = sorted(counts.items(), key=lambda row: (row[0] == "top level", row[0]))
    lines = [f"{'Resources':<66}" + "".join(f"{layer:>11}" for layer in layers)]
    for label, per_layer in rows:
        cells = "".join(f"{per_layer[layer] or '-':>11}" for layer in layers)
        lines.append(f"  {fit(label, 64):<64}{cells}")
    totals = Counter(item["layer"] for item in document["resources"] if item["kind"] != "component")
    components = sum(1 for item in document["resources"] if item["kind"] == "component")
    label = f"total: {sum(totals.values())} resources in {components} components"
    lines.append(f"  {label:<64}" + "".join(f"{totals[layer]:>11}" for layer in layers))
    return lines


ADVISORY_LINES = 2
"""An advisory's affected resources take at most this many lines; --details lists them all."""


def _affected(head: str, names: list[str], everyone: bool) -> list[str]:
    """The policy's line with its resources: every one for a blocking finding, as many as fit
    in ADVISORY_LINES for an advisory (the rest counted)."""
    for shown in range(len(names), 0, -1):
        rest = len(names) - shown
        text = head + ", ".join(names[:shown]) + (f" … +{rest} more" if rest else "")
        lines = wrap(text, " " * 6)
        if everyone or len(lines) <= ADVISORY_LINES:
            return lines
    return wrap(f"{head}{len(names)} resources", " " * 6)


def _gate(document: dict[str, Any]) -> list[str]:
    """Findings grouped by policy, mandatory first, with the resources each one affects."""
    policies = document["policies"]
    lines = [
        f"Policy gate: {policies['verdict']} · {policies['mandatory']} mandatory · "
        f"{policies['advisory']} advisory ({policies['acknowledged']} acknowledged by suppressions)"
    ]
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for finding in policies["findings"]:
        groups[(finding["enforcement"], finding["severity"], finding["policy"])].append(finding)
    order = sorted(groups, key=lambda key: (key[0] != "mandatory", key[2]))
    for enforcement, severity, policy in order:
        found = groups[(enforcement, severity, policy)]
        names = sorted({finding["resource"] or "(stack)" for finding in found})
        head = f"  {enforcement.upper():<9} {severity or '-':<8} {policy} ({len(found)}): "
        lines += _affected(head, names, everyone=enforcement == "mandatory")
        if enforcement == "mandatory":
            lines += wrap(f"      fix: {found[0]['remediation']}", " " * 11)
    if policies["advisory"]:
        lines.append("  (messages and fixes of every finding: --details)")
    return lines


def _capacity(document: dict[str, Any]) -> list[str]:
    numbers = document["capacity"]
    return wrap(
        (
            "Capacity: {min}..{max} server pods".format(**numbers["serverPods"])
            + f" (S={numbers['peakRequestsPerSecond']} req/s, C={numbers['requestsPerServerPod']},"
            f" +{numbers['headroomPercent']}%) · "
            + "{min}..{max} workers".format(**numbers["workerPods"])
            + f" · {numbers['processesAtPeak']} processes × 2 pools of {numbers['poolSize']}:"
            f" {numbers['connectionsAtPeak']} of {numbers['connectionBudget']} connections"
            f" at peak (80% of {numbers['maxConnections']}, {numbers['databaseInstanceClass']})"
        ),
        "  ",
    )


def _estimates(document: dict[str, Any]) -> list[str]:
    deploy, cost = document["estimates"]["deployTime"], document["estimates"]["monthlyCost"]
    per_layer = " + ".join(
        f"{name} {round(layer['seconds'] / 60)}" for name, layer in deploy["layers"].items()
    )
    status = "within" if deploy["minutes"] <= deploy["targetMinutes"] else "OVER"
    lines = [
        "Estimates (sources: stacks/data/durations.json, prices.json; --json has every line)",
        f"  deploy from scratch: ~{deploy['minutes']} min ({per_layer}); "
        f"{status} the {deploy['targetMinutes']}-min target",
    ]
    for name, layer in deploy["layers"].items():
        steps = [step for step in layer["criticalPath"] if step["seconds"] >= 60]
        path = " → ".join(
            f"{short_type(step['type'])} {step['name']} ({step['seconds'] // 60}m, {step['basis']})"
            for step in steps
        )
        lines += wrap(f"    {name} critical path: {path or 'no step over a minute'}", " " * 6)
    lines += wrap(
        f"  monthly cost: ${cost['knownUsdPerMonth']:,.2f} priced ({cost['region']}, on-demand,"
        f" prices of {cost['asOf']}) · {len(cost['unknown'])} items without a sourced price",
        " " * 4,
    )
    skus = sorted({line["sku"] for line in cost["unknown"]})
    if skus:
        lines += wrap(f"    unknown, never guessed: {', '.join(skus)}", " " * 6)
    lines.append("    not included: usage-based charges (traffic, requests, LCUs, storage growth)")
    return lines


_CALENDAR_NOTES = {
    "ok": "in standard support",
    "warn": "WARNING: standard support ends within {warn} days; upgrade now",
    "ended": "standard support has ended: the gate fails; upgrade",
    "undated": "no sourced end date: the gate fails closed; add it to "
    "stacks/settings/upgrade_calendar.py",
}


def calendar_lines(calendar: dict[str, Any]) -> list[str]:
    """The upgrade calendar in one line: version, end of standard support, days left."""
    left = "-" if calendar["daysLeft"] is None else calendar["daysLeft"]
    note = _CALENDAR_NOTES[calendar["status"]].format(warn=calendar["warnDays"])
    return wrap(
        f"Upgrade calendar: Kubernetes {calendar['kubernetesVersion']}, EKS standard support "
        f"until {calendar['endOfStandardSupport'] or 'unknown'} ({left} days left): {note}",
        "  ",
    )


def _calendar_needing_action(document: dict[str, Any]) -> list[list[str]]:
    """The calendar on the summary screen only when the version needs an upgrade (it is always
    in --details and --json)."""
    calendar = document.get("upgradeCalendar")
    return [calendar_lines(calendar)] if calendar and calendar["status"] != "ok" else []


def summary(document: dict[str, Any]) -> str:
    """One screen: header, counts, gate, capacity, estimates and the verdict line."""
    residency = document["residency"]
    header = (
        f"crm-platform {document['generator']['version']} · offline plan of stack "
        f"{document['stack']} (profile {document['profile']}) · {document['region']}"
    )
    residency_line = (
        f"residency {residency['jurisdiction']}: {', '.join(residency['allowedRegions'])} · "
        "synthesized under Pulumi's mock runtime: no cloud call, nothing deployed"
    )
    sections = [
        [*wrap(header), *wrap(residency_line, "  ")],
        _counts_table(document),
        _gate(document),
        _capacity(document),
        *_calendar_needing_action(document),
        _estimates(document),
        [
            "More: --details (resource tree) · --json (schemas/plan.schema.json) · --diagram FILE",
            *wrap(document["verdict"]),
        ],
    ]
    return "\n\n".join("\n".join(section) for section in sections) + "\n"


def details(document: dict[str, Any]) -> str:
    """Every resource as a tree (layer → component → resource), like `pulumi preview`."""
    children: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    urns = {item["urn"] for item in document["resources"]}
    for item in document["resources"]:
        children[item["parent"] if item["parent"] in urns else item["layer"]].append(item)
    lines = [f"{document['stack']}"]
    layers = sorted({item["layer"] for item in document["resources"]})
    for index, layer in enumerate(layers):
        last = index == len(layers) - 1
        lines.append(f"{'└─' if last else '├─'} {layer}")
        _branch(children, layer, "   " if last else "│  ", lines)
    if "upgradeCalendar" in document:
        lines += ["", *calendar_lines(document["upgradeCalendar"])]
    lines += ["", "Findings"] if document["policies"]["findings"] else []
    for finding in document["policies"]["findings"]:
        head = f"  {finding['enforcement']} {finding['policy']} on {finding['resource'] or 'stack'}"
        lines += [fit(head), *wrap(f"    {finding['message']}", " " * 4)]
        lines += wrap(f"    fix: {finding['remediation']}", " " * 9)
    return "\n".join(lines) + "\n"


def _branch(children: dict[Any, list[dict[str, Any]]], key: str, indent: str, lines: list[str]):
    items = sorted(
        children.get(key, []),
        key=lambda item: (item["kind"] != "component", item["type"], item["name"]),
    )
    for index, item in enumerate(items):
        last = index == len(items) - 1
        marker = " [protected]" if item["protect"] else ""
        text = f"{short_type(item['type'])} {item['name']}{marker}  {key_settings(item)}".rstrip()
        lines.append(fit(f"{indent}{'└─' if last else '├─'} {text}"))
        _branch(children, item["urn"], indent + ("   " if last else "│  "), lines)
