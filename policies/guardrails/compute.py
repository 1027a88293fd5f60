"""EC2 launch templates, instances and volumes (EKS nodes): IMDSv2, encrypted EBS, no public IP."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .core import (
    HIGH,
    Res,
    as_bool,
    as_number,
    boolean,
    entries,
    field,
    integer,
    resource_policy,
    setting,
    show,
)

LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
INSTANCE = "aws:ec2/instance:Instance"
VOLUME = "aws:ebs/volume:Volume"


@resource_policy(
    "ec2-imdsv2-required",
    types={LAUNCH_TEMPLATE, INSTANCE},
    description="Instances and launch templates must require IMDSv2 with a small hop limit.",
    severity=HIGH,
    remediation=(
        "Set metadata_options={'http_tokens': 'required', 'http_put_response_hop_limit': 1} "
        "(2 only for nodes whose pods must reach IMDS; raise maxHopLimit in the policy config)."
    ),
    config={
        "maxHopLimit": integer(1, "Largest allowed httpPutResponseHopLimit.", 1, 64),
    },
    tags=["compute", "SH:EC2.8", "CKV_AWS_79", "CKV_AWS_341"],
)
def imdsv2(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if res.get("metadataOptions.httpEndpoint") == "disabled":
        return
    tokens = res.get("metadataOptions.httpTokens")
    if tokens != "required":
        yield (
            f"{res.label} {setting('metadataOptions.httpTokens', tokens)}; it must be "
            '"required" so only IMDSv2 session requests are answered.'
        )
    hops = res.get("metadataOptions.httpPutResponseHopLimit")
    limit = int(config["maxHopLimit"])
    if hops is not None and (as_number(hops) or 0) > limit:
        yield (
            f"{res.label} {setting('metadataOptions.httpPutResponseHopLimit', hops)}; it must "
            f"be at most {limit} so containers cannot reach the node's credentials."
        )


def _ebs_problems(res: Res, require_cmk: bool) -> Iterator[str]:
    if res.type == VOLUME:
        devices = [("", res.props)]
    elif res.type == INSTANCE:
        root = res.get("rootBlockDevice")
        devices = [("rootBlockDevice", root)]
        devices += [
            (f"ebsBlockDevices[{i}]", device)
            for i, device in enumerate(entries(res.get("ebsBlockDevices")) or [])
        ]
    else:
        mappings = entries(res.get("blockDeviceMappings")) or []
        devices = [
            (f"blockDeviceMappings[{i}].ebs", field(mapping, "ebs"))
            for i, mapping in enumerate(mappings)
            if not field(mapping, "noDevice") and not field(mapping, "virtualName")
        ]
        if not devices:
            yield (
                f"{res.label} declares no blockDeviceMappings with an ebs block, so the root "
                "volume's encryption is left to the AMI; map the root device with "
                'ebs.encrypted = "true" and a kmsKeyId.'
            )
    for where, device in devices:
        prefix = f"{where}." if where else ""
        encrypted = field(device, "encrypted")
        if not as_bool(encrypted):
            yield (
                f"{res.label} {setting(prefix + 'encrypted', encrypted)}; EBS volumes must be "
                "encrypted (true)."
            )
        elif require_cmk and not field(device, "kmsKeyId"):
            yield (
                f"{res.label} leaves {prefix}kmsKeyId unset; encrypted volumes must use a "
                "customer-managed KMS key."
            )


@resource_policy(
    "ec2-ebs-encrypted",
    types={LAUNCH_TEMPLATE, INSTANCE, VOLUME},
    description="EBS volumes (launch templates, instances, volumes) must be encrypted with a CMK.",
    severity=HIGH,
    remediation=(
        "Declare the root device in block_device_mappings with ebs={'encrypted': 'true', "
        "'kms_key_id': key.arn}; set encrypted=True and kms_key_id on instances and volumes."
    ),
    config={
        "requireCustomerManagedKey": boolean(True, "Require kmsKeyId on encrypted volumes."),
    },
    tags=["compute", "encryption", "SH:EC2.3", "SH:EC2.7", "CKV_AWS_8", "AwsSolutions-EC26"],
)
def ebs_encrypted(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    yield from _ebs_problems(res, bool(config["requireCustomerManagedKey"]))


@resource_policy(
    "ec2-no-public-ip",
    types={LAUNCH_TEMPLATE, INSTANCE},
    description="Instances and launch templates must not associate public IP addresses.",
    severity=HIGH,
    remediation="Remove associate_public_ip_address (or set it to false); use NAT or endpoints.",
    tags=["compute", "public-exposure", "SH:EC2.9", "SH:EC2.25", "CKV_AWS_88"],
)
def no_public_ip(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if res.type == INSTANCE:
        value = res.get("associatePublicIpAddress")
        if as_bool(value):
            yield (
                f"{res.label} {setting('associatePublicIpAddress', value)}; it must be false "
                "or unset."
            )
        return
    for index, interface in enumerate(entries(res.get("networkInterfaces")) or []):
        value = field(interface, "associatePublicIpAddress")
        if as_bool(value):
            yield (
                f"{res.label} sets networkInterfaces[{index}].associatePublicIpAddress to "
                f"{show(value)}; it must be false or unset."
            )
