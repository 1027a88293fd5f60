"""Typer commands for operations; the project CLI adds them with `register(app)`.

Exit codes (all commands): 0 ok · 1 check failed, violations found, or an operation step
failed · 2 usage or user error (arguments, credentials, permissions, region, unknown names).
"""

import functools
from pathlib import Path
from typing import Annotated

import typer
from pulumi import automation as auto
from rich.table import Table

from ops import bootstrap as bootstrap_ops
from ops import failover as failover_ops
from ops import promote as promote_ops
from ops import residency, ui
from ops.aws import ALLOWED_REGIONS, AWS_ERRORS, PROJECT, RESIDENCY_REGION, translate
from ops.errors import EXIT_FAILED, EXIT_USAGE, OpsError
from ops.pulumi_stacks import (
    load_outputs_file,
    plain_outputs,
    pulumi_command,
    select_stack,
    summarize,
)
from ops.verify import run_checks

EXIT_CODES = "Exit codes: 0 ok, 1 check/step failed or violations found, 2 usage or user error."

AllowedRegions = Annotated[
    list[str] | None,
    typer.Option(
        "--allowed-region",
        help=f"Region data may live in (repeatable; default {', '.join(ALLOWED_REGIONS)}).",
    ),
]
WorkDir = Annotated[
    Path, typer.Option(help="Pulumi project directory (holds Pulumi.yaml).", file_okay=False)
]
PulumiRoot = Annotated[
    Path | None,
    typer.Option(help="Directory holding bin/pulumi (default: pulumi on PATH).", file_okay=False),
]


