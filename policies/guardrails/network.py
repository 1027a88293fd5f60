"""VPC network controls: flow logs, the default security group, public IPs and open ingress."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .core import (
    ADVISORY,
    CRITICAL,
    HIGH,
    LOW,
    MEDIUM,
    Res,
    Stack,
    as_bool,
    as_number,
    entries,
    field,
    integer,
    known_items,
    resource_policy,
    setting,
    show,
    show_derived,
    show_list,
    stack_policy,
    string,
)

VPC = "aws:ec2/vpc:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SUBNET = "aws:ec2/subnet:Subnet"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"

# World-open is judged by the public address space a set of CIDRs covers together, not by the
# literal 0.0.0.0/0: sources covering at least as many public addresses as one /8 (IPv4, 2^24,
# 1/256 of the space) or one /32 (IPv6, a whole ISP allocation) count as the internet.
# Non-public blocks (RFC 1918, loopback, link-local, multicast, reserved: the stdlib's
# ipaddress classification) do not count, so a VPC's own 10.0.0.0/8 stays allowed.
WORLD_PREFIXES = {
    "worldPrefixIpv4": integer(
        8, "Sources covering as many public IPv4 addresses as this prefix are world-open.", 1, 32
    ),
    "worldPrefixIpv6": integer(
        32, "Sources covering as many public IPv6 addresses as this prefix are world-open.", 1, 128
    ),
}


LOAD_BALANCER_CONFIG = {
    "loadBalancerPorts": {
        "type": "array",
        "items": {"type": "integer", "minimum": 1, "maximum": 65535},
        "default": [80, 443],
        "description": "TCP ports a load-balancer security group may open to the world.",
    },
    "loadBalancerTagKey": string("crm-platform:role", "Tag key marking a load-balancer SG."),
    "loadBalancerTagValue": string("load-balancer", "Tag value marking a load-balancer SG."),
    "loadBalancerNamePattern": string(
        r"(^|[-_])(alb|nlb|lb|load-?balancer)([-_]|$)",
        "Regex on the Pulumi resource name that also marks a load-balancer SG (needed for "
        "aws:ec2/securityGroupRule, which has no tags).",
    ),
}


@stack_policy(
    "vpc-flow-logs",
    subjects={VPC},
    description="Every VPC must have a flow log capturing ALL traffic.",
    severity=MEDIUM,
    remediation="Add an aws.ec2.FlowLog with vpc_id=<vpc>.id and traffic_type='ALL'.",
    tags=["network", "logging", "SH:EC2.6", "AwsSolutions-VPC7", "CKV2_AWS_11"],
)
def vpc_flow_logs(stack: Stack, vpc: Res, config: Mapping[str, Any]) -> Iterator[str]:
    attached = [log for log in stack.of_type({FLOW_LOG}) if vpc in stack.refs(log, "vpcId", {VPC})]
    traffic = [log.get("trafficType") for log in attached]
    if "ALL" not in traffic:
        found = f"found trafficType {show_list(traffic)}" if attached else "found none"
        yield (
            f'{vpc.label} has no aws:ec2/flowLog:FlowLog with trafficType "ALL" attached '
            f"through vpcId ({found}); rejected and accepted traffic must both be logged."
        )


@resource_policy(
    "default-security-group-closed",
    types={DEFAULT_SG},
    description="The default security group must have no ingress and no egress rules.",
    severity=HIGH,
    remediation="Manage aws.ec2.DefaultSecurityGroup with ingress=[] and egress=[].",
    tags=["network", "SH:EC2.2", "CKV2_AWS_12"],
)
def default_sg_closed(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    for direction in ("ingress", "egress"):
        rules = res.items(direction)
        if rules:
            yield (
                f"{res.label} has {len(rules)} {direction} rule(s); {direction} must be an empty "
                "list so the default security group denies all traffic."
            )


@resource_policy(
    "subnet-no-public-ip-on-launch",
    types={SUBNET},
    description="Subnets must not assign public IPv4 addresses on launch.",
    severity=MEDIUM,
    remediation="Set map_public_ip_on_launch=False; load balancers and NAT gateways need no "
    "auto-assigned public IPs.",
    tags=["network", "public-exposure", "SH:EC2.15", "CKV_AWS_130"],
)
def subnet_no_public_ip(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    value = res.get("mapPublicIpOnLaunch")
    if as_bool(value):
        yield f"{res.label} {setting('mapPublicIpOnLaunch', value)}; it must be false or unset."


# --- security group rules --------------------------------------------------------------------


def _rules(res: Res) -> Iterator[tuple[str, Any]]:
    """(where, rule) for every ingress rule a resource declares, in one common shape."""
    if res.type == SECURITY_GROUP:
        for index, rule in enumerate(entries(res.get("ingress")) or []):
            yield f"ingress[{index}]", rule
    elif res.type == INGRESS_RULE or (res.type == SG_RULE and res.get("type") == "ingress"):
        yield "", res.props


def _network(cidr: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    if not isinstance(cidr, str):
        return None
    try:
        # str.__str__ gives the text of a secret too (str() would give "[secret]").
        return ipaddress.ip_network(str.__str__(cidr), strict=False)
    except ValueError:
        return None


def _is_public(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    special = (
        network.is_private,
        network.is_loopback,
        network.is_link_local,
        network.is_multicast,
        network.is_reserved,
        network.is_unspecified,
    )
    return not any(special)


def public_sources(cidrs: Iterable[Any], config: Mapping[str, Any]) -> list[Any]:
    """The CIDRs that, together, open the rule to the internet ([] if they do not).

    A value that is not a CIDR fails closed: it counts as world-open.
    """
    cidrs = list(cidrs)
    unreadable = [cidr for cidr in cidrs if _network(cidr) is None]
    if unreadable:
        return unreadable
    found = []
    for version, key in ((4, "worldPrefixIpv4"), (6, "worldPrefixIpv6")):
        networks = [n for c in cidrs if (n := _network(c)).version == version and _is_public(n)]
        collapsed = list(ipaddress.collapse_addresses(networks))
        bits = 32 if version == 4 else 128
        if sum(n.num_addresses for n in collapsed) >= 2 ** (bits - int(config[key])):
            found += [c for c in cidrs if _network(c) in networks]
    return found


def _cidrs(res: Res, rule: Any) -> list[Any]:
    keys = (
        ("cidrBlocks", "ipv6CidrBlocks")
        if res.type in (SECURITY_GROUP, SG_RULE)
        else ("cidrIpv4", "cidrIpv6")
    )
    return [cidr for key in keys for cidr in known_items(field(rule, key), key)]


def _world_cidrs(res: Res, rule: Any, config: Mapping[str, Any]) -> list[Any]:
    return public_sources(_cidrs(res, rule), config)


def _ports(res: Res, rule: Any) -> tuple[str, int | None, int | None, str]:
    """(protocol, first port, last port, how to show them); ports are None for all ports."""
    raw = field(rule, "ipProtocol" if res.type == INGRESS_RULE else "protocol")
    protocol = raw.lower() if isinstance(raw, str) else "-1"
    first, last = field(rule, "fromPort"), field(rule, "toPort")
    low, high = as_number(first), as_number(last)
    if protocol in ("-1", "all") or low is None or high is None:
        return protocol, None, None, "all ports"
    text = f"ports {int(low)}-{int(high)}/{protocol}"
    return protocol, int(low), int(high), show_derived(text, raw, first, last)


def _exempt(res: Res, rule: Any, config: Mapping[str, Any]) -> bool:
    """A load balancer's group opening only its listener ports (the one allowed world exposure)."""
    lb_ports = {int(port) for port in config["loadBalancerPorts"]}
    protocol, low, high, _ = _ports(res, rule)
    opens_only_lb_ports = (
        protocol in ("tcp", "6")
        and low is not None
        and high - low < len(lb_ports)
        and all(port in lb_ports for port in range(low, high + 1))
    )
    return opens_only_lb_ports and _load_balancer_group(res, config)


