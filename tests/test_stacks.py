"""Stack composition: explicit provider, region and tags, outputs, and the offline plan CLI."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from stacks.cli import app
from stacks.offline import Plan
from stacks.settings import load_settings
from stacks.stackfile import read_stack_config, stack_names
from tests.support import AWS_PROVIDER, settings_of

K8S_PROVIDER = "pulumi:providers:kubernetes"
STACK_REFERENCE = "pulumi:pulumi:StackReference"

runner = CliRunner()


COPY_REGION_TYPES = {
    "aws:backup/vault:Vault",
    "aws:backup/vaultLockConfiguration:VaultLockConfiguration",
    "aws:kms/key:Key",
    "aws:kms/alias:Alias",
}
"""All a backup copy region holds: the copy vault, its lock, its key."""


def test_every_aws_resource_uses_the_stack_provider(any_stack: Plan) -> None:
    home = any_stack.named(f"aws-{any_stack.stack}")
    aws_resources = [r for r in any_stack.resources if r.custom and r.type.startswith("aws:")]
    assert aws_resources
    elsewhere = [r for r in aws_resources if r.provider != home.urn]
    assert {r.type for r in elsewhere} <= COPY_REGION_TYPES
    assert {r.provider for r in elsewhere} == (
        {any_stack.named(f"aws-{any_stack.stack}-backup-copy").urn} if elsewhere else set()
    )


def test_provider_region_and_default_tags(any_stack: Plan) -> None:
    settings = settings_of(any_stack.stack)
    assert any_stack.named(f"aws-{any_stack.stack}").get("region") == settings.region
    for provider in any_stack.of_type(AWS_PROVIDER):
        _assert_default_tags(provider, any_stack.stack)


def _assert_default_tags(provider, stack: str) -> None:
    tags = (
        json.loads(provider.get("defaultTags"))["tags"]
        if isinstance(provider.get("defaultTags"), str)
        else provider.get("defaultTags")["tags"]
    )
    assert tags == {
        "project": "crm-platform",
        "environment": stack,
        "owner": "platform-engineering",
        "data-classification": "confidential",
        "managed-by": "pulumi",
    }


TOP_LEVEL = {AWS_PROVIDER, K8S_PROVIDER, STACK_REFERENCE}


def test_every_child_has_a_component_parent(any_stack: Plan) -> None:
    components = {r.urn for r in any_stack.resources if not r.custom}
    for resource in any_stack.resources:
        if resource.custom and resource.type not in TOP_LEVEL:
            assert resource.parent in components, resource.urn


def test_platform_registers_no_kubernetes_object(any_stack: Plan) -> None:
    platform = any_stack.layers["platform"]
    assert platform.of_type("aws:eks/cluster:Cluster")
    assert not [r.type for r in platform.resources if r.type.startswith("kubernetes:")]
    assert not platform.of_type(K8S_PROVIDER) and not platform.of_type(STACK_REFERENCE)


def test_workloads_register_only_kubernetes_objects(any_stack: Plan) -> None:
    workloads = any_stack.layers["workloads"]
    types = {r.type for r in workloads.resources if r.custom}
    assert "kubernetes:apps/v1:Deployment" in types and STACK_REFERENCE in types
    assert not {t for t in types if t.startswith("aws:") or t == AWS_PROVIDER}


def test_workloads_read_the_platform_through_the_stack_reference(any_stack: Plan) -> None:
    """Every platform-derived input of the workloads depends on the stack reference, and the
    reference names this environment's platform stack."""
    workloads = any_stack.layers["workloads"]
    (reference,) = workloads.of_type(STACK_REFERENCE)
    assert reference.get("name") == f"organization/crm-platform/{any_stack.stack}"
    binding = workloads.one("kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding")
    assert reference.urn in binding.property_dependencies["spec"]
    assert binding.get("spec.targetGroupARN") == any_stack.outputs["targetGroupArn"]
    (provider,) = workloads.of_type(K8S_PROVIDER)
    assert reference.urn in provider.property_dependencies["kubeconfig"]
    kubeconfig = json.loads(provider.get("kubeconfig"))
    assert kubeconfig["clusters"][0]["cluster"]["server"] == any_stack.outputs["clusterEndpoint"]


