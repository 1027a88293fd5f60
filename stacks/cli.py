"""`python -m stacks`: the project's command line (offline plan, policy config, operations)."""

from __future__ import annotations

import json
import sys

import typer
from rich.console import Console

from . import program
from .offline import SynthesisError, synthesize
from .offline.render import render_text, to_json
from .settings import SettingsError, load_settings
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


@app.callback()
def main() -> None:
    """crm-platform: offline plans, policy gates and operations for the CRM stacks."""


def _fail(message: str, code: int) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@app.command()
def plan(
    stack: str = typer.Argument(..., help="Stack to synthesize: " + ", ".join(stack_names())),
    as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
) -> None:
    """Synthesize a stack offline (no CLI, credentials or network) and show what it deploys."""
    try:
        config = read_stack_config(stack)
        settings = load_settings(stack, config)
    except SettingsError as error:
        message = f"invalid configuration of stack {stack!r}:\n{error}"
        raise _fail(message, EXIT_INVALID_CONFIG) from None
    try:
        result = synthesize(program, stack=stack, config=config)
    except SynthesisError as error:
        raise _fail(f"the program of stack {stack!r} failed: {error}", 1) from None
    if as_json:
        json.dump(to_json(result), sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
        return
    out.print(
        f"[bold]Offline plan of stack {stack}[/] (profile {settings.profile}, region "
        f"{settings.region}, residency {settings.residency.jurisdiction}: "
        f"{', '.join(settings.residency.allowed_regions)})"
    )
    render_text(result, out)
