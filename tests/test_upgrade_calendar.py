"""The upgrade calendar: allowed versions carry their end of EKS standard support; the plan warns
60 days before it, and the policy config hands the dates to the pack's calendar policies."""

from __future__ import annotations

import datetime

import pytest

from stacks import policy_config
from stacks.offline.document import upgrade_calendar
from stacks.offline.render import calendar_lines
from stacks.settings import load_settings
from stacks.settings.cluster import SUPPORTED_KUBERNETES_VERSIONS
from stacks.settings.upgrade_calendar import (
    END_OF_STANDARD_SUPPORT,
    WARN_DAYS,
    dated_versions,
    support_status,
)
from stacks.stackfile import read_stack_config
from tests.support import stack_config

END = END_OF_STANDARD_SUPPORT["1.35"]


def test_allowed_versions_are_exactly_the_calendars() -> None:
    assert tuple(END_OF_STANDARD_SUPPORT) == SUPPORTED_KUBERNETES_VERSIONS
    assert dated_versions() == {"1.35": END.isoformat()}


@pytest.mark.parametrize(
    ("days_before", "status"),
    [(WARN_DAYS + 1, "ok"), (WARN_DAYS, "warn"), (1, "warn"), (0, "ended"), (-30, "ended")],
)
def test_status_turns_to_warn_60_days_before_and_ended_on_the_day(days_before, status) -> None:
    today = END - datetime.timedelta(days=days_before)
    assert support_status("1.35", today) == (status, days_before)


def test_an_undated_version_is_reported_as_such() -> None:
    assert support_status("1.36", END) == ("undated", None)


def _plan_line(version: str, today: datetime.date) -> str:
    settings = load_settings("prod", stack_config("prod", cluster={"kubernetesVersion": version}))
    return " ".join(" ".join(calendar_lines(upgrade_calendar(settings, today))).split())


def test_plan_warns_before_and_fails_after_the_end() -> None:
    assert "in standard support" in _plan_line("1.35", END - datetime.timedelta(days=90))
    warned = _plan_line("1.35", END - datetime.timedelta(days=10))
    assert "10 days left" in warned and "upgrade now" in warned
    assert "the gate fails" in _plan_line("1.35", END)
    assert "fails closed" in _plan_line("1.36", END)


def test_plan_json_carries_the_calendar() -> None:
    settings = load_settings("prod", read_stack_config("prod"))
    assert upgrade_calendar(settings, END) == {
        "kubernetesVersion": "1.35",
        "endOfStandardSupport": END.isoformat(),
        "daysLeft": 0,
        "status": "ended",
        "warnDays": WARN_DAYS,
    }


def test_calendar_policies_get_the_settings_table() -> None:
    config = policy_config.policy_config_for(load_settings("prod", read_stack_config("prod")))
    for name in ("eks-standard-support-ending", "eks-standard-support-ended"):
        assert dated_versions().items() <= config[name]["endOfStandardSupport"].items()


@pytest.mark.parametrize(("stack", "level"), [("dev", "advisory"), ("prod", "mandatory")])
def test_waf_policy_is_mandatory_where_a_web_acl_is_configured(stack, level) -> None:
    settings = load_settings(stack, read_stack_config(stack))
    assert policy_config.policy_config_for(settings)["lb-waf"]["enforcementLevel"] == level


def test_summary_shows_the_calendar_only_when_an_upgrade_is_due() -> None:
    from stacks.offline.render import _calendar_needing_action

    settings = load_settings("prod", read_stack_config("prod"))
    due = {"upgradeCalendar": upgrade_calendar(settings, END - datetime.timedelta(days=5))}
    calm = {"upgradeCalendar": upgrade_calendar(settings, END - datetime.timedelta(days=90))}
    assert _calendar_needing_action(due) == [calendar_lines(due["upgradeCalendar"])]
    assert _calendar_needing_action(calm) == []
