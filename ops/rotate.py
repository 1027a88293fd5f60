"""Rotate the CRM's database login: the next login of the pair gets a new password.

The rotation is a configuration change that the normal deployment carries out, in this order:
the platform generates the password and makes it the current version of the CRM's login
secret; the workloads layer runs the bootstrap Job (which sets it in PostgreSQL) before the
pods roll onto the new login. The previous login keeps its password until the rotation after
next, so pods not yet replaced keep working: no outage, and no password ever leaves AWS or the
stack's encrypted state.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pulumi import automation as auto

from ops.errors import UserError
from ops.pulumi_stacks import pulumi_command, select_stack

ROTATION_KEY = "database.crmLoginRotation"  # structured key crm-platform:database -> ...
ROLE = "twenty"


def login(rotation: int) -> str:
    """The login used after `rotation` rotations (as components.database.crm_login)."""
    return f"{ROLE}_login_{'ab'[rotation % 2]}"


@dataclass(frozen=True)
class Rotation:
    stack: str
    before: int
    after: int

    @property
    def summary(self) -> str:
        return (
            f"{self.stack}: crm-platform:{ROTATION_KEY} {self.before} → {self.after}; the CRM "
            f"moves from {login(self.before)} to {login(self.after)} (new password)"
        )


def _current(stack: auto.Stack) -> int:
    try:
        value = stack.get_config(ROTATION_KEY, path=True).value
    except auto.CommandError as exc:
        if "not found" in str(exc):
            return 0
        raise
    if not value.isdigit():
        raise UserError(
            f"crm-platform:{ROTATION_KEY} of stack {stack.name} is {value!r}; it must be a "
            "non-negative integer. Fix the stack file, then rotate again."
        )
    return int(value)


def rotate(stack_name: str, work_dir: Path, pulumi_root: Path | None) -> Rotation:
    """Increment the stack's rotation counter (in its Pulumi.<stack>.yaml)."""
    stack = select_stack(stack_name, work_dir, pulumi_command(pulumi_root))
    before = _current(stack)
    stack.set_config(ROTATION_KEY, auto.ConfigValue(str(before + 1)), path=True)
    return Rotation(stack_name, before, before + 1)
