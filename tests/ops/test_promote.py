"""`promote SRC DST` through the Automation API against the recording Pulumi stand-in: the
version read from SRC's workloads stack, written to the root stack file through DST's
platform stack and deployed by DST's workloads stack only; step order, a stop before any
change when the private API is unreachable, stops before `up` on policy or snapshot
failures, no double promotion, and refusal of a source that runs no version. AWS (snapshot,
verify) is moto; the reachability probe is replaced."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from ops import deploy
from ops.promote import snapshot_id
from ops.stack_settings import stack_settings
from stacks.policy_config import policy_config_for
from tests.conftest import shipped
from tests.ops.helpers import FakePulumi, assert_clean_failure, deploy_plan, flat, pulumi_args

POLICY_CONFIG = {"crm-guardrails": {"allowed-regions": {"regions": ["eu-central-1"]}}}


@pytest.fixture
def policy_config(tmp_path: Path) -> Path:
    path = tmp_path / "policy-config.json"
    path.write_text(json.dumps(POLICY_CONFIG))
    return path


@pytest.fixture(autouse=True)
def probed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Endpoints whose reachability was checked (all reachable unless a test says else)."""
    seen: list[str] = []
    monkeypatch.setattr(deploy, "unreachable_reason", lambda endpoint: seen.append(endpoint))
    return seen


@pytest.fixture
def stacks(aws, fake_pulumi: FakePulumi) -> FakePulumi:
    """staging runs v1.2.3; prod runs v1.2.2 (its root config too), its platform in moto."""
    fake_pulumi.add_stack("workloads/staging", {"crmVersion": "v1.2.3"})
    fake_pulumi.add_stack("prod", deploy_plan(shipped("prod")), {"app.version": "v1.2.2"})
    fake_pulumi.add_stack("workloads/prod", {"crmVersion": "v1.2.2"})
    return fake_pulumi


def promote(cli, fake: FakePulumi, *args: str, policy_config: Path | None = None):
    options = ["--policy-config", str(policy_config)] if policy_config else []
    return cli("promote", *args, *pulumi_args(fake), *options)


def snapshots() -> list[dict]:
    return boto3.client("rds").describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]


def order(verbs: list[str], *wanted: str) -> list[int]:
    return [verbs.index(verb) for verb in wanted]


def test_promotes_to_prod_in_order(stacks, cli, policy_config, probed):
    result = promote(cli, stacks, "staging", "prod", policy_config=policy_config)

    assert result.exit_code == 0, result.output
    verbs = stacks.verbs()
    steps = ["refresh workloads/prod", "preview workloads/prod", "up workloads/prod"]
    source = ["stack select workloads/staging", "stack output workloads/staging"]
    positions = order(verbs, *source, "config set prod", *steps)
    assert positions == sorted(positions), verbs
    assert not {"refresh prod", "preview prod", "up prod"} & set(verbs)
    assert probed == [shipped("prod").outputs["clusterEndpoint"]]
    preview, up = (
        next(c for c in stacks.calls() if c["argv"][0] == verb) for verb in ("preview", "up")
    )
    for call in (preview, up):
        pack = call["argv"][call["argv"].index("--policy-pack") + 1]
        assert Path(pack) == stacks.project / "policies"
        assert call["policy_config"] == POLICY_CONFIG
    assert stacks.state["stacks"]["prod"]["config"]["app.version"] == "v1.2.3"
    assert stacks.state["stacks"]["workloads/prod"]["config"] == {}
    (snapshot,) = snapshots()
    assert snapshot["DBInstanceIdentifier"] == shipped("prod").outputs["dbPrimaryIdentifier"]
    assert snapshot["Status"] == "available"
    assert "pre-v1-2-3" in snapshot["DBSnapshotIdentifier"]
    text = flat(result.output)
    assert "verify prod" in text and "FAIL" not in text
    assert "prod now runs v1.2.3" in text


