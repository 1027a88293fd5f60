"""Promote the CRM version one stack runs (its workloads output `crmVersion`) to another.

The version lives in the settings' one home, the root `Pulumi.<DST>.yaml` (the platform
stack's config file), and only the workloads layer deploys it: promote refreshes, previews,
deploys and verifies DST's workloads stack and never deploys its platform. The pipeline is a
list of small steps sharing one Promotion record. When a step fails the run stops and reports
which step failed and what state the destination stack is in."""

from __future__ import annotations

import functools
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from ops import ui
from ops.aws import AWS_ERRORS, PROJECT, client, require_allowed_region, translate
from ops.deploy import Layer, require_reachable_api
from ops.errors import OpsError, UserError
from ops.pulumi_stacks import (
    PolicyPack,
    plain_outputs,
    preview_with_policies,
    pulumi_command,
    select_stack,
    summarize,
)
from ops.stack_settings import stack_settings
from ops.verify import run_checks
from stacks.settings import StackSettings

VERSION_KEY = "app.version"  # structured key crm-platform:app -> version
RELEASE_TAG = re.compile(r"^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$")


@dataclass
class Promotion:
    src_name: str
    dst_name: str
    work_dir: Path
    policy_dir: Path
    pulumi_root: Path | None = None
    policy_config: Path | None = None
    snapshot: bool = False
    tmp: Path = Path()
    src: auto.Stack | None = None
    dst: auto.Stack | None = None
    dst_platform: auto.Stack | None = None
    pack: PolicyPack | None = None
    version: str = ""
    dst_running: str | None = None
    dst_outputs: dict[str, Any] = field(default_factory=dict)
    previous_config: str | None = None
    config_changed: bool = False
    up_started: bool = False
    deployed: bool = False
    snapshot_id: str | None = None

    @functools.cached_property
    def dst_settings(self) -> StackSettings:
        """DST's stack file: its residency, and whether it runs the prod profile."""
        return stack_settings(self.dst_name)

    @property
    def needs_snapshot(self) -> bool:
        return self.snapshot or self.dst_settings.profile == "prod"


@dataclass(frozen=True)
class Step:
    """One pipeline step. `run` returns a message to finish the promotion early (success),
    or None to continue; it raises to stop the promotion as failed."""

    name: str
    run: Callable[[Promotion], str | None]
    applies: Callable[[Promotion], bool] = lambda p: True


def _stream(line: str) -> None:
    ui.plain(f"    {line}")


def select_stacks(p: Promotion) -> None:
    """Both workloads stacks, and DST's platform stack (its config file, its outputs)."""
    if p.src_name == p.dst_name:
        raise UserError("SRC and DST are the same stack.")
    command = pulumi_command(p.pulumi_root)
    workloads = Layer.WORKLOADS.work_dir(p.work_dir)
    p.src = select_stack(p.src_name, workloads, command)
    p.dst = select_stack(p.dst_name, workloads, command)
    p.dst_platform = select_stack(p.dst_name, Layer.PLATFORM.work_dir(p.work_dir), command)


def read_source_version(p: Promotion) -> None:
    version = plain_outputs(p.src.outputs()).get("crmVersion")
    if not version:
        raise UserError(
            f"refusing: {p.src_name} exports no crmVersion output, so it runs no version "
            "that could be promoted"
        )
    if not isinstance(version, str) or not RELEASE_TAG.match(version):
        raise UserError(f"refusing: {p.src_name} runs {version!r}, which is not a release tag")
    p.version = version
    ui.ok(f"{p.src_name} runs {version}")


def compare_with_destination(p: Promotion) -> str | None:
    """DST's outputs: the platform's (database, cluster) and the workloads' (`crmVersion`)."""
    p.dst_outputs = {**plain_outputs(p.dst_platform.outputs()), **plain_outputs(p.dst.outputs())}
    p.dst_running = p.dst_outputs.get("crmVersion")
    if p.dst_running == p.version:
        return f"{p.dst_name} already runs {p.version}; nothing to promote"
    try:
        p.previous_config = p.dst_platform.get_config(VERSION_KEY, path=True).value
    except auto.CommandError as exc:
        if "not found" not in str(exc):
            raise
    ui.ok(f"{p.dst_name} runs {p.dst_running or 'no version yet'}; promoting {p.version}")
    return None


def reach_destination_api(p: Promotion) -> None:
    """The workloads layer deploys through DST's private API: check it before changing DST."""
    command = f"python -m stacks promote {p.src_name} {p.dst_name}"
    require_reachable_api(p.dst_name, p.dst_outputs, command, "")


def prepare_policy_config(p: Promotion) -> None:
    """Per-stack policy config: the given file, or `python -m stacks policy-config DST`."""
    if p.policy_config is None:
        p.pack = PolicyPack.for_stack(p.policy_dir, p.dst_settings, p.tmp)
    else:
        p.pack = PolicyPack(p.policy_dir, p.policy_config)


def set_destination_version(p: Promotion) -> None:
    """Through the platform stack: `config set` writes the root `Pulumi.<DST>.yaml`."""
    p.dst_platform.set_config(VERSION_KEY, auto.ConfigValue(p.version), path=True)
    p.config_changed = True


def refresh_destination(p: Promotion) -> None:
    p.dst.refresh(on_output=_stream, color="never")


def preview_destination(p: Promotion) -> None:
    preview_with_policies(p.dst, p.pack, _stream)


