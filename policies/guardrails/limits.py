"""Documented cross-resource limits of AWS: settings each valid alone that AWS does not accept, or
that break later, together. Every message cites the document the limit comes from.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator, Mapping
from typing import Any

from .core import (
    ADVISORY,
    HIGH,
    MEDIUM,
    UNKNOWN,
    Res,
    Stack,
    arn_region,
    as_bool,
    entries,
    field,
    integer,
    resource_policy,
    show,
    show_list,
    stack_policy,
    string,
    strings,
)
from .kubernetes import WORKLOADS, Pod
from .residency import DEFAULT_REGION, effective_region

CLUSTER = "aws:eks/cluster:Cluster"
SUBNET = "aws:ec2/subnet:Subnet"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ROUTE = "aws:ec2/route:Route"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
RDS_INSTANCE = "aws:rds/instance:Instance"
K8S_PROVIDER = "pulumi:providers:kubernetes"

PRIVATE_CLUSTERS_DOC = (
    'Amazon EKS User Guide, "Deploy private clusters with limited internet access" '
    "(private-clusters)"
)
# The endpoints that guide lists for what this platform runs: nodes (EC2), images (ECR API,
# ECR registry and the S3 bucket behind it), the load balancer controller, container logs, IRSA.
PRIVATE_CLUSTER_ENDPOINTS = [
    "ec2", "ecr.api", "ecr.dkr", "s3", "elasticloadbalancing", "logs", "sts"
]  # fmt: skip
# Registries reachable through those endpoints: private ECR in any partition.
PRIVATE_REGISTRIES = [r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.(com|com\.cn|eu)/"]
EGRESS_TARGETS = (
    "natGatewayId",
    "gatewayId",
    "transitGatewayId",
    "networkInterfaceId",
    "vpcPeeringConnectionId",
    "egressOnlyGatewayId",
)


def _routes(stack: Stack, table: Res) -> list[Any]:
    inline = entries(table.peek("routes")) or []
    separate = [
        route.props
        for route in stack.of_type({ROUTE})
        if table in stack.refs(route, "routeTableId", {ROUTE_TABLE})
    ]
    return [*inline, *separate]


def _has_egress(stack: Stack, table: Res) -> bool:
    for route in _routes(stack, table):
        destination = field(route, "destinationCidrBlock") or field(route, "cidrBlock")
        if destination in ("0.0.0.0/0", UNKNOWN) and any(
            field(route, target) not in (None, "") for target in EGRESS_TARGETS
        ):
            return True
    return False


def _subnet_tables(stack: Stack, subnet: Res) -> list[Res]:
    return [
        table
        for association in stack.of_type({ASSOCIATION})
        if subnet in stack.refs(association, "subnetId", {SUBNET})
        for table in stack.refs(association, "routeTableId", {ROUTE_TABLE})
    ]


def without_egress(stack: Stack, cluster: Res) -> bool:
    """Whether every subnet of the cluster routes nothing to the internet (all known)."""
    subnets = stack.refs(cluster, "vpcConfig", {SUBNET})
    if not subnets:
        return False
    tables = [_subnet_tables(stack, subnet) for subnet in subnets]
    if not all(tables):  # a subnet on the VPC's main route table: not visible here
        return False
    return not any(_has_egress(stack, table) for found in tables for table in found)


def _endpoint_services(stack: Stack) -> set[str]:
    names = [endpoint.peek("serviceName") for endpoint in stack.of_type({ENDPOINT})]
    return {name for name in names if isinstance(name, str)}


@stack_policy(
    "eks-private-cluster-endpoints",
    subjects={CLUSTER},
    description="A cluster whose subnets have no route to the internet must have the VPC "
    "endpoints and image registry a private cluster needs.",
    severity=HIGH,
    remediation=(
        "Add interface endpoints (gateway for s3) for every service in requiredEndpoints and "
        "pull images from private ECR, or give the private subnets a NAT route."
    ),
    config={
        "requiredEndpoints": strings(
            PRIVATE_CLUSTER_ENDPOINTS, "Services (com.amazonaws.<region>.<service>) required."
        ),
        "privateRegistries": strings(
            PRIVATE_REGISTRIES, "Regexes of image references pullable without internet access."
        ),
    },
    tags=["eks", "network", "documented-limit", "Source:EKS User Guide, private clusters"],
    reads=WORKLOADS | {CLUSTER, SUBNET, ROUTE_TABLE, ROUTE, ASSOCIATION, ENDPOINT},
)
def private_cluster_endpoints(
    stack: Stack, cluster: Res, config: Mapping[str, Any]
) -> Iterator[Any]:
    if not without_egress(stack, cluster):
        return
    services = _endpoint_services(stack)
    missing = [
        service
        for service in config["requiredEndpoints"]
        if not any(name.endswith(f".{service}") for name in services)
    ]
    if missing:
        yield (
            f"{cluster.label} runs in subnets with no route to the internet (no NAT) and this "
            f"stack has no VPC endpoint for {show_list(missing)}; nodes cannot join, pull images "
            f"or reach those APIs ({PRIVATE_CLUSTERS_DOC})."
        )
    yield from _unreachable_images(stack, config)


def _unreachable_images(stack: Stack, config: Mapping[str, Any]) -> Iterator[tuple[Res, str]]:
    patterns = [re.compile(pattern) for pattern in config["privateRegistries"]]
    for workload in stack.of_type(WORKLOADS):
        for where, container in Pod(workload).containers():
            image = container.peek("image")
            if isinstance(image, str) and not any(p.search(image) for p in patterns):
                message = (
                    f"{workload.label} {where} pulls {show(image)}, from a registry that subnets "
                    f"without internet access cannot reach; images must come from a registry in "
                    f"the VPC such as private ECR ({PRIVATE_CLUSTERS_DOC})."
                )
                yield workload, message


# --- RDS: parameter group on a cross-region PostgreSQL replica -------------------------------

REPLICA_PARAMETER_GROUP_DOC = (
    "RDS API CreateDBInstanceReadReplica, DBParameterGroupName: a parameter group is supported "
    "only for MySQL cross-Region replicas, Db2 and Oracle; terraform-provider-aws #38056 and "
    "#38227: the provider applies it after creation, pending a reboot"
)


def _source(stack: Stack, replica: Res, default: str | None) -> tuple[Any, Any]:
    """(engine, region) of the replica's source: from the stack, else from its ARN."""
    sources = stack.refs(replica, "replicateSourceDb", {RDS_INSTANCE})
    if sources:
        return sources[0].peek("engine"), effective_region(sources[0], default)[0]
    return replica.peek("engine"), arn_region(replica.peek("replicateSourceDb"))


