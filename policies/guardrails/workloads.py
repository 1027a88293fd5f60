"""Kubernetes workloads as a service: readiness gates on load-balancer IP targets, preStop hooks
on serving containers, leader election for replicated controllers, Job waits that cover the
Job's deadline.

A Service's pods are IP targets of an AWS load balancer when a TargetGroupBinding
(`elbv2.k8s.aws`) names the Service, or an ALB Ingress with `target-type: ip` routes to it.
Pods are matched to a Service by its selector and the workload's pod-template labels, in the same
namespace.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from .core import (
    MEDIUM,
    Res,
    Stack,
    as_bool,
    as_number,
    entries,
    field,
    integer,
    resource_policy,
    show,
    show_list,
    stack_policy,
    strings,
)
from .kubernetes import DEPLOYMENT, HELM_RELEASE, LONG_RUNNING, NAMESPACE, STATEFUL_SET, Pod
from .loadbalancer import INGRESS, INGRESS_CLASSES, PREFIX, annotation, is_alb_ingress

SERVICE = "kubernetes:core/v1:Service"
JOB = "kubernetes:batch/v1:Job"
TARGET_GROUP_BINDINGS = frozenset(
    {
        "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding",
        "kubernetes:elbv2.k8s.aws/v1:TargetGroupBinding",
    }
)
# aws-load-balancer-controller docs/deploy/pod_readiness_gate.md
READINESS_GATE_LABEL = "elbv2.k8s.aws/pod-readiness-gate-inject"
# pulumi-kubernetes annotations (docs of kubernetes.batch/v1.Job and of the await logic).
WAIT_FOR = "pulumi.com/waitFor"
SKIP_AWAIT = "pulumi.com/skipAwait"
TIMEOUT_SECONDS = "pulumi.com/timeoutSeconds"
# The pulumi-kubernetes Job awaiter gives up after 10 minutes unless customTimeouts says otherwise.
JOB_DEFAULT_TIMEOUT = 600
# Charts whose controllers act on shared state: where their replica count and leader-election
# switch live in the release values, and the chart's default for the switch (external-secrets
# deploy/charts/external-secrets/values.yaml: replicaCount 1, leaderElect false).
LEADER_ELECTION_CHARTS = {
    "external-secrets": {"replicas": "replicaCount", "switch": "leaderElect", "default": False},
}
LEADER_ELECTION_FLAGS = ["--leader-elect", "--enable-leader-election", "--leader-election"]


def _namespace(res: Res) -> Any:
    return res.peek("metadata.namespace") or "default"


def _selects(service: Res, workload: Res) -> bool:
    """Whether the Service's selector matches the workload's pod-template labels."""
    selector = service.peek("spec.selector")
    labels = workload.peek(("spec", "template", "metadata", "labels"))
    if not isinstance(selector, Mapping) or not selector or not isinstance(labels, Mapping):
        return False
    if _namespace(service) != _namespace(workload):
        return False
    return all(labels.get(key) == value for key, value in selector.items())


def _ingress_service_names(ingress: Res) -> set[Any]:
    names = {field(ingress.props, "spec.defaultBackend.service.name")}
    for rule in entries(ingress.peek("spec.rules")) or []:
        for path in entries(field(rule, "http.paths")) or []:
            names.add(field(path, "backend.service.name"))
    return {name for name in names if isinstance(name, str)}


def ip_target_sources(stack: Stack, service: Res, config: Mapping[str, Any]) -> list[str]:
    """What makes the Service's pods IP targets of a load balancer (empty: nothing does)."""
    name, namespace = service.peek("metadata.name"), _namespace(service)
    found = []
    for binding in stack.of_type(TARGET_GROUP_BINDINGS):
        if (
            _namespace(binding) == namespace
            and binding.peek("spec.serviceRef.name") == name
            and binding.peek("spec.targetType") != "instance"
        ):
            found.append(binding.label)
    for ingress in stack.of_type({INGRESS}):
        if (
            is_alb_ingress(ingress, config)
            and _namespace(ingress) == namespace
            and annotation(ingress, PREFIX + "target-type") == "ip"
            and name in _ingress_service_names(ingress)
        ):
            found.append(ingress.label)
    return found


