"""A stack added in another jurisdiction (prod-us: the prod profile in us-east-1, residency US,
its own AWS account) goes the whole path with no code change: plan and policy gate,
policy-config, matrix, and the operations commands against moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner

import stacks.stackfile as stackfile
from stacks.cli import app
from stacks.offline import Plan, synthesize_stack
from stacks.settings import load_settings
from tests.ops.helpers import assert_clean_failure, deploy_plan, flat

STACK = "prod-us"
REGION = "us-east-1"
ACCOUNT_PROFILE = "crm-us"
DEPLOY_ROLE = "arn:aws:iam::210987654321:role/crm-deployer"
STACK_FILE = f"""\
config:
  aws:region: {REGION}
  aws:profile: {ACCOUNT_PROFILE}
  aws:assumeRoles:
    - roleArn: {DEPLOY_ROLE}
      sessionName: crm-prod-us
  crm-platform:profile: prod
  crm-platform:residency:
    jurisdiction: US
    allowedRegions: [us-east-1, us-west-2]
  crm-platform:network:
    cidr: 10.50.0.0/16
  crm-platform:app:
    domain: crm-us.example.com
    tls:
      hostedZoneId: Z0EXAMPLE1234567890
"""
_plans: dict[str, Plan] = {}


@pytest.fixture(scope="module", autouse=True)
def with_us_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The repository's stack files plus Pulumi.prod-us.yaml."""
    root = tmp_path_factory.mktemp("repo")
    for path in stackfile.ROOT.glob("Pulumi.*yaml"):
        (root / path.name).write_bytes(path.read_bytes())
    (root / f"Pulumi.{STACK}.yaml").write_text(STACK_FILE)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stackfile, "ROOT", root)
        yield root


@pytest.fixture
def us_account(aws, tmp_path: Path) -> None:
    """The stack's aws:profile, in the (test-local) AWS config the ops tests point at."""
    Path(tmp_path / "aws-credentials").write_text(
        f"[{ACCOUNT_PROFILE}]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
    )


def us_plan() -> Plan:
    if STACK not in _plans:
        config = stackfile.read_stack_config(STACK)
        _plans[STACK] = synthesize_stack(STACK, config, load_settings(STACK, config))
    return _plans[STACK]


def test_plan_gates_clean_and_every_provider_targets_the_stacks_account_and_region() -> None:
    result = CliRunner().invoke(app, ["plan", STACK])
    assert result.exit_code == 0, result.output
    assert "residency US: us-east-1, us-west-2" in result.stdout
    assert us_plan().named(f"aws-{STACK}").get("region") == REGION
    for provider in us_plan().of_type("pulumi:providers:aws"):  # home and backup copy
        assert provider.get("profile") == ACCOUNT_PROFILE
        roles = provider.get("assumeRoles")
        roles = json.loads(roles) if isinstance(roles, str) else roles
        assert [role["roleArn"] for role in roles] == [DEPLOY_ROLE]


def test_policy_config_and_matrix_follow_the_stack_file() -> None:
    config = json.loads(CliRunner().invoke(app, ["policy-config", STACK]).stdout)
    assert config["residency-region-allowlist"] == {
        "allowedRegions": ["us-east-1", "us-west-2"],
        "defaultRegion": REGION,
    }
    document = json.loads(CliRunner().invoke(app, ["matrix"]).stdout)
    entry = next(e for e in document["matrix"]["include"] if e["stack"] == STACK)
    assert entry == {"stack": STACK, "region": REGION, "profile": "prod", "jurisdiction": "US"}
    assert document["promotion"][-2:] == ["prod", STACK]


def test_verify_passes_on_its_deployment(us_account, cli, tmp_path) -> None:
    outputs = deploy_plan(us_plan())
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    result = cli("verify", STACK, "--outputs-file", str(path))
    assert result.exit_code == 0, result.output
    assert "rds read replicas as configured" in result.output


def test_residency_audit_uses_the_us_allow_list(us_account, cli) -> None:
    deploy_plan(us_plan())
    boto3.client("eks", region_name=REGION).tag_resource(
        resourceArn=boto3.client("eks", region_name=REGION).describe_cluster(
            name=us_plan().outputs["clusterName"]
        )["cluster"]["arn"],
        tags={"environment": STACK},
    )
    assert cli("residency-audit", STACK).exit_code == 0
    stray = boto3.client("secretsmanager", region_name="eu-central-1").create_secret(
        Name="us-data-in-eu",
        SecretString="x",
        Tags=[{"Key": "project", "Value": "crm-platform"}, {"Key": "environment", "Value": STACK}],
    )["ARN"]
    result = cli("residency-audit", STACK)
    assert result.exit_code == 1, result.output
    assert f"VIOLATION eu-central-1 secretsmanager:secret {stray}" in flat(result.output)


def test_bootstrap_and_failover_work_in_the_stacks_region(us_account, cli) -> None:
    result = cli("bootstrap", STACK)
    assert result.exit_code == 0, result.output
    assert f"?region={REGION}'" in result.output
    replica = deploy_plan(us_plan())["dbReplicaIdentifiers"][0]
    dry_run = cli("failover", STACK, "--replica", replica, "--dry-run")
    assert dry_run.exit_code == 0, dry_run.output
    assert f"{REGION} / {REGION}" in flat(dry_run.output)
    refused = cli("failover", STACK, "--replica", replica, "--region", "eu-central-1")
    assert_clean_failure(refused, 2, "'eu-central-1' is outside the residency allow-list")
