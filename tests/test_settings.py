"""Settings validation: every bad input fails with one message naming key, value and rule,
before any resource is registered."""

from __future__ import annotations

import pytest

from stacks.offline import SynthesisError, synthesize
from stacks.platform import program
from stacks.settings import SettingsError, load_settings
from stacks.stackfile import read_stack_config
from tests.support import MINIMAL_CONFIG, stack_config

BAD_INPUTS = [
    (
        {"crm-platform:netwrk": '{"cidr": "10.0.0.0/16"}'},
        'crm-platform:netwrk: unknown setting (value {"cidr": "10.0.0.0/16"}); allowed keys '
        "here: alarms, app, backup, cache, cluster, dataClassification, database, deployRunner, "
        "encryption, logging, network, owner, profile, protectStatefulResources, residency, "
        "storage, suppressions, waf. "
        "Did you mean 'network'?",
    ),
    (
        {"crm-platform:network": '{"azcount": 2}'},
        "crm-platform:network.azcount: unknown setting (value 2); allowed keys here: azCount, "
        "cidr, interfaceEndpoints, natStrategy, reservedCidrs. Did you mean 'azCount'?",
    ),
    (
        {"aws:region": "us-east-1"},
        "aws:region: 'us-east-1' is not allowed; it must be in residency.allowedRegions: "
        "eu-central-1, eu-west-1.",
    ),
    (
        {"aws:region": "eu-centrall-1"},
        "aws:region: 'eu-centrall-1' is not allowed; it must be a real AWS region, "
        "e.g. eu-central-1.",
    ),
    (
        {"crm-platform:network": '{"azCount": 7}'},
        "crm-platform:network.azCount: 7 is not allowed; it must be an integer from 2 to 6.",
    ),
    (
        {"crm-platform:network": '{"azCount": "three"}'},
        "crm-platform:network.azCount: 'three' is not allowed; it must be a whole number, "
        "written without quotes.",
    ),
    (
        {"crm-platform:database": '{"readReplicas": true}'},
        "crm-platform:database.readReplicas: true is not allowed; it must be a whole number, "
        "not true/false.",
    ),
    (
        {"crm-platform:database": '{"multiAz": "yes"}'},
        "crm-platform:database.multiAz: 'yes' is not allowed; it must be true or false, "
        "written without quotes.",
    ),
    (
        {"crm-platform:cluster": '{"kubernetesVersion": 1.36}'},
        "crm-platform:cluster.kubernetesVersion: 1.36 is not allowed; it must be written in "
        'quotes, e.g. "1.36": YAML reads an unquoted number as a number (and turns 1.30 into '
        "1.3).",
    ),
    (
        {"crm-platform:residency": "EU"},
        "crm-platform:residency: 'EU' is not allowed; it must be a mapping of keys to values "
        "(allowedRegions, jurisdiction, sovereignOnly).",
    ),
    (
        {"crm-platform:residency": '{"allowedRegions": []}'},
        "crm-platform:residency.allowedRegions: [] is not allowed; it must list at least 1 "
        "item(s).",
    ),
    (
        {"crm-platform:owner": "platform;team"},
        "crm-platform:owner: 'platform;team' is not allowed; it must hold only letters, spaces, "
        "numbers and _ . : / = + - @ (not ';'), as AWS tag values must.",
    ),
    (
        {"crm-platform:owner": "x" * 257},
        f"crm-platform:owner: '{'x' * 257}' is not allowed; it must be 1 to 256 characters "
        "long, as AWS tag values must.",
    ),
    (
        {"aws:assumeRoles": '[{"roleArn": "arn:aws:iam::123456789012:user/x"}]'},
        "aws:assumeRoles.0.roleArn: 'arn:aws:iam::123456789012:user/x' is not allowed; it must "
        "be an IAM role ARN, e.g. arn:<partition>:iam::123456789012:role/platform-admin.",
    ),
    (
        {
            "aws:assumeRoles": '[{"roleArn": "arn:aws:iam::123456789012:role/x", '
            '"sessionName": "ci run"}]'
        },
        "aws:assumeRoles.0.sessionName: 'ci run' is not allowed; it must hold only letters, "
        "numbers and _ + = , . @ - (not ' ').",
    ),
    (
        {"aws:allowedAccountIds": "[123456789012]"},
        "aws:allowedAccountIds.0: 123456789012 is not allowed; it must be written in quotes, "
        'e.g. "123456789012": YAML reads an unquoted number as a number (and turns 1.30 into '
        "1.3).",
    ),
    (
        {"crm-platform:network": '{"natStrategy": "two"}'},
        "crm-platform:network.natStrategy: 'two' is not allowed; it must be 'none', 'single', "
        "'onePerAz' or 'regional'.",
    ),
    (
        {"crm-platform:network": '{"cidr": "10.0.0.300/16"}'},
        "crm-platform:network.cidr: '10.0.0.300/16' is not allowed; it must be an IPv4 network "
        "in CIDR notation (Octet 300 (> 255) not permitted in '10.0.0.300').",
    ),
    (
        {"crm-platform:network": '{"cidr": "10.0.0.0/8"}'},
        "crm-platform:network.cidr: '10.0.0.0/8' is not allowed; it must have a prefix from /16 "
        "to /20.",
    ),
    (
        {"crm-platform:network": '{"cidr": "8.8.0.0/16"}'},
        "crm-platform:network.cidr: '8.8.0.0/16' is not allowed; it must lie inside 10.0.0.0/8, "
        "172.16.0.0/12 or 192.168.0.0/16.",
    ),
    (
        {"crm-platform:network": '{"cidr": "10.0.0.0/16", "reservedCidrs": ["10.0.128.0/20"]}'},
        "crm-platform:network.reservedCidrs.0: '10.0.128.0/20' is not allowed; it must not "
        "overlap the VPC cidr 10.0.0.0/16.",
    ),
    (
        {"crm-platform:network": '{"natStrategy": "none", "interfaceEndpoints": false}'},
        "crm-platform:network.natStrategy: 'none' is not allowed; it requires "
        "interfaceEndpoints: true, or nodes could not pull images or get tokens.",
    ),
    (
        {"crm-platform:residency": '{"allowedRegions": ["eu-central-1", "eu-west-2"]}'},
        "crm-platform:residency.allowedRegions.1: 'eu-west-2' is not allowed; it must be a "
        "region located in EU: eu-central-1, eu-north-1, eu-south-1, eu-south-2, eu-west-1, "
        "eu-west-3, eusc-de-east-1.",
    ),
    (
        {"crm-platform:residency": '{"jurisdiction": "Mars"}'},
        "crm-platform:residency.jurisdiction: 'Mars' is not allowed; it must be 'EU', 'UK', "
        "'CH', 'US', 'CA', 'AU', 'JP', 'IN', 'BR' or 'CN'.",
    ),
    (
        {"crm-platform:logging": '{"retentionDays": 10}'},
        "crm-platform:logging.retentionDays: 10 is not allowed; it must be one of 1, 3, 5, 7, "
        "14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, "
        "3288, 3653.",
    ),
    (
        {"crm-platform:encryption": '{"keyDeletionWindowDays": 3}'},
        "crm-platform:encryption.keyDeletionWindowDays: 3 is not allowed; it must be an "
        "integer from 7 to 30.",
    ),
    (
        {"crm-platform:protectStatefulResources": "maybe"},
        "crm-platform:protectStatefulResources: 'maybe' is not allowed; it must be true or "
        "false, written without quotes.",
    ),
    (
        {"crm-platform:profile": "qa"},
        "crm-platform:profile: 'qa' is not allowed; it must be one of dev, staging, prod (it "
        "defaults to the stack name).",
    ),
    (
        {"aws:prfile": "admin"},
        "aws:prfile: unknown setting (value 'admin'); this program reads only aws:region, "
        "aws:profile, aws:assumeRoles, aws:allowedAccountIds from the aws namespace.",
    ),
    (
        {"crm-platform:region": "eu-west-1"},
        "crm-platform:region: unknown setting (value 'eu-west-1'); set aws:region instead.",
    ),
]


