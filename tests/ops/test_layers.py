"""`up`, `preview`, `refresh` and `destroy` of a stack's two layers through the Automation API,
against the recording Pulumi stand-in: order (destroy reversed), the policy pack, the stop
when the private Kubernetes API is unreachable, and failures. The reachability probe is
replaced, except in the tests of the probe itself (against local sockets)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from ops import deploy
from ops.stack_settings import stack_settings
from stacks.policy_config import policy_config_for
from tests.conftest import shipped
from tests.ops.helpers import FakePulumi, assert_clean_failure, flat, pulumi_args

SECRETS_PROVIDER = "awskms://alias/crm-platform-pulumi-secrets?region=eu-central-1"


class Probe:
    """Stands in for `unreachable_reason`: records the endpoints and the CLI calls made so far."""

    def __init__(self, fake: FakePulumi, reason: str | None = None) -> None:
        self.fake, self.reason, self.seen = fake, reason, []

    def __call__(self, endpoint: str, timeout: float = deploy.PROBE_TIMEOUT) -> str | None:
        self.seen.append((endpoint, self.fake.verbs()))
        return self.reason


@pytest.fixture
def platform(fake_pulumi: FakePulumi) -> dict:
    """dev's platform stack in the backend, exporting what the synthesized platform exports."""
    outputs = {
        name: shipped("dev").outputs[name]
        for name in (deploy.CLUSTER_ENDPOINT, deploy.RUNNER_LABEL)
    }
    fake_pulumi.add_stack("dev", outputs)
    return outputs


@pytest.fixture
def probe(monkeypatch: pytest.MonkeyPatch, fake_pulumi: FakePulumi) -> Probe:
    probe = Probe(fake_pulumi)
    monkeypatch.setattr(deploy, "unreachable_reason", probe)
    return probe


def layers(cli, fake: FakePulumi, *args: str):
    return cli(*args, *pulumi_args(fake))


def operations(fake: FakePulumi, verb: str) -> list[dict]:
    return [call for call in fake.calls() if call["argv"][0] == verb]


def test_up_deploys_the_platform_then_the_workloads_with_the_policy_pack(
    fake_pulumi, platform, probe, cli
):
    (fake_pulumi.project / "Pulumi.dev.yaml").write_text(f"secretsprovider: {SECRETS_PROVIDER}\n")

    result = layers(cli, fake_pulumi, "up", "dev")

    assert result.exit_code == 0, result.output
    verbs = fake_pulumi.verbs()
    assert [verb for verb in verbs if verb.startswith("up")] == ["up dev", "up workloads/dev"]
    assert verbs.index("stack init workloads/dev") < verbs.index("up workloads/dev")
    assert fake_pulumi.state["stacks"]["workloads/dev"]["secretsProvider"] == SECRETS_PROVIDER
    for call in operations(fake_pulumi, "up"):
        argv = call["argv"]
        assert Path(argv[argv.index("--policy-pack") + 1]) == fake_pulumi.project / "policies"
        assert call["policy_config"] == policy_config_for(stack_settings("dev"))
    ((endpoint, before),) = probe.seen
    assert endpoint == platform[deploy.CLUSTER_ENDPOINT]
    assert "up dev" in before and "up workloads/dev" not in before
    assert "up of dev done: platform, workloads" in flat(result.output)


def test_preview_runs_both_layers_in_order_with_the_policy_pack(fake_pulumi, platform, probe, cli):
    result = layers(cli, fake_pulumi, "preview", "dev")

    assert result.exit_code == 0, result.output
    previews = operations(fake_pulumi, "preview")
    assert [call["stack"] for call in previews] == ["dev", "workloads/dev"]
    assert all("--policy-pack" in call["argv"] for call in previews)
    assert not operations(fake_pulumi, "up")


def test_refresh_runs_both_layers_in_order(fake_pulumi, platform, probe, cli):
    result = layers(cli, fake_pulumi, "refresh", "dev")
    assert result.exit_code == 0, result.output
    assert [call["stack"] for call in operations(fake_pulumi, "refresh")] == [
        "dev",
        "workloads/dev",
    ]


def test_destroy_removes_the_workloads_first_after_checking_the_api(
    fake_pulumi, platform, probe, cli
):
    fake_pulumi.add_stack("workloads/dev", {"crmVersion": "v2.36.0"})

    result = layers(cli, fake_pulumi, "destroy", "dev", "--yes")

    assert result.exit_code == 0, result.output
    assert [call["stack"] for call in operations(fake_pulumi, "destroy")] == [
        "workloads/dev",
        "dev",
    ]
    ((_, before),) = probe.seen
    assert not [verb for verb in before if verb.startswith("destroy")]


