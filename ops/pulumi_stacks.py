"""Pulumi Automation API access shared by verify, promote and the layer commands (up,
preview, refresh, destroy), the policy pack they preview and deploy with, and stack outputs
from a file."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from ops.errors import OpsError, UserError
from stacks.policy_config import policy_config_for
from stacks.settings import StackSettings


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


def open_stack(
    name: str, work_dir: Path, command: auto.PulumiCommand, secrets_provider: str | None
) -> auto.Stack:
    """The stack `name` of the project in `work_dir`, created (with `secrets_provider`, if
    given) in the backend the user is logged in to when it does not exist yet."""
    if not (work_dir / "Pulumi.yaml").is_file():
        raise UserError(f"No Pulumi.yaml in {work_dir}; pass --work-dir with the project root.")
    return auto.create_or_select_stack(
        stack_name=name,
        work_dir=str(work_dir),
        opts=auto.LocalWorkspaceOptions(pulumi_command=command, secrets_provider=secrets_provider),
    )


@dataclass(frozen=True)
class PolicyPack:
    """The crm-guardrails pack and one stack's config for it, as `up`/`preview` arguments."""

    directory: Path
    config: Path

    def __post_init__(self) -> None:
        if not (self.directory / "PulumiPolicy.yaml").is_file():
            raise UserError(f"No policy pack at {self.directory} (PulumiPolicy.yaml missing).")
        if not self.config.is_file():
            raise UserError(f"Policy config file {self.config} does not exist.")

    @classmethod
    def for_stack(cls, directory: Path, settings: StackSettings, tmp: Path) -> PolicyPack:
        """The pack in `directory` with the config `python -m stacks policy-config` prints."""
        config = tmp / f"policy-config.{settings.environment}.json"
        config.write_text(json.dumps(policy_config_for(settings)), encoding="utf-8")
        return cls(directory, config)

    def args(self) -> dict[str, list[str]]:
        return {"policy_packs": [str(self.directory)], "policy_pack_configs": [str(self.config)]}


def preview_with_policies(
    stack: auto.Stack, pack: PolicyPack, on_output: Callable[[str], None]
) -> None:
    """`pulumi preview --diff` with the pack; a mandatory violation fails with its lines."""
    try:
        stack.preview(on_output=on_output, color="never", diff=True, **pack.args())
    except auto.CommandError as exc:
        violations = [line.strip() for line in str(exc).splitlines() if "mandatory" in line.lower()]
        if violations:
            raise OpsError(
                "preview blocked by mandatory policy violation(s): " + "; ".join(violations)
            ) from exc
        raise


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
