"""Pulumi Automation API access shared by verify and promote, and stack outputs from a file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from ops.errors import UserError


def pulumi_command(root: Path | None) -> auto.PulumiCommand:
    """The Pulumi CLI to drive: `<root>/bin/pulumi` if given, else `pulumi` on PATH."""
    try:
        return auto.PulumiCommand(root=str(root) if root else None)
    except FileNotFoundError as exc:
        where = f"{root}/bin/pulumi" if root else "pulumi on PATH"
        raise UserError(
            f"Pulumi CLI not found ({where}). Install it, or pass --outputs-file where offered."
        ) from exc
    except auto.InvalidVersionError as exc:
        raise UserError(f"Unsupported Pulumi CLI: {exc}") from exc


def select_stack(name: str, work_dir: Path, command: auto.PulumiCommand) -> auto.Stack:
    if not (work_dir / "Pulumi.yaml").is_file():
        raise UserError(f"No Pulumi.yaml in {work_dir}; pass --work-dir with the project root.")
    try:
        return auto.select_stack(
            stack_name=name,
            work_dir=str(work_dir),
            opts=auto.LocalWorkspaceOptions(pulumi_command=command),
        )
    except auto.StackNotFoundError as exc:
        raise UserError(f"Stack {name!r} not found in the current Pulumi backend.") from exc


def summarize(exc: auto.CommandError) -> str:
    """The informative tail of a failed CLI call (its str() is code + stdout + stderr)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return " | ".join(lines[-6:])


def plain_outputs(outputs: auto.OutputMap) -> dict[str, Any]:
    return {key: value.value for key, value in outputs.items()}


def load_outputs_file(path: Path) -> dict[str, Any]:
    """Outputs as written by `pulumi stack output --json`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"Cannot read outputs file {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise UserError(f"Outputs file {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise UserError(f"Outputs file {path} must contain a JSON object of stack outputs.")
    return data
