"""Preview-time unknowns never crash a policy, and secret values never reach a message."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from pulumi.output import Unknown

from policies import guardrails
from policies.guardrails import POLICIES
from policies.guardrails.offline import evaluate

from .cases import CASES, Case
from .fixtures import (
    SECRET_KEY,
    SECRET_SIG,
    UNKNOWN,
    cache,
    container,
    db_primary,
    db_replica,
    deployment,
    pod_spec,
    prod_config,
    secret,
    security_group,
    world_https,
)

PACK = {policy.name: policy for policy in POLICIES}
PREVIEW_NOTE = "during preview"


def leaves(value: Any, replace) -> Any:
    """`value` with every scalar leaf passed through `replace` (secret envelopes kept)."""
    if isinstance(value, dict):
        if value.get(SECRET_KEY) == SECRET_SIG:
            return value
        return {key: leaves(item, replace) for key, item in value.items()}
    if isinstance(value, list):
        return [leaves(item, replace) for item in value]
    return replace(value)


def with_props(case: Case, transform) -> list[dict[str, Any]]:
    resources = copy.deepcopy(case.resources)
    for res in resources:
        res["props"] = transform(res["props"])
    return resources


def assert_well_formed(findings) -> None:
    for finding in findings:
        assert finding.policy in PACK
        assert finding.enforcement in ("mandatory", "advisory")
        assert finding.message


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_unknown_values_never_crash(case: Case) -> None:
    config = prod_config(**case.config)
    subject = case.resources[0]
    # One property at a time, so the code after the first unknown is exercised too; both forms
    # the offline plan may hold (the engine's sentinel string, pulumi's Unknown) take turns.
    for index, prop in enumerate(subject["props"]):
        resources = copy.deepcopy(case.resources)
        resources[0]["props"][prop] = UNKNOWN if index % 2 else Unknown()
        assert_well_formed(evaluate(resources, config))
    everything_unknown = with_props(case, lambda props: leaves(props, lambda _: UNKNOWN))
    findings = evaluate(everything_unknown, config)
    assert_well_formed(findings)
    # Unknowns either fail closed (residency) or are reported as advisory preview notes.
    for finding in findings:
        if PREVIEW_NOTE in finding.message:
            assert finding.enforcement == "advisory"


def test_unknown_input_is_reported_as_an_advisory_preview_note() -> None:
    case = next(c for c in CASES if c.policy == "rds-multi-az" and c.compliant)
    resources = copy.deepcopy(case.resources)
    resources[0]["props"]["multiAz"] = UNKNOWN
    [note] = [f for f in evaluate(resources, prod_config()) if f.policy == "rds-multi-az"]
    assert note.enforcement == "advisory" and PREVIEW_NOTE in note.message
    assert note.urn == resources[0]["urn"] and ".multiAz" in note.message


def _secret_strings(value: Any) -> set[str]:
    found: set[str] = set()
    leaves(value, lambda leaf: found.add(leaf) if isinstance(leaf, str) else None)
    return {text for text in found if len(text) >= 3}


# Policies whose verdict is whether a value is secret.
JUDGE_SECRECY = frozenset({"rds-no-literal-password"})

# Words a message may contain by construction ("HTTP", "rds.force_ssl", "AES256", ...).
POLICY_SOURCE = "".join(
    path.read_text() for path in (Path(guardrails.__file__).parent).glob("*.py")
)


@pytest.mark.parametrize("case", [c for c in CASES if not c.compliant], ids=lambda c: c.id)
def test_secret_values_are_never_echoed(case: Case) -> None:
    """Mark every input of the stack secret: the verdicts stay, no secret value is printed."""
    config = prod_config(**case.config)
    subject = case.resources[0]["urn"]
    plain = {f.policy for f in evaluate(case.resources, config) if f.urn == subject}
    findings = evaluate(with_props(case, lambda props: leaves(props, secret)), config)
    assert case.policy in plain
    # A policy that refuses plain values is satisfied once they are secret; the others hold.
    expected = plain - JUDGE_SECRECY
    assert {f.policy for f in findings if f.urn == subject} == expected
    public = (
        json.dumps(config)
        + POLICY_SOURCE
        + json.dumps([[r["type"], r["name"], r["urn"]] for r in case.resources])
    )
    hidden = {
        text
        for res in case.resources
        for text in _secret_strings(res["props"])
        if text not in public
    }
    for finding in findings:
        assert {text for text in hidden if text in finding.message} == set(), finding.message


def _messages(resources: list[dict[str, Any]], policy: str) -> list[str]:
    return [f.message for f in evaluate(resources, prod_config()) if f.policy == policy]


def test_values_derived_from_secrets_stay_secret() -> None:
    """Regions cut out of ARNs, port ranges and counts computed from secret inputs."""
    replica = db_replica(
        db_primary(), replicateSourceDb=secret("arn:aws:rds:us-east-1:111122223333:db:x")
    )
    [message] = _messages([replica], "residency-copy-destinations")
    assert "us-east-1" not in message and "[secret]" in message
    open_rule = security_group(
        "db", ingress=[dict(world_https()[0], fromPort=secret(5432), toPort=secret(5432))]
    )
    [message] = _messages([open_rule], "security-group-no-world-ingress")
    assert "5432" not in message and "[secret]" in message
    single = cache(numCacheClusters=secret(1))
    [message] = [m for m in _messages([single], "elasticache-high-availability") if "node" in m]
    assert "runs [secret] node(s)" in message
    pod = deployment(
        spec=pod_spec(
            containers=[container(ports=[{"containerPort": 80, "hostPort": secret(8080)}])]
        )
    )
    [message] = [m for m in _messages([pod], "k8s-pss-baseline") if "hostPort" in m]
    assert "8080" not in message
