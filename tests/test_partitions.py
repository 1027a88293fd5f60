"""The stacks plan and pass the gate in every partition our services exist in: the European
Sovereign Cloud (aws-eusc), GovCloud and China; names follow each partition (botocore's
partitions table) and an ARN of another partition fails."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from policies.guardrails.residency import REGION_PATTERN
from stacks.offline import Plan, fidelity, synthesize_stack
from stacks.offline.aws_data import partition_of
from stacks.offline.gate import review
from stacks.policy_config import policy_config_for
from stacks.settings import SettingsError, load_settings
from stacks.settings import regions as region_data
from tests.conftest import shipped
from tests.support import invoke, stack_config

PARTITIONS = {
    # partition: (region, allowed regions, jurisdiction)
    "aws-eusc": ("eusc-de-east-1", ["eusc-de-east-1"], "EU"),
    "aws-us-gov": ("us-gov-west-1", ["us-gov-west-1", "us-gov-east-1"], "US"),
}
_plans: dict[str, tuple[Plan, dict]] = {}


def _config(region: str, allowed: list[str], jurisdiction: str, **residency) -> dict[str, str]:
    """Prod in `region`; with one allowed region (the sovereign cloud has one), backups have no
    second region to be copied to."""
    return stack_config(
        "prod",
        **{
            "aws:region": region,
            "residency": {"jurisdiction": jurisdiction, "allowedRegions": allowed, **residency},
            "backup": {"crossRegionCopy": len(allowed) > 1},
        },
    )


def planned(partition: str) -> tuple[Plan, dict]:
    """The prod stack planned in the partition (once per test process), with its policy config."""
    if partition not in _plans:
        config = _config(*PARTITIONS[partition])
        settings = load_settings("prod", config)
        plan = synthesize_stack("prod", config, settings)
        _plans[partition] = (plan, policy_config_for(settings))
    return _plans[partition]


@pytest.mark.parametrize("partition", list(PARTITIONS))
def test_the_stack_plans_and_passes_the_gate(partition: str) -> None:
    """Nothing blocks there that does not block the same stack in the commercial partition."""
    plan, policy_config = planned(partition)
    result = review(plan, policy_config)
    commercial = review(
        shipped("prod"), policy_config_for(load_settings("prod", stack_config("prod")))
    )
    blocking = {f.policy for f in result.findings if f.blocking}
    assert blocking <= {f.policy for f in commercial.findings if f.blocking}
    assert result.coverage.unmapped == [] and result.coverage.checked > 500


@pytest.mark.parametrize("partition", list(PARTITIONS))
def test_every_arn_and_endpoint_name_is_of_the_partition(partition: str) -> None:
    plan, _ = planned(partition)
    region = PARTITIONS[partition][0]
    answer = invoke("aws:index/getPartition:getPartition", region)
    assert (answer["partition"], answer["dnsSuffix"]) == dataclasses.astuple(partition_of(region))
    text = json.dumps([r.inputs for r in plan.resources], default=str)
    assert set(re.findall(r"arn:([a-z0-9-]+):", text)) == {partition}
    key = next(
        r for r in plan.of_type("aws:kms/key:Key") if r.get("tags.data-domain") == "database"
    )
    via = json.loads(key.get("policy"))["Statement"][1]["Condition"]["StringEquals"]
    assert all(name.endswith(f".{region}.{answer['dnsSuffix']}") for name in via["kms:ViaService"])


def test_a_commercial_arn_in_a_sovereign_stack_fails_naming_resource_input_and_source() -> None:
    plan, _ = planned("aws-eusc")
    role = plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")[0]
    commercial = role.get("policyArn").replace("arn:aws-eusc:", "arn:aws:")
    broken = dataclasses.replace(role, inputs={**role.inputs, "policyArn": commercial})
    findings = fidelity.partition_findings(
        Plan(stack="prod", resources=[*plan.resources[:0], *_providers(plan), broken])
    )
    assert len(findings) == 1
    message = findings[0].message
    assert findings[0].blocking and role.name in message and "`policyArn`" in message
    assert "partition aws," in message and "aws-eusc" in message
    assert f"Rule source: {fidelity.SOURCE} partitions.json" in message


def _providers(plan: Plan) -> list:
    return plan.of_type("pulumi:providers:aws")


def test_eusc_is_in_the_eu_and_sovereign_only_admits_nothing_else() -> None:
    assert load_settings(
        "prod", _config("eusc-de-east-1", ["eusc-de-east-1"], "EU", sovereignOnly=True)
    )
    with pytest.raises(SettingsError) as refused:
        load_settings(
            "prod",
            _config("eusc-de-east-1", ["eusc-de-east-1", "eu-central-1"], "EU", sovereignOnly=True),
        )
    assert "residency.allowedRegions.1: 'eu-central-1'" in str(refused.value)
    assert "sovereign-cloud region" in str(refused.value) and "eusc-de-east-1" in str(refused.value)


def test_china_is_refused_before_anything_registers_because_ses_is_missing() -> None:
    """botocore's endpoints table lists no SES (`email`) endpoint in China: the CRM's mail
    could not stay resident, so the stack is refused with a message, not a traceback."""
    with pytest.raises(SettingsError) as refused:
        load_settings("prod", _config("cn-north-1", ["cn-north-1", "cn-northwest-1"], "CN"))
    assert "aws:region: 'cn-north-1'" in str(refused.value) and "SES" in str(refused.value)


def test_a_region_without_a_service_the_stack_uses_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """botocore lists WAF in no ISO-West region; a service missing in the stack's region stops
    the settings before anything registers."""
    assert region_data.missing_services("us-iso-west-1", {"wafv2": "WAF"}) == ["WAF"]
    monkeypatch.setitem(region_data.REQUIRED_SERVICES, "no-such-service", "Imaginary")
    with pytest.raises(SettingsError) as refused:
        load_settings("prod", stack_config("prod"))
    assert "aws:region: 'eu-central-1'" in str(refused.value)
    assert "lists no endpoint there for Imaginary" in str(refused.value)


def test_the_pack_accepts_every_region_botocore_knows() -> None:
    pattern = re.compile(REGION_PATTERN)
    assert "eusc-de-east-1" in region_data.known_regions()
    assert [r for r in region_data.known_regions() if not pattern.match(r)] == []
