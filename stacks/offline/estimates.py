"""Offline estimates of a plan: the from-scratch deploy time and the monthly on-demand cost.

Both read dated tables that name their sources (`stacks/data/durations.json`,
`stacks/data/prices.json`); what a table does not know is reported as unknown, never guessed.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from .model import Plan, PlannedResource

DATA = Path(__file__).resolve().parent.parent / "data"


@cache
def table(name: str) -> dict[str, Any]:
    return json.loads((DATA / f"{name}.json").read_text())


def _matches(resource: PlannedResource, when: dict[str, Any]) -> bool:
    return all(
        resource.get(path) is not None if want == "present" else resource.get(path) == want
        for path, want in when.items()
    )


def duration(resource: PlannedResource) -> dict[str, Any]:
    """The table's create duration for `resource`: seconds, basis, note and source."""
    durations = table("durations")
    for rule in durations["rules"]:
        if rule["type"] == resource.type and _matches(resource, rule.get("when", {})):
            return rule
    return durations["default"]


def _critical_path(plan: Plan) -> tuple[int, list[PlannedResource]]:
    """Longest chain of create durations through the dependency graph of one layer.

    A resource starts when its dependencies have finished; a component finishes with its
    last child (depending on a component means waiting for everything in it)."""
    by_urn = {resource.urn: resource for resource in plan.resources}
    children: dict[str, list[str]] = {}
    for resource in plan.resources:
        if resource.parent in by_urn:
            children.setdefault(resource.parent, []).append(resource.urn)
    finish: dict[str, tuple[int, list[str]]] = {}

    def done(urn: str, seen: frozenset[str] = frozenset()) -> tuple[int, list[str]]:
        if urn in finish:
            return finish[urn]
        resource = by_urn[urn]
        waits = children.get(urn, []) if not resource.custom else resource.dependencies
        before = [
            done(other, seen | {urn}) for other in waits if other in by_urn and other not in seen
        ]
        start, chain = max(before, default=(0, []))
        own = duration(resource)["seconds"] if resource.custom else 0
        finish[urn] = (start + own, [*chain, urn] if own else chain)
        return finish[urn]

    total, chain = max((done(urn) for urn in sorted(by_urn)), default=(0, []))
    return total, [by_urn[urn] for urn in chain]


def deploy_time(plan: Plan) -> dict[str, Any]:
    """From-scratch `up` of each layer in turn: its start-up time plus its critical path."""
    durations = table("durations")
    layers = plan.layers or {"platform": plan}
    result: dict[str, Any] = {"layers": {}, "asOf": durations["asOf"]}
    total = 0
    for name, layer in layers.items():
        overhead = durations["layers"][name]
        seconds, chain = _critical_path(layer)
        layer_total = overhead["seconds"] + seconds
        total += layer_total
        result["layers"][name] = {
            "seconds": layer_total,
            "startup": {"seconds": overhead["seconds"], "basis": overhead["basis"]},
            "criticalPath": [
                {"type": item.type, "name": item.name, **_step(duration(item))} for item in chain
            ],
        }
    result["seconds"] = total
    result["minutes"] = round(total / 60)
    result["targetMinutes"] = durations["targetMinutes"]
    return result


def _step(rule: dict[str, Any]) -> dict[str, Any]:
    return {key: rule[key] for key in ("seconds", "basis", "source") if key in rule}


def _price(key: str, region: str) -> dict[str, Any] | None:
    price = table("prices")["prices"].get(key)
    if price is None or price["regions"] not in ("*", region):
        return None
    return price


def _cost_items(resource: PlannedResource) -> list[tuple[str, float, str]]:
    """(price key, quantity, what) for the always-on charges of one resource."""
    kind, get = resource.type, resource.get
    if kind == "aws:eks/cluster:Cluster":
        return [(f"eks:cluster:{get('upgradePolicy.supportType', 'EXTENDED')}", 1, "control plane")]
    if kind == "aws:kms/key:Key":
        return [("kms:key", 1, "key")]
    if kind == "aws:ec2/eip:Eip":
        return [("ec2:public-ipv4", 1, "public IPv4 address")]
    if kind == "aws:ec2/natGateway:NatGateway":
        return [("ec2:nat-gateway", 1, "NAT gateway hours")]
    if kind == "aws:eks/nodeGroup:NodeGroup":
        count = get("scalingConfig.desiredSize", 0)
        return [(f"ec2:{get('instanceTypes.0')}", count, "nodes at desired size")]
    if kind == "aws:rds/instance:Instance":
        copies = 2 if get("multiAz") else 1
        return [(f"rds-postgresql:{get('instanceClass')}", copies, "instance hours")]
    if kind == "aws:elasticache/replicationGroup:ReplicationGroup":
        return [(f"elasticache:{get('nodeType')}", get("numCacheClusters", 1), "cache nodes")]
    if kind == "aws:ec2/vpcEndpoint:VpcEndpoint" and get("vpcEndpointType") == "Interface":
        return [("ec2:interface-endpoint-az", len(get("subnetIds", [])), "endpoint ENI hours")]
    if kind == "aws:wafv2/webAcl:WebAcl":
        return [("wafv2:web-acl", 1, "web ACL"), ("wafv2:rule", len(get("rules", [])), "rules")]
    if kind == "aws:cloudwatch/metricAlarm:MetricAlarm":
        return [("cloudwatch:alarm", 1, "standard-resolution alarm")]
    if kind == "aws:lb/loadBalancer:LoadBalancer":
        return [(f"elb:{get('loadBalancerType', 'application')}", 1, "load balancer hours")]
    return []


def monthly_cost(plan: Plan, region: str) -> dict[str, Any]:
    """Always-on monthly charges priced from the table; unknown SKUs listed, never guessed."""
    prices = table("prices")
    hours = prices["hoursPerMonth"]
    lines, unknown = [], []
    for resource in sorted(plan.resources, key=lambda item: item.urn):
        for key, quantity, what in _cost_items(resource):
            line = {"resource": resource.name, "sku": key, "quantity": int(quantity), "what": what}
            price = _price(key, region)
            if price is None:
                unknown.append(line)
                continue
            monthly = price.get("usdPerMonth", price.get("usdPerHour", 0) * hours)
            lines.append({**line, "usd": round(monthly * quantity, 2), "source": price["source"]})
    return {
        "currency": prices["currency"],
        "asOf": prices["asOf"],
        "region": region,
        "knownUsdPerMonth": round(sum(line["usd"] for line in lines), 2),
        "priced": lines,
        "unknown": unknown,
        "excluded": prices["excluded"],
    }
