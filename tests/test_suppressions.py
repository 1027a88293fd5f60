"""Suppressions written in a stack file: one policy, one resource, a reason, shown by the plan."""

from __future__ import annotations

import json

import pytest

from policies.guardrails.core import MIN_REASON_LENGTH as PACK_MINIMUM
from stacks.offline.document import build
from stacks.offline.gate import check
from stacks.policy_config import policy_config_for
from stacks.settings import SettingsError, load_settings
from stacks.settings.suppressions import MIN_REASON_LENGTH
from tests.support import stack_config, synth_stack

REASON = "dev has no WAF: it is reachable from the office range only"


def test_the_settings_ask_for_the_reason_length_the_pack_enforces() -> None:
    assert MIN_REASON_LENGTH == PACK_MINIMUM


def test_a_suppression_in_the_stack_file_acknowledges_the_finding_with_its_reason() -> None:
    entry = {"policy": "lb-waf", "resource": "dev-edge", "reason": REASON}
    config = stack_config("dev", suppressions=[entry])
    settings = load_settings("dev", config)
    plan = synth_stack("dev", suppressions=[entry])
    document = build(plan, settings, check(plan, policy_config_for(settings)))
    text = json.dumps(document["policies"])
    assert REASON in text
    silenced = [
        f
        for f in document["policies"]["findings"]
        if f["policy"] == "lb-waf" and f["resource"] == "dev-edge"
    ]
    assert silenced == []


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"policy": "no-such-policy", "resource": "dev-edge", "reason": REASON},
            "crm-platform:suppressions.0.policy: 'no-such-policy' is not allowed; it must name a "
            "policy of the pack",
        ),
        (
            {"policy": "lb-waf", "resource": "dev-edge", "reason": "because"},
            "crm-platform:suppressions.0.reason: 'because' is not allowed",
        ),
    ],
)
def test_a_bad_suppression_is_refused_before_anything_is_built(entry, message) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings("dev", stack_config("dev", suppressions=[entry]))
    assert message in str(error.value)


def test_a_repeated_suppression_is_refused() -> None:
    entry = {"policy": "lb-waf", "resource": "dev-edge", "reason": REASON}
    with pytest.raises(SettingsError, match=r"suppressions\.1.*must not repeat"):
        load_settings("dev", stack_config("dev", suppressions=[entry, entry]))
