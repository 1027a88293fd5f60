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
from ops import deploy as deploy_ops
from ops import failover as failover_ops
from ops import promote as promote_ops
from ops import residency, ui
from ops import rotate as rotate_ops
from ops.aws import AWS_ERRORS, PROJECT, aws_profile, translate
from ops.errors import EXIT_FAILED, EXIT_USAGE, OpsError, UserError
from ops.pulumi_stacks import (
    load_outputs_file,
    plain_outputs,
    pulumi_command,
    select_stack,
    summarize,
)
from ops.restore_drill import Drill, run_drill
from ops.stack_settings import every_stack, stack_settings
from ops.verify import run_checks
from stacks.settings import StackSettings

EXIT_CODES = "Exit codes: 0 ok, 1 check/step failed or violations found, 2 usage or user error."

WorkDir = Annotated[
    Path, typer.Option(help="Pulumi project directory (holds Pulumi.yaml).", file_okay=False)
]
OutputsFile = Annotated[
    Path | None,
    typer.Option(
        help="JSON from `pulumi stack output --json` instead of the Automation API.",
        dir_okay=False,
    ),
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


StackName = Annotated[
    str, typer.Argument(help="Stack (a Pulumi.<stack>.yaml): its region, residency and profile.")
]


@_handled
def bootstrap_command(
    stack: StackName,
    region: Annotated[
        str | None,
        typer.Option(help="Region of the backend (default: the stack's; must be allowed)."),
    ] = None,
    bucket: Annotated[
        str | None,
        typer.Option(help="State bucket (default crm-platform-pulumi-state-<account>-<region>)."),
    ] = None,
    key_alias: Annotated[str, typer.Option(help="KMS alias for the secrets provider.")] = (
        bootstrap_ops.DEFAULT_KEY_ALIAS
    ),
) -> None:
    """Create or repair the self-managed Pulumi state backend (S3 bucket + KMS key) in the
    account, region and residency of STACK, tagged with the stack's owner and classification."""
    settings = stack_settings(stack)
    region = region or settings.region
    table = Table(title=f"Pulumi state backend in {region}")
    table.add_column("item")
    table.add_column("status")
    colours = {"created": "green", "updated": "yellow", "unchanged": "dim"}

    with ui.console.status("bootstrapping state backend…") as progress:

        def report(item: str, status: str) -> None:
            table.add_row(item, f"[{colours[status]}]{status}[/]")
            progress.update(f"bootstrapping state backend… {item}: {status}")

        with aws_profile(settings.aws.profile):
            result = bootstrap_ops.bootstrap(
                region=region,
                allowed_regions=settings.residency.allowed_regions,
                bucket=bucket,
                key_alias=key_alias,
                tags=bootstrap_ops.backend_tags(settings.owner, settings.data_classification),
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
    stack: StackName,
    outputs_file: OutputsFile = None,
    work_dir: WorkDir = Path("."),
    pulumi_root: PulumiRoot = None,
) -> None:
    """Check the live deployment of STACK against its outputs and its own settings (Multi-AZ,
    replicas, classes, versions as its stack file asks). Exit 1 on any failed check."""
    settings = stack_settings(stack)
    outputs = _stack_outputs(stack, outputs_file, work_dir, pulumi_root)
    with ui.console.status(f"verifying {stack}…"), aws_profile(settings.aws.profile):
        checks = run_checks(outputs, settings)
    _report(f"verify {stack}", checks)


def _stack_outputs(
    stack: str, outputs_file: Path | None, work_dir: Path, pulumi_root: Path | None
) -> dict:
    if outputs_file is not None:
        return load_outputs_file(outputs_file)
    selected = select_stack(stack, work_dir.resolve(), pulumi_command(pulumi_root))
    return plain_outputs(selected.outputs())


def _report(title: str, checks: list) -> None:
    """The checks as a table; exit 1 if any failed."""
    ui.console.print(ui.checks_table(title, checks))
    failed = [check for check in checks if not check.ok]
    if failed:
        ui.fail(f"{len(failed)} of {len(checks)} checks failed")
        raise typer.Exit(EXIT_FAILED)
    ui.ok(f"all {len(checks)} checks passed")


@_handled
def restore_drill_command(
    stack: Annotated[str, typer.Argument(help="Stack whose database is restored.")],
    outputs_file: OutputsFile = None,
    work_dir: WorkDir = Path("."),
    pulumi_root: PulumiRoot = None,
    wait_for_deletion: Annotated[
        bool, typer.Option(help="Wait until the scratch instance is deleted.")
    ] = True,
) -> None:
    """Restore the latest AWS Backup recovery point of STACK's database into a scratch instance
    in the same region, check it, report, delete it. Exit 1 if a check failed."""
    settings = stack_settings(stack)
    outputs = _stack_outputs(stack, outputs_file, work_dir, pulumi_root)
    drill = Drill.from_outputs(outputs, settings.residency.allowed_regions)
    with ui.console.status("restore drill…") as status, aws_profile(settings.aws.profile):
        scratch, checks = run_drill(
            drill, progress=status.update, wait_for_deletion=wait_for_deletion
        )
    ui.plain(f"scratch instance {scratch} deleted")
    _report(f"restore drill {stack}", checks)


def _parse_tags(values: list[str]) -> dict[str, str]:
    tags = {}
    for value in values:
        key, sep, tag_value = value.partition("=")
        if not sep or not key or not tag_value:
            raise typer.BadParameter(f"expected KEY=VALUE, got {value!r}", param_hint="--tag")
        tags[key] = tag_value
    return tags


def _by_profile(stacks: dict[str, StackSettings]) -> dict[str | None, dict[str, StackSettings]]:
    """Stacks grouped by AWS profile: one sweep per account."""
    groups: dict[str | None, dict[str, StackSettings]] = {}
    for name, settings in stacks.items():
        groups.setdefault(settings.aws.profile, {})[name] = settings
    return groups


@_handled
def residency_audit_command(
    stack: Annotated[
        str | None,
        typer.Argument(help="Stack to audit (default: every stack file in the repository)."),
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option(
            help=f"KEY=VALUE tag marking project resources (default project={PROJECT}, and "
            "environment=STACK when a stack is given)."
        ),
    ] = None,
) -> None:
    """Sweep every enabled region for tagged resources; each is judged by the allow-list of
    the stack its `environment` tag names. Exit 1 if any is outside it."""
    stacks = {stack: stack_settings(stack)} if stack else every_stack()
    default_tags = [f"project={PROJECT}"] + ([f"environment={stack}"] if stack else [])
    tags = _parse_tags(tag or default_tags)
    results = []
    with ui.console.status("auditing…") as status:
        for profile, group in _by_profile(stacks).items():
            with aws_profile(profile):
                results.append(
                    residency.audit(
                        allowed={name: s.residency.allowed_regions for name, s in group.items()},
                        tags=tags,
                        home_region=next(iter(group.values())).region,
                        progress=lambda where: status.update(f"scanning {where}…"),
                    )
                )
    _report_audit(tags, stacks, results)


def _report_audit(
    tags: dict[str, str], stacks: dict[str, StackSettings], results: list[residency.AuditResult]
) -> None:
    table = Table(title=f"Resources tagged {tags}")
    for column in ("region", "stack", "type", "resource", "residency"):
        table.add_column(column, overflow="fold")
    violations = []
    for result in results:
        for resource in result.resources:
            ok = resource.region in result.allowed_for(resource)
            verdict = "[green]ok[/]" if ok else "[bold red]VIOLATION[/]"
            table.add_row(
                resource.region, resource.environment, resource.kind, resource.arn, verdict
            )
            violations += [] if ok else [resource]
    ui.console.print(table)
    found = sum(len(result.resources) for result in results)
    summary = f"{found} resources of {len(stacks)} stack(s): {', '.join(stacks)}"
    for resource in violations:
        ui.fail(f"VIOLATION {resource.region} {resource.kind} {resource.arn}")
    if violations:
        ui.fail(f"{len(violations)} outside their stack's allow-list — {summary}")
        raise typer.Exit(EXIT_FAILED)
    ui.ok(f"no residency violations — {summary}")


@_handled
def failover_command(
    stack: StackName,
    replica: Annotated[str, typer.Option(help="Identifier of the read replica to promote.")],
    region: Annotated[
        str | None,
        typer.Option(help="Region of the replica (default: the stack's; e.g. its drRegion)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would happen; change nothing.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    backup_retention_days: Annotated[
        int | None,
        typer.Option(
            min=1, max=35, help="Backup retention of the promoted instance (default: the stack's)."
        ),
    ] = None,
    wait: Annotated[bool, typer.Option(help="Wait until the promoted instance is available.")] = (
        True
    ),
) -> None:
    """Promote a read replica of STACK to a standalone primary (planned disaster recovery)."""
    settings = stack_settings(stack)
    with aws_profile(settings.aws.profile):
        plan = failover_ops.plan_failover(
            replica, region or settings.region, settings.residency.allowed_regions
        )
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
    retention = backup_retention_days or settings.database.backup_retention_days
    with ui.console.status(f"promoting {plan.replica}…"), aws_profile(settings.aws.profile):
        status = failover_ops.promote(plan, retention, wait)
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
    """Promote the CRM version SRC's workloads run to DST; exit 0 without `up` if DST already
    runs it. Steps: check DST's private API is reachable, set `app.version` in the root
    Pulumi.<DST>.yaml, then on DST's workloads stack: refresh, preview with the policy pack,
    snapshot (prod), up, verify. The platform layer is not deployed.
    """
    work_dir = work_dir.resolve()
    settings = stack_settings(dst)
    promotion = promote_ops.Promotion(
        src_name=src,
        dst_name=dst,
        work_dir=work_dir,
        policy_dir=work_dir / policy_pack,
        policy_config=policy_config.resolve() if policy_config else None,
        snapshot=snapshot,
        pulumi_root=pulumi_root.resolve() if pulumi_root else None,
    )
    with aws_profile(settings.aws.profile):
        promote_ops.run(promotion)


OnlyLayer = Annotated[
    deploy_ops.Layer | None,
    typer.Option(help="Run one layer only (default: both, platform first; destroy: reversed)."),
]
PolicyPackDir = Annotated[
    Path, typer.Option(help="Policy pack directory (relative to --work-dir).")
]
SecretsProvider = Annotated[
    str | None,
    typer.Option(
        help="Secrets provider of a stack this creates (default: the one the root "
        "Pulumi.<stack>.yaml records, else the backend's)."
    ),
]


def _layers_command(operation: deploy_ops.Operation, summary: str):
    """A command running `operation` over STACK's layers through the Automation API; only
    `destroy` asks for confirmation (its --yes is hidden elsewhere)."""
    asks = operation is deploy_ops.Operation.DESTROY

    @_handled
    def command(
        stack: StackName,
        layer: OnlyLayer = None,
        work_dir: WorkDir = Path("."),
        policy_pack: PolicyPackDir = Path("policies"),
        secrets_provider: SecretsProvider = None,
        pulumi_root: PulumiRoot = None,
        yes: Annotated[
            bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.", hidden=not asks)
        ] = False,
    ) -> None:
        what = f"the {layer} layer" if layer else "both layers"
        if asks and not yes and not typer.confirm(f"{operation.title()} {what} of {stack}?"):
            raise UserError("not confirmed; nothing changed (pass --yes in automation)")
        work_dir = work_dir.resolve()
        deploy_ops.run(
            operation,
            stack,
            only=layer,
            root=work_dir,
            policy_dir=work_dir / policy_pack,
            pulumi_root=pulumi_root.resolve() if pulumi_root else None,
            secrets_provider=secrets_provider,
        )

    command.__doc__ = f"""{summary}

    The workloads layer runs only where the private Kubernetes API answers (the in-VPC
    runner); elsewhere the command stops before touching it, exit 2. Stacks are selected, or
    created in the backend you are logged in to."""
    return command


up_command = _layers_command(
    deploy_ops.Operation.UP,
    "Deploy STACK: the platform layer, then the workloads layer, each with the policy pack.",
)
preview_command = _layers_command(
    deploy_ops.Operation.PREVIEW,
    "Preview STACK's platform layer, then its workloads layer, with the policy pack (exit 1 on "
    "a mandatory violation).",
)
refresh_command = _layers_command(
    deploy_ops.Operation.REFRESH,
    "Refresh the state of STACK's platform layer, then of its workloads layer.",
)
destroy_command = _layers_command(
    deploy_ops.Operation.DESTROY,
    "Destroy STACK: the workloads layer first, then the platform layer (asks first).",
)


@_handled
def rotate_db_password_command(
    stack: Annotated[str, typer.Argument(help="Stack whose CRM login rotates.")],
    work_dir: WorkDir = Path("."),
    pulumi_root: PulumiRoot = None,
) -> None:
    """Rotate the CRM's database login (config change; the next deploy carries it out)."""
    settings = stack_settings(stack)
    with aws_profile(settings.aws.profile):  # the state backend is an S3 bucket
        rotation = rotate_ops.rotate(
            stack, work_dir.resolve(), pulumi_root.resolve() if pulumi_root else None
        )
    ui.ok(rotation.summary)
    ui.plain(
        f"Commit Pulumi.{stack}.yaml, then deploy both layers (`python -m stacks up {stack}` or "
        "CI): the bootstrap Job sets the new password before the pods roll onto it."
    )


COMMANDS = {
    "up": up_command,
    "preview": preview_command,
    "refresh": refresh_command,
    "destroy": destroy_command,
    "bootstrap": bootstrap_command,
    "verify": verify_command,
    "residency-audit": residency_audit_command,
    "failover": failover_command,
    "promote": promote_command,
    "restore-drill": restore_drill_command,
    "rotate-db-password": rotate_db_password_command,
}


def register(app: typer.Typer) -> None:
    """Add the operations commands to the project CLI (`python -m stacks <command>`)."""
    for name, command in COMMANDS.items():
        app.command(name, epilog=EXIT_CODES)(command)