def snapshot_id(stack: str, version: str, now: datetime) -> str:
    """A valid RDS snapshot identifier (letters, digits, single hyphens, starts with a letter)."""
    raw = f"{PROJECT}-{stack}-pre-{version}-{now:%Y%m%d%H%M%S}"
    return re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9-]", "-", raw)).strip("-")


def snapshot_database(p: Promotion) -> None:
    region = p.dst_outputs.get("region")
    db = p.dst_outputs.get("dbPrimaryIdentifier")
    if not region or not db:
        raise OpsError(f"{p.dst_name} has no region/dbPrimaryIdentifier output to snapshot")
    require_allowed_region(region, p.dst_settings.residency.allowed_regions)
    rds = client("rds", region)
    name = snapshot_id(p.dst_name, p.version, datetime.now(UTC))
    rds.create_db_snapshot(
        DBSnapshotIdentifier=name,
        DBInstanceIdentifier=db,
        Tags=[
            {"Key": "project", "Value": PROJECT},
            {"Key": "environment", "Value": p.dst_name},
            {"Key": "purpose", "Value": f"pre-promotion to {p.version}"},
        ],
    )
    p.snapshot_id = name
    ui.step(f"waiting for snapshot {name} of {db} to be available")
    rds.get_waiter("db_snapshot_available").wait(
        DBSnapshotIdentifier=name, WaiterConfig={"Delay": 30, "MaxAttempts": 120}
    )
    ui.ok(f"snapshot {name} available")


def deploy_destination(p: Promotion) -> None:
    p.up_started = True
    result = p.dst.up(on_output=_stream, color="never", **p.pack.args())
    p.deployed = True
    p.dst_outputs.update(plain_outputs(result.outputs))


def verify_destination(p: Promotion) -> None:
    running = p.dst_outputs.get("crmVersion")
    if running != p.version:
        raise OpsError(f"{p.dst_name} reports crmVersion {running!r} after up, not {p.version}")
    checks = run_checks(p.dst_outputs, p.dst_settings)
    ui.console.print(ui.checks_table(f"verify {p.dst_name}", checks))
    failed = [c.name for c in checks if not c.ok]
    if failed:
        raise OpsError(f"verification failed: {', '.join(failed)}")


STEPS: Sequence[Step] = (
    Step("select stacks", select_stacks),
    Step("read source version", read_source_version),
    Step("compare with destination", compare_with_destination),
    Step("reach the private Kubernetes API", reach_destination_api),
    Step("prepare policy config", prepare_policy_config),
    Step("set destination config", set_destination_version),
    Step("refresh destination", refresh_destination),
    Step("preview with policy pack", preview_destination),
    Step("snapshot database", snapshot_database, lambda p: p.needs_snapshot),
    Step("deploy (pulumi up)", deploy_destination),
    Step("verify deployment", verify_destination),
)


def revert_hint(p: Promotion) -> str:
    if p.previous_config is None:
        return f"pulumi config rm --path {VERSION_KEY} --stack {p.dst_name}"
    return f"pulumi config set --path {VERSION_KEY} {p.previous_config} --stack {p.dst_name}"


def describe_state(p: Promotion) -> str:
    """What the destination looks like after a failure, and how to get out of it."""
    snapshot = f" Pre-promotion snapshot: {p.snapshot_id}." if p.snapshot_id else ""
    if not p.config_changed:
        return f"{p.dst_name} is unchanged (no config written, nothing deployed)."
    if not p.up_started:
        return (
            f"{p.dst_name}: config changed but not deployed ({VERSION_KEY}={p.version}, "
            f"was {p.previous_config or 'unset'}). Revert with `{revert_hint(p)}`.{snapshot}"
        )
    if not p.deployed:
        return (
            f"{p.dst_name}: `pulumi up` of the workloads failed part-way; they may be partially "
            f"updated to {p.version}. Run `{layer_command('refresh', p)}`, inspect, then re-run "
            f"the promotion or revert with `{revert_hint(p)}` and `{layer_command('up', p)}`."
            f"{snapshot}"
        )
    return (
        f"{p.dst_name}: {p.version} is deployed but verification failed; investigate before "
        f"serving traffic. Roll back with `{revert_hint(p)}` and `{layer_command('up', p)}`."
        f"{snapshot}"
    )


def layer_command(operation: str, p: Promotion) -> str:
    return f"python -m stacks {operation} {p.dst_name} --layer workloads"


KNOWN_FAILURES = (OpsError, auto.CommandError, *AWS_ERRORS)


def run(p: Promotion, steps: Sequence[Step] = STEPS) -> None:
    """Run the steps in order until one finishes the promotion early or all have run.

    Raises OpsError naming the failed step and the destination state."""
    with tempfile.TemporaryDirectory(prefix="crm-promote-") as tmp:
        p.tmp = Path(tmp)
        for step in steps:
            if not step.applies(p):
                continue
            ui.step(step.name)
            try:
                finished = step.run(p)
            except KNOWN_FAILURES as exc:
                cause = exc if isinstance(exc, OpsError) else _as_ops_error(exc)
                raise type(cause)(
                    f"promotion {p.src_name} → {p.dst_name} stopped at step '{step.name}': "
                    f"{cause}\n{describe_state(p)}",
                    exit_code=cause.exit_code,
                ) from exc
            except BaseException:
                ui.error(f"unexpected failure in step '{step.name}'. {describe_state(p)}")
                raise
            if finished:
                ui.ok(finished)
                return
        ui.ok(f"{p.dst_name} now runs {p.version}")


def _as_ops_error(exc: Exception) -> OpsError:
    if isinstance(exc, auto.CommandError):
        return OpsError(summarize(exc))
    return translate(exc)
