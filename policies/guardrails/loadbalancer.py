"""Load balancers: HTTPS redirect, modern TLS, access logs, header hygiene, deletion protection,
desync mitigation, WAF.

Each control covers `aws:lb`/`aws:alb` resources and Kubernetes Ingresses served by the AWS Load
Balancer Controller (ingress class in `albIngressClasses`), whose ALB is configured through
`alb.ingress.kubernetes.io/*` annotations. Annotations inherited from an IngressClassParams or
another Ingress of the same group are not visible here; put them on each Ingress.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from .core import (
    ADVISORY,
    HIGH,
    LOW,
    MEDIUM,
    Res,
    Stack,
    as_bool,
    entries,
    field,
    resource_policy,
    setting,
    show,
    show_list,
    stack_policy,
    strings,
)
from .secrets import SecretStr, is_secret

LOAD_BALANCERS = frozenset(
    {"aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"}
)
LISTENERS = frozenset({"aws:lb/listener:Listener", "aws:alb/listener:Listener"})
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
WAF_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"

PREFIX = "alb.ingress.kubernetes.io/"
TLS_POLICIES = [
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
    "ELBSecurityPolicy-FS-1-2-Res-2020-10",
]
INGRESS_CLASSES = strings(["alb"], "Ingress classes served by the AWS Load Balancer Controller.")


def is_alb_ingress(res: Res, config: Mapping[str, Any]) -> bool:
    if res.type != INGRESS:
        return False
    ingress_class = res.get("spec.ingressClassName") or annotation(
        res, "kubernetes.io/ingress.class"
    )
    return ingress_class in config["albIngressClasses"]


def annotation(res: Res, key: str) -> Any:
    annotations = res.get("metadata.annotations")
    return annotations.get(key) if isinstance(annotations, Mapping) else None


def lb_attributes(res: Res) -> dict[str, str]:
    """The `load-balancer-attributes` annotation as a dict."""
    text = annotation(res, PREFIX + "load-balancer-attributes")
    if not isinstance(text, str):
        return {}
    keep = SecretStr if is_secret(text) else str  # values derived from a secret stay secret
    pairs = (item.split("=", 1) for item in text.split(",") if "=" in item)
    return {key.strip(): keep(value.strip()) for key, value in pairs}


def listen_protocols(res: Res) -> set[str]:
    """Protocols of the ALB listeners an Ingress asks for (controller defaults included)."""
    text = annotation(res, PREFIX + "listen-ports")
    if text is None:
        return {"HTTPS"} if annotation(res, PREFIX + "certificate-arn") else {"HTTP"}
    try:
        ports = json.loads(text)
    except json.JSONDecodeError:
        return {"unreadable"}
    return {str(protocol) for item in ports if isinstance(item, dict) for protocol in item}


def is_application(res: Res) -> bool:
    return (res.get("loadBalancerType") or "application") == "application"


@resource_policy(
    "lb-https-redirect",
    types=LISTENERS | {INGRESS},
    description="HTTP listeners must only redirect to HTTPS.",
    severity=HIGH,
    remediation=(
        "Give HTTP listeners a single default action {'type': 'redirect', 'redirect': "
        "{'protocol': 'HTTPS', 'port': '443', 'status_code': 'HTTP_301'}}; on an Ingress set "
        "alb.ingress.kubernetes.io/ssl-redirect: '443'."
    ),
    config={"albIngressClasses": INGRESS_CLASSES},
    tags=["loadbalancer", "encryption-in-transit", "SH:ELB.1", "CKV2_AWS_20"],
)
def https_redirect(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if res.type == INGRESS:
        if not is_alb_ingress(res, config):
            return
        protocols = listen_protocols(res)
        redirect = annotation(res, PREFIX + "ssl-redirect")
        if "HTTP" in protocols and not redirect:
            yield (
                f"{res.label} listens on HTTP (annotation {PREFIX}listen-ports) without "
                f"{PREFIX}ssl-redirect; HTTP must redirect to HTTPS."
            )
        if "HTTPS" not in protocols:
            yield f"{res.label} has no HTTPS listener ({PREFIX}listen-ports); serve HTTPS."
        return
    protocol = res.get("protocol")
    if protocol not in (None, "HTTP"):
        return
    for index, action in enumerate(entries(res.get("defaultActions")) or []):
        kind, target = field(action, "type"), field(action, "redirect.protocol")
        if kind != "redirect" or target != "HTTPS":
            yield (
                f"{res.label} is an HTTP listener whose defaultActions[{index}] is {show(kind)} "
                f"(redirect.protocol {show(target)}); it must redirect to HTTPS."
            )


@resource_policy(
    "lb-modern-tls",
    types=LISTENERS | {INGRESS},
    description="HTTPS/TLS listeners must use a TLS 1.3 security policy and a certificate.",
    severity=HIGH,
    remediation="Set ssl_policy (or the ssl-policy annotation) to an allowed TLS 1.3 policy.",
    config={
        "allowedSslPolicies": strings(TLS_POLICIES, "Accepted ELB security policies.", 1),
        "albIngressClasses": INGRESS_CLASSES,
    },
    tags=[
        "loadbalancer",
        "encryption-in-transit",
        "CKV_AWS_103",
        "CP:lb-listener-configure-secure-tls",
    ],
)
def modern_tls(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    allowed = list(config["allowedSslPolicies"])
    if res.type == INGRESS:
        if not is_alb_ingress(res, config) or "HTTPS" not in listen_protocols(res):
            return
        policy = annotation(res, PREFIX + "ssl-policy")
        where = f"annotation {PREFIX}ssl-policy"
        has_certificate = annotation(res, PREFIX + "certificate-arn") or res.get("spec.tls")
    else:
        if res.get("protocol") not in ("HTTPS", "TLS"):
            return
        policy, where = res.get("sslPolicy"), "sslPolicy"
        has_certificate = res.present("certificateArn")
    if policy not in allowed:
        yield (
            f"{res.label} {setting(where, policy)}; it must be one of {show_list(allowed)} "
            "(the default policy still accepts TLS 1.0/1.1)."
        )
    if not has_certificate:
        yield f"{res.label} serves TLS without a certificate (certificate ARN); set one from ACM."


def _attribute_problem(
    res: Res, config: Mapping[str, Any], prop: str, attribute: str, wanted: str
) -> Iterator[str]:
    """A problem if an LB property / Ingress LB attribute is not `wanted` ("true")."""
    if res.type == INGRESS:
        if is_alb_ingress(res, config):
            value = lb_attributes(res).get(attribute)
            if value != wanted:
                yield (
                    f"{res.label} sets load-balancer attribute {attribute} to {show(value)} "
                    f"(annotation {PREFIX}load-balancer-attributes); it must be {wanted}."
                )
    elif is_application(res):
        value = res.get(prop)
        if not as_bool(value):
            yield f"{res.label} {setting(prop, value)}; it must be {wanted}."


@resource_policy(
    "lb-access-logs",
    types=LOAD_BALANCERS | {INGRESS},
    description="Application load balancers must write access logs to S3.",
    severity=MEDIUM,
    remediation=(
        "Set access_logs={'enabled': True, 'bucket': <log bucket>}; on an Ingress add "
        "access_logs.s3.enabled=true,access_logs.s3.bucket=<bucket> to load-balancer-attributes."
    ),
    config={"albIngressClasses": INGRESS_CLASSES},
    tags=["loadbalancer", "logging", "SH:ELB.5", "AwsSolutions-ELB2", "CKV_AWS_91"],
)
def access_logs(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    yield from _attribute_problem(
        res, config, "accessLogs.enabled", "access_logs.s3.enabled", "true"
    )
    bucket = (
        lb_attributes(res).get("access_logs.s3.bucket")
        if res.type == INGRESS
        else res.get("accessLogs.bucket")
    )
    relevant = is_alb_ingress(res, config) if res.type == INGRESS else is_application(res)
    if relevant and not bucket:
        yield f"{res.label} names no access log bucket; logs need a destination bucket."


@resource_policy(
    "lb-drop-invalid-headers",
    types=LOAD_BALANCERS | {INGRESS},
    description="Application load balancers must drop invalid HTTP header fields.",
    severity=MEDIUM,
    remediation="Set drop_invalid_header_fields=True (routing.http.drop_invalid_header_fields."
    "enabled=true on an Ingress).",
    config={"albIngressClasses": INGRESS_CLASSES},
    tags=["loadbalancer", "SH:ELB.4", "CKV_AWS_131"],
)
def drop_invalid_headers(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    yield from _attribute_problem(
        res,
        config,
        "dropInvalidHeaderFields",
        "routing.http.drop_invalid_header_fields.enabled",
        "true",
    )


@resource_policy(
    "lb-deletion-protection",
    types=LOAD_BALANCERS | {INGRESS},
    description="Application load balancers must be protected from deletion.",
    severity=MEDIUM,
    remediation="Set enable_deletion_protection=True (deletion_protection.enabled=true on an "
    "Ingress); dev stacks may relax this policy to advisory.",
    config={"albIngressClasses": INGRESS_CLASSES},
    tags=["loadbalancer", "protection", "SH:ELB.6", "CKV_AWS_150"],
)
def deletion_protection(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    yield from _attribute_problem(
        res, config, "enableDeletionProtection", "deletion_protection.enabled", "true"
    )


@resource_policy(
    "lb-desync-mitigation",
    types=LOAD_BALANCERS | {INGRESS},
    description="Application load balancers should keep HTTP desync mitigation defensive or "
    "strictest.",
    severity=LOW,
    enforcement=ADVISORY,
    remediation="Leave desync_mitigation_mode unset (defensive) or set 'strictest'.",
    config={"albIngressClasses": INGRESS_CLASSES},
    tags=["loadbalancer", "SH:ELB.12", "CKV_AWS_328"],
)
def desync_mitigation(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if res.type == INGRESS:
        if not is_alb_ingress(res, config):
            return
        mode, where = (
            lb_attributes(res).get("routing.http.desync_mitigation_mode"),
            ("load-balancer attribute routing.http.desync_mitigation_mode"),
        )
    else:
        if not is_application(res):
            return
        mode, where = res.get("desyncMitigationMode"), "desyncMitigationMode"
    if mode not in (None, "defensive", "strictest"):
        yield f'{res.label} {setting(where, mode)}; use "defensive" or "strictest".'


def _internet_facing(res: Res, config: Mapping[str, Any]) -> bool:
    if res.type == INGRESS:
        scheme = annotation(res, PREFIX + "scheme")
        return is_alb_ingress(res, config) and scheme == "internet-facing"
    return is_application(res) and not as_bool(res.get("internal"))


@stack_policy(
    "lb-waf",
    subjects=LOAD_BALANCERS | {INGRESS},
    description="Internet-facing application load balancers must be protected by AWS WAF.",
    severity=MEDIUM,
    enforcement=ADVISORY,
    remediation=(
        "Associate a WAFv2 web ACL (aws.wafv2.WebAclAssociation with resource_arn=<lb>.arn, or "
        "the alb.ingress.kubernetes.io/wafv2-acl-arn annotation)."
    ),
    config={"albIngressClasses": INGRESS_CLASSES},
    tags=["loadbalancer", "public-exposure", "SH:ELB.16", "AwsSolutions-ALBWAFEnabled"],
)
def waf(stack: Stack, res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if not _internet_facing(res, config):
        return
    if res.type == INGRESS:
        protected = res.present(("metadata", "annotations", PREFIX + "wafv2-acl-arn"))
    else:
        associations = stack.of_type({WAF_ASSOCIATION})
        protected = any(res in stack.refs(a, "resourceArn", {res.type}) for a in associations)
    if not protected:
        yield (
            f"{res.label} is internet-facing and no WAFv2 web ACL is associated with it "
            f"(aws:wafv2/webAclAssociation or annotation {PREFIX}wafv2-acl-arn); associate one."
        )