def _handled(func):
    """Print expected failures as one message and exit with their code (no traceback)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except OpsError as exc:
            ui.error(str(exc))
            raise typer.Exit(exc.exit_code) from exc
        except AWS_ERRORS as exc:
            error = translate(exc)
            ui.error(str(error))
            raise typer.Exit(error.exit_code) from exc
        except auto.CommandError as exc:  # backend login, permissions on the state bucket, ...
            ui.error(f"Pulumi CLI failed: {summarize(exc)}")
            raise typer.Exit(EXIT_USAGE) from exc

    return wrapper


@_handled
def bootstrap_command(
    region: Annotated[str, typer.Option(help="Residency region of the backend.")] = (
        RESIDENCY_REGION
    ),
    bucket: Annotated[
        str | None,
        typer.Option(help="State bucket (default crm-platform-pulumi-state-<account>-<region>)."),
    ] = None,
    allowed_region: AllowedRegions = None,
    key_alias: Annotated[str, typer.Option(help="KMS alias for the secrets provider.")] = (
        bootstrap_ops.DEFAULT_KEY_ALIAS
    ),
    owner: Annotated[str, typer.Option(help="Value of the `owner` tag.")] = "platform-team",
    data_classification: Annotated[
        str, typer.Option(help="Value of the `data-classification` tag.")
    ] = "confidential",
) -> None:
    """Create or repair the self-managed Pulumi state backend (S3 bucket + KMS key)."""
    table = Table(title=f"Pulumi state backend in {region}")
    table.add_column("item")
    table.add_column("status")
    colours = {"created": "green", "updated": "yellow", "unchanged": "dim"}

    with ui.console.status("bootstrapping state backend…") as progress:

        def report(item: str, status: str) -> None:
            table.add_row(item, f"[{colours[status]}]{status}[/]")
            progress.update(f"bootstrapping state backend… {item}: {status}")

        result = bootstrap_ops.bootstrap(
            region=region,
            allowed_regions=allowed_region or ALLOWED_REGIONS,
            bucket=bucket,
            key_alias=key_alias,
            tags=bootstrap_ops.backend_tags(owner, data_classification),
            report=report,
        )
    ui.console.print(table)
    if result.changed:
        ui.ok("state backend bootstrapped")
    else:
        ui.ok("already bootstrapped: nothing changed")
    ui.plain("Log in, and create stacks with the KMS secrets provider:")
    ui.plain(f"pulumi login '{result.login_url}'")
    ui.plain(f"--secrets-provider '{result.secrets_provider}'")


@_handled
def verify_command(
    stack: Annotated[str, typer.Argument(help="Stack to verify (dev, staging, prod).")],
    outputs_file: Annotated[
        Path | None,
        typer.Option(
            help="JSON from `pulumi stack output --json` instead of the Automation API.",
            dir_okay=False,
        ),
    ] = None,
    work_dir: WorkDir = Path("."),
    pulumi_root: PulumiRoot = None,
) -> None:
    """Check the live deployment of STACK against its outputs. Exit 1 on any failed check."""
    if outputs_file is not None:
        outputs = load_outputs_file(outputs_file)
    else:
        selected = select_stack(stack, work_dir.resolve(), pulumi_command(pulumi_root))
        outputs = plain_outputs(selected.outputs())
    with ui.console.status(f"verifying {stack}…"):
        checks = run_checks(outputs)
    ui.console.print(ui.checks_table(f"verify {stack}", checks))
    failed = [check for check in checks if not check.ok]
    if failed:
        ui.fail(f"{len(failed)} of {len(checks)} checks failed")
        raise typer.Exit(EXIT_FAILED)
    ui.ok(f"all {len(checks)} checks passed")


def _parse_tags(values: list[str]) -> dict[str, str]:
    tags = {}
    for value in values:
        key, sep, tag_value = value.partition("=")
        if not sep or not key or not tag_value:
            raise typer.BadParameter(f"expected KEY=VALUE, got {value!r}", param_hint="--tag")
        tags[key] = tag_value
    return tags


@_handled
def residency_audit_command(
    allowed_region: AllowedRegions = None,
    tag: Annotated[
        list[str] | None,
        typer.Option(help=f"KEY=VALUE tag marking project resources (default project={PROJECT})."),
    ] = None,
    region: Annotated[
        str, typer.Option(help="Region used for the region list and the S3 listing.")
    ] = RESIDENCY_REGION,
) -> None:
    """Sweep every enabled region for tagged resources; exit 1 if any is outside the allow-list."""
    tags = _parse_tags(tag or [f"project={PROJECT}"])
    allowed = allowed_region or list(ALLOWED_REGIONS)
    with ui.console.status("auditing…") as status:
        result = residency.audit(
            allowed=allowed,
            tags=tags,
            home_region=region,
            progress=lambda where: status.update(f"scanning {where}…"),
        )
    table = Table(title=f"Resources tagged {tags}")
    for column in ("region", "type", "resource", "residency"):
        table.add_column(column, overflow="fold")
    for resource in result.resources:
        verdict = "[green]ok[/]" if resource.region in allowed else "[bold red]VIOLATION[/]"
        table.add_row(resource.region, resource.kind, resource.arn, verdict)
    ui.console.print(table)
    summary = (
        f"{len(result.resources)} resources in {len(result.regions)} enabled regions; "
        f"allowed: {', '.join(allowed)}"
    )
    for resource in result.violations:
        ui.fail(f"VIOLATION {resource.region} {resource.kind} {resource.arn}")
    if result.violations:
        ui.fail(f"{len(result.violations)} outside the allow-list — {summary}")
        raise typer.Exit(EXIT_FAILED)
    ui.ok(f"no residency violations — {summary}")


@_handled
def failover_command(
    replica: Annotated[str, typer.Option(help="Identifier of the read replica to promote.")],
    region: Annotated[str, typer.Option(help="Region of the replica.")] = RESIDENCY_REGION,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would happen; change nothing.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    allowed_region: AllowedRegions = None,
    backup_retention_days: Annotated[
        int, typer.Option(min=1, max=35, help="Backup retention of the promoted instance.")
    ] = 7,
    wait: Annotated[bool, typer.Option(help="Wait until the promoted instance is available.")] = (
        True
    ),
) -> None:
    """Promote a read replica to a standalone primary (planned disaster recovery)."""
    plan = failover_ops.plan_failover(replica, region, allowed_region or ALLOWED_REGIONS)
    table = Table(title=f"failover plan for {plan.replica}", show_header=False)
    table.add_column("field")
    table.add_column("value", overflow="fold")
    table.add_row("replica", f"{plan.replica} ({plan.engine}, status {plan.status})")
    table.add_row("region / AZ", f"{plan.region} / {plan.availability_zone}")
    table.add_row("replicating from", plan.source)
    table.add_row("replica lag", plan.lag)
    for number, change in enumerate(plan.changes, start=1):
        table.add_row("what changes" if number == 1 else "", f"{number}. {change}")
    ui.console.print(table)
    if dry_run:
        ui.ok("dry run: nothing changed")
        return
    if not yes and not typer.confirm(f"Promote {plan.replica} to a standalone primary?"):
        ui.error("not confirmed; nothing changed (pass --yes in automation)")
        raise typer.Exit(EXIT_USAGE)
    with ui.console.status(f"promoting {plan.replica}…"):
        status = failover_ops.promote(plan, backup_retention_days, wait)
    ui.ok(f"{plan.replica} promoted (status {status}); replication from {plan.source} stopped")


@_handled
def promote_command(
    src: Annotated[str, typer.Argument(help="Stack whose running CRM version is promoted.")],
    dst: Annotated[str, typer.Argument(help="Stack that receives the version.")],
    work_dir: WorkDir = Path("."),
    policy_pack: Annotated[
        Path, typer.Option(help="Policy pack directory (relative to --work-dir).")
    ] = Path("policies"),
    policy_config: Annotated[
        Path | None,
        typer.Option(
            help="Policy pack config JSON (default: `python -m stacks policy-config DST`).",
            dir_okay=False,
        ),
    ] = None,
    snapshot: Annotated[
        bool,
        typer.Option("--snapshot", help="Snapshot DST's primary DB before `up` (always for prod)."),
    ] = False,
    pulumi_root: PulumiRoot = None,
) -> None:
    """Promote the CRM version SRC runs to DST; exit 0 without `up` if DST already runs it.

    Steps: set DST config, refresh, preview with the policy pack, snapshot (prod), up, verify.
    """
    work_dir = work_dir.resolve()
    promote_ops.run(
        promote_ops.Promotion(
            src_name=src,
            dst_name=dst,
            work_dir=work_dir,
            policy_dir=work_dir / policy_pack,
            policy_config=policy_config.resolve() if policy_config else None,
            snapshot=snapshot,
            pulumi_root=pulumi_root.resolve() if pulumi_root else None,
        )
    )


COMMANDS = {
    "bootstrap": bootstrap_command,
    "verify": verify_command,
    "residency-audit": residency_audit_command,
    "failover": failover_command,
    "promote": promote_command,
}


def register(app: typer.Typer) -> None:
    """Add the operations commands to the project CLI (`python -m stacks <command>`)."""
    for name, command in COMMANDS.items():
        app.command(name, epilog=EXIT_CODES)(command)