def test_outputs_later_components_need(any_stack: Plan) -> None:
    outputs = any_stack.outputs
    settings = settings_of(any_stack.stack)
    assert outputs["region"] == settings.region
    assert outputs["allowedRegions"] == settings.residency.allowed_regions
    assert len(outputs["privateSubnetIds"]) == len(outputs["availabilityZones"])
    assert set(outputs["kmsKeyArns"]) >= {"database", "logs", "storage", "cluster"}


@pytest.mark.parametrize("stack", stack_names())
def test_plan_command_json(stack: str) -> None:
    result = runner.invoke(app, ["plan", stack, "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["stack"] == stack
    assert document["counts"]["byType"]["aws:ec2/vpc:Vpc"] == 1
    network = load_settings(stack, read_stack_config(stack)).network
    nat_gateways = network.az_count if network.nat_strategy == "onePerAz" else 1
    assert document["counts"]["byType"]["aws:ec2/natGateway:NatGateway"] == nat_gateways
    assert {r["type"] for r in document["resources"]} >= {"aws:ec2/flowLog:FlowLog"}


def test_plan_command_text_groups_by_component() -> None:
    result = runner.invoke(app, ["plan", "prod", "--details"])
    assert result.exit_code == 0, result.output
    assert "prod-net (network.Network)" in result.stdout
    assert "prod-keys (security.Encryption)" in result.stdout
    assert "[protected]" in result.stdout


def test_plan_command_rejects_bad_config_without_traceback(tmp_path, monkeypatch) -> None:
    import stacks.stackfile as stackfile

    (tmp_path / "Pulumi.dev.yaml").write_text(
        "config:\n  aws:region: eu-central-1\n  crm-platform:netwrk:\n    cidr: 10.0.0.0/16\n"
    )
    monkeypatch.setattr(stackfile, "ROOT", tmp_path)
    result = runner.invoke(app, ["plan", "dev"])
    assert result.exit_code == 2
    assert "crm-platform:netwrk: unknown setting" in result.stderr
    assert "Did you mean 'network'?" in result.stderr
    assert "Traceback" not in result.output


def test_plan_command_rejects_unknown_stack() -> None:
    result = runner.invoke(app, ["plan", "qa"])
    assert result.exit_code == 2
    assert f"no file Pulumi.qa.yaml; known stacks: {', '.join(stack_names())}" in result.stderr


def test_outputs_a_provider_declares_secret_stay_secret_offline() -> None:
    import pulumi
    import pulumi_random as random

    from stacks.offline import synthesize
    from stacks.offline.model import is_secret

    def generate() -> None:
        password = random.RandomPassword("password", length=20)
        pulumi.export("password", password.result)
        pulumi.export("length", password.length)

    outputs = synthesize(generate, stack="test", config={}).outputs
    assert is_secret(outputs["password"]) and len(outputs["password"]["value"]) == 20
    assert outputs["length"] == 20


def test_plan_output_is_the_same_every_time() -> None:
    first, second = (runner.invoke(app, ["plan", "staging"]) for _ in range(2))
    assert first.exit_code == second.exit_code == 0
    assert first.stdout == second.stdout
    rows = [
        match.group(1)
        for line in first.stdout.splitlines()
        if (match := re.match(r"^  (\S+ \([\w.]+\))\s", line))
    ]
    assert len(rows) > 5 and rows == sorted(rows)


def test_a_failing_workloads_layer_fails_the_stack_plan(monkeypatch) -> None:
    """A failure of the workloads program is the plan's failure, after the platform's."""
    import stacks.workloads
    from stacks.offline import SynthesisError, synthesize_stack
    from stacks.settings import load_settings
    from tests.support import stack_config

    def broken(*args, **kwargs):
        raise ValueError("the workloads program broke")

    monkeypatch.setattr(stacks.workloads, "build_crm", broken)
    config = stack_config("dev")
    with pytest.raises(SynthesisError, match="the workloads program broke"):
        synthesize_stack("dev", config, load_settings("dev", config))


def test_ports_read_through_the_stack_reference_stay_whole_numbers(any_stack: Plan) -> None:
    """A stack reference hands numbers over as floats; URLs must still say :6379, not :6379.0."""
    from stacks.offline.model import unwrap

    secrets = any_stack.layers["workloads"].of_type("kubernetes:core/v1:Secret")
    urls = [unwrap(secret.inputs).get("stringData", {}).get("REDIS_URL") for secret in secrets]
    (redis_url,) = [url for url in urls if url]
    assert redis_url.endswith(f":{int(any_stack.outputs['cachePort'])}")
