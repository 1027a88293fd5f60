"""`crm-platform:suppressions`: acknowledged policy findings, each with a written reason.

In the manner of cdk-nag's acknowledgements: a named policy is silenced for one named resource
only, the reason is shown by the plan and the gate, and a suppression that matches nothing is
reported as unused.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from .base import Section

MIN_REASON_LENGTH = 10


class Suppression(Section):
    """One acknowledged finding."""

    policy: str
    """Name of a policy of the pack (e.g. `lb-waf`)."""
    resource: str = Field(min_length=1)
    """Logical name (e.g. `dev-edge`) or URN of the resource the policy may not report on."""
    reason: str = Field(min_length=MIN_REASON_LENGTH)
    """Why the finding is accepted, in at least 10 characters; shown with the finding."""

    @field_validator("policy")
    @classmethod
    def _policy_of_the_pack(cls, name: str) -> str:
        from ..policy_config import SUPPRESSIBLE  # the pack is imported only when one is set

        if name not in SUPPRESSIBLE:
            raise ValueError("must name a policy of the pack (see policies/README.md)")
        return name
