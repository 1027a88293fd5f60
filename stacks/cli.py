"""`python -m stacks`: the project's command line (offline plan, policy config, operations)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console

from .offline import SynthesisError, synthesize_stack
from .offline.document import build
from .offline.gate import check
from .policy_config import policy_config_for
from .settings import SettingsError, StackSettings, load_settings
from .stackfile import read_stack_config, stack_names

app = typer.Typer(
    help="crm-platform: offline plans, policy gates and operations for the CRM stacks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
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


class PlanError(Exception):
    """A plan that cannot be shown: exit code, kind and message (as JSON with --json)."""

    def __init__(self, code: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.code, self.kind = code, kind


def _gated_document(stack: str) -> dict:
    """Settings, both layers synthesized, the gate run: the plan document."""
    try:
        config = read_stack_config(stack)
        settings = load_settings(stack, config)
    except SettingsError as error:
        message = f"invalid configuration of stack {stack!r}:\n{error}"
        raise PlanError(EXIT_INVALID_CONFIG, "invalid-config", message) from None
    try:
        result = synthesize_stack(stack, config, settings)
    except SynthesisError as error:
        message = f"the program of stack {stack!r} failed: {error}"
        raise PlanError(EXIT_POLICY_VIOLATION, "program-failed", message) from None
    return build(result, settings, check(result, policy_config_for(settings)))


def _compare(document: dict, base_file: Path) -> dict:
    from .offline.diff import BaseDocumentError, diff, load_base

    try:
        base = load_base(base_file.read_text(), str(base_file))
    except (OSError, BaseDocumentError) as error:
        raise PlanError(EXIT_INVALID_CONFIG, "invalid-base", str(error)) from None
    return diff(base, document)


def _draw(document: dict, target: Path) -> None:
    from .offline.diagram import write

    for path in write(document, target):
        err.print(f"diagram written: {path}", highlight=False)


def _exit_code(document: dict, fail_on_replace: bool) -> int:
    policies = document["policies"]
    if policies["mandatory"]:
        err.print(
            f"[bold red]error:[/] {policies['mandatory']} mandatory policy violation(s) in stack "
            f"{document['stack']!r}; fix them before `pulumi preview`.",
            highlight=False,
        )
        return EXIT_POLICY_VIOLATION
    at_risk = document.get("diff", {}).get("dataAtRisk", [])
    if fail_on_replace and at_risk:
        err.print(
            f"[bold red]error:[/] {len(at_risk)} stateful resource(s) would be replaced or deleted."
        )
        return EXIT_POLICY_VIOLATION
    return 0


@app.command()
def plan(
    stack: str = typer.Argument(..., help=STACK_HELP),
    as_json: bool = typer.Option(
        False, "--json", help="Print the JSON document (schemas/plan.schema.json)."
    ),
    details: bool = typer.Option(False, "--details", help="Also print every resource as a tree."),
    base: str | None = typer.Option(None, "--diff", help="Compare with an earlier --json output."),
    fail_on_replace: bool = typer.Option(
        False,
        "--fail-on-replace",
        help="With --diff: exit 1 when a stateful resource would be replaced or deleted.",
    ),
    diagram: str | None = typer.Option(
        None, "--diagram", help="Write a Mermaid diagram (and SVG with Graphviz)."
    ),
) -> None:
    """Synthesize both layers of a stack offline (no CLI, credentials or network), run the
    policy pack on them and summarize. Exit 1 on a mandatory violation (or, with
    --fail-on-replace, stateful data at risk), 2 on invalid config or base document."""
    from .offline.document import dumps, error_document
    from .offline.render import details as render_details
    from .offline.render import summary

    try:
        document = _gated_document(stack)
        if base is not None:
            document["diff"] = _compare(document, Path(base))
    except PlanError as failure:
        if as_json:
            sys.stdout.write(dumps(error_document(stack, failure.code, failure.kind, str(failure))))
        raise _fail(str(failure), failure.code) from None
    if diagram is not None:
        _draw(document, Path(diagram))
    if as_json:
        sys.stdout.write(dumps(document))
    else:
        if details:
            sys.stdout.write(render_details(document) + "\n")
        sys.stdout.write(summary(document))
        if base is not None:
            from .offline.diff import render

            sys.stdout.write("\n" + render(document["diff"], Path(base).name))
    raise typer.Exit(_exit_code(document, fail_on_replace))


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
