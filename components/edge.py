"""`Edge`: the internet-facing Application Load Balancer in front of the CRM.

Created by the platform layer with plain AWS resources, so the load balancer exists (and its
name can be published in DNS) before anything runs in the cluster. The workloads layer only
binds the server pods to the target group (a `TargetGroupBinding`), so no Ingress and no
controller decide what the load balancer looks like.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .waf import associate

HTTP, HTTPS = 80, 443
WORLD_IPV4 = "0.0.0.0/0"
DEREGISTRATION_DELAY_SECONDS = 30
"""How long a draining target keeps its in-flight requests; the CRM's server pods pause in
preStop at least this long."""
CONDITION_VALUES_PER_RULE = 5
"""ELB quota "condition values per rule": source ranges are split over rules of five."""
SETUP_PRIORITY = 1


@dataclass(frozen=True)
class EdgeArgs:
    """Inputs of `Edge`."""

    vpc_id: pulumi.Input[str]
    public_subnet_ids: Sequence[pulumi.Input[str]]
    """One public subnet per AZ: the load balancer's nodes."""
    target_security_group_id: pulumi.Input[str]
    """Group the targets (the workload nodes, whose ENIs carry the pods' IPs) belong to."""
    target_port: int
    """Port the CRM server listens on inside its pods."""
    health_check_path: str
    """HTTP path answering 200 when a pod may receive traffic."""
    certificate_arn: pulumi.Input[str]
    """ACM certificate of the HTTPS listener (issued: validated before use)."""
    ssl_policy: str
    """ELB security policy of the HTTPS listener."""
    access_log_bucket: pulumi.Input[str]
    """Bucket that accepts ELB log delivery (see `AccessLogBucket`)."""
    access_log_prefix: str
    deregistration_delay_seconds: int = DEREGISTRATION_DELAY_SECONDS
    """How long a draining target keeps serving in-flight requests; the pods' preStop delay
    must be at least this long."""
    idle_timeout_seconds: int = 60
    """Above the CRM's 30-second SSE keepalive, so realtime streams stay open."""
    web_acl_arn: pulumi.Input[str] | None = None
    """Regional WAFv2 web ACL to associate with the load balancer."""
    domain: str | None = None
    """Host name pointed at the load balancer (an alias record) in `hosted_zone_id`."""
    hosted_zone_id: str | None = None
    admit_only_cidrs: Sequence[str] | None = None
    """Until the CRM's first start is done: forward only these source ranges (everyone else
    gets 403). None forwards everyone."""
    protect: bool = True
    """Pulumi `protect` and ELB deletion protection on the load balancer."""


