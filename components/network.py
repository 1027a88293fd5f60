"""A multi-AZ VPC with public, private (workload) and isolated (database) subnet tiers."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws

from .iam import service_trust_json

NatStrategy = Literal["none", "single", "onePerAz", "regional"]
INTERFACE_ENDPOINT_SERVICES = ("ecr.api", "ecr.dkr", "sts", "logs", "kms", "secretsmanager")
# Each tier's share of the VPC, as extra prefix bits: private /19, public /22, isolated /23 of
# a /16. Private subnets are large because EKS pods take VPC addresses (VPC CNI).
_TIER_PREFIX_BITS = {"private": 3, "public": 6, "isolated": 7}


@dataclass(frozen=True)
class SubnetLayout:
    """CIDRs of each tier, one per AZ, in AZ order."""

    public: list[str]
    private: list[str]
    isolated: list[str]


def plan_subnets(vpc_cidr: str, az_count: int) -> SubnetLayout:
    """Carve disjoint, aligned tier CIDRs out of the VPC block.

    Blocks are handed out largest first, so each one starts on a boundary of its own size and
    the tiers can never overlap; with up to six AZs they use at most 89% of the VPC.
    """
    vpc = ipaddress.IPv4Network(vpc_cidr)
    cursor = int(vpc.network_address)
    tiers: dict[str, list[str]] = {}
    for tier, bits in sorted(_TIER_PREFIX_BITS.items(), key=lambda item: item[1]):
        size = 2 ** (32 - vpc.prefixlen - bits)
        blocks = []
        for _ in range(az_count):
            block = ipaddress.IPv4Network((cursor, vpc.prefixlen + bits))
            if not block.subnet_of(vpc):
                raise ValueError(f"{vpc_cidr} is too small for {az_count} AZs")
            blocks.append(str(block))
            cursor += size
        tiers[tier] = blocks
    return SubnetLayout(**tiers)


@dataclass(frozen=True)
class NetworkArgs:
    """Inputs of `Network`."""

    region: str
    """Region of the VPC (endpoint service names are regional)."""
    cidr: str
    """VPC IPv4 block (RFC 1918, /16 to /20)."""
    az_count: int
    """How many availability zones (looked up in the region, never hard-coded) to use."""
    flow_log_key_arn: pulumi.Input[str]
    """KMS key encrypting the flow-log group (its policy must grant CloudWatch Logs)."""
    nat_strategy: NatStrategy = "onePerAz"
    """Egress for private subnets: none, single (cheapest), onePerAz (AZ-independent) or
    regional (one AWS-managed NAT gateway spanning every AZ)."""
    interface_endpoints: bool = True
    """Create interface endpoints for ECR, STS, Logs, KMS and Secrets Manager."""
    flow_log_retention_days: int = 365
    """Retention of the flow-log group."""


class Network(pulumi.ComponentResource):
    """VPC, subnets per tier and AZ, routing, NAT, endpoints, flow logs and a DB subnet group."""

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("crm-platform:network:Network", name, None, opts)
        self._name = name
        child = pulumi.ResourceOptions(parent=self)
        layout = plan_subnets(args.cidr, args.az_count)
        self.layout = layout
        self.vpc_cidr = args.cidr
        self.availability_zones = self._lookup_zones(args.az_count)

        self.vpc = aws.ec2.Vpc(
            name,
            cidr_block=args.cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": name},
            opts=child,
        )
        # Managing the default group with no rules strips the allow-all rules AWS creates.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default", vpc_id=self.vpc.id, ingress=[], egress=[], opts=child
        )
        internet_gateway = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=self.vpc.id, tags={"Name": f"{name}-igw"}, opts=child
        )

        public = self._subnets("public", layout.public, {"kubernetes.io/role/elb": "1"})
        private = self._subnets("private", layout.private, {"kubernetes.io/role/internal-elb": "1"})
        isolated = self._subnets("isolated", layout.isolated, {})
        self.public_subnet_ids = [subnet.id for subnet in public]
        self.private_subnet_ids = [subnet.id for subnet in private]
        self.isolated_subnet_ids = [subnet.id for subnet in isolated]

        public_table = self._route_table("public", public)
        aws.ec2.Route(
            f"{name}-public-internet",
            route_table_id=public_table.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=internet_gateway.id,
            opts=child,
        )
        nat_gateway_ids = self._nat_gateways(args.nat_strategy, public, internet_gateway)
        private_tables = [
            self._route_table(f"private-{index}", [subnet]) for index, subnet in enumerate(private)
        ]
        for index, table in enumerate(private_tables):
            if nat_gateway_ids:
                aws.ec2.Route(
                    f"{name}-private-{index}-nat",
                    route_table_id=table.id,
                    destination_cidr_block="0.0.0.0/0",
                    nat_gateway_id=nat_gateway_ids[index % len(nat_gateway_ids)],
                    opts=child,
                )
        # The isolated tier has no default route at all: databases never reach the internet.
        isolated_table = self._route_table("isolated", isolated)
        self.private_route_table_ids = [table.id for table in private_tables]

        aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=self.vpc.id,
            service_name=f"com.amazonaws.{args.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[*self.private_route_table_ids, isolated_table.id],
            tags={"Name": f"{name}-s3"},
            opts=child,
        )
        self.workload_security_group = self._workload_security_group()
        self.endpoint_security_group_id = (
            self._interface_endpoints(args.region, args.cidr) if args.interface_endpoints else None
        )
        self.flow_log_group = self._flow_logs(args.flow_log_key_arn, args.flow_log_retention_days)
        self.db_subnet_group = aws.rds.SubnetGroup(
            f"{name}-db",
            description=f"{name} isolated subnets for databases",
            subnet_ids=self.isolated_subnet_ids,
            opts=child,
        )
        self.register_outputs(
            {
                "vpcId": self.vpc.id,
                "availabilityZones": self.availability_zones,
                "publicSubnetIds": self.public_subnet_ids,
                "privateSubnetIds": self.private_subnet_ids,
                "isolatedSubnetIds": self.isolated_subnet_ids,
                "dbSubnetGroupName": self.db_subnet_group.name,
                "workloadSecurityGroupId": self.workload_security_group.id,
            }
        )

    def _lookup_zones(self, count: int) -> pulumi.Output[list[str]]:
        """The first `count` zones of the region that need no opt-in (no Local Zones)."""
        zones = aws.get_availability_zones_output(
            state="available",
            filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
            opts=pulumi.InvokeOutputOptions(parent=self),
        )

        def first(names: list[str]) -> list[str]:
            if len(names) < count:
                raise ValueError(
                    f"network.azCount is {count} but the region has only {len(names)} "
                    f"availability zones: {', '.join(names)}"
                )
            return sorted(names)[:count]

        return zones.names.apply(first)

    def _subnets(self, tier: str, cidrs: list[str], tags: dict[str, str]) -> list[aws.ec2.Subnet]:
        return [
            aws.ec2.Subnet(
                f"{self._name}-{tier}-{index}",
                vpc_id=self.vpc.id,
                cidr_block=cidr,
                availability_zone=self.availability_zones.apply(lambda zones, i=index: zones[i]),
                map_public_ip_on_launch=False,
                tags={"Name": f"{self._name}-{tier}-{index}", "tier": tier, **tags},
                opts=pulumi.ResourceOptions(parent=self),
            )
            for index, cidr in enumerate(cidrs)
        ]

    def _route_table(self, label: str, subnets: list[aws.ec2.Subnet]) -> aws.ec2.RouteTable:
        table = aws.ec2.RouteTable(
            f"{self._name}-{label}",
            vpc_id=self.vpc.id,
            tags={"Name": f"{self._name}-{label}"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        for index, subnet in enumerate(subnets):
            aws.ec2.RouteTableAssociation(
                f"{self._name}-{label}-{index}",
                subnet_id=subnet.id,
                route_table_id=table.id,
                opts=pulumi.ResourceOptions(parent=self),
            )
        return table

    def _nat_gateways(
        self,
        strategy: NatStrategy,
        public: list[aws.ec2.Subnet],
        internet_gateway: aws.ec2.InternetGateway,
    ) -> list[pulumi.Output[str]]:
        """NAT gateways for the strategy; private subnet i routes through gateway i mod n."""
        after_gateway = pulumi.ResourceOptions(parent=self, depends_on=[internet_gateway])
        if strategy == "none":
            return []
        if strategy == "regional":
            gateway = aws.ec2.NatGateway(
                f"{self._name}-nat",
                availability_mode="regional",
                connectivity_type="public",
                vpc_id=self.vpc.id,
                tags={"Name": f"{self._name}-nat"},
                opts=after_gateway,
            )
            return [gateway.id]
        zonal = public[:1] if strategy == "single" else public
        ids = []
        for index, subnet in enumerate(zonal):
            address = aws.ec2.Eip(
                f"{self._name}-nat-{index}",
                domain="vpc",
                tags={"Name": f"{self._name}-nat-{index}"},
                opts=after_gateway,
            )
            gateway = aws.ec2.NatGateway(
                f"{self._name}-nat-{index}",
                allocation_id=address.allocation_id,
                subnet_id=subnet.id,
                tags={"Name": f"{self._name}-nat-{index}"},
                opts=after_gateway,
            )
            ids.append(gateway.id)
        return ids

    def _workload_security_group(self) -> aws.ec2.SecurityGroup:
        """The group every workload node carries; data stores admit traffic from it alone.

        It has no ingress of its own (node-to-node and control-plane traffic flow through the
        EKS cluster security group) and may open connections anywhere (NAT, endpoints, data).
        """
        group = aws.ec2.SecurityGroup(
            f"{self._name}-workloads",
            vpc_id=self.vpc.id,
            description="CRM workload nodes; the only source data stores accept",
            tags={"Name": f"{self._name}-workloads"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{self._name}-workloads-out",
            security_group_id=group.id,
            description="Workloads open connections to data stores, endpoints and the NAT",
            ip_protocol="-1",
            cidr_ipv4="0.0.0.0/0",
            opts=pulumi.ResourceOptions(parent=self),
        )
        return group

    def _interface_endpoints(self, region: str, vpc_cidr: str) -> pulumi.Output[str]:
        """Private endpoints reachable on 443 from inside the VPC only."""
        group = aws.ec2.SecurityGroup(
            f"{self._name}-endpoints",
            vpc_id=self.vpc.id,
            description="HTTPS from inside the VPC to AWS interface endpoints",
            tags={"Name": f"{self._name}-endpoints"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{self._name}-endpoints-https",
            security_group_id=group.id,
            description="HTTPS from the VPC",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4=vpc_cidr,
            opts=pulumi.ResourceOptions(parent=self),
        )
        for service in INTERFACE_ENDPOINT_SERVICES:
            aws.ec2.VpcEndpoint(
                f"{self._name}-{service.replace('.', '-')}",
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=self.private_subnet_ids,
                security_group_ids=[group.id],
                tags={"Name": f"{self._name}-{service}"},
                opts=pulumi.ResourceOptions(parent=self),
            )
        return group.id

    def _flow_logs(
        self, key_arn: pulumi.Input[str], retention_days: int
    ) -> aws.cloudwatch.LogGroup:
        """ALL-traffic flow logs into an encrypted log group, written by a role that can only
        write to that group and can only be assumed by the flow-logs service of this account."""
        child = pulumi.ResourceOptions(parent=self)
        account_id = aws.get_caller_identity_output(
            opts=pulumi.InvokeOutputOptions(parent=self)
        ).account_id
        group = aws.cloudwatch.LogGroup(
            f"{self._name}-flow-logs",
            kms_key_id=key_arn,
            retention_in_days=retention_days,
            opts=child,
        )
        role = aws.iam.Role(
            f"{self._name}-flow-logs",
            assume_role_policy=service_trust_json("vpc-flow-logs", self, account_id),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{self._name}-flow-logs",
            role=role.id,
            policy=group.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": [
                                    "logs:CreateLogStream",
                                    "logs:PutLogEvents",
                                    "logs:DescribeLogStreams",
                                ],
                                "Resource": [arn, f"{arn}:*"],
                            },
                            # Listing log groups takes no resource-level permission.
                            {
                                "Effect": "Allow",
                                "Action": "logs:DescribeLogGroups",
                                "Resource": "*",
                            },
                        ],
                    }
                )
            ),
            opts=child,
        )
        aws.ec2.FlowLog(
            f"{self._name}-flow-logs",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags={"Name": f"{self._name}-flow-logs"},
            opts=child,
        )
        return group