def serving_services(stack: Stack, workload: Res) -> list[Res]:
    return [svc for svc in stack.of_type({SERVICE}) if _selects(svc, workload)]


@stack_policy(
    "k8s-pod-readiness-gate",
    subjects=LONG_RUNNING,
    description="Pods that are IP targets of a load balancer must live in a namespace with the "
    "AWS Load Balancer Controller's readiness-gate injection enabled.",
    severity=MEDIUM,
    remediation=(
        f"Label the namespace {READINESS_GATE_LABEL}=enabled (AWS Load Balancer Controller "
        "docs, pod_readiness_gate.md), so a rollout waits until new pods are healthy targets."
    ),
    config={"albIngressClasses": INGRESS_CLASSES},
    tags=[
        "kubernetes",
        "availability",
        "zero-downtime",
        "Source:AWS Load Balancer Controller, pod readiness gate",
    ],
    reads=LONG_RUNNING | TARGET_GROUP_BINDINGS | {SERVICE, NAMESPACE, INGRESS},
)
def pod_readiness_gate(stack: Stack, workload: Res, config: Mapping[str, Any]) -> Iterator[str]:
    sources = [
        source
        for svc in serving_services(stack, workload)
        for source in ip_target_sources(stack, svc, config)
    ]
    if not sources:
        return
    namespace = _namespace(workload)
    declared = [ns for ns in stack.of_type({NAMESPACE}) if ns.peek("metadata.name") == namespace]
    labels = declared[0].peek("metadata.labels") if declared else None
    value = labels.get(READINESS_GATE_LABEL) if isinstance(labels, Mapping) else None
    if value != "enabled":
        state = (
            "is not declared in this stack"
            if not declared
            else f"sets label {READINESS_GATE_LABEL} to {show(value)}"
        )
        yield (
            f"{workload.label} serves IP targets of {', '.join(sorted(set(sources)))}, but its "
            f'namespace "{namespace}" {state}; without {READINESS_GATE_LABEL}=enabled a rolling '
            "update can leave the target group with no healthy target (AWS Load Balancer "
            "Controller docs, pod_readiness_gate.md)."
        )


