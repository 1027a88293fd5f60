"""Kubernetes workloads and namespaces: Pod Security Standards (baseline + restricted), resources,
probes, pinned images, service-account tokens, namespace labels, replicas.

Workloads are Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs and Pods; the
checks read their pod template. Helm releases render their pods inside the cluster, where the
namespace's `pod-security.kubernetes.io/enforce` label applies the same standard at admission.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .core import (
    ADVISORY,
    CRITICAL,
    HIGH,
    LOW,
    MEDIUM,
    Res,
    Stack,
    as_bool,
    as_list,
    as_number,
    boolean,
    integer,
    known_items,
    resource_policy,
    setting,
    show,
    show_list,
    stack_policy,
    strings,
)

TEMPLATE = ("spec", "template", "spec")
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
POD_SPECS = {
    DEPLOYMENT: TEMPLATE,
    STATEFUL_SET: TEMPLATE,
    "kubernetes:apps/v1:DaemonSet": TEMPLATE,
    "kubernetes:apps/v1:ReplicaSet": TEMPLATE,
    "kubernetes:core/v1:ReplicationController": TEMPLATE,
    "kubernetes:batch/v1:Job": TEMPLATE,
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "kubernetes:core/v1:Pod": ("spec",),
}
WORKLOADS = frozenset(POD_SPECS)
LONG_RUNNING = frozenset(
    {
        DEPLOYMENT,
        STATEFUL_SET,
        "kubernetes:apps/v1:DaemonSet",
        "kubernetes:apps/v1:ReplicaSet",
        "kubernetes:core/v1:ReplicationController",
    }
)
NAMESPACE = "kubernetes:core/v1:Namespace"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
NAMESPACED = WORKLOADS | {
    SERVICE_ACCOUNT,
    HPA,
    HELM_RELEASE,
    "kubernetes:core/v1:Service",
    "kubernetes:core/v1:ConfigMap",
    "kubernetes:core/v1:Secret",
    "kubernetes:core/v1:PersistentVolumeClaim",
    "kubernetes:networking.k8s.io/v1:Ingress",
    "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    "kubernetes:policy/v1:PodDisruptionBudget",
    "kubernetes:rbac.authorization.k8s.io/v1:Role",
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
}

ALL_CONTAINERS = ("containers", "initContainers", "ephemeralContainers")
BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
        "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
    }
)  # fmt: skip
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    }
)  # fmt: skip
SELINUX_TYPES = frozenset(
    {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
)
RESTRICTED_VOLUMES = frozenset(
    {
        "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
        "projected", "secret",
    }
)  # fmt: skip
PSA_LABEL = "pod-security.kubernetes.io/enforce"


class Pod:
    """The pod template of a workload, with its containers."""

    def __init__(self, res: Res) -> None:
        self.res = res
        self.path = ".".join(POD_SPECS[res.type])
        spec = res.get(POD_SPECS[res.type])
        self.spec = Res(res.type, res.name, res.urn, spec if isinstance(spec, Mapping) else {})

    def get(self, path: str) -> Any:
        return self.spec.get(path)

    def containers(self, kinds: tuple[str, ...] = ALL_CONTAINERS) -> list[tuple[str, Res]]:
        """(description, container view) for every container of the given kinds."""
        found = []
        for kind in kinds:
            for index, container in enumerate(known_items(self.spec.get(kind), kind)):
                view = Res(self.res.type, self.res.name, self.res.urn, container)
                name = view.get("name")
                found.append((f'container "{name}" ({self.path}.{kind}[{index}])', view))
        return found


def _pod_policy(name: str, **kwargs: Any):
    """A resource policy over the pod template of every workload type."""
    return resource_policy(name, types=WORKLOADS, **kwargs)


def _context(view: Res, key: str) -> Any:
    return view.get(f"securityContext.{key}")


@_pod_policy(
    "k8s-pss-baseline",
    description="Workloads must meet the Pod Security Standards baseline profile.",
    severity=CRITICAL,
    remediation=(
        "Remove hostNetwork/hostPID/hostIPC, privileged, hostPath volumes, hostPort, added "
        "capabilities outside the baseline set, unsafe sysctls and Unconfined seccomp/AppArmor."
    ),
    tags=["kubernetes", "PSS:baseline", "CKV_K8S_16", "CKV_K8S_17", "CKV_K8S_19", "CKV_K8S_26"],
)
def pss_baseline(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    pod = Pod(res)
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if as_bool(pod.get(key)):
            yield f"{res.label} sets {pod.path}.{key} to true; it must be false or unset."
    for name in [
        _entry_name(s) for s in known_items(pod.get("securityContext.sysctls"), "sysctls")
    ]:
        if name not in SAFE_SYSCTLS:
            yield f"{res.label} sets sysctl {show(name)}; only the safe sysctls are allowed."
    for index, volume in enumerate(known_items(pod.get("volumes"), "volumes")):
        if isinstance(volume, Mapping) and "hostPath" in volume:
            yield (
                f"{res.label} declares hostPath volume {show(volume.get('name'))} "
                f"({pod.path}.volumes[{index}]); hostPath volumes are not allowed."
            )
    subjects = [(pod.path, pod.spec), *pod.containers()]
    for where, view in subjects:
        yield from _baseline_context(res, where, view)
    for where, view in pod.containers():
        if as_bool(_context(view, "privileged")):
            yield f"{res.label} {where} sets securityContext.privileged to true; it must be false."
        added = as_list(_context(view, "capabilities.add"))
        extra = [cap for cap in added if cap not in BASELINE_CAPABILITIES]
        if extra:
            yield (
                f"{res.label} {where} adds capabilities {show_list(extra)}; only the baseline set "
                "may be added."
            )
        for port in known_items(view.get("ports"), "ports"):
            host_port = port.get("hostPort") if isinstance(port, Mapping) else None
            if as_number(host_port):
                yield f"{res.label} {where} uses hostPort {show(host_port)}; host ports are banned."
        proc_mount = _context(view, "procMount")
        if proc_mount not in (None, "Default"):
            problem = setting("securityContext.procMount", proc_mount)
            yield f'{res.label} {where} {problem}; it must be "Default".'


def _entry_name(entry: Any) -> Any:
    return entry.get("name") if isinstance(entry, Mapping) else entry


def _baseline_context(res: Res, where: str, view: Res) -> Iterator[str]:
    """Baseline checks shared by the pod and container security contexts."""
    if as_bool(_context(view, "windowsOptions.hostProcess")):
        yield f"{res.label} {where} sets windowsOptions.hostProcess to true; it must be false."
    for key in ("seccompProfile.type", "appArmorProfile.type"):
        if _context(view, key) == "Unconfined":
            yield f'{res.label} {where} sets securityContext.{key} to "Unconfined"; it is banned.'
    selinux = _context(view, "seLinuxOptions")
    if isinstance(selinux, Mapping):
        if (selinux.get("type") or "") not in SELINUX_TYPES:
            yield (
                f"{res.label} {where} sets securityContext.seLinuxOptions.type to "
                f"{show(selinux.get('type'))}; only container types are allowed."
            )
        if selinux.get("user") or selinux.get("role"):
            yield f"{res.label} {where} sets seLinuxOptions user/role; they must be unset."


@_pod_policy(
    "k8s-run-as-non-root",
    description="Workloads must run as a non-root user (PSS restricted).",
    severity=HIGH,
    remediation="Set securityContext.runAsNonRoot=true (and runAsUser != 0) on the pod.",
    tags=["kubernetes", "PSS:restricted", "CKV_K8S_23", "CKV_K8S_40"],
)
def run_as_non_root(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    pod = Pod(res)
    pod_non_root = as_bool(pod.get("securityContext.runAsNonRoot"))
    if pod.get("securityContext.runAsUser") == 0:
        yield f"{res.label} sets {pod.path}.securityContext.runAsUser to 0; it must not be root."
    for where, view in pod.containers():
        non_root = as_bool(_context(view, "runAsNonRoot"))
        if non_root is False or (non_root is None and not pod_non_root):
            yield (
                f"{res.label} {where} runs with runAsNonRoot {show(_context(view, 'runAsNonRoot'))}"
                f" (pod-level {show(pod.get('securityContext.runAsNonRoot'))}); it must be true."
            )
        if _context(view, "runAsUser") == 0:
            yield f"{res.label} {where} sets securityContext.runAsUser to 0; it must not be root."


@_pod_policy(
    "k8s-no-privilege-escalation",
    description="Containers must set allowPrivilegeEscalation: false (PSS restricted).",
    severity=HIGH,
    remediation="Set securityContext.allowPrivilegeEscalation=false on every container.",
    tags=["kubernetes", "PSS:restricted", "CKV_K8S_20"],
)
def no_privilege_escalation(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    for where, view in Pod(res).containers():
        value = _context(view, "allowPrivilegeEscalation")
        if as_bool(value) is not False:
            yield (
                f"{res.label} {where} sets securityContext.allowPrivilegeEscalation to "
                f"{show(value)}; it must be false."
            )


@_pod_policy(
    "k8s-drop-capabilities",
    description="Containers must drop ALL capabilities and add none but NET_BIND_SERVICE "
    "(PSS restricted).",
    severity=HIGH,
    remediation="Set securityContext.capabilities={'drop': ['ALL']} on every container.",
    tags=["kubernetes", "PSS:restricted", "CKV_K8S_28", "CKV_K8S_37", "CKV_K8S_39"],
)
def drop_capabilities(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    for where, view in Pod(res).containers():
        dropped = as_list(_context(view, "capabilities.drop"))
        if "ALL" not in dropped:
            yield (
                f"{res.label} {where} drops capabilities {show_list(dropped)}; "
                'securityContext.capabilities.drop must contain "ALL".'
            )
        added = as_list(_context(view, "capabilities.add"))
        extra = [cap for cap in added if cap != "NET_BIND_SERVICE"]
        if extra:
            yield f"{res.label} {where} adds capabilities {show_list(extra)}; add none."


@_pod_policy(
    "k8s-seccomp-profile",
    description="Pods must use the RuntimeDefault (or a Localhost) seccomp profile "
    "(PSS restricted).",
    severity=MEDIUM,
    remediation="Set securityContext.seccompProfile={'type': 'RuntimeDefault'} on the pod.",
    tags=["kubernetes", "PSS:restricted", "CKV_K8S_31"],
)
def seccomp_profile(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    pod = Pod(res)
    allowed = ("RuntimeDefault", "Localhost")
    pod_profile = pod.get("securityContext.seccompProfile.type")
    for where, view in pod.containers():
        profile = _context(view, "seccompProfile.type")
        effective = profile if profile is not None else pod_profile
        if effective not in allowed:
            yield (
                f"{res.label} {where} runs with seccompProfile.type {show(effective)} (pod-level "
                f'{show(pod_profile)}); it must be "RuntimeDefault" or "Localhost".'
            )


@_pod_policy(
    "k8s-restricted-volumes",
    description="Pods may only use the volume types allowed by PSS restricted.",
    severity=MEDIUM,
    remediation="Use configMap, secret, emptyDir, projected, downwardAPI, csi, ephemeral or "
    "persistentVolumeClaim volumes.",
    tags=["kubernetes", "PSS:restricted"],
)
def restricted_volumes(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    pod = Pod(res)
    for index, volume in enumerate(known_items(pod.get("volumes"), "volumes")):
        if not isinstance(volume, Mapping):
            continue
        kinds = [key for key in volume if key != "name"]
        bad = [kind for kind in kinds if kind not in RESTRICTED_VOLUMES]
        if bad:
            yield (
                f"{res.label} declares volume {show(volume.get('name'))} of type "
                f"{show_list(bad)} ({pod.path}.volumes[{index}]); it is not allowed."
            )


@_pod_policy(
    "k8s-read-only-root-filesystem",
    description="Containers should mount their root filesystem read-only.",
    severity=MEDIUM,
    enforcement=ADVISORY,
    remediation="Set securityContext.readOnlyRootFilesystem=true; mount emptyDir where the app "
    "writes.",
    tags=["kubernetes", "CKV_K8S_22", "CP:deployment-enable-read-only-root-filesystem"],
)
def read_only_root(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    for where, view in Pod(res).containers(("containers", "initContainers")):
        value = _context(view, "readOnlyRootFilesystem")
        if not as_bool(value):
            yield (
                f"{res.label} {where} sets securityContext.readOnlyRootFilesystem to "
                f"{show(value)}; it should be true."
            )


@_pod_policy(
    "k8s-resources",
    description="Containers must declare CPU/memory requests and limits.",
    severity=LOW,
    enforcement=ADVISORY,
    remediation="Set resources.requests and resources.limits for cpu and memory.",
    config={
        "requests": strings(["cpu", "memory"], "Resources every container must request."),
        "limits": strings(["cpu", "memory"], "Resources every container must limit."),
    },
    tags=["kubernetes", "CKV_K8S_10", "CKV_K8S_11", "CKV_K8S_12", "CKV_K8S_13"],
)
def resources(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    for where, view in Pod(res).containers(("containers", "initContainers")):
        for kind in ("requests", "limits"):
            declared = view.get(f"resources.{kind}") or {}
            missing = [name for name in config[kind] if name not in declared]
            if missing:
                yield f"{res.label} {where} sets no resources.{kind} for {show_list(missing)}."


@resource_policy(
    "k8s-probes",
    types=LONG_RUNNING,
    description="Long-running containers should have liveness and readiness probes.",
    severity=LOW,
    enforcement=ADVISORY,
    remediation="Add livenessProbe and readinessProbe (an exec probe for workers without HTTP).",
    tags=["kubernetes", "availability", "CKV_K8S_8", "CKV_K8S_9"],
)
def probes(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    for where, view in Pod(res).containers(("containers",)):
        missing = [
            probe for probe in ("livenessProbe", "readinessProbe") if not view.present(probe)
        ]
        if missing:
            yield f"{res.label} {where} has no {show_list(missing)}."


def image_reference(image: str) -> tuple[str | None, bool]:
    """(tag, has digest) of an image reference such as registry:5000/app:v1@sha256:..."""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.partition(":")[2] or None
    return tag, bool(digest)


@_pod_policy(
    "k8s-image-pinned",
    description="Container images must be pinned to a version (never latest).",
    severity=MEDIUM,
    remediation="Reference images as repo:vX.Y.Z or, better, repo@sha256:<digest>.",
    config={"requireDigest": boolean(False, "Require @sha256 digests, not only tags.")},
    tags=["kubernetes", "supply-chain", "CKV_K8S_14", "CKV_K8S_43"],
)
def image_pinned(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    for where, view in Pod(res).containers():
        image = view.get("image")
        tag, digest = image_reference(image if isinstance(image, str) else "")
        if digest:
            continue
        if config["requireDigest"] or tag in (None, "latest"):
            required = "a @sha256 digest" if config["requireDigest"] else "a version tag or digest"
            yield f"{res.label} {where} uses image {show(image)}; it must be pinned to {required}."


@resource_policy(
    "k8s-service-account-token",
    types=WORKLOADS | {SERVICE_ACCOUNT},
    description="Pods should not mount API tokens they do not need, nor use the default "
    "service account.",
    severity=MEDIUM,
    enforcement=ADVISORY,
    remediation=(
        "Set automountServiceAccountToken=false on the pod (IRSA tokens are projected anyway) "
        "and run it under a dedicated serviceAccountName."
    ),
    config={
        "apiServiceAccounts": strings([], "Service accounts whose pods may mount an API token.")
    },
    tags=["kubernetes", "identity", "CKV_K8S_38", "CKV_K8S_41"],
)
def service_account_token(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if res.type == SERVICE_ACCOUNT:
        if (
            res.get("metadata.name") == "default"
            and as_bool(res.get("automountServiceAccountToken")) is not False
        ):
            yield (
                f"{res.label} is the default service account and mounts API tokens; set "
                "automountServiceAccountToken to false."
            )
        return
    pod = Pod(res)
    named = pod.get("serviceAccountName")
    account = named or "default"
    if account == "default":
        yield (
            f"{res.label} runs as the default service account "
            f"({setting(pod.path + '.serviceAccountName', named)}); use a dedicated one."
        )
    mount = pod.get("automountServiceAccountToken")
    if as_bool(mount) is not False and account not in config["apiServiceAccounts"]:
        yield (
            f"{res.label} {setting(pod.path + '.automountServiceAccountToken', mount)}; it "
            "should be false unless the pod calls the Kubernetes API."
        )


@resource_policy(
    "k8s-namespace-psa-restricted",
    types={NAMESPACE},
    description="Namespaces must enforce the restricted Pod Security Standard.",
    severity=HIGH,
    remediation=f"Label the namespace {PSA_LABEL}=restricted.",
    config={
        "level": {
            "type": "string",
            "enum": ["baseline", "restricted"],
            "default": "restricted",
            "description": "Pod Security Standard every namespace must enforce.",
        },
        "exemptNamespaces": strings(
            ["kube-system", "kube-public", "kube-node-lease"], "Namespaces left alone."
        ),
    },
    tags=["kubernetes", "PSS:admission", "CKV_K8S_21"],
)
def namespace_psa(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if res.get("metadata.name") in config["exemptNamespaces"]:
        return
    labels = res.get("metadata.labels") or {}
    value = labels.get(PSA_LABEL)
    accepted = ["restricted"] if config["level"] == "restricted" else ["baseline", "restricted"]
    if value not in accepted:
        yield (
            f"{res.label} {setting('label ' + PSA_LABEL, value)}; it must be "
            f"{show_list(accepted)} so admission rejects non-compliant pods."
        )


@resource_policy(
    "k8s-no-default-namespace",
    types=NAMESPACED,
    description="Namespaced Kubernetes objects must not live in the default namespace.",
    severity=MEDIUM,
    remediation="Set metadata.namespace (namespace on Helm releases) to an application namespace.",
    tags=["kubernetes", "CKV_K8S_21"],
)
def no_default_namespace(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    prop = "namespace" if res.type == HELM_RELEASE else "metadata.namespace"
    namespace = res.peek(prop)
    source = prop
    if namespace is None or namespace == "":
        namespace = res.provider.peek("namespace") if res.provider is not None else None
        source = "the provider's namespace"
    if namespace is None or namespace == "":
        namespace, source = "default", f"{prop} unset"
    # An unknown namespace comes from a Namespace resource, which cannot be "default".
    if namespace == "default":
        yield (
            f'{res.label} is placed in namespace "default" ({source}); put it in an '
            "application namespace with Pod Security labels."
        )


def _hpa_minimum(stack: Stack, workload: Res) -> Any:
    for hpa in stack.of_type({HPA}):
        target = hpa.peek("spec.scaleTargetRef")
        kind = workload.type.rsplit(":", 1)[-1]
        if not isinstance(target, Mapping) or target.get("kind") != kind:
            continue
        name = workload.peek("metadata.name")
        if workload in stack.refs(hpa, "spec", {workload.type}) or target.get("name") == name:
            return hpa.get("spec.minReplicas") or 1
    return None


@stack_policy(
    "k8s-min-replicas",
    subjects={DEPLOYMENT, STATEFUL_SET},
    description="Deployments and StatefulSets must run several replicas (directly or via an HPA).",
    severity=MEDIUM,
    remediation=(
        "Set spec.replicas (or the HorizontalPodAutoscaler's minReplicas) to at least "
        "minReplicas; dev stacks may relax this policy to advisory."
    ),
    config={"minReplicas": integer(2, "Smallest allowed number of replicas.", 1, 100)},
    tags=["kubernetes", "availability", "CP:deployment-configure-minimum-replica-count"],
)
def min_replicas(stack: Stack, workload: Res, config: Mapping[str, Any]) -> Iterator[str]:
    minimum = int(config["minReplicas"])
    autoscaled = _hpa_minimum(stack, workload)
    replicas = autoscaled if autoscaled is not None else workload.get("spec.replicas") or 1
    if (as_number(replicas) or 0) < minimum:
        source = "its HorizontalPodAutoscaler's minReplicas" if autoscaled else "spec.replicas"
        yield (
            f"{workload.label} runs {show(replicas)} replica(s) ({source}); at least {minimum} "
            "are required so a node or AZ loss does not stop it."
        )
