"""Running a Pulumi program under the mock runtime and collecting a `Plan`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

from google.protobuf import empty_pb2
from pulumi.runtime import config as runtime_config
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.mocks import MockEngine, MockSettings
from pulumi.runtime.stack import Stack

from .mocks import OfflineMocks, RecordingMonitor
from .model import Plan

DEFAULT_REGION = "eu-central-1"
ORGANIZATION = "organization"


async def _drain() -> None:
    """Wait until every registration and every Output the program created has settled.

    Same contract as the SDK's `wait_for_rpcs`, which re-waits on every pending Output after
    each one completes (quadratic in the number of Outputs); gathering each batch at once is
    linear and makes a full stack synthesize about twice as fast.
    """
    state = runtime_settings.SETTINGS
    while True:
        rpcs = state.rpc_manager.rpcs
        while rpcs:
            await rpcs.pop()
        if state.rpc_manager.unhandled_exception is not None:
            raise state.rpc_manager.unhandled_exception
        with state.lock:
            pending = list(state.outputs)
            state.outputs.clear()
        if pending:
            await asyncio.gather(*pending)
        elif not state.rpc_manager.rpcs:
            return


async def _run(program: Callable[[], None]) -> None:
    """The program inside a root stack whose exports become the stack outputs."""
    stack = Stack()
    try:
        program()
    finally:
        stack._finish()
        await _drain()


class SynthesisError(Exception):
    """The program failed; `plan` holds what it had registered until then."""

    def __init__(self, cause: BaseException, plan: Plan) -> None:
        super().__init__(str(cause))
        self.cause, self.plan = cause, plan


def synthesize(
    program: Callable[[], None],
    *,
    stack: str,
    config: Mapping[str, str],
    project: str = "crm-platform",
    references: Mapping[str, Mapping[str, Any]] | None = None,
) -> Plan:
    """Run `program` as stack `stack` of `project` with `config` and return what it registered.

    `config` is the flat map the CLI would hand over (`namespace:key` → string, structured
    values JSON-encoded). `references` answers `StackReference`s: stack name → its outputs.
    A failing program raises SynthesisError.
    """
    runtime_config.set_all_config(dict(config), [])
    mocks = OfflineMocks(config.get("aws:region") or DEFAULT_REGION, references)
    monitor = RecordingMonitor(mocks)
    features = set(monitor.GetDeploymentInfo(empty_pb2.Empty()).supportedFeatures)
    # What pulumi.runtime.set_mocks does, minus the root stack it would create and finish
    # before the program runs: run_in_stack creates one that carries the program's exports.
    runtime_settings.configure(
        MockSettings(
            monitor=monitor,
            monitor_features=features,
            engine=MockEngine(None),
            project=project,
            stack=stack,
            dry_run=False,
            # What a self-managed (DIY) backend answers for `pulumi.get_organization()`.
            organization=ORGANIZATION,
            callbacks=None,
        )
    )
    runtime_settings.ROOT.set(None)
    # A failing program leaves RPC tasks pending; the failure itself is what matters.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    loop = asyncio.new_event_loop()
    plan = Plan(stack=stack, resources=monitor.recorded)
    try:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(_run(program))
    except Exception as exc:
        raise SynthesisError(exc, plan) from exc
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    plan.outputs = monitor.stack_outputs
    return plan
