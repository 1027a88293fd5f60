"""Both layers of a stack offline: the platform, then the workloads against its outputs.

The workloads' `StackReference` is answered with the platform plan's own stack outputs, so the
workloads layer is synthesized against exactly what the platform would export.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from ..settings import StackSettings
from .model import Plan
from .synth import ORGANIZATION, synthesize

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


def synthesize_stack(stack: str, config: Mapping[str, str], settings: StackSettings) -> Plan:
    """One plan holding both layers' resources (platform first) and `layers` by name."""
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
