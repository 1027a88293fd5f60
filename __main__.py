"""Entry point Pulumi runs for the platform layer; everything lives in `stacks/`."""

from stacks import platform

platform.program()
