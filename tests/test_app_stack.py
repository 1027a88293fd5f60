"""The CRM composed into the shipped stacks: capacity from settings, the connection budget,
identities wired to the cluster, the certificate, and the offline policy gate in `plan`."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import stacks.cli as cli
from stacks.cli import app
from stacks.offline import Plan
from stacks.policy_config import build_policy_config, policy_config_for
from stacks.settings import SettingsError, load_settings
from stacks.stackfile import stack_names
from tests.support import stack_config

runner = CliRunner()
SERVER_HPA = ("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "twenty-server")


def _named(plan: Plan, type_token: str, name: str):
    return next(r for r in plan.of_type(type_token) if r.get("metadata.name") == name)


@pytest.mark.parametrize(
    ("stack", "low", "high"), [("dev", 1, 2), ("staging", 2, 3), ("prod", 3, 5)]
)
def test_server_autoscaler_follows_the_capacity_model(stack: str, low: int, high: int, request):
    plan: Plan = request.getfixturevalue(stack)
    hpa = _named(plan, *SERVER_HPA)
    assert (hpa.get("spec.minReplicas"), hpa.get("spec.maxReplicas")) == (low, high)
    server = _named(plan, "kubernetes:apps/v1:Deployment", "twenty-server")
    assert server.get("spec.replicas") == low


def test_prod_runs_at_least_three_servers_spread_over_zones(prod: Plan) -> None:
    server = _named(prod, "kubernetes:apps/v1:Deployment", "twenty-server")
    assert server.get("spec.replicas") >= 3
    zones = [c["topologyKey"] for c in server.get("spec.template.spec.topologySpreadConstraints")]
    assert "topology.kubernetes.io/zone" in zones
    assert server.get("spec.template.spec.nodeSelector") == {"crm-platform/pool": "app"}


def test_capacity_model_numbers() -> None:
    capacity = load_settings("prod", stack_config("prod")).app.capacity
    # S = 60 req/s, C = 20 req/s per pod, +50% headroom -> ceil(4.5) = 5 pods at most
    assert capacity.max_server_pods == 5
    # Two pools per Twenty process; a rollout adds two processes (surges or the migration Job).
    assert capacity.connections_at_peak() == (5 + 4 + 2) * 2 * 10


def test_connection_budget_is_refused_with_the_numbers() -> None:
    config = stack_config(
        "dev",
        app={
            "domain": "crm-dev.example.com",
            "tls": {"hostedZoneId": "Z0EXAMPLE1234567890"},
            "capacity": {"peakRequestsPerSecond": 200, "poolSize": 20},
        },
    )
    with pytest.raises(SettingsError) as caught:
        load_settings("dev", config)
    assert caught.value.messages == [
        "crm-platform:app.capacity: 760 is not allowed; it must keep PostgreSQL connections "
        "within 80% of max_connections: (15 server pods + 2 worker pods + 2 during a rollout) "
        "x 2 pools x 20 = 760 > 134 (80% of 168 on db.t4g.small); lower peakRequestsPerSecond, "
        "maxWorkerPods or poolSize, or choose a larger database.instanceClass."
    ]


@pytest.mark.parametrize(
    ("app", "message"),
    [
        (
            {"domain": "crm.example.com", "tls": {}},
            "crm-platform:app.tls.certificateArn: null is not allowed; it must be set, or "
            "hostedZoneId instead, but not both.",
        ),
        (
            {
                "domain": "crm.example.com",
                "tls": {
                    "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/"
                    "12345678-1234-1234-1234-123456789012"
                },
            },
            "crm-platform:app.tls.certificateArn: 'arn:aws:acm:us-east-1:123456789012:"
            "certificate/12345678-1234-1234-1234-123456789012' is not allowed; it must be a "
            "certificate in eu-central-1, the load balancer's region.",
        ),
        (
            {"domain": "CRM_example", "tls": {"hostedZoneId": "Z0EXAMPLE1234567890"}},
            "crm-platform:app.domain: 'CRM_example' is not allowed; it must be a lowercase DNS "
            "name such as crm.example.com.",
        ),
        (
            {
                "domain": "crm.example.com",
                "version": "latest",
                "tls": {"hostedZoneId": "Z0EXAMPLE1234567890"},
            },
            "crm-platform:app.version: 'latest' is not allowed; it must be a release tag such as "
            "v2.42.5 (never latest).",
        ),
    ],
    ids=["no-certificate", "certificate-elsewhere", "bad-domain", "latest"],
)
def test_app_settings_errors(app: dict, message: str) -> None:
    config = stack_config("prod") | {"crm-platform:app": json.dumps(app)}
    with pytest.raises(SettingsError) as caught:
        load_settings("prod", config)
    assert caught.value.messages == [message]


def test_app_identities_are_bound_to_their_service_accounts(prod: Plan) -> None:
    roles = {r.name: r for r in prod.of_type("aws:iam/role:Role")}
    for role_name, account in (
        ("crm-app", "twenty"),
        ("crm-secrets", "twenty-secrets"),
        ("crm-db-bootstrap", "twenty-db-bootstrap"),
    ):
        role = next(r for name, r in roles.items() if name.endswith(role_name))
        trust = json.loads(role.get("assumeRolePolicy"))
        conditions = json.dumps(trust["Statement"][0]["Condition"])
        assert f"system:serviceaccount:crm:{account}" in conditions
        annotation = _named(prod, "kubernetes:core/v1:ServiceAccount", account).get(
            "metadata.annotations"
        )["eks.amazonaws.com/role-arn"]
        assert annotation.endswith(f"/{role.name}") or role.name in annotation


@pytest.mark.parametrize(
    ("role", "secrets", "keys"),
    [
        ("crm-secrets", ["dbCrmSecretArn", "emailSecretArn"], ["dbKmsKeyArn", "email"]),
        ("crm-db-bootstrap", ["dbMasterSecretArn"], ["dbKmsKeyArn"]),
    ],
)
def test_each_secrets_reader_may_read_only_its_own(prod: Plan, role, secrets, keys) -> None:
    """The CRM's reader gets the CRM's login and SMTP secret; only the bootstrap's reader
    gets the master login."""
    policy = next(p for p in prod.of_type("aws:iam/rolePolicy:RolePolicy") if p.name.endswith(role))
    statements = json.loads(policy.get("policy"))["Statement"]
    read = next(s for s in statements if "secretsmanager:GetSecretValue" in s["Action"])
    outputs = prod.outputs
    assert read["Resource"] == [outputs[secret] for secret in secrets]
    decrypt = next(s for s in statements if s["Action"] == "kms:Decrypt")
    key_arns = {"dbKmsKeyArn": outputs["dbKmsKeyArn"], "email": outputs["kmsKeyArns"]["email"]}
    assert decrypt["Resource"] == [key_arns[key] for key in keys]


def test_outputs_name_the_running_version(any_stack: Plan) -> None:
    workloads = any_stack.layers["workloads"].outputs
    assert workloads["crmVersion"] == load_settings("dev", stack_config("dev")).app.version
    assert workloads["crmUrl"] == any_stack.outputs["crmUrl"]
    assert any_stack.outputs["crmUrl"].startswith("https://crm")


@pytest.mark.parametrize("stack", stack_names())
def test_shipped_stacks_pass_the_policy_gate(stack: str) -> None:
    result = runner.invoke(app, ["plan", stack, "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["policies"]["mandatory"] == 0
    assert document["capacity"]["connectionsAtPeak"] <= document["capacity"]["connectionBudget"]


def test_plan_fails_on_a_mandatory_violation(monkeypatch) -> None:
    """Dev judged by prod's availability rules: its single-AZ database must stop the gate."""

    def strict(settings):
        config = policy_config_for(settings)
        return config | build_policy_config(
            environment="prod",
            region=settings.region,
            allowed_regions=settings.residency.allowed_regions,
            high_availability=True,
        )

    monkeypatch.setattr(cli, "policy_config_for", strict)
    result = runner.invoke(app, ["plan", "dev"])
    assert result.exit_code == 1
    assert "mandatory policy violation(s) in stack 'dev'" in result.stderr
    assert "rds-multi-az" in result.stdout


def test_policy_config_command_derives_from_the_settings() -> None:
    result = runner.invoke(app, ["policy-config", "prod"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    settings = load_settings("prod", stack_config("prod"))
    assert document == policy_config_for(settings)
    assert json.dumps(["eu-central-1", "eu-west-1"]) in json.dumps(document)
