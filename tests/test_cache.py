"""Valkey on ElastiCache: HA per environment, encryption at rest and in transit, the AUTH token
as a secret, no eviction, isolation, logs; and no secret value anywhere in the printed plan."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from typer.testing import CliRunner

from components.cache import AUTH_TOKEN_SPECIALS, Cache, CacheArgs
from stacks.cli import app
from stacks.offline import Plan, PlannedResource, synthesize
from stacks.offline.document import build, dumps
from stacks.offline.model import is_secret, unwrap
from stacks.settings import load_settings
from stacks.stackfile import read_stack_config

GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
PASSWORD = "random:index/randomPassword:RandomPassword"


def _group(plan: Plan) -> PlannedResource:
    return plan.one(GROUP)


def _of(plan: Plan, type_token: str, name: str) -> PlannedResource:
    (found,) = [r for r in plan.of_type(type_token) if r.name == name]
    return found


@pytest.mark.parametrize(
    ("stack", "nodes", "ha"), [("dev", 1, False), ("staging", 2, True), ("prod", 2, True)]
)
def test_nodes_and_failover_per_environment(stack, nodes, ha, request) -> None:
    group = _group(request.getfixturevalue(stack))
    assert group.get("numCacheClusters") == nodes
    assert group.get("automaticFailoverEnabled") is ha
    assert group.get("multiAzEnabled") is ha
    zones = group.get("preferredCacheClusterAzs")
    assert len(zones) == nodes == len(set(zones))
    assert group.get("clusterMode") == "disabled"


def test_engine_and_parameter_group_never_evict(any_stack: Plan) -> None:
    group = _group(any_stack)
    assert group.get("engine") == "valkey"
    major = group.get("engineVersion").split(".")[0]
    assert int(major) >= 8
    parameters = _of(any_stack, "aws:elasticache/parameterGroup:ParameterGroup", group.name)
    assert parameters.get("family") == f"valkey{major}"
    assert {p["name"]: p["value"] for p in parameters.get("parameters")} == {
        "maxmemory-policy": "noeviction"
    }
    assert group.property_dependencies["parameterGroupName"] == [parameters.urn]


def test_encrypted_at_rest_with_the_cache_key_and_in_transit(any_stack: Plan) -> None:
    group = _group(any_stack)
    assert group.get("atRestEncryptionEnabled") is True
    assert group.get("kmsKeyId") == any_stack.outputs["kmsKeyArns"]["cache"]
    assert group.get("transitEncryptionEnabled") is True
    assert group.get("transitEncryptionMode") == "required"


def test_auth_token_is_a_generated_secret_within_elasticache_rules(any_stack: Plan) -> None:
    group = _group(any_stack)
    password = _of(any_stack, PASSWORD, f"{group.name}-auth")
    assert is_secret(group.inputs["authToken"])
    assert group.property_dependencies["authToken"] == [password.urn]
    assert 16 <= password.get("length") <= 128
    assert password.get("overrideSpecial") == AUTH_TOKEN_SPECIALS
    assert not set(AUTH_TOKEN_SPECIALS) & set('@"/ ')
    token = group.get("authToken")
    assert len(token) == password.get("length")
    assert all(c.isalnum() or c in AUTH_TOKEN_SPECIALS for c in token)


def test_snapshots_and_upgrades(any_stack: Plan) -> None:
    group = _group(any_stack)
    assert group.get("snapshotRetentionLimit") >= 1
    assert group.get("snapshotWindow") and group.get("maintenanceWindow")
    assert group.get("finalSnapshotIdentifier") == f"{group.get('replicationGroupId')}-final"
    assert group.get("autoMinorVersionUpgrade") is True


@pytest.mark.parametrize(("stack", "protected"), [("dev", False), ("prod", True)])
def test_group_is_protected_in_prod(stack, protected, request) -> None:
    assert _group(request.getfixturevalue(stack)).protect is protected


def test_nodes_live_in_the_isolated_subnets_behind_the_workload_group(any_stack: Plan) -> None:
    group = _group(any_stack)
    subnets = _of(any_stack, "aws:elasticache/subnetGroup:SubnetGroup", group.name)
    assert subnets.get("subnetIds") == any_stack.outputs["isolatedSubnetIds"]
    assert group.property_dependencies["subnetGroupName"] == [subnets.urn]
    security = _of(any_stack, "aws:ec2/securityGroup:SecurityGroup", group.name)
    workloads = _of(
        any_stack, "aws:ec2/securityGroup:SecurityGroup", f"{any_stack.stack}-net-workloads"
    )
    (rule,) = security.get("ingress")
    assert (rule["protocol"], rule["fromPort"], rule["toPort"]) == ("tcp", 6379, 6379)
    assert len(rule["securityGroups"]) == 1 and not rule.get("cidrBlocks")
    assert security.property_dependencies["ingress"] == [workloads.urn]
    assert security.get("egress") == []
    assert group.property_dependencies["securityGroupIds"] == [security.urn]


def test_logs_are_delivered_to_encrypted_groups(any_stack: Plan) -> None:
    group = _group(any_stack)
    deliveries = group.get("logDeliveryConfigurations")
    assert sorted(d["logType"] for d in deliveries) == ["engine-log", "slow-log"]
    for delivery in deliveries:
        (log_group,) = [
            g
            for g in any_stack.of_type("aws:cloudwatch/logGroup:LogGroup")
            if g.get("name") == delivery["destination"]
        ]
        assert delivery["destinationType"] == "cloudwatch-logs"
        assert log_group.get("kmsKeyId") == any_stack.outputs["kmsKeyArns"]["logs"]
        assert log_group.urn in group.property_dependencies["logDeliveryConfigurations"]


def test_outputs_the_primary_endpoint(any_stack: Plan) -> None:
    endpoint = any_stack.outputs["cachePrimaryEndpoint"]
    assert endpoint.startswith(f"master.crm-platform-{any_stack.stack}.")
    assert endpoint.endswith(".cache.amazonaws.com")


def test_component_hands_the_token_to_the_app_as_a_secret() -> None:
    def component_program() -> None:
        cache = Cache(
            "x",
            CacheArgs(
                replication_group_id="crm-x",
                vpc_id="vpc-1",
                subnet_ids=["subnet-1", "subnet-2"],
                availability_zones=["eu-west-1a", "eu-west-1b"],
                client_security_group_ids=["sg-0123456789abcdef0"],
                kms_key_arn="arn:aws:kms:eu-west-1:123456789012:key/cache",
                logs_key_arn="arn:aws:kms:eu-west-1:123456789012:key/logs",
                nodes=3,
                protect=False,
            ),
        )
        pulumi.export("token", cache.auth_token)
        pulumi.export("host", cache.primary_endpoint)
        pulumi.export("port", cache.port)

    plan = synthesize(component_program, stack="test", config={"aws:region": "eu-west-1"})
    assert is_secret(plan.outputs["token"])
    assert len(unwrap(plan.outputs["token"])) == 64
    assert plan.outputs["host"].startswith("master.crm-x.")
    assert plan.outputs["port"] == 6379
    # three nodes over two zones: every zone is used, the first one twice
    assert _group(plan).get("preferredCacheClusterAzs") == [
        "eu-west-1a",
        "eu-west-1b",
        "eu-west-1a",
    ]


def _secret_strings(value: Any, inside: bool = False) -> list[str]:
    """Every string held (at any depth) inside a secret of `value`."""
    if is_secret(value):
        return _secret_strings(unwrap(value), inside=True)
    if isinstance(value, dict):
        return [s for item in value.values() for s in _secret_strings(item, inside)]
    if isinstance(value, list):
        return [s for item in value for s in _secret_strings(item, inside)]
    return [value] if inside and isinstance(value, str) else []


def test_no_secret_value_reaches_the_plan_json(prod: Plan) -> None:
    secrets = [s for r in prod.resources for s in _secret_strings(r.inputs)]
    secrets += _secret_strings(prod.outputs)
    assert _group(prod).get("authToken") in secrets
    printed = dumps(build(prod, load_settings("prod", read_stack_config("prod")), []))
    cli = CliRunner().invoke(app, ["plan", "prod", "--json"])
    assert cli.exit_code == 0, cli.output
    for secret in secrets:
        assert secret not in printed
        assert secret not in cli.stdout
    assert "[secret]" in printed
