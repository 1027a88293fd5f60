"""Vendored upstream facts against what upstream published: the AWS Load Balancer Controller's
IAM policy for the pinned chart, and the EKS add-on pins against recorded version lists
(tests/data/, each file naming its source, version and how to refresh it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.cluster import addons, iam_policies
from components.cluster_addons import load_balancer_controller

DATA = Path(__file__).parent / "data"
CONTROLLER = DATA / "aws-load-balancer-controller"


def _source() -> dict:
    return json.loads((CONTROLLER / "SOURCE.json").read_text())


def _canonical(document: dict) -> set[str]:
    """Statements without their Sid, lists sorted: the same grants compare equal."""
    statements = set()
    for statement in document["Statement"]:
        body = {key: value for key, value in statement.items() if key != "Sid"}
        for key in ("Action", "NotAction", "Resource"):
            if key in body:
                body[key] = sorted([body[key]] if isinstance(body[key], str) else body[key])
        statements.add(json.dumps(body, sort_keys=True))
    return statements


def test_the_recorded_policy_is_for_the_pinned_controller() -> None:
    source = _source()
    assert source["tag"] == f"v{load_balancer_controller.CHART_VERSION}"
    assert len(source["commit"]) == 40 and source["repository"].startswith("https://github.com/")


@pytest.mark.parametrize("partition", sorted(_source()["files"]))
def test_vendored_policy_equals_the_published_one(partition: str) -> None:
    published = json.loads((CONTROLLER / Path(_source()["files"][partition]).name).read_text())
    vendored = iam_policies.load_balancer_controller(partition)
    assert _canonical(vendored) == _canonical(published)


def test_a_drifted_policy_is_detected() -> None:
    published = json.loads((CONTROLLER / "iam_policy.json").read_text())
    vendored = iam_policies.load_balancer_controller("aws")
    vendored["Statement"][0]["Action"] = [*vendored["Statement"][0]["Action"], "ec2:RunInstances"]
    assert _canonical(vendored) != _canonical(published)


def _recorded() -> dict:
    return json.loads((DATA / "eks_addon_versions.json").read_text())


def test_the_addon_record_says_what_it_is_and_how_to_refresh_it() -> None:
    record = _recorded()
    assert record["kind"] in ("describe-addon-versions", "public-evidence")
    assert record["recordedOn"] and "describe-addon-versions" in record["refresh"]


@pytest.mark.parametrize("kubernetes", sorted(addons.ADDON_VERSIONS))
def test_every_addon_pin_is_a_recorded_version(kubernetes: str) -> None:
    recorded = _recorded()["kubernetesVersions"][kubernetes]
    for addon, version in addons.ADDON_VERSIONS[kubernetes].items():
        assert version in recorded[addon]["versions"], f"{addon} {version} on {kubernetes}"
