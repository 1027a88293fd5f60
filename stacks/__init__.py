"""Stacks of crm-platform: settings, environment profiles and the composition of components."""

from __future__ import annotations

import pulumi

from .composition import build
from .settings import SettingsError, StackSettings, load_settings


def read_settings() -> StackSettings:
    """Settings of the running stack, read once from Pulumi config."""
    config = dict(pulumi.runtime.config.get_config_env())
    config.update(pulumi.runtime.config.CONFIG.get())
    return load_settings(pulumi.get_stack(), config)


def program() -> None:
    """The Pulumi program: validate every setting, then build and export the stack."""
    try:
        settings = read_settings()
    except SettingsError as error:
        # RunError is reported by the engine as a plain message, without a traceback.
        raise pulumi.RunError(f"invalid stack configuration:\n{error}") from None
    for key, value in build(settings).items():
        pulumi.export(key, value)
