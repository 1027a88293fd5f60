"""`aws:profile`, `aws:assumeRoles` and `aws:allowedAccountIds`: which account a stack deploys to.

The program builds explicit AWS providers, which ignore the `aws:` stack config unless it is
handed to them; these settings are what it hands over, so a stack can target its own account.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, Field

from .aws_rules import StringRule, external_id_rule, session_name_rule
from .base import Section
from .cluster import RoleArn


def _obeys(rule: Callable[[], StringRule]) -> AfterValidator:
    """Validator for an optional string that must follow an AWS rule."""

    def check(value: str | None) -> str | None:
        problem = None if value is None else rule().problem(value)
        if problem:
            raise ValueError(problem)
        return value

    return AfterValidator(check)


def _check_account_id(value: str) -> str:
    if not re.fullmatch(r"\d{12}", value):
        raise ValueError("must be a 12-digit AWS account id, written in quotes")
    return value


class AssumeRoleSettings(Section):
    """One entry of `aws:assumeRoles`: a role the provider assumes (chained in order)."""

    role_arn: RoleArn
    """IAM role in the target account, e.g. arn:aws:iam::123456789012:role/crm-deployer."""
    session_name: Annotated[str | None, _obeys(session_name_rule)] = None
    """Shown in CloudTrail as the session of every call."""
    external_id: Annotated[str | None, _obeys(external_id_rule)] = None
    """Required by roles that a third party assumes."""


class AwsAccessSettings(Section):
    """The AWS account and credentials every provider of the stack uses."""

    profile: str | None = Field(None, min_length=1)
    """Named profile of the AWS shared config (`aws:profile`); unset: the ambient credentials."""
    assume_roles: list[AssumeRoleSettings] = Field(default_factory=list)
    """Roles assumed after the base credentials (`aws:assumeRoles`), e.g. one per account."""
    allowed_account_ids: list[Annotated[str, AfterValidator(_check_account_id)]] = Field(
        default_factory=list
    )
    """The provider refuses to run in any other account (`aws:allowedAccountIds`)."""
