"""Per-stack policy config (stacks/policy_config.py) and how the gate reconciles config."""

from __future__ import annotations

import jsonschema
import pytest

from policies.guardrails import POLICIES
from policies.guardrails.offline import config_document, evaluate, reconcile
from stacks.policy_config import (
    AVAILABILITY_POLICIES,
    PROTECTION_POLICIES,
    build_policy_config,
)

from .fixtures import ALLOWED, REGION, db_primary, prod_config

BY_NAME = {policy.name: policy for policy in POLICIES}


def config_for(environment: str, high_availability: bool, **extra):
    return build_policy_config(
        environment=environment,
        region=REGION,
        allowed_regions=ALLOWED,
        high_availability=high_availability,
        **extra,
    )


@pytest.mark.parametrize(
    ("environment", "high_availability"), [("dev", False), ("staging", True), ("prod", True)]
)
def test_emitted_config_validates_against_the_pack_schemas(environment, high_availability):
    config = config_for(environment, high_availability, eks_versions=["1.36"], require_waf=True)
    for name, entry in config.items():
        policy = BY_NAME[name]  # every key is a policy of the pack
        properties = {k: v for k, v in entry.items() if k != "enforcementLevel"}
        document = config_document(policy)
        document["required"] = []  # defaults fill the rest
        jsonschema.validate(properties, document)
        assert entry.get("enforcementLevel", "mandatory") in ("mandatory", "advisory")
    settings = reconcile(config)
    assert settings["residency-region-allowlist"].properties["allowedRegions"] == ALLOWED
    assert settings["eks-supported-version"].properties["allowedVersions"] == ["1.36"]


def test_relaxed_groups_name_mandatory_policies_of_the_pack() -> None:
    for name in AVAILABILITY_POLICIES + PROTECTION_POLICIES:
        assert BY_NAME[name].enforcement_level.value == "mandatory", name


def level(config, name: str) -> str:
    return reconcile(config)[name].level.value


def test_availability_follows_high_availability_and_protection_follows_prod() -> None:
    dev, staging, prod = (
        config_for("dev", False),
        config_for("staging", True),
        config_for("prod", True),
    )
    for name in AVAILABILITY_POLICIES:
        assert (level(dev, name), level(staging, name), level(prod, name)) == (
            "advisory",
            "mandatory",
            "mandatory",
        )
    for name in PROTECTION_POLICIES:
        assert (level(dev, name), level(staging, name), level(prod, name)) == (
            "advisory",
            "advisory",
            "mandatory",
        )
    untouched = set(BY_NAME) - set(AVAILABILITY_POLICIES) - set(PROTECTION_POLICIES) - {"lb-waf"}
    for name in untouched:
        assert level(dev, name) == BY_NAME[name].enforcement_level.value, name
    assert level(dev, "lb-waf") == "advisory"
    assert level(config_for("dev", False, require_waf=True), "lb-waf") == "mandatory"


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"environment": "qa"}, "environment"),
        ({"region": "us-east-1"}, "not in allowed_regions"),
        ({"allowed_regions": []}, "at least one region"),
    ],
)
def test_builder_rejects_inconsistent_arguments(arguments, error) -> None:
    values = {
        "environment": "prod",
        "region": REGION,
        "allowed_regions": ALLOWED,
        "high_availability": True,
    }
    with pytest.raises(ValueError, match=error):
        build_policy_config(**{**values, **arguments})


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"no-such-policy": "mandatory"}, "unknown policies: no-such-policy"),
        ({"rds-multi-az": "sometimes"}, "not an enforcement level"),
        ({"rds-read-replicas": {"minReplica": 2}}, "minReplica"),
        ({"rds-read-replicas": {"minReplicas": "two"}}, "minReplicas"),
        ({"residency-region-allowlist": {"allowedRegions": ["mars-1"]}}, "allowedRegions"),
    ],
)
def test_invalid_config_is_rejected(change, error) -> None:
    config = prod_config()
    for name, value in change.items():
        config[name] = value
    with pytest.raises(ValueError, match=error):
        reconcile(config)


def test_allowed_regions_are_required() -> None:
    with pytest.raises(ValueError, match="allowedRegions"):
        reconcile({})


def test_defaults_come_from_the_schemas() -> None:
    settings = reconcile(prod_config())
    assert settings["rds-backup-retention"].properties == {
        "minRetentionDays": 7,
        "checkReadReplicas": False,
        "suppressions": [],
    }
    assert settings["log-group-retention"].properties["minRetentionDays"] == 365


def test_all_sets_every_level_and_policy_entries_override_it() -> None:
    database = db_primary(multiAz=False, deletionProtection=False)
    config = {**prod_config(), "all": "advisory"}
    for name in AVAILABILITY_POLICIES + PROTECTION_POLICIES + ("lb-waf",):
        config.pop(name)  # their entries would set a level again
    assert {f.enforcement for f in evaluate([database], config)} == {"advisory"}
    config = {**config, "all": "disabled", "rds-multi-az": "mandatory"}
    assert [(f.policy, f.enforcement) for f in evaluate([database], config)] == [
        ("rds-multi-az", "mandatory")
    ]


def test_locked_backups_and_waf_gate_prod_only_in_compliance_mode() -> None:
    prod, dev = reconcile(config_for("prod", True)), reconcile(config_for("dev", False))
    for name in ("backup-vault-lock", "backup-selection-coverage", "lb-waf"):
        assert (prod[name].level.value, dev[name].level.value) == ("mandatory", "advisory")
    for name in ("backup-vault-lock", "backup-selection-coverage"):
        assert prod[name].properties["requireComplianceMode"] is True
        assert dev[name].properties["requireComplianceMode"] is False


def test_adopting_reports_a_policy_as_advisory_until_its_work_lands() -> None:
    settings = reconcile(config_for("prod", True, adopting=["lb-waf", "k8s-prestop-hook"]))
    assert settings["lb-waf"].level.value == "advisory"
    assert settings["k8s-prestop-hook"].level.value == "advisory"
    assert settings["backup-vault-lock"].level.value == "mandatory"


def test_every_adopting_entry_names_a_policy_and_its_work() -> None:
    from stacks.policy_config import ADOPTING

    assert set(ADOPTING) <= set(BY_NAME)
    assert all("issue" in work for work in ADOPTING.values())


def test_eks_support_dates_extend_the_pack_calendar() -> None:
    settings = reconcile(config_for("prod", True, eks_support_end={"1.36": "2027-07-28"}))
    for name in ("eks-standard-support-ending", "eks-standard-support-ended"):
        calendar = settings[name].properties["endOfStandardSupport"]
        assert calendar["1.36"] == "2027-07-28"
        assert calendar["1.34"] == BY_NAME[name].defaults["endOfStandardSupport"]["1.34"]


def test_a_malformed_support_date_is_a_config_error() -> None:
    bad = config_for("prod", True, eks_support_end={"1.36": "2027-13-01"})
    with pytest.raises(ValueError, match="endOfStandardSupport"):
        reconcile(bad)