class Edge(pulumi.ComponentResource):
    """Security group, ALB, HTTP→HTTPS redirect, HTTPS listener, IP target group, WAF
    association and the domain's alias record."""

    def __init__(self, name: str, args: EdgeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("crm-platform:edge:Edge", name, None, opts)
        self._name, self._args = name, args
        self.security_group = self._security_group()
        self.load_balancer = self._load_balancer()
        self.target_group = self._target_group()
        self._listeners()
        if args.web_acl_arn:
            associate(name, self.load_balancer.arn, args.web_acl_arn, self._child())
        if args.domain and args.hosted_zone_id:
            self._alias_records(args.domain, args.hosted_zone_id)
        self.web_acl_arn = args.web_acl_arn
        self.dns_name = self.load_balancer.dns_name
        self.register_outputs({"dnsName": self.dns_name, "targetGroupArn": self.target_group.arn})

    def _child(self, **options) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **options)

    def _security_group(self) -> aws.ec2.SecurityGroup:
        """HTTPS (and HTTP, which only redirects) from anywhere; out only to the targets."""
        name, args = self._name, self._args
        group = aws.ec2.SecurityGroup(
            f"{name}-alb",
            vpc_id=args.vpc_id,
            description="Internet-facing CRM load balancer",
            tags={"Name": f"{name}-alb"},
            opts=self._child(),
        )
        for port, why in ((HTTPS, "HTTPS from the internet"), (HTTP, "HTTP, redirected")):
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-alb-{port}",
                security_group_id=group.id,
                description=why,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_ipv4=WORLD_IPV4,
                opts=self._child(),
            )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-alb-to-targets",
            security_group_id=group.id,
            description="Requests and health checks to the CRM server pods",
            ip_protocol="tcp",
            from_port=args.target_port,
            to_port=args.target_port,
            referenced_security_group_id=args.target_security_group_id,
            opts=self._child(),
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-targets-from-alb",
            security_group_id=args.target_security_group_id,
            description="CRM server pods from the load balancer",
            ip_protocol="tcp",
            from_port=args.target_port,
            to_port=args.target_port,
            referenced_security_group_id=group.id,
            opts=self._child(),
        )
        return group

    def _load_balancer(self) -> aws.lb.LoadBalancer:
        args = self._args
        return aws.lb.LoadBalancer(
            self._name,
            load_balancer_type="application",
            internal=False,
            subnets=list(args.public_subnet_ids),
            security_groups=[self.security_group.id],
            drop_invalid_header_fields=True,
            desync_mitigation_mode="strictest",
            idle_timeout=args.idle_timeout_seconds,
            enable_deletion_protection=args.protect,
            access_logs=aws.lb.LoadBalancerAccessLogsArgs(
                bucket=args.access_log_bucket, prefix=args.access_log_prefix, enabled=True
            ),
            opts=self._child(protect=args.protect),
        )

    def _target_group(self) -> aws.lb.TargetGroup:
        args = self._args
        return aws.lb.TargetGroup(
            self._name,
            target_type="ip",
            protocol="HTTP",
            port=args.target_port,
            vpc_id=args.vpc_id,
            deregistration_delay=str(args.deregistration_delay_seconds),
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True,
                protocol="HTTP",
                path=args.health_check_path,
                matcher="200",
                interval=10,
                timeout=5,
                healthy_threshold=2,
                unhealthy_threshold=3,
            ),
            opts=self._child(),
        )

    def _listeners(self) -> None:
        args = self._args
        aws.lb.Listener(
            f"{self._name}-http",
            load_balancer_arn=self.load_balancer.arn,
            protocol="HTTP",
            port=HTTP,
            default_actions=[
                aws.lb.ListenerDefaultActionArgs(
                    type="redirect",
                    redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                        protocol="HTTPS", port=str(HTTPS), status_code="HTTP_301"
                    ),
                )
            ],
            opts=self._child(),
        )
        locked = args.admit_only_cidrs is not None
        https = aws.lb.Listener(
            f"{self._name}-https",
            load_balancer_arn=self.load_balancer.arn,
            protocol="HTTPS",
            port=HTTPS,
            ssl_policy=args.ssl_policy,
            certificate_arn=args.certificate_arn,
            default_actions=[self._refuse() if locked else self._forward()],
            opts=self._child(),
        )
        if locked:
            self._admit(https, list(args.admit_only_cidrs or ()))

    def _forward(self) -> aws.lb.ListenerDefaultActionArgs:
        return aws.lb.ListenerDefaultActionArgs(
            type="forward", target_group_arn=self.target_group.arn
        )

    @staticmethod
    def _refuse() -> aws.lb.ListenerDefaultActionArgs:
        return aws.lb.ListenerDefaultActionArgs(
            type="fixed-response",
            fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
                content_type="text/plain",
                status_code="403",
                message_body="This CRM is being set up.",
            ),
        )

    def _admit(self, listener: aws.lb.Listener, cidrs: list[str]) -> None:
        """Forward the operator's source ranges only (first start: Twenty lets the first
        visitor of an instance without a workspace create it and become its admin)."""
        size = CONDITION_VALUES_PER_RULE
        for index, start in enumerate(range(0, len(cidrs), size)):
            aws.lb.ListenerRule(
                f"{self._name}-setup-{index}",
                listener_arn=listener.arn,
                priority=SETUP_PRIORITY + index,
                conditions=[
                    aws.lb.ListenerRuleConditionArgs(
                        source_ip=aws.lb.ListenerRuleConditionSourceIpArgs(
                            values=cidrs[start : start + size]
                        )
                    )
                ],
                actions=[
                    aws.lb.ListenerRuleActionArgs(
                        type="forward", target_group_arn=self.target_group.arn
                    )
                ],
                opts=self._child(),
            )

    def _alias_records(self, domain: str, zone_id: str) -> None:
        """An alias record: no TTL to expire, and it follows the load balancer's addresses
        (IPv4 only: the load balancer is not dual-stack)."""
        aws.route53.Record(
            f"{self._name}-alias",
            zone_id=zone_id,
            name=domain,
            type="A",
            aliases=[
                aws.route53.RecordAliasArgs(
                    name=self.load_balancer.dns_name,
                    zone_id=self.load_balancer.zone_id,
                    evaluate_target_health=True,
                )
            ],
            opts=self._child(),
        )
