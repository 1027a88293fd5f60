"""A regional AWS WAF web ACL for the CRM's load balancer.

AWS managed rule groups (IP reputation, the common rule set, known bad inputs) and a per-IP
rate limit; everything else is allowed. In count mode every rule only counts, so a new ACL can
be tuned on real traffic before it blocks.

The web ACL and its association are registered by type token, with the inputs the typed SDK
would send (a test checks they are identical): importing `pulumi_aws.wafv2` alone costs about
0.7 s of CPU, half the offline plan's budget, for two resources.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WEB_ACL_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
)
"""AWS managed rule groups, in priority order (vendor AWS, no subscription fee)."""
COUNTED_RULES = {"AWSManagedRulesCommonRuleSet": ("SizeRestrictions_BODY",)}
"""Rules only counted even when blocking: the common set refuses request bodies over 8 KB, and
the CRM takes file uploads and imports in its request bodies."""
RATE_WINDOW_SECONDS = 300


@dataclass(frozen=True)
class WebAclArgs:
    """Inputs of `WebAcl`."""

    rate_limit_per_5_minutes: int
    """Requests one client IP may send per 5 minutes (10 - 2,000,000,000)."""
    count_only: bool = False
    """Count matches instead of blocking them."""


def engine_inputs(value: Any) -> Any:
    """snake_case keys as the engine spells them (camelCase), at every depth."""
    if isinstance(value, dict):
        return {_camel(key): engine_inputs(item) for key, item in value.items()}
    if isinstance(value, list):
        return [engine_inputs(item) for item in value]
    return value


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.title() for part in rest)


def _visibility(metric: str) -> dict:
    return {
        "cloudwatch_metrics_enabled": True,
        "sampled_requests_enabled": True,
        "metric_name": metric,
    }


def _managed(prefix: str, priority: int, group: str, count_only: bool) -> dict:
    statement: dict[str, Any] = {"vendor_name": "AWS", "name": group}
    counted = COUNTED_RULES.get(group, ())
    if counted:
        statement["rule_action_overrides"] = [
            {"name": rule, "action_to_use": {"count": {}}} for rule in counted
        ]
    return {
        "name": group,
        "priority": priority,
        "override_action": {"count": {}} if count_only else {"none": {}},
        "statement": {"managed_rule_group_statement": statement},
        "visibility_config": _visibility(f"{prefix}-{group}"),
    }


def _rate_limit(prefix: str, priority: int, args: WebAclArgs) -> dict:
    return {
        "name": "rate-limit-per-ip",
        "priority": priority,
        "action": {"count": {}} if args.count_only else {"block": {}},
        "statement": {
            "rate_based_statement": {
                "limit": args.rate_limit_per_5_minutes,
                "aggregate_key_type": "IP",
                "evaluation_window_sec": RATE_WINDOW_SECONDS,
            }
        },
        "visibility_config": _visibility(f"{prefix}-rate-limit"),
    }


def web_acl_inputs(name: str, args: WebAclArgs) -> dict:
    """The web ACL's inputs in the typed SDK's (snake_case) terms."""
    rules = [
        _managed(name, priority, group, args.count_only)
        for priority, group in enumerate(MANAGED_RULE_GROUPS)
    ]
    rules.append(_rate_limit(name, len(rules), args))
    return {
        "name": name,
        "description": "CRM load balancer: AWS managed rules and a per-IP rate limit",
        "scope": "REGIONAL",
        "default_action": {"allow": {}},
        "rules": rules,
        "visibility_config": _visibility(name),
    }


def associate(
    name: str,
    resource_arn: pulumi.Input[str],
    web_acl_arn: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> pulumi.CustomResource:
    """`aws.wafv2.WebAclAssociation` of a web ACL with a load balancer."""
    inputs = {"resource_arn": resource_arn, "web_acl_arn": web_acl_arn}
    return pulumi.CustomResource(WEB_ACL_ASSOCIATION, name, engine_inputs(inputs), opts)


class WebAcl(pulumi.ComponentResource):
    """The web ACL; associate `arn` with the load balancer."""

    def __init__(self, name: str, args: WebAclArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("crm-platform:operations:WebAcl", name, None, opts)
        self.web_acl = pulumi.CustomResource(
            WEB_ACL,
            name,
            {**engine_inputs(web_acl_inputs(name, args)), "arn": None},
            pulumi.ResourceOptions(parent=self),
        )
        self.arn: pulumi.Output[str] = self.web_acl.arn
        self.register_outputs({"arn": self.arn})
