"""Every AWS input of the shipped plans is checked against botocore's model of the API call the
provider makes with it; a value AWS would reject fails the gate, naming resource, input and
the rule's source."""

from __future__ import annotations

import copy
import dataclasses
import functools

import pytest
from botocore.loaders import Loader
from pulumi.output import Unknown

from stacks.offline import Plan, PlannedResource, fidelity
from stacks.offline.fidelity_map import MAPPINGS, UNMAPPABLE
from stacks.offline.gate import check
from stacks.offline.model import SECRET_SIG_KEY
from stacks.policy_config import policy_config_for
from stacks.settings import load_settings
from tests.conftest import shipped, variant
from tests.support import stack_config


@functools.cache
def _botocore(service: str) -> dict:
    return Loader().load_service_model(service, "service-2")


def _variants():
    for type_token, mapping in MAPPINGS.items():
        for selected in mapping.variants():
            yield type_token, selected


def test_shipped_stacks_pass_and_every_aws_input_is_mapped(any_stack: Plan) -> None:
    report = fidelity.check(any_stack)
    assert [f.message for f in report.findings] == []
    coverage = report.coverage
    assert coverage.unmapped == [] and coverage.unmapped_types == []
    assert coverage.uncheckable_patterns == []
    aws_types = {r.type for r in any_stack.resources if r.custom and r.type.startswith("aws:")}
    assert aws_types <= set(MAPPINGS) | set(UNMAPPABLE)
    mapped = [r for r in any_stack.resources if r.type in MAPPINGS]
    assert coverage.resources == len(mapped)
    # Every mapped resource contributes: values checked well beyond one per resource.
    assert coverage.checked > 4 * len(mapped) and coverage.constrained > len(mapped)


# Resources the shipped stacks only create with settings they leave unset.
OPTIONAL_TYPES = {
    "aws:lb/listenerRule:ListenerRule": {"app": {"setup": {"adminCidrs": ["198.51.100.0/29"]}}},
    "aws:sns/topicSubscription:TopicSubscription": {"alarms": {"emails": ["ops@example.com"]}},
    "aws:codebuild/webhook:Webhook": {"deployRunner": {"connectionAuthorized": True}},
}


def test_resources_made_only_on_request_pass_and_are_mapped() -> None:
    overrides = {key: value for extra in OPTIONAL_TYPES.values() for key, value in extra.items()}
    plan = variant("dev", **overrides)
    assert set(OPTIONAL_TYPES) <= {r.type for r in plan.resources}
    report = fidelity.check(plan)
    assert [f.message for f in report.findings] == []
    assert report.coverage.unmapped == [] and report.coverage.unmapped_types == []


@pytest.mark.parametrize(
    ("type_token", "mapping"), list(_variants()), ids=lambda v: getattr(v, "operations", v)
)
def test_every_mapping_target_exists_in_botocore(type_token: str, mapping) -> None:
    model = _botocore(mapping.service)
    for operation in mapping.operation_names():
        assert operation in model["operations"], f"{type_token}: {operation}"
    for pulumi_path, spec in mapping.renames.items():
        shape = fidelity.resolve(mapping, spec)
        assert shape.name in model["shapes"], f"{type_token}.{pulumi_path} -> {spec}"


def test_the_cached_model_slice_keeps_botocore_rules() -> None:
    for service in {mapping.service for _, mapping in _variants()}:
        model = _botocore(service)
        for name, body in fidelity.service_model(service)["shapes"].items():
            source = model["shapes"][name]
            for rule in ("type", "enum", "pattern", "min", "max"):
                assert body.get(rule) == source.get(rule), f"{service} {name} {rule}"


def _one(plan: Plan, type_token: str, path: str, value) -> Plan:
    """A plan holding one resource of the shipped plan with the input at `path` replaced."""
    candidates = plan.of_type(type_token)
    top = path.split(".")[0]
    resource = next((r for r in candidates if top in r.inputs), candidates[0])
    inputs = copy.deepcopy(resource.inputs)
    *parents, last = path.split(".")
    node = inputs
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[int(last) if last.isdigit() else last] = value
    return Plan(stack=plan.stack, resources=[dataclasses.replace(resource, inputs=inputs)])


