"""The offline policy gate sees what the engine sends the pack: each resource's provider
(with its region) among the inputs, so residency is judged on the real region."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pytest

from stacks.offline import synthesize
from stacks.offline.gate import check
from stacks.policy_config import build_policy_config, policy_config_for
from stacks.settings import load_settings
from tests.support import stack_config, synth_stack

EU = ["eu-central-1", "eu-west-1"]


def _key_in(region: str):
    def program() -> None:
        provider = aws.Provider("regional", region=region)
        aws.kms.Key(
            "key",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            opts=pulumi.ResourceOptions(provider=provider),
        )

    return synthesize(program, stack="test", config={"aws:region": "eu-central-1"})


def _config() -> dict:
    return build_policy_config(
        environment="prod", region="eu-central-1", allowed_regions=EU, high_availability=True
    )


@pytest.mark.parametrize(("region", "violates"), [("us-east-1", True), ("eu-west-1", False)])
def test_residency_is_judged_on_the_provider_region(region: str, violates: bool) -> None:
    findings = check(_key_in(region), _config())
    residency = [f for f in findings if f.policy == "residency-region-allowlist"]
    assert bool(residency) is violates
    if violates:
        assert all(f.blocking for f in residency)
        assert any("us-east-1" in f.message and f.resource_name == "key" for f in residency)


def test_a_disaster_recovery_copy_in_an_allowed_region_passes() -> None:
    dr = {
        "drRegion": "eu-west-1",
        "drSubnetGroupName": "crm-dr",
        "drSecurityGroupIds": ["sg-0123456789abcdef0"],
    }
    plan = synth_stack("prod", database=dr)
    settings = load_settings("prod", stack_config("prod", database=dr))
    replica = next(
        r
        for r in plan.of_type("aws:rds/instance:Instance")
        if r.get("identifier", "").endswith("-dr")
    )
    provider = plan.by_urn(replica.provider)
    assert provider.get("region") == "eu-west-1"
    findings = check(plan, policy_config_for(settings))
    assert [f for f in findings if f.blocking] == []


def _job_waiting(create_timeout: str):
    import pulumi_kubernetes as k8s

    def program() -> None:
        k8s.batch.v1.Job(
            "migrate",
            metadata={"name": "migrate", "namespace": "crm"},
            spec={
                "activeDeadlineSeconds": 1800,
                "template": {
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{"name": "m", "image": "twentycrm/twenty:v1.2.3"}],
                    }
                },
            },
            opts=pulumi.ResourceOptions(
                custom_timeouts=pulumi.CustomTimeouts(create=create_timeout)
            ),
        )

    return synthesize(program, stack="test", config={"aws:region": "eu-central-1"})


@pytest.mark.parametrize(("timeout", "violates"), [("20m", True), ("1h", False)])
def test_the_gate_sees_custom_timeouts_as_the_engine_sends_them(timeout, violates) -> None:
    findings = check(_job_waiting(timeout), _config())
    messages = [f.message for f in findings if f.policy == "k8s-job-await-deadline"]
    expected = ["1200 s (customTimeouts.create)"] if violates else []
    assert [text for text in expected if any(text in m for m in messages)] == expected
    assert bool(messages) is violates
