"""`plan STACK --diagram FILE`: the architecture drawn from the plan, by layer and AZ.

Mermaid always (renders on GitHub); an SVG beside it when Graphviz `dot` is installed. Only
the architectural resources are drawn; an edge means "depends on", followed through the
resources that are not drawn.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

from .render import short_type

DRAWN = {
    "aws:ec2/vpc:Vpc",
    "aws:ec2/natGateway:NatGateway",
    "aws:lb/loadBalancer:LoadBalancer",
    "aws:eks/cluster:Cluster",
    "aws:eks/nodeGroup:NodeGroup",
    "aws:rds/instance:Instance",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:s3/bucket:Bucket",
    "aws:codebuild/project:Project",
    "aws:route53/record:Record",
    "kubernetes:helm.sh/v3:Release",
    "kubernetes:apps/v1:Deployment",
    "kubernetes:batch/v1:Job",
    "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding",
}
SUBNET = "aws:ec2/subnet:Subnet"
NEWLINE = "\\n"  # a line break inside a Graphviz label


def _zone(item: dict[str, Any], by_urn: dict[str, dict[str, Any]]) -> str:
    """The AZ a resource lives in: its own input, or that of the one subnet it depends on."""
    zone = item["inputs"].get("availabilityZone")
    if isinstance(zone, str):
        return zone
    subnets = [
        by_urn[urn] for urn in item["dependencies"] if by_urn.get(urn, {}).get("type") == SUBNET
    ]
    zones = {subnet["inputs"].get("availabilityZone") for subnet in subnets}
    return zones.pop() if len(zones) == 1 and None not in zones else "regional"


def _edges(drawn: dict[str, str], by_urn: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    """(dependent, dependency) among drawn resources, through undrawn ones."""
    edges = set()
    for urn in drawn:
        stack, seen = list(by_urn[urn]["dependencies"]), set()
        while stack:
            other = stack.pop()
            if other in seen or other not in by_urn:
                continue
            seen.add(other)
            if other in drawn:
                edges.add((urn, other))
            else:
                stack.extend(by_urn[other]["dependencies"])
    return sorted(edges)


def model(document: dict[str, Any]) -> dict[str, Any]:
    """Nodes grouped by layer and zone, with stable ids, and the edges between them."""
    by_urn = {item["urn"]: item for item in document["resources"]}
    picked = sorted(urn for urn, item in by_urn.items() if item["type"] in DRAWN)
    ids = {urn: f"n{index}" for index, urn in enumerate(picked)}
    groups: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for urn in picked:
        item = by_urn[urn]
        groups[item["layer"]][_zone(item, by_urn)].append(urn)
    labels = {urn: (short_type(by_urn[urn]["type"]), by_urn[urn]["name"]) for urn in picked}
    return {"ids": ids, "labels": labels, "groups": groups, "edges": _edges(ids, by_urn)}


def mermaid(document: dict[str, Any]) -> str:
    drawing = model(document)
    ids, labels = drawing["ids"], drawing["labels"]
    lines = ["flowchart LR"]
    for layer, zones in sorted(drawing["groups"].items()):
        lines.append(f"  subgraph {layer}[{layer} layer]")
        for zone, urns in sorted(zones.items()):
            lines.append(f"    subgraph {layer}_{zone.replace('-', '_')}[{zone}]")
            lines += [f'      {ids[urn]}["{"<br/>".join(labels[urn])}"]' for urn in urns]
            lines.append("    end")
        lines.append("  end")
    lines += [f"  {ids[source]} --> {ids[target]}" for source, target in drawing["edges"]]
    return "\n".join(lines) + "\n"


def dot(document: dict[str, Any]) -> str:
    drawing = model(document)
    ids, labels = drawing["ids"], drawing["labels"]
    lines = ["digraph plan {", "  rankdir=LR; node [shape=box, fontsize=10];"]
    for layer, zones in sorted(drawing["groups"].items()):
        lines.append(f'  subgraph cluster_{layer} {{ label="{layer} layer";')
        for zone, urns in sorted(zones.items()):
            lines.append(
                f'    subgraph cluster_{layer}_{zone.replace("-", "_")} {{ label="{zone}";'
            )
            lines += [f'      {ids[urn]} [label="{NEWLINE.join(labels[urn])}"];' for urn in urns]
            lines.append("    }")
        lines.append("  }")
    lines += [f"  {ids[source]} -> {ids[target]};" for source, target in drawing["edges"]]
    return "\n".join(lines) + "\n}\n"


def write(document: dict[str, Any], target: Path) -> list[Path]:
    """Write the Mermaid file, and `<target>.svg` when Graphviz is installed; the paths written."""
    target.write_text(mermaid(document))
    written = [target]
    if shutil.which("dot"):
        svg = target.with_suffix(".svg")
        subprocess.run(["dot", "-Tsvg", "-o", str(svg)], input=dot(document), text=True, check=True)
        written.append(svg)
    return written
