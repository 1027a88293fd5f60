"""A VPC for anything, from the library's `Network` component alone.

Config: `aws:region`, optionally `cidr` (default 10.50.0.0/16) and `azCount` (default 2).
"""

import json
import sys
from pathlib import Path

# Pulumi runs this from examples/network-only; the library lives two levels up.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pulumi
import pulumi_aws as aws

from components.encryption import KeyDomain, key_policy, key_policy_names
from components.network import Network, NetworkArgs

config = pulumi.Config()
region = aws.config.region
account = aws.get_caller_identity_output().account_id
flow_log_key = aws.kms.Key(
    "flow-logs",
    enable_key_rotation=True,
    policy=pulumi.Output.all(account, key_policy_names(region)).apply(
        lambda values: json.dumps(key_policy(KeyDomain.LOGS, *values))
    ),
)
network = Network(
    "shared",
    NetworkArgs(
        region=region,
        cidr=config.get("cidr") or "10.50.0.0/16",
        az_count=config.get_int("azCount") or 2,
        nat_strategy="single",
        interface_endpoints=False,
        flow_log_key_arn=flow_log_key.arn,
    ),
)
pulumi.export("vpcId", network.vpc.id)
