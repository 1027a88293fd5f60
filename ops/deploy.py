"""One command for both layers of a stack: `up`, `preview`, `refresh` or `destroy` of the
platform (repository root), then of the workloads (workloads/); `destroy` in reverse order.

The workloads layer talks to the private Kubernetes API, so before it is touched the API must
be reachable from here; otherwise the command stops with one message naming the in-VPC runner.
"""

from __future__ import annotations

import socket
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from pulumi import automation as auto

from ops import ui
from ops.errors import OpsError, UserError
from ops.pulumi_stacks import (
    PolicyPack,
    open_stack,
    plain_outputs,
    preview_with_policies,
    pulumi_command,
    select_stack,
    summarize,
)
from ops.stack_settings import stack_settings
from stacks.contract import PlatformOutputs

PROBE_TIMEOUT = 5.0  # seconds: a private endpoint seen from outside the VPC never answers
CLUSTER_ENDPOINT = PlatformOutputs.names()["cluster_endpoint"]
RUNNER_LABEL = PlatformOutputs.names()["deploy_runner_label"]


class Layer(StrEnum):
    """A Pulumi program of the repository, by the directory that holds its Pulumi.yaml."""

    PLATFORM = "platform"
    WORKLOADS = "workloads"

    def work_dir(self, root: Path) -> Path:
        return root if self is Layer.PLATFORM else root / "workloads"


class Operation(StrEnum):
    UP = "up"
    PREVIEW = "preview"
    REFRESH = "refresh"
    DESTROY = "destroy"


def layers_in_order(operation: Operation, only: Layer | None) -> list[Layer]:
    """Platform before workloads; `destroy` removes the workloads before their platform."""
    layers = [only] if only else list(Layer)
    return layers[::-1] if operation is Operation.DESTROY else layers


def unreachable_reason(endpoint: str, timeout: float = PROBE_TIMEOUT) -> str | None:
    """Why no TCP connection to the API at `endpoint` opens from here; None when one does."""
    url = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
    host, port = url.hostname or "", url.port or 443
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except socket.gaierror as exc:
        return f"{host} does not resolve here ({exc.strerror})"
    except OSError as exc:
        return f"no TCP connection to {host}:{port} ({exc.strerror or 'timed out'})"


def runner_path(stack: str, label: str, command: str) -> str:
    """Where the workloads layer of `stack` can run: the in-VPC runner, or inside the VPC."""
    if label:
        runner = (
            "run the deploy workflow: its workloads jobs run on the in-VPC CodeBuild runner "
            f"(runs-on: {label}-${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}})"
        )
    else:
        runner = (
            f"stack {stack} has no in-VPC runner yet (set crm-platform:deployRunner.repository "
            f"and run `python -m stacks up {stack} --layer platform`)"
        )
    return f"{runner}, or run `{command}` from a machine inside the VPC"


def require_reachable_api(stack: str, platform_outputs: dict, command: str, done: str) -> None:
    """Stop (exit 2) unless the private API of the platform's cluster answers from here.

    `command` is what to re-run inside the VPC; `done` says what this run already did."""
    endpoint = platform_outputs.get(CLUSTER_ENDPOINT)
    if not endpoint:
        raise UserError(
            _sentences(
                f"the platform stack {stack} exports no {CLUSTER_ENDPOINT}: deploy it first with "
                f"`python -m stacks up {stack} --layer platform`.",
                done,
            )
        )
    reason = unreachable_reason(endpoint)
    if reason:
        path = runner_path(stack, platform_outputs.get(RUNNER_LABEL) or "", command)
        raise UserError(
            _sentences(
                f"the private Kubernetes API of stack {stack} ({endpoint}) is not reachable "
                f"from here: {reason}.",
                done,
                f"The workloads layer was not touched; {path}.",
            )
        )
    ui.ok(f"private Kubernetes API of {stack} reachable ({endpoint})")


