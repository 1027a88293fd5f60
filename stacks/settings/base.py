"""Building blocks shared by every settings section.

Config keys are camelCase (Pulumi convention); Python attributes are snake_case. Every model
forbids unknown keys so a typo fails loudly instead of silently falling back to a default.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class Section(BaseModel):
    """Base of every settings model: camelCase keys, unknown keys rejected, immutable, and
    strict types (no `true` → 1, no `"yes"` → true, no number → string)."""

    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True, strict=True
    )


def int_range(low: int, high: int) -> AfterValidator:
    """Validator that reports the whole allowed range in one message."""

    def check(value: int) -> int:
        if not low <= value <= high:
            raise ValueError(f"must be an integer from {low} to {high}")
        return value

    return AfterValidator(check)


def one_of(allowed: tuple[int, ...]) -> AfterValidator:
    """Validator for numbers AWS accepts only from a fixed list (e.g. log retention days)."""

    def check(value: int) -> int:
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(map(str, allowed))}")
        return value

    return AfterValidator(check)


# CloudWatch Logs accepts only these retention periods (0 = never expire is excluded on purpose:
# unbounded retention of logs that may contain personal data is not a safe default).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip

RetentionDays = Annotated[int, one_of(LOG_RETENTION_DAYS)]
