"""IAM documents shared by the components that create service roles."""

from __future__ import annotations


def service_trust(service: str, source_account: str | None = None) -> dict:
    """Trust policy letting one AWS service (e.g. `vpc-flow-logs.amazonaws.com`) assume the
    role; with `source_account`, only on behalf of that account (no confused deputy)."""
    statement: dict = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if source_account is not None:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": source_account}}
    return {"Version": "2012-10-17", "Statement": [statement]}
