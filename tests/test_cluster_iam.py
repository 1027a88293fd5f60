"""No IAM policy the project writes allows every action of a service (`*` or `service:*`) on
every resource (`*`).

Every identity-based document the stack registers is checked: roles' inline policies, managed
`aws:iam/policy:Policy` and `aws:iam/rolePolicy:RolePolicy`. KMS key policies are resource
policies (the key's own account keeps `kms:*` on "this key" by design) and are not in scope.
"""

from __future__ import annotations

import json
import re

import pytest

from stacks.offline import Plan

_SERVICE_WILDCARD = re.compile(r"^[a-z0-9-]+:\*$")


def _as_list(value: object) -> list:
    return value if isinstance(value, list) else [value]


def identity_policies(plan: Plan) -> dict[str, dict]:
    """Policy documents by `<resource name>` (`#<index>` for a role's inline policies)."""
    documents: dict[str, dict] = {}
    for resource in plan.resources:
        if resource.type in ("aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy"):
            documents[resource.name] = json.loads(resource.get("policy"))
        elif resource.type == "aws:iam/role:Role":
            for index, inline in enumerate(resource.get("inlinePolicies") or []):
                documents[f"{resource.name}#{index}"] = json.loads(inline["policy"])
    return documents


def wildcard_grants(document: dict) -> list[dict]:
    """Allow statements granting `*` / `service:*` (or any NotAction) on Resource `*`."""
    found = []
    for statement in _as_list(document.get("Statement", [])):
        if statement.get("Effect") != "Allow" or "*" not in _as_list(statement.get("Resource")):
            continue
        actions = _as_list(statement.get("Action", []))
        if "NotAction" in statement or any(
            action == "*" or _SERVICE_WILDCARD.match(action) for action in actions
        ):
            found.append(statement)
    return found


def test_no_policy_allows_every_action_on_every_resource(any_stack: Plan) -> None:
    documents = identity_policies(any_stack)
    # control plane, EBS CSI, load balancer controller and flow logs at least
    assert len(documents) >= 4
    offenders = {
        name: grants for name, doc in documents.items() if (grants := wildcard_grants(doc))
    }
    assert offenders == {}


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Allow", "Action": ["ec2:DescribeVpcs", "s3:*"], "Resource": ["*"]},
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
    ],
)
def test_checker_catches_wildcard_grants(statement: dict) -> None:
    assert wildcard_grants({"Statement": [statement]}) == [statement]


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::bucket/*"},
        {"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"},
        {"Effect": "Deny", "Action": "*", "Resource": "*"},
    ],
)
def test_checker_accepts_scoped_grants(statement: dict) -> None:
    assert wildcard_grants({"Statement": statement}) == []