def _sentences(*parts: str) -> str:
    return " ".join(part for part in parts if part)


@dataclass
class LayerRun:
    """One operation over the layers of one stack, in order, stopping at the first failure."""

    stack: str
    operation: Operation
    root: Path
    command: auto.PulumiCommand
    pack: PolicyPack
    secrets_provider: str | None = None

    def open(self, layer: Layer) -> auto.Stack:
        return open_stack(
            self.stack, layer.work_dir(self.root), self.command, self.secrets_provider
        )

    def platform_outputs(self) -> dict:
        """The platform stack's outputs; it must exist to deploy the workloads on it."""
        try:
            platform = select_stack(self.stack, Layer.PLATFORM.work_dir(self.root), self.command)
        except UserError as exc:
            raise UserError(
                f"the platform stack {self.stack} does not exist in this backend: deploy it first "
                f"with `python -m stacks up {self.stack} --layer platform`. Nothing was changed."
            ) from exc
        return plain_outputs(platform.outputs())

    def rerun_command(self) -> str:
        return f"python -m stacks {self.operation} {self.stack} --layer workloads"

    def apply(self, stack: auto.Stack) -> None:
        stream = {"on_output": _stream, "color": "never"}
        if self.operation is Operation.UP:
            stack.up(**stream, **self.pack.args())
        elif self.operation is Operation.PREVIEW:
            preview_with_policies(stack, self.pack, _stream)
        elif self.operation is Operation.REFRESH:
            stack.refresh(**stream)
        else:
            stack.destroy(**stream)

    def run(self, layers: Sequence[Layer]) -> None:
        done: list[Layer] = []
        for layer in layers:
            completed = self.completed(done)
            if layer is Layer.WORKLOADS:
                require_reachable_api(
                    self.stack,
                    self.platform_outputs(),
                    self.rerun_command(),
                    completed or "Nothing was changed.",
                )
            ui.step(f"{self.operation} {layer} layer of {self.stack}")
            try:
                self.apply(self.open(layer))
            except (OpsError, auto.CommandError) as exc:
                cause = summarize(exc) if isinstance(exc, auto.CommandError) else str(exc)
                untouched = [other for other in layers if other not in (*done, layer)]
                raise OpsError(
                    _sentences(
                        f"{self.operation} of the {layer} layer of {self.stack} failed: {cause}.",
                        completed,
                        _untouched(untouched),
                    )
                ) from exc
            done.append(layer)
        ui.ok(f"{self.operation} of {self.stack} done: {', '.join(done)}")

    def completed(self, done: list[Layer]) -> str:
        return f"{self.operation} of the {' and '.join(done)} layer completed." if done else ""


def _untouched(layers: list[Layer]) -> str:
    return f"The {' and '.join(layers)} layer was not touched." if layers else ""


def _stream(line: str) -> None:
    ui.plain(f"    {line}")


def recorded_secrets_provider(root: Path, stack: str) -> str | None:
    """The `secretsprovider` the root `Pulumi.<stack>.yaml` records (set by `pulumi stack
    init --secrets-provider`): the workloads stack is created with the platform's."""
    path = root / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    return document.get("secretsprovider") if isinstance(document, dict) else None


def run(
    operation: Operation,
    stack: str,
    *,
    only: Layer | None,
    root: Path,
    policy_dir: Path,
    pulumi_root: Path | None,
    secrets_provider: str | None,
) -> None:
    """`operation` over the layers of `stack` (only one with `only`), with the policy pack."""
    settings = stack_settings(stack)
    command = pulumi_command(pulumi_root)
    with tempfile.TemporaryDirectory(prefix="crm-layers-") as tmp:
        LayerRun(
            stack=stack,
            operation=operation,
            root=root,
            command=command,
            pack=PolicyPack.for_stack(policy_dir, settings, Path(tmp)),
            secrets_provider=secrets_provider or recorded_secrets_provider(root, stack),
        ).run(layers_in_order(operation, only))