def test_non_prod_destination_takes_no_snapshot_unless_asked(aws, fake_pulumi, cli, policy_config):
    fake_pulumi.add_stack("workloads/dev", {"crmVersion": "v2.0.0"})
    fake_pulumi.add_stack("staging", deploy_plan(shipped("staging")))
    fake_pulumi.add_stack("workloads/staging", {})

    result = promote(cli, fake_pulumi, "dev", "staging", policy_config=policy_config)

    assert result.exit_code == 0, result.output
    assert "up workloads/staging" in fake_pulumi.verbs()
    assert snapshots() == []


def test_snapshot_flag_snapshots_any_destination(aws, fake_pulumi, cli, policy_config):
    fake_pulumi.add_stack("workloads/dev", {"crmVersion": "v2.0.0"})
    fake_pulumi.add_stack("staging", deploy_plan(shipped("staging")))
    fake_pulumi.add_stack("workloads/staging", {})
    result = promote(cli, fake_pulumi, "dev", "staging", "--snapshot", policy_config=policy_config)
    assert result.exit_code == 0, result.output
    assert [s["DBInstanceIdentifier"] for s in snapshots()] == [
        shipped("staging").outputs["dbPrimaryIdentifier"]
    ]


def test_mandatory_policy_violation_stops_before_snapshot_and_up(stacks, cli, policy_config):
    stacks.fail(
        "preview",
        stderr="preview failed: policy violations",
        stdout="Policy Violations:\n    [mandatory]  crm-guardrails  allowed-regions  "
        "(aws:rds/instance:Instance: crm-prod-db) region us-east-1 is not allowed",
    )

    result = promote(cli, stacks, "staging", "prod", policy_config=policy_config)

    assert_clean_failure(
        result,
        1,
        "stopped at step 'preview with policy pack'",
        "mandatory policy violation",
        "allowed-regions",
        "config changed but not deployed",
        "pulumi config set --path app.version v1.2.2 --stack prod",
    )
    assert "up workloads/prod" not in stacks.verbs()
    assert snapshots() == []


def test_snapshot_failure_stops_before_up(stacks, cli, policy_config):
    state = stacks.state
    state["stacks"]["prod"]["outputs"]["dbPrimaryIdentifier"] = "crm-prod-db-missing"
    stacks.set_state(state)

    result = promote(cli, stacks, "staging", "prod", policy_config=policy_config)

    assert_clean_failure(
        result,
        1,
        "stopped at step 'snapshot database'",
        "DBInstanceNotFound",
        "config changed but not deployed",
    )
    verbs = stacks.verbs()
    assert "preview workloads/prod" in verbs and "up workloads/prod" not in verbs


def test_failed_up_reports_partial_state_and_the_snapshot(stacks, cli, policy_config):
    stacks.fail("up", stderr="error: update failed: creating RDS parameter group: throttled")

    result = promote(cli, stacks, "staging", "prod", policy_config=policy_config)

    (snapshot,) = snapshots()
    assert_clean_failure(
        result,
        1,
        "stopped at step 'deploy (pulumi up)'",
        "throttled",
        "failed part-way",
        "python -m stacks refresh prod --layer workloads",
        f"Pre-promotion snapshot: {snapshot['DBSnapshotIdentifier']}",
    )


def test_failed_verification_after_up_is_reported(stacks, cli, policy_config):
    boto3.client("rds").modify_db_instance(
        DBInstanceIdentifier=shipped("prod").outputs["dbPrimaryIdentifier"],
        MultiAZ=False,
        ApplyImmediately=True,
    )
    result = promote(cli, stacks, "staging", "prod", policy_config=policy_config)
    assert_clean_failure(
        result,
        1,
        "stopped at step 'verify deployment'",
        "rds primary Multi-AZ",
        "v1.2.3 is deployed but verification failed",
    )


def test_version_already_running_is_not_promoted_twice(stacks, cli, policy_config):
    state = stacks.state
    state["stacks"]["workloads/prod"]["outputs"]["crmVersion"] = "v1.2.3"
    stacks.set_state(state)

    result = promote(cli, stacks, "staging", "prod", policy_config=policy_config)

    assert result.exit_code == 0, result.output
    assert "prod already runs v1.2.3; nothing to promote" in result.output
    verbs = stacks.verbs()
    assert not {"config set prod", "refresh workloads/prod", "up workloads/prod"} & set(verbs)
    assert snapshots() == []