@pytest.mark.parametrize(("override", "message"), BAD_INPUTS, ids=[m[:40] for _, m in BAD_INPUTS])
def test_bad_input_fails_with_one_precise_message(override: dict, message: str) -> None:
    config = stack_config("dev") | override
    with pytest.raises(SettingsError) as caught:
        load_settings("dev", config)
    assert caught.value.messages == [message]


@pytest.mark.parametrize(("override", "message"), BAD_INPUTS, ids=[m[:40] for _, m in BAD_INPUTS])
def test_bad_input_registers_no_resource(override: dict, message: str) -> None:
    with pytest.raises(SynthesisError) as caught:
        synthesize(program, stack="dev", config=stack_config("dev") | override)
    assert message in str(caught.value)
    assert caught.value.plan.resources == []


def test_missing_region_is_reported() -> None:
    config = {k: v for k, v in read_stack_config("dev").items() if k != "aws:region"}
    with pytest.raises(SettingsError) as caught:
        load_settings("dev", config)
    assert caught.value.messages == ["aws:region: required setting is missing."]


def test_every_problem_is_reported_at_once() -> None:
    config = stack_config("dev") | {
        "aws:region": "us-east-1",
        "crm-platform:network": '{"azCount": 9, "natStrategy": "all"}',
    }
    with pytest.raises(SettingsError) as caught:
        load_settings("dev", config)
    keys = [
        message.split(":", 2)[0] + ":" + message.split(":", 2)[1]
        for message in caught.value.messages
    ]
    assert keys == ["crm-platform:network.azCount", "crm-platform:network.natStrategy"]