@stack_policy(
    "rds-cross-region-replica-parameter-group",
    subjects={RDS_INSTANCE},
    description="A cross-region PostgreSQL read replica must not set a parameter group at "
    "creation (RDS ignores it; it stays pending-reboot).",
    severity=MEDIUM,
    enforcement=ADVISORY,
    remediation=(
        "Leave parameter_group_name unset on the cross-region replica and apply the group when "
        "it is promoted (or reboot it once after creation so the group takes effect)."
    ),
    config={"defaultRegion": DEFAULT_REGION},
    tags=["rds", "replication", "documented-limit", "Source:terraform-provider-aws #40089"],
    reads={RDS_INSTANCE},
)
def cross_region_replica_parameter_group(
    stack: Stack, replica: Res, config: Mapping[str, Any]
) -> Iterator[str]:
    if not replica.present("replicateSourceDb") or not replica.present("parameterGroupName"):
        return
    engine, source_region = _source(stack, replica, config.get("defaultRegion"))
    region = effective_region(replica, config.get("defaultRegion"))[0]
    if not isinstance(engine, str) or not engine.startswith("postgres"):
        return
    if isinstance(region, str) and isinstance(source_region, str) and region != source_region:
        yield (
            f"{replica.label} replicates a {engine} source in {source_region} into {region} and "
            f"sets parameterGroupName; RDS creates it with the default group and the custom "
            f"group stays pending-reboot ({REPLICA_PARAMETER_GROUP_DOC})."
        )


# --- EKS: STANDARD upgrade policy near the end of standard support -----------------------------

CALENDAR_DOC = 'AWS\'s "Amazon EKS Kubernetes release calendar" (kubernetes-versions)'
UPGRADE_POLICY_DOC = (
    "EKS API UpgradePolicyRequest.supportType: a STANDARD cluster is automatically upgraded at "
    "the end of standard support"
)
# End of standard support per version: 1.29-1.34 from the calendar's source
# (awsdocs/amazon-eks-user-guide, latest/ug/versioning/kubernetes-versions.adoc); 1.35 from copies
# of the newer calendar (endoflife.date/amazon-eks, aws-samples/sample-apex-skills, both
# 2027-03-27) because the stored AWS page predates 1.35. Versions without a sourced date are
# absent: pass them through the policy config once AWS's calendar lists them.
END_OF_STANDARD_SUPPORT = {
    "1.29": "2025-03-23",
    "1.30": "2025-07-23",
    "1.31": "2025-11-26",
    "1.32": "2026-03-23",
    "1.33": "2026-07-29",
    "1.34": "2026-12-02",
    "1.35": "2027-03-27",
}
DAY = r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
DATE = f"^{DAY}$"
CALENDAR_TAGS = [
    "eks",
    "patching",
    "upgrade-calendar",
    "documented-limit",
    "Source:EKS User Guide, Kubernetes version lifecycle",
]
CALENDAR_CONFIG = {
    "endOfStandardSupport": {
        "type": "object",
        "additionalProperties": {"type": "string", "pattern": DATE},
        "default": END_OF_STANDARD_SUPPORT,
        "description": "End of EKS standard support (YYYY-MM-DD, UTC) per Kubernetes version, "
        "from AWS's EKS release calendar.",
    },
    "asOf": {
        **string("", "Date (YYYY-MM-DD) to judge against; empty: today (UTC)."),
        "pattern": f"^({DAY})?$",
    },
}


def _today(config: Mapping[str, Any]) -> datetime.date:
    given = config.get("asOf")
    if given:
        return datetime.date.fromisoformat(given)
    return datetime.datetime.now(datetime.UTC).date()


