"""IAM roles of the cluster: AWS service roles and IRSA roles bound to one service account."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ..iam import service_principal, service_trust_json
from . import iam_policies


@dataclass(frozen=True)
class GrantedRole:
    """A role plus the policies granted to it: depend on `ready`, not on the role alone, or a
    user of the role may start (or its policies be removed) while it has no permissions."""

    role: aws.iam.Role
    grants: tuple[pulumi.Resource, ...]

    @property
    def ready(self) -> list[pulumi.Resource]:
        return [self.role, *self.grants]


def service_role(
    parent: pulumi.Resource,
    name: str,
    service: str,
    managed_policies: Sequence[str],
    partition: pulumi.Input[str],
) -> GrantedRole:
    """A role an AWS service (`eks`, `ec2`) assumes, with exactly the AWS managed policies
    named."""
    role = aws.iam.Role(
        name,
        assume_role_policy=service_trust_json(service, parent),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return GrantedRole(role, _attach(parent, name, role, managed_policies, partition))


def service_account_role(
    parent: pulumi.Resource,
    name: str,
    *,
    oidc_provider_arn: pulumi.Input[str],
    issuer_host: pulumi.Input[str],
    namespace: str,
    service_account: str,
    partition: pulumi.Input[str],
    policy_json: pulumi.Input[str] | None = None,
    managed_policies: Sequence[str] = (),
) -> GrantedRole:
    """An IRSA role only the pods of `namespace/service_account` can assume."""
    child = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        name,
        assume_role_policy=pulumi.Output.all(
            oidc_provider_arn, issuer_host, service_principal("sts", parent)
        ).apply(
            lambda values: json.dumps(
                iam_policies.service_account_trust(
                    values[0], values[1], namespace, service_account, audience=values[2]
                )
            )
        ),
        tags={"kubernetes-service-account": f"{namespace}/{service_account}"},
        opts=child,
    )
    grants = _attach(parent, name, role, managed_policies, partition)
    if policy_json is not None:
        grants += (aws.iam.RolePolicy(name, role=role.id, policy=policy_json, opts=child),)
    return GrantedRole(role, grants)


def _attach(
    parent: pulumi.Resource,
    name: str,
    role: aws.iam.Role,
    managed_policies: Sequence[str],
    partition: pulumi.Input[str],
) -> tuple[pulumi.Resource, ...]:
    """Attachments named after the policy, so reordering the list replaces nothing."""
    return tuple(
        aws.iam.RolePolicyAttachment(
            f"{name}-{policy.rsplit('/', 1)[-1]}",
            role=role.name,
            policy_arn=pulumi.Output.concat("arn:", partition, ":iam::aws:policy/", policy),
            opts=pulumi.ResourceOptions(parent=parent),
        )
        for policy in managed_policies
    )