def test_second_promotion_is_a_no_op(stacks, cli, policy_config):
    assert promote(cli, stacks, "staging", "prod", policy_config=policy_config).exit_code == 0
    calls = len(stacks.calls())

    again = promote(cli, stacks, "staging", "prod", policy_config=policy_config)

    assert again.exit_code == 0
    assert "nothing to promote" in again.output
    assert "up workloads/prod" not in stacks.verbs()[calls:]
    assert len(snapshots()) == 1


@pytest.mark.parametrize(
    ("version", "reason"),
    [
        (None, "exports no crmVersion output"),
        ("", "exports no crmVersion output"),
        ("latest", "which is not a release tag"),
    ],
)
def test_source_without_a_release_version_is_refused(stacks, cli, policy_config, version, reason):
    outputs = {} if version is None else {"crmVersion": version}
    stacks.add_stack("workloads/staging", outputs)

    result = promote(cli, stacks, "staging", "prod", policy_config=policy_config)

    assert_clean_failure(result, 2, "stopped at step 'read source version'", "refusing", reason)
    assert "prod is unchanged" in flat(result.output)
    assert "config set prod" not in stacks.verbs()


def test_destination_without_a_stack_file(stacks, cli, policy_config):
    result = promote(cli, stacks, "staging", "qa", policy_config=policy_config)
    assert_clean_failure(result, 2, "no file Pulumi.qa.yaml")
    assert stacks.verbs() == []


def test_destination_missing_from_the_backend(stacks, cli, policy_config):
    result = promote(cli, stacks, "prod", "dev", policy_config=policy_config)
    assert_clean_failure(result, 2, "Stack 'dev' not found")


def test_same_source_and_destination_is_refused(stacks, cli, policy_config):
    result = promote(cli, stacks, "prod", "prod", policy_config=policy_config)
    assert_clean_failure(result, 2, "SRC and DST are the same stack")


def test_policy_config_defaults_to_the_destinations(stacks, cli):
    """Without --policy-config the pack config is `python -m stacks policy-config DST`'s."""
    result = promote(cli, stacks, "staging", "prod")

    assert result.exit_code == 0, result.output
    preview = next(c for c in stacks.calls() if c["argv"][0] == "preview")
    assert preview["policy_config"] == policy_config_for(stack_settings("prod"))


def test_unreachable_api_stops_before_anything_changes(stacks, cli, policy_config, monkeypatch):
    monkeypatch.setattr(deploy, "unreachable_reason", lambda endpoint: "timed out")

    result = promote(cli, stacks, "staging", "prod", policy_config=policy_config)

    label = shipped("prod").outputs["deployRunnerLabel"]
    assert_clean_failure(
        result,
        2,
        "stopped at step 'reach the private Kubernetes API'",
        "is not reachable from here: timed out",
        f"runs-on: {label}-${{{{ github.run_id }}}}",
        "`python -m stacks promote staging prod` from a machine inside the VPC",
        "prod is unchanged",
    )
    assert "config set prod" not in stacks.verbs()


def test_missing_policy_pack_is_a_user_error(stacks, cli, policy_config):
    (stacks.project / "policies" / "PulumiPolicy.yaml").unlink()
    result = promote(cli, stacks, "staging", "prod", policy_config=policy_config)
    assert_clean_failure(result, 2, "No policy pack at", "prod is unchanged")
    assert "config set prod" not in stacks.verbs()


def test_snapshot_identifier_is_valid_for_rds():
    from datetime import datetime

    name = snapshot_id("prod", "v1.2.3-rc.1+build.7", datetime(2026, 5, 4, 3, 2, 1))
    assert name == "crm-platform-prod-pre-v1-2-3-rc-1-build-7-20260504030201"