def test_destroy_asks_first(fake_pulumi, platform, probe, cli):
    result = cli("destroy", "dev", *pulumi_args(fake_pulumi), input="n\n")
    assert_clean_failure(result, 2, "Destroy both layers of dev?", "not confirmed")
    assert fake_pulumi.calls() == []


def test_unreachable_api_stops_up_after_the_platform_naming_the_runner(
    fake_pulumi, platform, probe, cli
):
    probe.reason = "no TCP connection (timed out)"

    result = layers(cli, fake_pulumi, "up", "dev")

    label = platform[deploy.RUNNER_LABEL]
    assert_clean_failure(
        result,
        2,
        f"private Kubernetes API of stack dev ({platform[deploy.CLUSTER_ENDPOINT]}) is not "
        "reachable from here: no TCP connection (timed out)",
        "up of the platform layer completed. The workloads layer was not touched",
        f"runs-on: {label}-${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}",
        "`python -m stacks up dev --layer workloads` from a machine inside the VPC",
    )
    assert flat(result.output).count("error:") == 1
    assert "up dev" in fake_pulumi.verbs()
    assert not [call for call in fake_pulumi.calls() if call["stack"] == "workloads/dev"]


def test_unreachable_api_stops_destroy_before_anything_is_destroyed(
    fake_pulumi, platform, probe, cli
):
    fake_pulumi.add_stack("workloads/dev", {"crmVersion": "v2.36.0"})
    probe.reason = "no TCP connection (timed out)"

    result = layers(cli, fake_pulumi, "destroy", "dev", "--yes")

    assert_clean_failure(
        result, 2, "Nothing was changed", "`python -m stacks destroy dev --layer workloads`"
    )
    assert not operations(fake_pulumi, "destroy")


def test_one_layer(fake_pulumi, platform, probe, cli):
    assert layers(cli, fake_pulumi, "up", "dev", "--layer", "workloads").exit_code == 0
    assert [call["stack"] for call in operations(fake_pulumi, "up")] == ["workloads/dev"]
    assert len(probe.seen) == 1

    assert layers(cli, fake_pulumi, "up", "dev", "--layer", "platform").exit_code == 0
    assert [call["stack"] for call in operations(fake_pulumi, "up")][1:] == ["dev"]
    assert len(probe.seen) == 1


def test_failing_platform_up_stops_before_the_workloads(fake_pulumi, platform, probe, cli):
    fake_pulumi.fail("up dev", stderr="creating EKS Cluster (crm-dev): ResourceInUseException")

    result = layers(cli, fake_pulumi, "up", "dev")

    assert_clean_failure(
        result,
        1,
        "up of the platform layer of dev failed",
        "ResourceInUseException",
        "The workloads layer was not touched.",
    )
    assert not [call for call in fake_pulumi.calls() if call["stack"] == "workloads/dev"]
    assert probe.seen == []


def test_mandatory_violation_in_the_workloads_preview_fails(fake_pulumi, platform, probe, cli):
    fake_pulumi.fail(
        "preview workloads/dev",
        stderr="preview failed: policy violations",
        stdout="    [mandatory]  crm-guardrails  k8s-min-replicas  (kubernetes:apps/v1:Deployment)",
    )

    result = layers(cli, fake_pulumi, "preview", "dev")

    assert_clean_failure(
        result,
        1,
        "preview of the workloads layer of dev failed",
        "mandatory policy violation(s):",
        "k8s-min-replicas",
        "preview of the platform layer completed.",
    )


def test_workloads_need_a_deployed_platform(fake_pulumi, probe, cli):
    result = layers(cli, fake_pulumi, "up", "dev", "--layer", "workloads")
    assert_clean_failure(
        result, 2, "platform stack dev does not exist", "python -m stacks up dev --layer platform"
    )
    fake_pulumi.add_stack("dev", {})
    result = layers(cli, fake_pulumi, "up", "dev", "--layer", "workloads")
    assert_clean_failure(result, 2, "exports no clusterEndpoint")
    assert probe.seen == [] and not operations(fake_pulumi, "up")


def test_unknown_stack_and_layer_are_usage_errors(fake_pulumi, cli):
    assert_clean_failure(layers(cli, fake_pulumi, "up", "qa"), 2, "no file Pulumi.qa.yaml")
    assert layers(cli, fake_pulumi, "up", "dev", "--layer", "edge").exit_code == 2
    assert fake_pulumi.calls() == []


def test_probe_opens_a_tcp_connection():
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        assert deploy.unreachable_reason(f"https://127.0.0.1:{port}", timeout=1) is None
    reason = deploy.unreachable_reason(f"https://127.0.0.1:{port}", timeout=1)
    assert reason is not None and f"no TCP connection to 127.0.0.1:{port}" in reason
