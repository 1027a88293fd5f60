"""The multi-AZ network: subnet layout, NAT per environment, endpoints, flow logs, lockdown."""

from __future__ import annotations

import ipaddress
import itertools

import pytest

from components.network import INTERFACE_ENDPOINT_SERVICES, plan_subnets
from stacks.offline import Plan
from tests.support import synth_stack

SUBNET = "aws:ec2/subnet:Subnet"
NAT = "aws:ec2/natGateway:NatGateway"
ROUTE = "aws:ec2/route:Route"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"


def _tier(plan: Plan, tier: str) -> list:
    """Subnets of a tier in AZ-index order (registration order is not deterministic)."""
    subnets = [s for s in plan.of_type(SUBNET) if s.get("tags.tier") == tier]
    return sorted(subnets, key=lambda s: int(s.name.rsplit("-", 1)[1]))


@pytest.mark.parametrize(
    ("prefix", "az_count"), list(itertools.product(range(16, 21), range(2, 7)))
)
def test_subnet_layout_is_disjoint_and_inside_the_vpc(prefix: int, az_count: int) -> None:
    vpc = ipaddress.IPv4Network(f"10.0.0.0/{prefix}")
    layout = plan_subnets(str(vpc), az_count)
    blocks = [ipaddress.IPv4Network(c) for c in layout.public + layout.private + layout.isolated]
    assert len(blocks) == 3 * az_count
    assert all(block.subnet_of(vpc) for block in blocks)
    for first, second in itertools.combinations(blocks, 2):
        assert not first.overlaps(second), (first, second)


def test_subnets_spread_over_distinct_azs_per_tier(any_stack: Plan) -> None:
    zones = any_stack.outputs["availabilityZones"]
    for tier in ("public", "private", "isolated"):
        subnets = _tier(any_stack, tier)
        assert [s.get("availabilityZone") for s in subnets] == zones
    assert len(set(zones)) == len(zones)


def test_prod_spans_three_azs_dev_two(dev: Plan, prod: Plan) -> None:
    assert len(prod.outputs["availabilityZones"]) == 3
    assert len(dev.outputs["availabilityZones"]) == 2


def test_no_subnet_maps_public_ips(any_stack: Plan) -> None:
    assert all(s.get("mapPublicIpOnLaunch") is False for s in any_stack.of_type(SUBNET))


def test_load_balancer_subnet_tags(any_stack: Plan) -> None:
    assert all(s.get("tags")["kubernetes.io/role/elb"] == "1" for s in _tier(any_stack, "public"))
    assert all(
        s.get("tags")["kubernetes.io/role/internal-elb"] == "1" for s in _tier(any_stack, "private")
    )


@pytest.mark.parametrize(("stack", "nat_count"), [("dev", 1), ("staging", 1), ("prod", 3)])
def test_nat_gateways_per_environment(stack: str, nat_count: int, request) -> None:
    plan: Plan = request.getfixturevalue(stack)
    gateways = plan.of_type(NAT)
    assert len(gateways) == nat_count
    public_ids = {s.name: s for s in _tier(plan, "public")}
    # one per AZ means each gateway sits in a different public subnet
    assert len({g.get("subnetId") for g in gateways}) == nat_count
    assert all(g.get("subnetId", "").rsplit("-", 1)[0] in public_ids for g in gateways)


def test_each_private_subnet_routes_through_its_own_az_nat_in_prod(prod: Plan) -> None:
    private_routes = [r for r in prod.of_type(ROUTE) if r.get("natGatewayId")]
    assert len(private_routes) == 3
    assert len({r.get("natGatewayId") for r in private_routes}) == 3


def test_regional_nat_is_one_gateway_for_every_az() -> None:
    plan = synth_stack("prod", network={"natStrategy": "regional"})
    (gateway,) = plan.of_type(NAT)
    assert gateway.get("availabilityMode") == "regional"
    assert gateway.get("subnetId") is None and gateway.get("vpcId")
    assert plan.of_type("aws:ec2/eip:Eip") == []
    assert len([r for r in plan.of_type(ROUTE) if r.get("natGatewayId")]) == 3


def test_no_nat_leaves_private_subnets_without_default_route() -> None:
    plan = synth_stack(
        "prod",
        network={"natStrategy": "none", "interfaceEndpoints": True},
        deployRunner={"repository": None},
    )
    assert plan.of_type(NAT) == []
    assert [r.get("gatewayId") is not None for r in plan.of_type(ROUTE)] == [True]


