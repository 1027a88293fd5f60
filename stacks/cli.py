"""`python -m stacks`: the project's command line (offline plan, policy config, operations)."""

from __future__ import annotations

import json
import sys

import typer
from rich.console import Console

from .offline import SynthesisError, synthesize_stack
from .offline.gate import check
from .offline.render import render_capacity, render_findings, render_text, to_json
from .policy_config import policy_config_for
from .settings import SettingsError, StackSettings, load_settings
from .stackfile import read_stack_config, stack_names

app = typer.Typer(
    help="crm-platform: offline plans, policy gates and operations for the CRM stacks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Wide enough for the plan tables when piped (rich assumes 80 columns without a terminal).
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)

EXIT_INVALID_CONFIG = 2
EXIT_POLICY_VIOLATION = 1


@app.callback()
def main() -> None:
    """crm-platform: offline plans, policy gates and operations for the CRM stacks."""


def _fail(message: str, code: int) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _settings(stack: str) -> tuple[dict[str, str], StackSettings]:
    try:
        config = read_stack_config(stack)
        return config, load_settings(stack, config)
    except SettingsError as error:
        message = f"invalid configuration of stack {stack!r}:\n{error}"
        raise _fail(message, EXIT_INVALID_CONFIG) from None


STACK_HELP = "Stack: " + ", ".join(stack_names())


@app.command()
def plan(
    stack: str = typer.Argument(..., help=STACK_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
) -> None:
    """Synthesize a stack offline (no CLI, credentials or network), show what it deploys and
    run the policy pack on it. Exit 1 on a mandatory policy violation, 2 on invalid config."""
    config, settings = _settings(stack)
    try:
        result = synthesize_stack(stack, config, settings)
    except SynthesisError as error:
        raise _fail(f"the program of stack {stack!r} failed: {error}", 1) from None
    findings = check(result, policy_config_for(settings))
    blocking = [finding for finding in findings if finding.blocking]
    if as_json:
        json.dump(to_json(result, settings, findings), sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    else:
        out.print(
            f"[bold]Offline plan of stack {stack}[/] (profile {settings.profile}, region "
            f"{settings.region}, residency {settings.residency.jurisdiction}: "
            f"{', '.join(settings.residency.allowed_regions)})"
        )
        render_text(result, out)
        render_capacity(settings, out)
        render_findings(findings, out)
    if blocking:
        raise _fail(
            f"{len(blocking)} mandatory policy violation(s) in stack {stack!r}; fix them "
            "before `pulumi preview`.",
            EXIT_POLICY_VIOLATION,
        )


@app.command("policy-config")
def policy_config(stack: str = typer.Argument(..., help=STACK_HELP)) -> None:
    """Print the stack's policy-pack config (JSON) for `pulumi preview --policy-pack policies
    --policy-pack-config <file>`, derived from the same settings as the stack."""
    _, settings = _settings(stack)
    json.dump(policy_config_for(settings), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


PROFILE_ORDER = ("dev", "staging", "prod")


@app.command()
def matrix(
    promotion: str | None = typer.Option(
        None,
        help="Promotion order, comma-separated stack names (default: by profile dev → staging "
        "→ prod, then by name).",
    ),
) -> None:
    """Print JSON for CI: `matrix` (one entry per stack file: stack, region, profile,
    jurisdiction; for `strategy.matrix: ${{ fromJSON(…).matrix }}`) and `promotion`."""
    stacks = {name: _settings(name)[1] for name in stack_names()}
    if promotion is None:
        order = sorted(stacks, key=lambda name: (PROFILE_ORDER.index(stacks[name].profile), name))
    else:
        order = [name.strip() for name in promotion.split(",") if name.strip()]
        unknown = [name for name in order if name not in stacks]
        if unknown or len(set(order)) != len(order):
            raise _fail(
                f"--promotion {promotion!r}: must name each stack at most once, from "
                f"{', '.join(stacks)}.",
                EXIT_INVALID_CONFIG,
            )
    entries = [
        {
            "stack": name,
            "region": settings.region,
            "profile": settings.profile,
            "jurisdiction": settings.residency.jurisdiction,
        }
        for name, settings in stacks.items()
    ]
    json.dump({"matrix": {"include": entries}, "promotion": order}, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")


OFFLINE_COMMANDS = frozenset({"plan", "policy-config", "matrix"})
"""Commands that need no AWS SDK: `python -m stacks` runs them without importing `ops`."""


def register_operations() -> None:
    """Add the operations commands (boto3, the Automation API) once, when they may run."""
    from ops.cli import COMMANDS, register

    if not any(command.callback in COMMANDS.values() for command in app.registered_commands):
        register(app)
