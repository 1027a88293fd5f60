"""The offline gate on a whole stack: verdicts for our own stacks, findings, speed."""

from __future__ import annotations

import pytest

from policies.guardrails import POLICIES, offline
from policies.guardrails.offline import Finding, evaluate
from stacks.policy_config import AVAILABILITY_POLICIES, PROTECTION_POLICIES, build_policy_config

from .cases import CASES
from .fixtures import ALLOWED, REGION, bucket, prod_config
from .reference import reference_stack


def config(environment: str, high_availability: bool):
    return build_policy_config(
        environment=environment,
        region=REGION,
        allowed_regions=ALLOWED,
        high_availability=high_availability,
    )


def test_reference_prod_stack_has_no_findings() -> None:
    stack = reference_stack()
    assert len(stack) == 250
    assert [
        (f.policy, f.resource_name, f.message) for f in evaluate(stack, config("prod", True))
    ] == []


def test_reference_dev_stack_has_only_explainable_advisories() -> None:
    findings = evaluate(reference_stack(dev=True), config("dev", False))
    assert findings and {f.enforcement for f in findings} == {"advisory"}
    # The dev profile: single-AZ database without replicas, one cache node, small node groups,
    # one pod each, 1-day backups, no deletion protection, 30-day logs.
    assert {f.policy for f in findings} == {
        "rds-multi-az",
        "rds-read-replicas",
        "elasticache-high-availability",
        "eks-nodegroup-multi-az",
        "k8s-min-replicas",
        "rds-deletion-protection",
        "rds-backup-retention",
        "log-group-retention",
    }
    assert {f.policy for f in findings} <= set(AVAILABILITY_POLICIES) | set(PROTECTION_POLICIES)


def test_the_same_dev_stack_is_blocked_under_the_prod_config() -> None:
    blocking = [f for f in evaluate(reference_stack(dev=True), config("prod", True)) if f.blocking]
    assert {f.policy for f in blocking} >= {"rds-multi-az", "rds-read-replicas", "k8s-min-replicas"}


def test_findings_name_the_resource_and_the_policy() -> None:
    lonely = bucket()
    [finding] = [f for f in evaluate([lonely], prod_config()) if f.policy == "s3-bucket-companions"]
    assert finding == Finding(
        policy="s3-bucket-companions",
        severity="high",
        enforcement="mandatory",
        urn=lonely["urn"],
        resource_type="aws:s3/bucket:Bucket",
        resource_name="attachments",
        message=finding.message,
        remediation=finding.remediation,
    )
    assert finding.message.startswith('aws:s3/bucket:Bucket "attachments" has no ')
    assert "BucketPublicAccessBlock" in finding.remediation


def test_disabled_policies_do_not_run() -> None:
    lonely = bucket()
    disabled = prod_config(**{"s3-bucket-companions": {"enforcementLevel": "disabled"}})
    assert "s3-bucket-companions" not in {f.policy for f in evaluate([lonely], disabled)}


FOCUSED = [p for p in POLICIES if getattr(p, "reads", None) is not None]


def _whole_stack_messages(policy, resources, policy_config) -> list[tuple[str, str]]:
    """What the engine reports: the policy run by the SDK servicer on every resource."""
    servicer = offline._servicer([policy], offline.reconcile(policy_config))
    response = servicer.AnalyzeStack(offline._stack_request(resources), None)
    return sorted(
        (d.urn, d.message.removeprefix(d.description).strip()) for d in response.diagnostics
    )


@pytest.mark.parametrize(
    "resources",
    [pytest.param(c.resources, id=c.id) for c in CASES if c.policy in {p.name for p in FOCUSED}]
    + [pytest.param(reference_stack(), id="reference"), pytest.param(None, id="reference-dev")],
)
def test_focused_stack_policies_see_all_they_read(resources) -> None:
    """The gate hands a policy that declares `reads` only those types: same verdicts as the
    engine, which hands it the whole stack."""
    resources = resources or reference_stack(dev=True)
    policy_config = prod_config()
    findings = evaluate(resources, policy_config)
    for policy in FOCUSED:
        gate = sorted((f.urn, f.message) for f in findings if f.policy == policy.name)
        assert gate == _whole_stack_messages(policy, resources, policy_config), policy.name