def _load_balancer_group(res: Res, config: Mapping[str, Any]) -> bool:
    if res.tags().get(config["loadBalancerTagKey"]) == config["loadBalancerTagValue"]:
        return True
    return re.search(config["loadBalancerNamePattern"], res.name) is not None


@resource_policy(
    "security-group-no-world-ingress",
    types={SECURITY_GROUP, INGRESS_RULE, SG_RULE},
    description="Security group rules must not open ingress to the internet (judged by public "
    "address space), except HTTP(S) to a load balancer.",
    severity=CRITICAL,
    remediation=(
        "Restrict the source to a CIDR of the VPC or a security group. A load balancer's group "
        "may open its listener ports to the world if tagged <loadBalancerTagKey>="
        "<loadBalancerTagValue> or named to match loadBalancerNamePattern."
    ),
    config={**LOAD_BALANCER_CONFIG, **WORLD_PREFIXES},
    tags=["network", "public-exposure", "SH:EC2.18", "SH:EC2.19", "AwsSolutions-EC23"],
)
def sg_no_world_ingress(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    lb_ports = {int(port) for port in config["loadBalancerPorts"]}
    for where, rule in _rules(res):
        world = _world_cidrs(res, rule, config)
        if not world or _exempt(res, rule, config):
            continue
        _, _, _, ports = _ports(res, rule)
        prefix = f"{where} " if where else ""
        yield (
            f"{res.label} {prefix}allows ingress from {show_list(world)} on {ports}; sources "
            "must be narrower than the whole internet (only a load balancer's group may open "
            f"ports {show_list(sorted(lb_ports))} to the world)."
        )


@resource_policy(
    "security-group-descriptions",
    types={SECURITY_GROUP, INGRESS_RULE, EGRESS_RULE, SG_RULE},
    description="Security groups and their rules must carry a description.",
    severity=LOW,
    enforcement=ADVISORY,
    remediation="Describe why each group and rule exists (description=...).",
    tags=["network", "AwsSolutions-EC27", "CKV_AWS_23"],
)
def sg_descriptions(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if res.type == SECURITY_GROUP:
        description = res.peek("description")
        if description in (None, "", "Managed by Pulumi"):
            yield (
                f"{res.label} has description {show(description)}; it must say what the group "
                "is for."
            )
        for direction in ("ingress", "egress"):
            for index, rule in enumerate(entries(res.peek(direction)) or []):
                if not field(rule, "description"):
                    yield f"{res.label} {direction}[{index}] has no description; add one."
    elif not res.present("description"):
        yield f"{res.label} has no description; it must say why the rule exists."


@stack_policy(
    "security-group-public-address-space",
    subjects={SECURITY_GROUP},
    description="The ingress rules of a security group, together, must not cover the internet's "
    "public address space.",
    severity=CRITICAL,
    remediation=(
        "Replace wide public CIDRs with the VPC's CIDR, a prefix list of known partners or a "
        "security group; splitting 0.0.0.0/0 into blocks is the same exposure."
    ),
    config={**LOAD_BALANCER_CONFIG, **WORLD_PREFIXES},
    tags=["network", "public-exposure", "SH:EC2.18", "AwsSolutions-EC23"],
    reads={INGRESS_RULE, SG_RULE},
)
def sg_public_address_space(stack: Stack, group: Res, config: Mapping[str, Any]):
    rules = [(group, rule) for _, rule in _rules(group)]
    for kind in (INGRESS_RULE, SG_RULE):
        for res in stack.of_type({kind}):
            if group in stack.refs(res, "securityGroupId", {SECURITY_GROUP}):
                rules += [(res, rule) for _, rule in _rules(res)]
    sources = [
        cidr for res, rule in rules if not _exempt(res, rule, config) for cidr in _cidrs(res, rule)
    ]
    world = public_sources(sources, config)
    if world:
        yield (
            f"{group.label} and its ingress rules, together, admit sources {show_list(world)}, "
            f"which cover at least a /{config['worldPrefixIpv4']} (IPv4) or a "
            f"/{config['worldPrefixIpv6']} (IPv6) worth of public addresses: that is the "
            "internet, whichever way it is split."
        )
