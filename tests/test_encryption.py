"""Customer-managed keys: one per domain, rotating, protected in prod, usable by their services."""

from __future__ import annotations

import json

import pytest

from components.encryption import Encryption, EncryptionArgs, KeyDomain, KeyPolicyNames, key_policy
from stacks.offline import Plan
from tests.support import invoke, service_principal, synth_component

KEY = "aws:kms/key:Key"
ALIAS = "aws:kms/alias:Alias"


def _home(plan: Plan, type_token: str) -> list:
    """Resources of the stack's own `Encryption` (not a copy region's)."""
    home = f"{plan.stack}-keys"
    return [r for r in plan.of_type(type_token) if plan.top_component(r).name == home]


def _names(region: str) -> KeyPolicyNames:
    """What the component learns from the provider's data sources in `region`."""
    partition = invoke("aws:index/getPartition:getPartition", region)
    return KeyPolicyNames(
        partition=partition["partition"],
        region=region,
        dns_suffix=partition["dnsSuffix"],
        logs_principal=service_principal("logs", region)["id"],
        autoscaling_principal=service_principal("autoscaling", region)["name"],
        alert_publishers=(service_principal("cloudwatch", region)["name"],),
    )


def _key(plan: Plan, domain: str):
    return next(k for k in _home(plan, KEY) if k.get("tags.data-domain") == domain)


def test_one_rotating_key_and_alias_per_domain(any_stack: Plan) -> None:
    keys = _home(any_stack, KEY)
    assert sorted(k.get("tags.data-domain") for k in keys) == sorted(d.value for d in KeyDomain)
    assert all(k.get("enableKeyRotation") is True for k in keys)
    assert all(k.get("deletionWindowInDays") == 30 for k in keys)
    aliases = sorted(a.get("name") for a in _home(any_stack, ALIAS))
    env = any_stack.stack
    assert aliases == sorted(f"alias/crm-platform/{env}/{d.value}" for d in KeyDomain)


@pytest.mark.parametrize(
    ("stack", "protected"), [("dev", False), ("staging", False), ("prod", True)]
)
def test_keys_are_protected_in_prod_only(stack: str, protected: bool, request) -> None:
    plan: Plan = request.getfixturevalue(stack)
    assert {k.protect for k in plan.of_type(KEY)} == {protected}


def test_alias_points_at_its_own_key(prod: Plan) -> None:
    for alias in _home(prod, ALIAS):
        domain = alias.get("name").rsplit("/", 1)[1]
        assert alias.property_dependencies["targetKeyId"] == [_key(prod, domain).urn]


def test_cloudwatch_logs_may_use_only_the_logs_key(prod: Plan) -> None:
    for key in prod.of_type(KEY):
        statements = json.loads(key.get("policy"))["Statement"]
        logs = [
            s
            for s in statements
            if s["Principal"].get("Service") == "logs.eu-central-1.amazonaws.com"
        ]
        if key.get("tags.data-domain") == "logs":
            (grant,) = logs
            assert grant["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == (
                "arn:aws:logs:eu-central-1:123456789012:log-group:*"
            )
            assert "kms:GenerateDataKey*" in grant["Action"]
        else:
            assert logs == []


@pytest.mark.parametrize("domain", list(KeyDomain))
def test_policies_keep_the_account_in_control_and_never_open_the_key(domain: KeyDomain) -> None:
    statements = key_policy(domain, "111122223333", _names("eu-west-1"))["Statement"]
    admin = statements[0]
    assert admin["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert admin["Action"] == "kms:*"
    for statement in statements:
        if statement["Principal"].get("AWS") == "*":
            assert statement["Condition"]["StringEquals"]["kms:CallerAccount"] == "111122223333"
    via = statements[1]["Condition"]["StringEquals"]["kms:ViaService"]
    suffix = invoke("aws:index/getPartition:getPartition", "eu-west-1")["dnsSuffix"]
    assert all(service.endswith(f".eu-west-1.{suffix}") for service in via)


def test_volume_key_lets_auto_scaling_launch_encrypted_nodes() -> None:
    names = _names("eu-west-1")
    statements = key_policy(KeyDomain.VOLUMES, "111122223333", names)["Statement"]
    role = (
        f"arn:aws:iam::111122223333:role/aws-service-role/{names.autoscaling_principal}/"
        "AWSServiceRoleForAutoScaling"
    )
    grants = [s for s in statements if s.get("Condition", {}).get("ArnEquals")]
    assert {s["Sid"] for s in grants} == {
        "AutoScalingUseForNodeVolumes",
        "AutoScalingGrantsForNodeVolumes",
    }
    assert all(s["Condition"]["ArnEquals"]["aws:PrincipalArn"] == role for s in grants)
    create_grant = next(s for s in grants if s["Action"] == "kms:CreateGrant")
    assert create_grant["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}


def test_component_creates_only_requested_domains_with_given_window() -> None:
    plan = synth_component(
        lambda opts: Encryption(
            "dr",
            EncryptionArgs(
                region="eu-west-1",
                alias_prefix="crm-platform/dr",
                domains=(KeyDomain.DATABASE,),
                deletion_window_days=14,
                protect=False,
            ),
            opts=opts,
        ),
        region="eu-west-1",
    )
    (key,) = plan.of_type(KEY)
    assert key.get("deletionWindowInDays") == 14
    assert "rds.eu-west-1.amazonaws.com" in key.get("policy")
    assert key.parent == plan.one("crm-platform:security:Encryption").urn