WRONG_VALUES = [
    # (type, input path, bad value, what the message names)
    ("aws:eks/cluster:Cluster", "enabledClusterLogTypes", ["api", "apiserver"], "enum"),
    ("aws:eks/cluster:Cluster", "upgradePolicy.supportType", "STANDARD_SUPPORT", "enum"),
    (
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "transitEncryptionMode",
        "strict",
        "enum",
    ),
    ("aws:ec2/vpcEndpoint:VpcEndpoint", "vpcEndpointType", "interface", "enum"),
    ("aws:ec2/launchTemplate:LaunchTemplate", "metadataOptions.httpTokens", "requried", "enum"),
    (
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "rules.0.applyServerSideEncryptionByDefault.sseAlgorithm",
        "kms",
        "enum",
    ),
    ("aws:eks/nodeGroup:NodeGroup", "scalingConfig.minSize", 2.5, "whole number"),
    ("aws:eks/nodeGroup:NodeGroup", "scalingConfig.minSize", -1.0, "range"),
    ("aws:kms/key:Key", "description", "x" * 8193, "length"),
    ("aws:eks/cluster:Cluster", "name", "-crm-platform-prod", "pattern"),
    ("aws:kms/alias:Alias", "name", "alias/crm platform", "pattern"),
    ("aws:ec2/flowLog:FlowLog", "trafficType", "all", "enum"),
    ("aws:eks/nodeGroup:NodeGroup", "labels", {"crm-platform/pool": "x" * 64}, "length"),
    ("aws:lb/loadBalancer:LoadBalancer", "loadBalancerType", "alb", "enum"),
    ("aws:lb/listener:Listener", "defaultActions.0.redirect.statusCode", "301", "enum"),
    ("aws:lb/targetGroup:TargetGroup", "healthCheck.interval", 500.0, "range"),
    ("aws:codebuild/project:Project", "environment.computeType", "SMALL", "enum"),
    ("aws:route53/record:Record", "aliases.0.evaluateTargetHealth", "yes", "boolean"),
    ("aws:backup/vault:Vault", "name", "crm platform", "pattern"),
    ("aws:backup/plan:Plan", "rules.0.startWindow", 1.5, "whole number"),
    ("aws:backup/vaultNotifications:VaultNotifications", "backupVaultEvents", ["FAILED"], "enum"),
    ("aws:cloudwatch/metricAlarm:MetricAlarm", "statistic", "Avg", "enum"),
    (
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "dimensions",
        {"DBInstanceIdentifier": ""},
        "length",
    ),
    ("aws:wafv2/webAcl:WebAcl", "rules.0.visibilityConfig.metricName", "crm prod", "pattern"),
]


@pytest.mark.parametrize(("type_token", "path", "value", "rule"), WRONG_VALUES)
def test_a_value_aws_would_reject_fails_with_resource_input_and_source(
    type_token: str, path: str, value, rule: str
) -> None:
    plan = _one(shipped("prod"), type_token, path, value)
    findings = check(plan, policy_config_for(load_settings("prod", stack_config("prod"))))
    shapes = [f for f in findings if f.policy == fidelity.POLICY]
    assert len(shapes) == 1, [f.message for f in shapes]
    finding = shapes[0]
    assert finding.blocking and finding.resource_type == type_token
    top = path.split(".")[0]
    assert f"`{top}" in finding.message and rule in finding.message
    assert f"Rule source: {fidelity.SOURCE} " in finding.message
    assert plan.resources[0].name in finding.message


def test_the_unchanged_resources_pass_the_same_check() -> None:
    """The seeded cases above fail because of the seeded value, not the resource."""
    for type_token, _, _, _ in WRONG_VALUES:
        plan = Plan(stack="prod", resources=shipped("prod").of_type(type_token))
        assert fidelity.check(plan).findings == []


def test_a_secret_value_is_never_printed() -> None:
    secret = {SECRET_SIG_KEY: "1b47061264138c4ac30d75fd1eb44270", "value": "hunter2-strict"}
    plan = _one(
        shipped("prod"),
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "transitEncryptionMode",
        secret,
    )
    [finding] = fidelity.check(plan).findings
    assert "[secret]" in finding.message and "hunter2" not in finding.message


def test_unmapped_inputs_and_types_are_reported_not_skipped() -> None:
    plan = _one(shipped("prod"), "aws:eks/cluster:Cluster", "madeUpSetting", "x")
    unknown_type = PlannedResource(
        urn="urn:pulumi:prod::crm-platform::aws:sqs/queue:Queue::q",
        type="aws:sqs/queue:Queue",
        name="q",
        custom=True,
        parent=None,
        provider=None,
        inputs={"name": "q"},
        dependencies=[],
        property_dependencies={},
        protect=False,
        ignore_changes=[],
        aliases=[],
    )
    plan.resources.append(unknown_type)
    coverage = fidelity.check(plan).coverage
    assert coverage.unmapped == ["aws:eks/cluster:Cluster: madeUpSetting"]
    assert coverage.unmapped_types == ["aws:sqs/queue:Queue"]


def test_values_unknown_until_deploy_are_counted() -> None:
    plan = _one(shipped("prod"), "aws:eks/cluster:Cluster", "roleArn", Unknown())
    report = fidelity.check(plan)
    assert report.findings == [] and report.coverage.unknown == 1
