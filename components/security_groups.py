"""Security groups shared by the components that own a network endpoint."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws


def clients_only(
    name: str,
    parent: pulumi.Resource,
    *,
    vpc_id: pulumi.Input[str],
    port: int,
    service: str,
    client_security_group_ids: Sequence[pulumi.Input[str]],
) -> aws.ec2.SecurityGroup:
    """A group admitting `port` from the given security groups only, never from a CIDR.

    Inline rules make the group authoritative: a rule added by hand is removed again.
    """
    return aws.ec2.SecurityGroup(
        name,
        vpc_id=vpc_id,
        description=f"{service} from the CRM workloads only",
        ingress=[
            aws.ec2.SecurityGroupIngressArgs(
                description=f"{service} from the CRM workloads",
                protocol="tcp",
                from_port=port,
                to_port=port,
                security_groups=list(client_security_group_ids),
            )
        ],
        egress=[],
        tags={"Name": name},
        opts=pulumi.ResourceOptions(parent=parent),
    )
