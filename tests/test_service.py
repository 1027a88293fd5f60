"""The CRM as a service, judged on the shipped stacks: mail through SES in the residency region,
a first start nobody else can claim, drains that outlast the load balancer's, controllers that
elect a leader, and the policy rules for all of it passing."""

from __future__ import annotations

import json

import botocore.loaders
import pytest

from stacks.offline import Plan
from stacks.offline.gate import check
from stacks.offline.model import is_secret, unwrap
from stacks.policy_config import policy_config_for
from stacks.settings import SettingsError, load_settings
from tests.support import settings_of, stack_config, synth_stack

SECRET = "aws:secretsmanager/secret:Secret"
LISTENER = "aws:lb/listener:Listener"
RULE = "aws:lb/listenerRule:ListenerRule"
ISSUE_12_POLICIES = (
    "k8s-pod-readiness-gate",
    "k8s-prestop-hook",
    "k8s-leader-election",
    "k8s-job-await-deadline",
)


def _named(plan: Plan, kind: str, name: str):
    return next(
        r for r in plan.resources if r.type.endswith(f":{kind}") and r.get("metadata.name") == name
    )


def _env(plan: Plan, deployment: str) -> dict:
    (container,) = _named(plan, "Deployment", deployment).get("spec.template.spec.containers")
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def test_ses_identity_is_the_domain_signed_in_its_zone_in_the_stack_region(prod: Plan) -> None:
    settings = load_settings("prod", stack_config("prod"))
    identity = prod.one("aws:sesv2/emailIdentity:EmailIdentity")
    assert identity.get("emailIdentity") == settings.app.domain
    assert prod.by_urn(identity.provider).get("region") == settings.region
    configuration_set = prod.one("aws:sesv2/configurationSet:ConfigurationSet")
    assert identity.get("configurationSetName") == configuration_set.get("configurationSetName")
    assert configuration_set.get("deliveryOptions.tlsPolicy") == "REQUIRE"
    records = [
        r for r in prod.of_type("aws:route53/record:Record") if "._domainkey." in r.get("name")
    ]
    tokens = prod.outputs["emailDkimTokens"]
    assert sorted(r.get("name") for r in records) == sorted(
        f"{t}._domainkey.{settings.app.domain}" for t in tokens
    )
    assert {r.get("zoneId") for r in records} == {settings.app.tls.hosted_zone_id}
    assert all(r.get("type") == "CNAME" for r in records)


def test_smtp_sender_may_only_send_through_the_identity(prod: Plan) -> None:
    policy = json.loads(prod.one("aws:iam/userPolicy:UserPolicy").get("policy"))
    (statement,) = policy["Statement"]
    settings = load_settings("prod", stack_config("prod"))
    configuration_set = prod.one("aws:sesv2/configurationSet:ConfigurationSet")
    assert statement["Action"] == "ses:SendRawEmail"
    identity_arn, set_arn = statement["Resource"]
    assert identity_arn.startswith(f"arn:aws:ses:{settings.region}:")
    assert identity_arn.endswith(f":identity/{settings.app.domain}")
    assert set_arn.endswith(f":configuration-set/{configuration_set.get('configurationSetName')}")


def test_smtp_password_lives_only_in_a_cmk_encrypted_secret(prod: Plan) -> None:
    secret = next(s for s in prod.of_type(SECRET) if "smtp" in s.name)
    assert secret.get("kmsKeyId") == prod.outputs["kmsKeyArns"]["email"]
    (version,) = [
        v
        for v in prod.of_type("aws:secretsmanager/secretVersion:SecretVersion")
        if secret.urn in v.dependencies
    ]
    assert is_secret(version.inputs["secretString"])
    assert sorted(json.loads(version.get("secretString"))) == ["password", "username"]
    password = json.loads(version.get("secretString"))["password"]
    for resource in prod.resources:
        if resource is not version:
            assert password not in json.dumps(unwrap(resource.inputs)), resource.urn


def test_server_and_worker_send_through_ses_with_synced_credentials(prod: Plan) -> None:
    settings = load_settings("prod", stack_config("prod"))
    endpoints = botocore.loaders.create_loader().load_data("endpoints")
    (suffix,) = [p["dnsSuffix"] for p in endpoints["partitions"] if settings.region in p["regions"]]
    for deployment in ("twenty-server", "twenty-worker"):
        env = _env(prod, deployment)
        assert env["EMAIL_DRIVER"] == "smtp"
        assert env["EMAIL_SMTP_HOST"] == f"email-smtp.{settings.region}.{suffix}"
        assert env["EMAIL_SMTP_PORT"] == "587"
        assert env["EMAIL_FROM_ADDRESS"] == f"noreply@{settings.app.domain}"
        assert env["EMAIL_SMTP_PASSWORD"] == {
            "secretKeyRef": {"name": "twenty-email", "key": "password"}
        }
    synced = _named(prod, "ExternalSecret", "twenty-email")
    assert {d["remoteRef"]["key"] for d in synced.get("spec.data")} == {
        prod.outputs["emailSecretArn"]
    }
    smtp = _named(prod, "NetworkPolicy", "allow-smtp").get("spec.egress")
    assert [p["port"] for rule in smtp for p in rule["ports"]] == [587]


