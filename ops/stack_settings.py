"""The stack an operation acts on: its settings (region, residency, AWS profile, tags) come
from its `Pulumi.<stack>.yaml`, the same file the stack is built from."""

from __future__ import annotations

from ops.errors import UserError
from stacks.settings import SettingsError, StackSettings, load_settings
from stacks.stackfile import read_stack_config, stack_names


def stack_settings(stack: str) -> StackSettings:
    """Validated settings of a stack of this repository; a user error (exit 2) otherwise."""
    try:
        return load_settings(stack, read_stack_config(stack))
    except SettingsError as error:
        raise UserError(f"invalid configuration of stack {stack!r}:\n{error}") from None


def every_stack() -> dict[str, StackSettings]:
    """Settings of every stack file in the repository, by stack name."""
    return {name: stack_settings(name) for name in stack_names()}