def test_isolated_tier_has_no_route_out(any_stack: Plan) -> None:
    isolated_table = next(
        r
        for r in any_stack.of_type("aws:ec2/routeTable:RouteTable")
        if r.name.endswith("-isolated")
    )
    routes_of_table = [r for r in any_stack.of_type(ROUTE) if isolated_table.urn in r.dependencies]
    assert routes_of_table == []


def test_default_security_group_is_stripped(any_stack: Plan) -> None:
    group = any_stack.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert group.get("ingress") == [] and group.get("egress") == []
    assert group.get("vpcId") == any_stack.outputs["vpcId"]


def test_flow_logs_capture_all_traffic_into_the_encrypted_group(any_stack: Plan) -> None:
    flow_log = any_stack.one("aws:ec2/flowLog:FlowLog")
    (group_urn,) = flow_log.property_dependencies["logDestination"]
    (role_urn,) = flow_log.property_dependencies["iamRoleArn"]
    group, role = any_stack.by_urn(group_urn), any_stack.by_urn(role_urn)
    vpc = any_stack.one("aws:ec2/vpc:Vpc")
    assert flow_log.get("trafficType") == "ALL"
    assert flow_log.get("vpcId") == any_stack.outputs["vpcId"]
    assert flow_log.property_dependencies["vpcId"] == [vpc.urn]
    assert group.type == "aws:cloudwatch/logGroup:LogGroup" and role.type == "aws:iam/role:Role"
    assert group.get("kmsKeyId") == any_stack.outputs["kmsKeyArns"]["logs"]
    assert group.get("retentionInDays") > 0
    assert '"vpc-flow-logs.amazonaws.com"' in role.get("assumeRolePolicy")


@pytest.mark.parametrize(("stack", "interface_count"), [("dev", 0), ("staging", 6), ("prod", 6)])
def test_endpoint_set_per_environment(stack: str, interface_count: int, request) -> None:
    plan: Plan = request.getfixturevalue(stack)
    endpoints = plan.of_type(ENDPOINT)
    gateway = [e for e in endpoints if e.get("vpcEndpointType") == "Gateway"]
    interface = [e for e in endpoints if e.get("vpcEndpointType") == "Interface"]
    assert [e.get("serviceName") for e in gateway] == ["com.amazonaws.eu-central-1.s3"]
    expected = [f"com.amazonaws.eu-central-1.{s}" for s in INTERFACE_ENDPOINT_SERVICES]
    assert sorted(e.get("serviceName") for e in interface) == sorted(expected[:interface_count])
    assert all(e.get("privateDnsEnabled") is True for e in interface)


def _rules_of(plan: Plan, group_name: str) -> list:
    """Security-group rules that belong to the named group (not those referencing it)."""
    group = plan.named(group_name)
    return [
        r
        for r in plan.resources
        if r.type.startswith("aws:vpc/securityGroup")
        and group.urn in r.property_dependencies.get("securityGroupId", [])
    ]


def test_interface_endpoints_accept_https_from_the_vpc_only(prod: Plan) -> None:
    (rule,) = _rules_of(prod, "prod-net-endpoints")
    assert (rule.get("fromPort"), rule.get("toPort"), rule.get("ipProtocol")) == (443, 443, "tcp")
    assert rule.get("cidrIpv4") == prod.one("aws:ec2/vpc:Vpc").get("cidrBlock")


def test_db_subnet_group_covers_the_isolated_tier(any_stack: Plan) -> None:
    group = any_stack.one("aws:rds/subnetGroup:SubnetGroup")
    assert group.get("subnetIds") == any_stack.outputs["isolatedSubnetIds"]


def test_workload_group_opens_outbound_and_admits_only_the_load_balancer(any_stack: Plan) -> None:
    env = any_stack.stack
    rules = _rules_of(any_stack, f"{env}-net-workloads")
    assert sorted(r.name for r in rules) == [
        f"{env}-edge-targets-from-alb",
        f"{env}-net-workloads-out",
    ]
    admitted = any_stack.named(f"{env}-edge-targets-from-alb")
    alb_group = any_stack.named(f"{env}-edge-alb")
    assert alb_group.urn in admitted.property_dependencies["referencedSecurityGroupId"]
    assert admitted.get("fromPort") == admitted.get("toPort") == 3000
