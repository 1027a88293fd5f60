"""Both layers of a stack offline: the platform, then the workloads against its outputs.

The workloads' `StackReference` is answered with the platform plan's own stack outputs, so the
workloads layer is synthesized against exactly what the platform would export.

Two cores make the plan faster: a forked child imports the Kubernetes SDK and the workloads
program while the parent synthesizes the platform, then synthesizes the workloads layer from
the platform's outputs it receives through a pipe.
"""

from __future__ import annotations

import os
import pickle
import traceback
from collections.abc import Mapping
from functools import partial

from ..settings import StackSettings
from .model import Plan
from .synth import ORGANIZATION, SynthesisError, synthesize

PLATFORM_PROJECT = "crm-platform"
WORKLOADS_PROJECT = "crm-platform-workloads"
LAYERS = ("platform", "workloads")
OFFLINE_CA_BUNDLE = (
    "-----BEGIN CERTIFICATE-----\n"
    "T0ZGTElORSBTVEFORC1JTjogdGhlIHJlYWwgYnVuZGxlIGlzIGZldGNoZWQgYXQgZGVwbG95\n"
    "-----END CERTIFICATE-----\n"
)
"""Stands in for AWS's RDS CA bundle, which a real deploy downloads (the plan stays offline)."""


def platform_reference(stack: str) -> str:
    return f"{ORGANIZATION}/{PLATFORM_PROJECT}/{stack}"


def _synthesize_workloads(stack: str, settings: StackSettings, platform_outputs: dict) -> Plan:
    from .. import workloads  # imports the Kubernetes SDK: only where this layer is built

    return synthesize(
        partial(workloads.program, settings, OFFLINE_CA_BUNDLE),
        stack=stack,
        config={"aws:region": settings.region},
        project=WORKLOADS_PROJECT,
        references={platform_reference(stack): platform_outputs},
    )


def _read_all(fd: int) -> bytes:
    with os.fdopen(fd, "rb") as stream:
        return stream.read()


def _workloads_child(stack: str, settings: StackSettings, inbox: int, outbox: int) -> None:
    """In the forked child: import while the parent works, then build the workloads layer."""
    from .. import workloads  # noqa: F401  (the import is the work done in parallel)

    try:
        outputs = pickle.loads(_read_all(inbox))
        result: object = _synthesize_workloads(stack, settings, outputs)
    except BaseException as exc:  # reported to the parent, which raises it as its own
        result = RuntimeError(str(exc) or traceback.format_exc(limit=1))
    with os.fdopen(outbox, "wb") as stream:
        pickle.dump(result, stream, protocol=pickle.HIGHEST_PROTOCOL)


def _in_parallel(stack: str, config: Mapping[str, str], settings: StackSettings) -> tuple:
    from .. import platform

    child_in, to_child = os.pipe()
    child_out, from_child = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child process
        os.close(to_child), os.close(child_out)
        try:
            _workloads_child(stack, settings, child_in, from_child)
        finally:
            os._exit(0)
    os.close(child_in), os.close(from_child)
    try:
        platform_plan = synthesize(
            platform.program, stack=stack, config=config, project=PLATFORM_PROJECT
        )
    finally:
        with os.fdopen(to_child, "wb") as stream:
            outputs = platform_plan.outputs if "platform_plan" in locals() else None
            pickle.dump(outputs, stream, protocol=pickle.HIGHEST_PROTOCOL)
        received = _read_all(child_out)
        os.waitpid(pid, 0)
    workloads_plan = pickle.loads(received)
    if isinstance(workloads_plan, Exception):
        raise SynthesisError(workloads_plan, Plan(stack=stack))
    return platform_plan, workloads_plan


def synthesize_stack(stack: str, config: Mapping[str, str], settings: StackSettings) -> Plan:
    """One plan holding both layers' resources (platform first) and `layers` by name."""
    if hasattr(os, "fork"):
        platform_plan, workloads_plan = _in_parallel(stack, config, settings)
    else:
        from .. import platform

        platform_plan = synthesize(
            platform.program, stack=stack, config=config, project=PLATFORM_PROJECT
        )
        workloads_plan = _synthesize_workloads(stack, settings, platform_plan.outputs)
    return Plan(
        stack=stack,
        resources=[*platform_plan.resources, *workloads_plan.resources],
        outputs=platform_plan.outputs,
        layers={"platform": platform_plan, "workloads": workloads_plan},
    )
