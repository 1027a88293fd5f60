"""The edge: the ALB, its listeners, target group and DNS are platform resources."""

from __future__ import annotations

import pytest

from components.edge import Edge, EdgeArgs
from stacks.offline import Plan
from tests.support import synth_component

LB = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
RECORD = "aws:route53/record:Record"
WAF_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
WAF = "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/crm/1234"

ARGS = EdgeArgs(
    vpc_id="vpc-123",
    public_subnet_ids=["subnet-a", "subnet-b"],
    target_security_group_id="sg-targets",
    target_port=3000,
    health_check_path="/healthz",
    certificate_arn="arn:aws:acm:eu-west-1:123456789012:certificate/abc",
    ssl_policy="ELBSecurityPolicy-TLS13-1-2-2021-06",
    access_log_bucket="access-logs",
    access_log_prefix="crm",
)


def _edge(**changes) -> Plan:
    args = EdgeArgs(**{**ARGS.__dict__, **changes})
    return synth_component(lambda opts: Edge("edge", args, opts=opts), region="eu-west-1")


@pytest.fixture(scope="module")
def edge() -> Plan:
    return _edge()


def _listener(plan: Plan, protocol: str):
    return next(r for r in plan.of_type(LISTENER) if r.get("protocol") == protocol)


def test_load_balancer_is_internet_facing_hardened_and_logged(edge: Plan) -> None:
    lb = edge.one(LB)
    assert lb.get("loadBalancerType") == "application" and lb.get("internal") is False
    assert lb.get("subnets") == ["subnet-a", "subnet-b"]
    assert lb.get("dropInvalidHeaderFields") is True
    assert lb.get("desyncMitigationMode") == "strictest"
    assert lb.get("enableDeletionProtection") is True and lb.protect
    assert lb.get("accessLogs") == {"bucket": "access-logs", "prefix": "crm", "enabled": True}
    assert lb.get("idleTimeout") == 60


def test_http_only_redirects_to_https(edge: Plan) -> None:
    (action,) = _listener(edge, "HTTP").get("defaultActions")
    assert action["type"] == "redirect"
    assert action["redirect"] == {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}


def test_https_listener_uses_tls13_and_forwards_to_the_ip_targets(edge: Plan) -> None:
    https = _listener(edge, "HTTPS")
    assert https.get("port") == 443
    assert https.get("sslPolicy") == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert https.get("certificateArn") == ARGS.certificate_arn
    (action,) = https.get("defaultActions")
    assert action["type"] == "forward"
    assert edge.one(TARGET_GROUP).urn in https.property_dependencies["defaultActions"]


def test_target_group_checks_the_health_endpoint_and_drains_explicitly(edge: Plan) -> None:
    group = edge.one(TARGET_GROUP)
    assert (group.get("targetType"), group.get("protocol"), group.get("port")) == (
        "ip",
        "HTTP",
        3000,
    )
    assert group.get("deregistrationDelay") == "30"
    check = group.get("healthCheck")
    assert (check["path"], check["matcher"], check["protocol"]) == ("/healthz", "200", "HTTP")


def test_load_balancer_admits_web_traffic_and_reaches_only_the_targets(edge: Plan) -> None:
    ingress = edge.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    public = sorted(r.get("fromPort") for r in ingress if r.get("cidrIpv4") == "0.0.0.0/0")
    assert public == [80, 443]
    (to_targets,) = edge.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    assert to_targets.get("referencedSecurityGroupId") == "sg-targets"
    assert to_targets.get("fromPort") == to_targets.get("toPort") == 3000
    (from_alb,) = [r for r in ingress if r.get("securityGroupId") == "sg-targets"]
    assert from_alb.get("fromPort") == 3000


def test_no_waf_or_record_unless_configured(edge: Plan) -> None:
    assert not edge.of_type(WAF_ASSOCIATION) and not edge.of_type(RECORD)


def test_waf_association_and_alias_record_when_configured() -> None:
    plan = _edge(web_acl_arn=WAF, domain="crm.example.com", hosted_zone_id="Z123", protect=False)
    association = plan.one(WAF_ASSOCIATION)
    assert association.get("webAclArn") == WAF
    assert plan.one(LB).urn in association.property_dependencies["resourceArn"]
    record = plan.one(RECORD)
    assert (record.get("name"), record.get("type"), record.get("zoneId")) == (
        "crm.example.com",
        "A",
        "Z123",
    )
    (alias,) = record.get("aliases")
    assert alias["evaluateTargetHealth"] is True
    assert plan.one(LB).urn in record.property_dependencies["aliases"]
    assert plan.one(LB).get("enableDeletionProtection") is False


def test_stack_edge_uses_the_validated_certificate_and_the_log_bucket(prod: Plan) -> None:
    platform = prod.layers["platform"]
    validation = platform.one("aws:acm/certificateValidation:CertificateValidation")
    https = _listener(platform, "HTTPS")
    assert validation.urn in https.property_dependencies["certificateArn"]
    lb = platform.one(LB)
    log_bucket = next(
        b for b in platform.of_type("aws:s3/bucket:Bucket") if b.get("tags.crm-platform:purpose")
    )
    assert log_bucket.urn in lb.property_dependencies["accessLogs"]
    # ELB verifies it may write when logging is turned on: the bucket policy comes first.
    policy = next(
        p
        for p in platform.of_type("aws:s3/bucketPolicy:BucketPolicy")
        if log_bucket.urn in p.property_dependencies["bucket"]
    )
    assert policy.urn in lb.property_dependencies["accessLogs"]
    (alias,) = [r for r in platform.of_type(RECORD) if r.get("aliases")]
    assert (alias.get("name"), alias.get("type")) == ("crm.example.com", "A")
    assert lb.urn in alias.property_dependencies["aliases"]
    assert ":targetgroup/" in prod.outputs["targetGroupArn"]
