"""Suppressions with reasons: the suppressed policy is silent, the report shows why, stale ones
are reported, and a suppression without a real reason is refused."""

from __future__ import annotations

import pytest

from policies.guardrails.offline import evaluate, reconcile
from stacks.policy_config import build_policy_config

from .fixtures import ALLOWED, REGION, bucket, db_primary, locked_bucket, sse

REASON = "Attachments are re-encrypted by the import job; tracked in CRM-123."


def config_with(*suppressions: dict[str, str]) -> dict:
    return build_policy_config(
        environment="prod",
        region=REGION,
        allowed_regions=ALLOWED,
        high_availability=True,
        suppressions=suppressions,
    )


def suppression(policy: str, resource: str, reason: str = REASON) -> dict[str, str]:
    return {"policy": policy, "resource": resource, "reason": reason}


def by_policy(findings, policy: str):
    return [f for f in findings if f.policy == policy]


def test_a_suppressed_resource_finding_is_acknowledged_with_its_reason() -> None:
    stack = [db_primary(region="us-east-1"), db_primary(region="us-west-2", name="other")]
    unsuppressed = evaluate(stack, config_with())
    findings = evaluate(stack, config_with(suppression("residency-region-allowlist", "db")))

    residency = by_policy(findings, "residency-region-allowlist")
    assert [f.resource_name for f in residency] == ["other"]  # the other one still blocks
    [ack] = by_policy(findings, "suppressed-findings")
    assert ack.acknowledged and not ack.blocking and ack.urn == stack[0]["urn"]
    assert REASON in ack.message
    original = next(
        f.message
        for f in by_policy(unsuppressed, "residency-region-allowlist")
        if f.urn == stack[0]["urn"]
    )
    assert ack.message.endswith(original)


def test_a_suppressed_stack_finding_is_acknowledged() -> None:
    lonely = bucket()
    [original] = by_policy(evaluate([lonely], config_with()), "s3-bucket-encryption")
    findings = evaluate([lonely], config_with(suppression("s3-bucket-encryption", "attachments")))
    assert by_policy(findings, "s3-bucket-encryption") == []
    [ack] = by_policy(findings, "suppressed-findings")
    assert ack.acknowledged and ack.urn == lonely["urn"]
    assert ack.message.endswith(original.message)


def test_unused_suppressions_are_reported() -> None:
    target = bucket()
    stack = [target, *locked_bucket(target), sse(target)]
    config = config_with(
        suppression("s3-bucket-encryption", "attachments"),
        suppression("rds-multi-az", "no-such-database"),
    )
    findings = by_policy(evaluate(stack, config), "suppressed-findings")
    assert not any(f.acknowledged or f.blocking for f in findings)
    messages = {f.urn: f.message for f in findings}
    assert "reports nothing on it" in messages[target["urn"]]
    assert '"no-such-database" is unused' in messages[None]


@pytest.mark.parametrize(
    ("entry", "error"),
    [
        (suppression("rds-multi-az", "db", "because"), r"suppressions\[0\]\.reason: 'because'"),
        (suppression("rds-multi-az", "db", "          x"), "at least 10 characters"),
        (suppression("no-such-policy", "db"), r"'no-such-policy' is not a policy"),
        (suppression("suppressed-findings", "db"), "is not a policy"),
        (suppression("rds-multi-az", " "), "must name a resource"),
        ({"policy": "rds-multi-az", "resource": "db"}, "exactly the keys"),
    ],
)
def test_suppressions_without_a_real_reason_are_refused(entry, error) -> None:
    with pytest.raises(ValueError, match=error):
        config_with(entry)


def test_a_suppression_is_given_once() -> None:
    with pytest.raises(ValueError, match="more than once"):
        config_with(suppression("rds-multi-az", "db"), suppression("rds-multi-az", "db"))


def test_the_pack_schema_refuses_a_short_reason_written_by_hand() -> None:
    """A config file edited by hand meets the same rule in the engine's schema validation."""
    config = config_with()
    config["rds-multi-az"]["suppressions"] = [{"resource": "db", "reason": "later"}]
    with pytest.raises(ValueError, match=r"rds-multi-az: suppressions\.0\.reason"):
        reconcile(config)
