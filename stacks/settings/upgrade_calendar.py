"""End of EKS standard support per allowed Kubernetes version (the upgrade calendar).

An EKS cluster on the STANDARD upgrade policy is upgraded by AWS at the end of standard support
(botocore: EKS `UpgradePolicyRequest`), after which the next `pulumi up` plans a downgrade with
add-ons pinned for the old version. The plan warns `WARN_DAYS` before that date and the policy
gate fails from it on (`eks-standard-support-ending` / `-ended`, fed from this table).

Source: AWS, "Amazon EKS Kubernetes release calendar" (docs.aws.amazon.com/eks/latest/userguide/
kubernetes-versions.html#kubernetes-release-calendar). The stored copy of that page read here
lists versions up to 1.34; the 1.35 date is from two copies of the newer calendar
(endoflife.date/amazon-eks and aws-samples sample-apex-skills "EKS Version Support Calendar",
verified 2026-04-24), both 2027-03-27. No source here dates 1.36 yet: it stays allowed (its
add-ons are pinned) but undated, so the gate fails closed for a 1.36 cluster until its date
from AWS's calendar is added below.
"""

from __future__ import annotations

import datetime

WARN_DAYS = 60
"""Days before the end of standard support from which the plan warns."""

END_OF_STANDARD_SUPPORT: dict[str, datetime.date | None] = {
    "1.35": datetime.date(2027, 3, 27),
    "1.36": None,
}
"""Allowed Kubernetes version → last day of EKS standard support (None: not yet sourced)."""


def dated_versions() -> dict[str, str]:
    """The dated entries as the policy config wants them (`YYYY-MM-DD`)."""
    return {v: end.isoformat() for v, end in END_OF_STANDARD_SUPPORT.items() if end is not None}


def support_status(version: str, today: datetime.date) -> tuple[str, int | None]:
    """(`ok` | `warn` | `ended` | `undated`, days left) of one version on `today`."""
    end = END_OF_STANDARD_SUPPORT.get(version)
    if end is None:
        return "undated", None
    left = (end - today).days
    if left <= 0:
        return "ended", left
    return ("warn" if left <= WARN_DAYS else "ok"), left


def today_utc() -> datetime.date:
    """AWS's calendar dates are UTC+0 days."""
    return datetime.datetime.now(datetime.UTC).date()