@pytest.mark.parametrize(
    ("stack", "az_count", "nat", "endpoints", "protect", "retention"),
    [
        ("dev", 2, "single", False, False, 30),
        ("staging", 3, "single", True, False, 90),
        ("prod", 3, "onePerAz", True, True, 365),
    ],
)
def test_profiles_shape_each_environment(
    stack, az_count, nat, endpoints, protect, retention
) -> None:
    settings = load_settings(stack, read_stack_config(stack))
    assert settings.profile == stack
    assert settings.network.az_count == az_count
    assert settings.network.nat_strategy == nat
    assert settings.network.interface_endpoints is endpoints
    assert settings.protect_stateful_resources is protect
    assert settings.logging.retention_days == retention
    assert settings.region == "eu-central-1"
    assert settings.residency.jurisdiction == "EU"
    assert settings.residency.allowed_regions == ["eu-central-1", "eu-west-1"]


def test_stack_config_overrides_profile_field_by_field() -> None:
    settings = load_settings("dev", stack_config("dev", network={"azCount": 3}))
    assert settings.network.az_count == 3
    assert settings.network.nat_strategy == "single"  # still the dev profile's


def test_model_defaults_are_the_safe_ones() -> None:
    settings = load_settings("prod", MINIMAL_CONFIG)
    assert settings.protect_stateful_resources is True
    assert settings.network.nat_strategy == "onePerAz"
    assert settings.network.interface_endpoints is True
    assert settings.encryption.key_deletion_window_days == 30
    assert settings.data_classification == "confidential"


def test_encrypted_values_in_stack_files_are_refused(tmp_path, monkeypatch) -> None:
    import stacks.stackfile as stackfile

    (tmp_path / "Pulumi.leaky.yaml").write_text(
        "config:\n  crm-platform:dbPassword:\n    secure: AAABAKx\n"
    )
    monkeypatch.setattr(stackfile, "ROOT", tmp_path)
    with pytest.raises(SettingsError) as caught:
        stackfile.read_stack_config("leaky")
    assert caught.value.messages[0].startswith("crm-platform:dbPassword: encrypted values")
