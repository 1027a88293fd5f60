"""Reading the running stack's settings once, the same way for both layers."""

from __future__ import annotations

import pulumi

from .settings import SettingsError, StackSettings, load_settings
from .stackfile import read_stack_config


def read_settings(config: dict[str, str] | None = None) -> StackSettings:
    """Settings of the running stack, validated before any resource is registered.

    The platform receives its config from Pulumi (its own stack file); the workloads layer
    passes the platform's stack file of the same environment: settings have one home.
    A configuration error is raised as `RunError`, which the engine reports as a plain
    message without a traceback.
    """
    if config is None:
        config = dict(pulumi.runtime.config.get_config_env())
        config.update(pulumi.runtime.config.CONFIG.get())
    try:
        return load_settings(pulumi.get_stack(), config)
    except SettingsError as error:
        raise pulumi.RunError(f"invalid stack configuration:\n{error}") from None


def read_environment_settings() -> StackSettings:
    """The workloads layer's view: the root `Pulumi.<stack>.yaml` of the same environment."""
    try:
        config = read_stack_config(pulumi.get_stack())
    except SettingsError as error:
        raise pulumi.RunError(f"invalid stack configuration:\n{error}") from None
    return read_settings(config)
