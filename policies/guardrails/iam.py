"""IAM: no full-admin statements, no admin managed policies, no open role trust."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from .core import (
    CRITICAL,
    HIGH,
    Res,
    as_list,
    condition_keys,
    entries,
    field,
    policy_statements,
    principals,
    public_statements,
    resource_policy,
    show,
    strings,
)

POLICY = "aws:iam/policy:Policy"
ROLE = "aws:iam/role:Role"
INLINE_POLICIES = frozenset(
    {
        POLICY,
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/userPolicy:UserPolicy",
        "aws:iam/groupPolicy:GroupPolicy",
    }
)
ATTACHMENTS = frozenset(
    {
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:iam/userPolicyAttachment:UserPolicyAttachment",
        "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
        "aws:iam/policyAttachment:PolicyAttachment",
    }
)
AWS_MANAGED_POLICY = re.compile(r"^arn:aws[a-z-]*:iam::aws:policy/(?:.*/)?([^/]+)$")


def _documents(res: Res) -> Iterator[tuple[str, Any]]:
    if res.type == ROLE:
        for index, inline in enumerate(entries(res.get("inlinePolicies")) or []):
            yield f"inlinePolicies[{index}].policy", field(inline, "policy")
    else:
        yield "policy", res.get("policy")


def admin_statements(document: Any) -> list[int]:
    """Allow statements granting every action (or all but a few) on every resource."""
    found = []
    for index, statement in enumerate(policy_statements(document)):
        if statement.get("Effect") != "Allow":
            continue
        actions = as_list(statement.get("Action"))
        everything = "*" in actions or "*:*" in actions or "NotAction" in statement
        if everything and "*" in as_list(statement.get("Resource")):
            found.append(index)
    return found


@resource_policy(
    "iam-no-wildcard-admin",
    types=INLINE_POLICIES | {ROLE},
    description='IAM policies must not allow "*" actions (or NotAction) on "*" resources.',
    severity=CRITICAL,
    remediation=(
        "List the actions the workload needs; a broad Resource '*' is fine for specific actions "
        "that do not support resource-level permissions."
    ),
    tags=["iam", "least-privilege", "SH:IAM.1", "AwsSolutions-IAM5", "CKV_AWS_62"],
)
def no_wildcard_admin(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    for prop, document in _documents(res):
        if document is None:
            continue
        try:
            statements = admin_statements(document)
        except ValueError as error:
            yield f"{res.label} has a {prop} that cannot be checked because {error}; fix it."
            continue
        for index in statements:
            yield (
                f'{res.label} {prop} Statement[{index}] allows every action on Resource "*"; '
                "grant specific actions instead."
            )


def _attached_arns(res: Res) -> Iterator[tuple[str, Any]]:
    if res.type == ROLE:
        for index, arn in enumerate(entries(res.get("managedPolicyArns")) or []):
            yield f"managedPolicyArns[{index}]", arn
    else:
        yield "policyArn", res.get("policyArn")


@resource_policy(
    "iam-no-admin-managed-policy",
    types=ATTACHMENTS | {ROLE},
    description="Principals must not be given AWS-managed administrator policies.",
    severity=HIGH,
    remediation="Attach narrowly scoped policies instead of AdministratorAccess and the like.",
    config={
        "forbiddenPolicies": strings(
            ["AdministratorAccess", "IAMFullAccess", "PowerUserAccess"],
            "Names of AWS-managed policies that may not be attached.",
        )
    },
    tags=["iam", "least-privilege", "SH:IAM.1"],
)
def no_admin_managed_policy(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    for prop, arn in _attached_arns(res):
        match = AWS_MANAGED_POLICY.match(arn) if isinstance(arn, str) else None
        if match and match.group(1) in config["forbiddenPolicies"]:
            yield (
                f"{res.label} attaches {show(arn)} ({prop}); administrator-level managed "
                "policies are not allowed."
            )


def _web_identity_without_subject(statement: Mapping[str, Any]) -> bool:
    """Web-identity trust (e.g. IRSA) that does not pin the token's `sub` claim."""
    actions = as_list(statement.get("Action"))
    if not principals(statement, "Federated") or "sts:AssumeRoleWithWebIdentity" not in actions:
        return False
    return not any(key.endswith(":sub") for key in condition_keys(statement))


@resource_policy(
    "iam-no-public-trust",
    types={ROLE},
    description="Role trust policies must not let any principal, or any web identity, assume "
    "the role.",
    severity=CRITICAL,
    remediation=(
        "Trust named principals or services; scope Principal '*' with aws:PrincipalAccount / "
        "aws:PrincipalOrgID and pin '<oidc-provider>:sub' for web identities (IRSA)."
    ),
    tags=["iam", "public-exposure", "CKV_AWS_60", "CKV_AWS_358"],
)
def no_public_trust(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    document = res.get("assumeRolePolicy")
    try:
        open_statements = public_statements(document)
        statements = policy_statements(document)
    except ValueError as error:
        yield f"{res.label} has an assumeRolePolicy that cannot be checked because {error}."
        return
    for index in open_statements:
        yield (
            f'{res.label} assumeRolePolicy Statement[{index}] trusts Principal "*" without an '
            "account-scoping condition; any AWS account could assume the role."
        )
    for index, statement in enumerate(statements):
        if statement.get("Effect") == "Allow" and _web_identity_without_subject(statement):
            yield (
                f"{res.label} assumeRolePolicy Statement[{index}] allows "
                "sts:AssumeRoleWithWebIdentity without a condition on the token's sub claim; "
                "every service account of the identity provider could assume the role."
            )
