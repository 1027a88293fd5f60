"""crm-guardrails: the CrossGuard policies of crm-platform (see policies/README.md).

Importable as `guardrails` (the engine runs the pack with only the pack directory on sys.path) and
as `policies.guardrails` from the repository root (the offline gate, `guardrails.offline`). Nothing
here imports the project's components or stacks: a guardrail must not share code with what it
checks.
"""

from __future__ import annotations

from types import ModuleType

from . import (
    cache,
    compute,
    eks,
    iam,
    kms,
    kubernetes,
    limits,
    loadbalancer,
    logs,
    network,
    operations,
    paths,
    rds,
    residency,
    s3,
    workloads,
)
from .core import GuardrailResourcePolicy, GuardrailStackPolicy
from .secrets import install
from .suppressions import SuppressionReport

PACK_NAME = "crm-guardrails"
# Keep equal to `version` in PulumiPolicy.yaml (a test checks it).
PACK_VERSION = "1.0.0"
PACK_DESCRIPTION = (
    "Security, availability and data-residency guardrails for the Twenty CRM platform on AWS "
    "and Kubernetes."
)

Guardrail = GuardrailResourcePolicy | GuardrailStackPolicy | SuppressionReport


def _collect(*modules: ModuleType) -> list[Guardrail]:
    return [
        value
        for module in modules
        for value in vars(module).values()
        if isinstance(value, GuardrailResourcePolicy | GuardrailStackPolicy)
    ]


CHECKS = _collect(
    residency,
    paths,
    network,
    compute,
    kms,
    rds,
    cache,
    s3,
    eks,
    iam,
    loadbalancer,
    logs,
    kubernetes,
    workloads,
    operations,
    limits,
)
POLICIES: list[Guardrail] = [*CHECKS, SuppressionReport(CHECKS)]

install()

__all__ = ["PACK_DESCRIPTION", "PACK_NAME", "PACK_VERSION", "POLICIES", "Guardrail"]
