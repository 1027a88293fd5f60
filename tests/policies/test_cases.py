"""Every policy against its violating and compliant cases, through the offline gate."""

from __future__ import annotations

import pytest

from policies.guardrails import POLICIES
from policies.guardrails.offline import evaluate

from . import sdk
from .cases import CASES, Case
from .fixtures import prod_config

PACK = {policy.name for policy in POLICIES}


def findings_of(case: Case):
    findings = evaluate(case.resources, prod_config(**case.config))
    return [f for f in findings if f.policy == case.policy]


def test_pack_has_at_least_40_policies() -> None:
    assert len(PACK) == len(POLICIES) >= 40


def test_every_policy_has_a_violating_and_a_compliant_case() -> None:
    assert {case.policy for case in CASES if not case.compliant} == PACK
    assert {case.policy for case in CASES if case.compliant} == PACK


@pytest.mark.parametrize("case", [c for c in CASES if not c.compliant], ids=lambda c: c.id)
def test_violating_case_is_reported_on_its_resource(case: Case) -> None:
    subject = case.resources[0]
    on_subject = [f for f in findings_of(case) if f.urn == subject["urn"]]
    assert on_subject, f"{case.policy} did not flag {subject['urn']}"
    label = f'{subject["type"]} "{subject["name"]}"'
    assert any(case.needle in f.message and label in f.message for f in on_subject), [
        f.message for f in on_subject
    ]
    policy = next(p for p in POLICIES if p.name == case.policy)
    for finding in on_subject:
        assert finding.severity == policy.severity.value
        assert finding.resource_type == subject["type"]
        assert finding.remediation == policy.remediation_steps
        assert finding.message.endswith(".")


@pytest.mark.parametrize("case", [c for c in CASES if c.compliant], ids=lambda c: c.id)
def test_compliant_case_is_not_reported(case: Case) -> None:
    assert [f.message for f in findings_of(case)] == []


def test_case_fixtures_use_real_input_names() -> None:
    """Fixtures (and so the property names the policies are tested with) match the SDKs."""
    unknown = {
        (res["type"], prop)
        for case in CASES
        for res in case.resources
        for prop in res["props"]
        if prop not in sdk.input_names(res["type"])
    }
    assert unknown == set()