def test_sender_outside_the_domain_is_refused() -> None:
    config = stack_config("prod", app={"email": {"fromAddress": "crm@elsewhere.example"}})
    with pytest.raises(SettingsError) as caught:
        load_settings("prod", config)
    assert caught.value.messages == [
        "crm-platform:app.email.fromAddress: 'crm@elsewhere.example' is not allowed; it must be "
        "an address at crm.example.com, the identity SES verifies and signs."
    ]


def test_a_region_without_ses_is_refused(monkeypatch) -> None:
    import stacks.settings.model as model

    monkeypatch.setattr(model, "email_regions", lambda: frozenset({"eu-west-1"}))
    with pytest.raises(SettingsError) as caught:
        load_settings("prod", stack_config("prod"))
    assert caught.value.messages == [
        "aws:region: 'eu-central-1' is not allowed; it must be a region where Amazon "
        "SES sends mail (the CRM's email stays resident)."
    ]


def _https(plan: Plan):
    return next(r for r in plan.of_type(LISTENER) if r.get("protocol") == "HTTPS")


def test_first_start_is_locked_until_setup_is_completed(dev: Plan) -> None:
    (action,) = _https(dev).get("defaultActions")
    assert action["type"] == "fixed-response"
    assert action["fixedResponse"]["statusCode"] == "403"
    # Only the operator's ranges (a placeholder in the shipped stack files) reach the CRM.
    (rule,) = dev.of_type(RULE)
    (condition,) = rule.get("conditions")
    assert condition["sourceIp"]["values"] == settings_of("dev").app.setup.admin_cidrs


def test_admin_ranges_are_ipv4_the_load_balancer_can_match() -> None:
    config = stack_config("dev", app={"setup": {"adminCidrs": ["2001:db8::/32"]}})
    with pytest.raises(SettingsError, match="must be an IPv4 network"):
        load_settings("dev", config)


def test_first_start_admits_only_the_admin_ranges_then_everyone() -> None:
    cidrs = [f"198.51.100.{i * 8}/29" for i in range(7)]
    locked = synth_stack("dev", app={"setup": {"adminCidrs": cidrs}})
    rules = sorted(locked.of_type(RULE), key=lambda r: r.get("priority"))
    assert [v for r in rules for c in r.get("conditions") for v in c["sourceIp"]["values"]] == cidrs
    assert all(len(c["sourceIp"]["values"]) <= 5 for r in rules for c in r.get("conditions"))
    for rule in rules:
        (forward,) = rule.get("actions")
        assert forward["targetGroupArn"] == locked.outputs["targetGroupArn"]
    opened = synth_stack("dev", app={"setup": {"completed": True, "adminCidrs": cidrs}})
    (action,) = _https(opened).get("defaultActions")
    assert action["type"] == "forward" and not opened.of_type(RULE)


def test_admin_ranges_cannot_be_the_whole_internet() -> None:
    config = stack_config("dev", app={"setup": {"adminCidrs": ["0.0.0.0/0"]}})
    with pytest.raises(SettingsError) as caught:
        load_settings("dev", config)
    assert caught.value.messages == [
        "crm-platform:app.setup.adminCidrs.0: '0.0.0.0/0' is not allowed; it must not be the "
        "whole internet (that is what completed: true does)."
    ]


def test_server_pods_outlast_the_target_group_drain(any_stack: Plan) -> None:
    delay = int(any_stack.one("aws:lb/targetGroup:TargetGroup").get("deregistrationDelay"))
    (container,) = _named(any_stack, "Deployment", "twenty-server").get(
        "spec.template.spec.containers"
    )
    assert container["lifecycle"]["preStop"]["sleep"]["seconds"] >= delay


def test_external_secrets_elects_a_leader_and_keeps_two_webhooks(prod: Plan) -> None:
    release = next(
        r
        for r in prod.of_type("kubernetes:helm.sh/v3:Release")
        if r.get("chart") == "external-secrets"
    )
    values = release.get("values")
    assert values["replicaCount"] >= 2 and values["leaderElect"] is True
    assert values["webhook"]["replicaCount"] >= 2
    for budget in (values["podDisruptionBudget"], values["webhook"]["podDisruptionBudget"]):
        assert budget["enabled"] is True and budget["minAvailable"] >= 1


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_service_policies_find_nothing(stack: str, request) -> None:
    plan: Plan = request.getfixturevalue(stack)
    config = policy_config_for(load_settings(stack, stack_config(stack)))
    assert all(config.get(p, {}).get("enforcementLevel") != "advisory" for p in ISSUE_12_POLICIES)
    assert [f.policy for f in check(plan, config) if f.policy in ISSUE_12_POLICIES] == []
