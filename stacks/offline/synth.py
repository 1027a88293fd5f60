"""Running a Pulumi program under the mock runtime and collecting a `Plan`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping

from google.protobuf import empty_pb2
from pulumi.runtime import config as runtime_config
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.mocks import MockEngine, MockSettings
from pulumi.runtime.stack import run_in_stack

from .mocks import OfflineMocks, RecordingMonitor
from .model import Plan

DEFAULT_REGION = "eu-central-1"


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
) -> Plan:
    """Run `program` as stack `stack` of `project` with `config` and return what it registered.

    `config` is the flat map the CLI would hand over (`namespace:key` → string, structured
    values JSON-encoded). A failing program raises SynthesisError.
    """
    runtime_config.set_all_config(dict(config), [])
    mocks = OfflineMocks(default_region=config.get("aws:region") or DEFAULT_REGION)
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
            organization=None,
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
        loop.run_until_complete(run_in_stack(program))
    except Exception as exc:
        raise SynthesisError(exc, plan) from exc
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    plan.outputs = monitor.stack_outputs
    return plan