@stack_policy(
    "k8s-prestop-hook",
    subjects=LONG_RUNNING,
    description="Containers that serve traffic behind a Service must have a preStop hook.",
    severity=MEDIUM,
    remediation=(
        "Add lifecycle.preStop (e.g. a sleep at least as long as the target group's "
        "deregistration delay) so endpoints and targets drain before the process stops."
    ),
    tags=[
        "kubernetes",
        "availability",
        "zero-downtime",
        "Source:EKS Best Practices Guide, load balancing",
    ],
    reads=LONG_RUNNING | {SERVICE},
)
def prestop_hook(stack: Stack, workload: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if not serving_services(stack, workload):
        return
    for where, container in Pod(workload).containers(("containers",)):
        if container.present("ports") and not container.present("lifecycle.preStop"):
            yield (
                f"{workload.label} {where} serves traffic behind a Service and has no "
                "lifecycle.preStop; a stopping pod drops requests still routed to it."
            )


def _disabled_flags(container: Res, flags: list[str]) -> list[str]:
    """Leader-election flags the container's command line sets to false."""
    words = [w for w in container.items("command") + container.items("args") if isinstance(w, str)]
    found = []
    for index, word in enumerate(words):
        name, _, value = word.partition("=")
        if name not in flags:
            continue
        if not value and index + 1 < len(words) and not words[index + 1].startswith("-"):
            value = words[index + 1]
        if as_bool(value) is False:
            found.append(word if "=" in word else f"{name} {value}")
    return found


def _release_problem(res: Res, charts: Mapping[str, Any]) -> Iterator[str]:
    chart = res.get("chart")
    spec = charts.get(chart.rsplit("/", 1)[-1]) if isinstance(chart, str) else None
    if not isinstance(spec, Mapping):
        return
    replicas = res.get(("values", *spec["replicas"].split(".")))
    if (as_number(replicas) or 1) <= 1:
        return
    switch = res.get(("values", *spec["switch"].split(".")))
    default = bool(spec.get("default"))
    enabled = as_bool(switch) if switch is not None else default
    if not enabled:
        shown = show(switch) if switch is not None else f"unset (chart default {show(default)})"
        yield (
            f"{res.label} runs chart {show(chart)} with values.{spec['replicas']} "
            f"{show(replicas)} and values.{spec['switch']} {shown}; every replica would act on "
            f"the same objects. Set values.{spec['switch']} to true."
        )


@resource_policy(
    "k8s-leader-election",
    types={HELM_RELEASE, DEPLOYMENT, STATEFUL_SET},
    description="A controller with more than one replica must run with leader election.",
    severity=MEDIUM,
    remediation=(
        "Enable leader election (e.g. external-secrets values leaderElect: true) or run one "
        "replica; never pass --leader-elect=false to a replicated controller."
    ),
    config={
        "charts": {
            "type": "object",
            "default": LEADER_ELECTION_CHARTS,
            "description": "Per chart: values paths of the replica count (`replicas`) and of "
            "the leader-election switch (`switch`), and the chart's `default` for the switch.",
        },
        "flags": strings(LEADER_ELECTION_FLAGS, "Command-line flags that switch leader election."),
    },
    tags=["kubernetes", "availability", "controllers", "Source:Kubernetes leader election"],
)
def leader_election(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if res.type == HELM_RELEASE:
        yield from _release_problem(res, config["charts"])
        return
    if (as_number(res.get("spec.replicas")) or 1) <= 1:
        return
    for where, container in Pod(res).containers(("containers",)):
        disabled = _disabled_flags(container, list(config["flags"]))
        if disabled:
            yield (
                f"{res.label} {where} runs {show(res.get('spec.replicas'))} replicas with "
                f"{show_list(disabled)}; replicas of a controller must elect a leader."
            )


_DIGITS = re.compile(r"^\d+$")


def job_wait_seconds(res: Res, default: int) -> tuple[float, str]:
    """How long Pulumi waits for the Job, and where that number comes from."""
    if res.create_timeout:
        return res.create_timeout, "customTimeouts.create"
    annotated = res.get(("metadata", "annotations", TIMEOUT_SECONDS))
    if isinstance(annotated, str) and _DIGITS.match(annotated):
        return float(annotated), f"annotation {TIMEOUT_SECONDS}"
    return float(default), "the pulumi-kubernetes default"


@resource_policy(
    "k8s-job-await-deadline",
    types={JOB},
    description="A Job awaited by Pulumi must keep the Job awaiter and wait at least as long as "
    "the Job's activeDeadlineSeconds.",
    severity=MEDIUM,
    remediation=(
        "Remove pulumi.com/waitFor and pulumi.com/skipAwait (they replace the awaiter that fails "
        "the update on a Failed Job), set spec.activeDeadlineSeconds, and give the resource "
        "custom_timeouts create >= that deadline (or the pulumi.com/timeoutSeconds annotation)."
    ),
    config={
        "defaultTimeoutSeconds": integer(
            JOB_DEFAULT_TIMEOUT, "How long pulumi-kubernetes waits for a Job by default.", 1
        )
    },
    tags=[
        "kubernetes",
        "deployment-safety",
        "migrations",
        "Source:pulumi-kubernetes Job await logic",
    ],
)
def job_await_deadline(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    for key in (WAIT_FOR, SKIP_AWAIT):
        value = res.get(("metadata", "annotations", key))
        if value is not None and (key == WAIT_FOR or as_bool(value)):
            yield (
                f"{res.label} sets annotation {key} to {show(value)}; it replaces the "
                "pulumi-kubernetes Job awaiter, so a Failed Job no longer fails the update "
                "(pulumi-kubernetes docs of batch/v1.Job)."
            )
    deadline = res.get("spec.activeDeadlineSeconds")
    if deadline is None:
        yield (
            f"{res.label} leaves spec.activeDeadlineSeconds unset; without a deadline the Job "
            "can outlive any wait and is awaited again at the next update."
        )
        return
    waited, source = job_wait_seconds(res, int(config["defaultTimeoutSeconds"]))
    if waited < (as_number(deadline) or 0):
        yield (
            f"{res.label} is awaited for {show(waited)} s ({source}) but may run for "
            f"{show(deadline)} s (spec.activeDeadlineSeconds); the wait must be at least the "
            "deadline or a slow Job fails the update while it still runs."
        )
