"""Issue 15's three deploy-breakers, re-introduced: the checks catch each one.

The ELB log-delivery account: a mistyped literal passed every test that compared the code with
its own table. The principal now comes from the provider's aws.elb.get_service_account, which
the offline runtime answers from the provider's own table (source and commit recorded in
stacks/data/elb_service_accounts.json); the check below compares the plan with that answer.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from policies.guardrails.offline import Finding
from stacks.offline import Plan
from stacks.offline.gate import check
from stacks.policy_config import policy_config_for
from stacks.settings import load_settings
from tests.conftest import shipped
from tests.support import elb_service_account, stack_config

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


def _policy_config() -> dict:
    return policy_config_for(load_settings("prod", stack_config("prod")))


def _findings(plan: Plan, policy: str) -> list[Finding]:
    return [f for f in check(plan, _policy_config()) if f.policy == policy]


def test_a_replica_of_a_source_whose_password_rds_manages_is_caught() -> None:
    """RDS refuses to create read replicas of such a source (RDS User Guide, "Limitations for
    Secrets Manager integration"). (The stack's policy config demotes the rule to advisory
    until issue 11 gives the stack its own master secret.)"""
    platform = shipped("prod").layers["platform"]
    primary = next(
        r for r in platform.of_type("aws:rds/instance:Instance") if not r.get("replicateSourceDb")
    )
    managed = dataclasses.replace(
        primary, inputs={**primary.inputs, "manageMasterUserPassword": True}
    )
    resources = [managed if r is primary else r for r in platform.resources]
    plan = Plan(stack="prod", resources=resources)
    found = _findings(plan, "rds-replica-of-managed-password-source")
    assert found and all(primary.name in f.message for f in found)


def test_kubernetes_objects_deployed_with_a_private_only_cluster_are_caught() -> None:
    """One program creating the private-API cluster and deploying to it cannot reach the API
    from a GitHub-hosted runner; the two layers exist to avoid that. (The stack's policy config
    still demotes this rule to advisory until issue 10 is closed.)"""
    prod = shipped("prod")
    assert _findings(prod.layers["platform"], "eks-private-api-deploy-path") == []
    single = Plan(stack="prod", resources=list(prod.resources))  # both layers as one program
    assert _findings(single, "eks-private-api-deploy-path")