def standard_support_end(res: Res, config: Mapping[str, Any]) -> tuple[Any, Any]:
    """(version, end date or None) of a cluster on the STANDARD policy; (None, None) otherwise."""
    if res.get("upgradePolicy.supportType") != "STANDARD":
        return None, None
    version = res.get("version")
    end = config["endOfStandardSupport"].get(version) if isinstance(version, str) else None
    return version, datetime.date.fromisoformat(end) if end else None


@resource_policy(
    "eks-standard-support-ending",
    types={CLUSTER},
    description="A cluster on the STANDARD upgrade policy should be upgraded well before its "
    "version leaves standard support.",
    severity=MEDIUM,
    enforcement=ADVISORY,
    remediation=(
        "Upgrade the control plane, then the add-ons, then the node groups to a newer version "
        "before the end of standard support."
    ),
    config={
        **CALENDAR_CONFIG,
        "warnDays": integer(60, "Days before the end of standard support to start warning.", 1),
    },
    tags=CALENDAR_TAGS,
)
def standard_support_ending(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    version, end = standard_support_end(res, config)
    if end is None:
        return
    left = (end - _today(config)).days
    if 0 < left <= int(config["warnDays"]):
        yield (
            f"{res.label} runs {version} on the STANDARD upgrade policy and standard support "
            f"ends on {end.isoformat()} ({left} days; {CALENDAR_DOC}); then AWS upgrades the "
            f"control plane and the next update plans a downgrade ({UPGRADE_POLICY_DOC})."
        )


@resource_policy(
    "eks-standard-support-ended",
    types={CLUSTER},
    description="A cluster on the STANDARD upgrade policy must run a version whose standard "
    "support has a known end date that has not passed.",
    severity=HIGH,
    remediation=(
        "Upgrade to a version in standard support (control plane, add-ons, node groups), or "
        "add the version's end date from AWS's EKS release calendar to endOfStandardSupport."
    ),
    config=CALENDAR_CONFIG,
    tags=CALENDAR_TAGS,
)
def standard_support_ended(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    version, end = standard_support_end(res, config)
    if version is None and res.get("upgradePolicy.supportType") == "STANDARD":
        yield f"{res.label} leaves version unset on the STANDARD upgrade policy; pin a version."
    elif version is not None and end is None:
        yield (
            f"{res.label} runs {show(version)} on the STANDARD upgrade policy and no end of "
            f"standard support is configured for it ({CALENDAR_DOC}); it cannot be checked "
            "(fail closed)."
        )
    elif end is not None and _today(config) >= end:
        yield (
            f"{res.label} runs {version} on the STANDARD upgrade policy, whose standard support "
            f"ended on {end.isoformat()} ({CALENDAR_DOC}); AWS upgrades such a control plane "
            f"and the next update plans a downgrade ({UPGRADE_POLICY_DOC})."
        )


# --- EKS: private-only API deployed from the same stack ---------------------------------------

PRIVATE_API_DOC = (
    'Amazon EKS User Guide, "Cluster API server endpoint": with public access disabled the API '
    "server is reachable only from within the VPC or a connected network"
)


def _targeted_clusters(stack: Stack, provider: Res) -> list[Res]:
    found = stack.refs(provider, "kubeconfig", {CLUSTER})
    texts = [provider.peek("kubeconfig"), provider.peek("clusterIdentifier")]
    for cluster in stack.of_type({CLUSTER}):
        name = cluster.peek("name")
        named = isinstance(name, str) and any(isinstance(t, str) and name in t for t in texts)
        if named and cluster not in found:
            found.append(cluster)
    return found


@stack_policy(
    "eks-private-api-deploy-path",
    subjects={K8S_PROVIDER},
    description="A stack must not deploy Kubernetes objects through a provider whose cluster, "
    "in the same stack, has a private-only API.",
    severity=HIGH,
    remediation=(
        "Split the stacks: a platform stack owns the cluster (private API) and a workloads stack "
        "deploys the Kubernetes objects from a runner inside the VPC."
    ),
    tags=[
        "eks",
        "deployment",
        "documented-limit",
        "Source:EKS User Guide, cluster API server endpoint",
    ],
    reads=lambda kind: kind == CLUSTER or kind.startswith(("kubernetes:", K8S_PROVIDER)),
)
def private_api_deploy_path(
    stack: Stack, provider: Res, config: Mapping[str, Any]
) -> Iterator[str]:
    for cluster in _targeted_clusters(stack, provider):
        if as_bool(cluster.peek("vpcConfig.endpointPublicAccess")) is not False:
            continue
        objects = [
            res
            for res in stack.resources
            if res.type.startswith("kubernetes:")
            and res.provider is not None
            and res.provider.urn == provider.urn
        ]
        yield (
            f"{provider.label} deploys {len(objects)} Kubernetes object(s) to {cluster.label}, "
            "created in this stack with vpcConfig.endpointPublicAccess false; the update that "
            "creates the cluster must also reach its API, before any runner inside the VPC "
            f"exists ({PRIVATE_API_DOC})."
        )
