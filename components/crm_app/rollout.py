"""Rollouts that drop no request and migrations that gate them.

The server's pods are IP targets of the platform's load balancer. A new pod takes traffic only
once the load balancer finds it healthy (the controller's pod readiness gate), and a stopping
pod keeps serving until the load balancer has drained it (a preStop pause at least as long as
the target group's deregistration delay). The migration Job is awaited by pulumi-kubernetes'
own Job awaiter, which fails the update when the Job fails, for at least its deadline.
"""

from __future__ import annotations

import re
from typing import Any

import pulumi

from ..twenty import HEALTH_PATH, SERVER_PORT

# aws-load-balancer-controller docs/deploy/pod_readiness_gate.md: pods created in a namespace
# with this label get a readiness gate per TargetGroupBinding that targets them.
READINESS_GATE_LABEL = "elbv2.k8s.aws/pod-readiness-gate-inject"
ENDPOINT_PROPAGATION_SECONDS = 5
"""Extra pause for kube-proxy and the controller to see the pod leave its endpoints."""
SHUTDOWN_SECONDS = 30
"""What the process gets after the pause to finish in-flight work before SIGKILL."""
MIN_READY_SECONDS = 10
"""A new server pod must stay ready this long before the rollout counts it available."""
WORKER_GRACE_SECONDS = 120
"""BullMQ workers finish their current job on SIGTERM; give a long job time to end."""
MIGRATION_DEADLINE_SECONDS = 1800
"""The upgrade walks every workspace schema; Twenty's own guidance is to give it time."""
MIGRATION_AWAIT_MARGIN_SECONDS = 300
"""Pulumi waits this much longer than the Job may run (scheduling and image pull)."""


def readiness_gate_labels() -> dict[str, str]:
    """Namespace labels that make the controller inject target-health readiness gates."""
    return {READINESS_GATE_LABEL: "enabled"}


def pre_stop_seconds(deregistration_delay: int) -> int:
    """The pause before SIGTERM: the whole deregistration delay plus endpoint propagation, so
    the load balancer stops sending before the process stops answering."""
    return deregistration_delay + ENDPOINT_PROPAGATION_SECONDS


def server_lifecycle(deregistration_delay: int) -> dict[str, Any]:
    """A native sleep action (Kubernetes ≥ 1.30): no shell or `sleep` binary in the image."""
    return {"preStop": {"sleep": {"seconds": pre_stop_seconds(deregistration_delay)}}}


def server_termination_grace(deregistration_delay: int) -> int:
    return pre_stop_seconds(deregistration_delay) + SHUTDOWN_SECONDS


def http_probes() -> dict[str, dict]:
    """Twenty's `/healthz` runs no indicator (`health.check([])`): it answers as soon as the
    HTTP server is up and the event loop responds. Timeouts of 5 s (as Twenty's chart) keep a
    busy event loop from failing a probe; readiness takes a pod out after 3 misses (15 s),
    liveness restarts it only after a minute; startup allows 5 minutes to boot."""
    probe = {"httpGet": {"path": HEALTH_PATH, "port": SERVER_PORT}, "timeoutSeconds": 5}
    return {
        "startupProbe": {**probe, "periodSeconds": 10, "failureThreshold": 30},
        "readinessProbe": {**probe, "periodSeconds": 5, "failureThreshold": 3},
        "livenessProbe": {**probe, "periodSeconds": 10, "failureThreshold": 6},
    }


def migration_job_name(version: str, digest: str | None = None, run: int = 0) -> str:
    """One Job per image and run: `v2.42.5` → `twenty-migrate-v2-42-5`; a digest adds its
    first 12 hex digits, a re-run `-r<N>`. A new name replaces the failed Job, so a re-run
    after a fix needs no manual deletion."""
    name = "twenty-migrate-" + re.sub(r"[^a-z0-9]+", "-", version.lower()).strip("-")
    if digest:
        name += "-" + digest.split(":", 1)[1][:12]
    if run:
        name += f"-r{run}"
    return name


def migration_options(deadline: int = MIGRATION_DEADLINE_SECONDS) -> pulumi.ResourceOptions:
    """The Job awaiter waits at least the Job's deadline; the finished Job of the previous
    image is deleted before its replacement is created."""
    wait = f"{deadline + MIGRATION_AWAIT_MARGIN_SECONDS}s"
    return pulumi.ResourceOptions(
        custom_timeouts=pulumi.CustomTimeouts(create=wait, update=wait),
        delete_before_replace=True,
    )
