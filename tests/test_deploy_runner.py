"""The in-VPC deploy runner: what its jobs need, it has; what they run on, works."""

from __future__ import annotations

import json

import yaml

from stacks.offline import Plan
from tests.test_workflows import ROOT

PROJECT = "aws:codebuild/project:Project"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"

# What the jobs on the runner call after `pulumi up`, as IAM actions: `verify` (ops/verify.py,
# ops/verify_database.py, ops/aws.same_kms_key) and `promote`'s snapshot (ops/promote.py).
AFTER_UP = {
    "rds:DescribeDBInstances",
    "rds:DescribeDBParameters",
    "rds:DescribeDBSnapshots",
    "rds:CreateDBSnapshot",
    "rds:AddTagsToResource",
    "secretsmanager:DescribeSecret",
    "s3:GetEncryptionConfiguration",
    "s3:GetBucketPublicAccessBlock",
    "kms:DescribeKey",
}


def _runner_policy(plan: Plan) -> dict:
    (policy,) = [p for p in plan.of_type(ROLE_POLICY) if p.name.endswith("-deploy-runner")]
    return json.loads(policy.get("policy"))


def test_the_runner_may_verify_and_snapshot_its_own_stack(any_stack: Plan) -> None:
    statements = _runner_policy(any_stack)["Statement"]
    granted = {
        action
        for statement in statements
        for action in (
            [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        )
    }
    assert granted >= AFTER_UP
    (snapshot,) = [s for s in statements if "rds:CreateDBSnapshot" in s["Action"]]
    identifier = f"crm-platform-{any_stack.stack}"
    assert snapshot["Resource"] == [
        f"arn:aws:rds:{any_stack.outputs['region']}:123456789012:db:{identifier}",
        f"arn:aws:rds:{any_stack.outputs['region']}:123456789012:snapshot:{identifier}-pre-*",
    ]
    assert any_stack.outputs["dbPrimaryIdentifier"] == identifier


def test_runner_jobs_get_python_on_an_image_setup_python_supports(prod: Plan) -> None:
    """`actions/setup-python` ships builds for Ubuntu (not Amazon Linux): a runner job that
    uses it needs the CodeBuild project on an Ubuntu ("standard") image."""
    image = prod.one(PROJECT).get("environment.image")
    runner_jobs = [
        job
        for path in (ROOT / ".github" / "workflows").glob("*.yml")
        for job in yaml.safe_load(path.read_text())["jobs"].values()
        if str(job.get("runs-on", "")).startswith("codebuild-")
    ]
    assert runner_jobs
    uses_setup_python = any(
        "actions/setup-python" in step.get("uses", "")
        for job in runner_jobs
        for step in job["steps"]
    )
    assert uses_setup_python and image.startswith("aws/codebuild/standard:")
    assert "amazonlinux" not in image
