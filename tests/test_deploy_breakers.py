"""Issue 15's deploy-breakers, re-introduced: the checks built on AWS's own sources catch them.

The ELB log-delivery account: a mistyped literal passed every test that compared the code with
its own table. The principal now comes from the provider's aws.elb.get_service_account, which
the offline runtime answers from the provider's own table (source and commit recorded in
stacks/data/elb_service_accounts.json); the check below compares the plan with that answer.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from stacks.offline import Plan
from tests.conftest import shipped
from tests.support import elb_service_account

SID = "LoadBalancerLogDelivery"


def elb_principal_problems(plan: Plan, region: str) -> list[str]:
    """Bucket policies whose ELB log-delivery principal is not ELB's account in the region."""
    expected = {"AWS": elb_service_account(region)["arn"]}
    problems = []
    for policy in plan.of_type("aws:s3/bucketPolicy:BucketPolicy"):
        for statement in json.loads(policy.get("policy"))["Statement"]:
            if statement.get("Sid") == SID and statement["Principal"] != expected:
                problems.append(f"{policy.name}: {statement['Principal']} != {expected}")
    return problems


def _with_principal(plan: Plan, principal: dict) -> Plan:
    """The plan with the log bucket's ELB principal replaced (the defect as it shipped)."""
    resources = []
    for resource in plan.resources:
        text = resource.get("policy") if resource.type.endswith(":BucketPolicy") else None
        if text and f'"{SID}"' in text:
            document = json.loads(text)
            for statement in document["Statement"]:
                if statement.get("Sid") == SID:
                    statement["Principal"] = principal
            inputs = {**resource.inputs, "policy": json.dumps(document)}
            resource = dataclasses.replace(resource, inputs=inputs)
        resources.append(resource)
    return Plan(stack=plan.stack, resources=resources)


def test_the_shipped_log_bucket_trusts_the_account_the_provider_answers() -> None:
    prod = shipped("prod")
    assert any(
        f'"{SID}"' in p.get("policy") for p in prod.of_type("aws:s3/bucketPolicy:BucketPolicy")
    )
    assert elb_principal_problems(prod, "eu-central-1") == []


def test_a_mistyped_elb_account_is_caught() -> None:
    """One digit pair off, as it shipped: every test of the code against itself passed."""
    right = elb_service_account("eu-central-1")["arn"]
    typo = right[:-7] + ("49" if right[-7:-5] != "49" else "28") + ":root"
    problems = elb_principal_problems(
        _with_principal(shipped("prod"), {"AWS": typo}), "eu-central-1"
    )
    assert len(problems) == 1 and typo in problems[0]


def test_a_region_without_an_elb_account_fails_the_invoke_like_the_provider() -> None:
    with pytest.raises(ValueError, match="Unknown region"):
        elb_service_account("eu-south-2")
