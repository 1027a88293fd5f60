"""Pure builders of the CRM's Kubernetes object bodies (camelCase, as the API expects).

Kept free of Pulumi resources so they read like manifests; values may be Pulumi Outputs, which
the Kubernetes provider resolves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pulumi import Input, Output

from ..twenty import SERVER_PORT

RUN_AS = 1000  # the image's `node` user
APP_NAME = "twenty"
# The application's own keys and Redis URL (generated, Pulumi secrets); the database login is
# added by database_access.with_database.
APP_SECRET = "twenty-app"


def labels(component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": APP_NAME,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": "crm-platform",
    }


def selector(component: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": APP_NAME, "app.kubernetes.io/component": component}


def pod_security_context() -> dict[str, Any]:
    """Pod Security Standard `restricted`, with the image's non-root user."""
    return {
        "runAsNonRoot": True,
        "runAsUser": RUN_AS,
        "runAsGroup": RUN_AS,
        "fsGroup": RUN_AS,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security_context() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def environment(
    *,
    server_url: str,
    bucket_name: Any,
    region: str,
    pool_size: int,
    migrations: bool,
) -> list[dict[str, Any]]:
    """Environment shared by server, worker and the migration job.

    Only the migration job runs migrations and registers cron jobs; long-running pods never
    race each other doing it.
    """
    secret = lambda name, key: {  # noqa: E731
        "name": key,
        "valueFrom": {"secretKeyRef": {"name": name, "key": key}},
    }
    return [
        {"name": "NODE_PORT", "value": str(SERVER_PORT)},
        {"name": "SERVER_URL", "value": server_url},
        {"name": "HOME", "value": "/tmp"},
        {"name": "PG_POOL_MAX_CONNECTIONS", "value": str(pool_size)},
        secret(APP_SECRET, "REDIS_URL"),
        secret(APP_SECRET, "ENCRYPTION_KEY"),
        secret(APP_SECRET, "APP_SECRET"),
        {"name": "STORAGE_TYPE", "value": "s3"},
        {"name": "STORAGE_S3_NAME", "value": bucket_name},
        {"name": "STORAGE_S3_REGION", "value": region},
        {"name": "IS_MULTIWORKSPACE_ENABLED", "value": "false"},
        {"name": "SIGN_IN_PREFILLED", "value": "false"},
        {"name": "DISABLE_DB_MIGRATIONS", "value": "false" if migrations else "true"},
        {"name": "DISABLE_CRON_JOBS_REGISTRATION", "value": "false" if migrations else "true"},
    ]


def _scratch_volumes() -> tuple[list[dict], list[dict]]:
    """A writable /tmp on an otherwise read-only root filesystem."""
    return (
        [{"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}}],
        [{"name": "tmp", "mountPath": "/tmp"}],
    )


def pod_spec(
    *,
    component: str,
    image: str,
    env: list[dict],
    resources: dict,
    service_account: str,
    node_selector: dict[str, str],
    tolerations: list[dict],
    args: list[str] | None = None,
    command: list[str] | None = None,
    ports: list[dict] | None = None,
    probes: dict[str, dict] | None = None,
    spread: bool = True,
    restart_policy: str | None = None,
    lifecycle: dict | None = None,
    termination_grace_seconds: int | None = None,
) -> dict[str, Any]:
    volumes, mounts = _scratch_volumes()
    container: dict[str, Any] = {
        "name": component,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "env": env,
        "resources": resources,
        "securityContext": container_security_context(),
        "volumeMounts": mounts,
        **({"command": command} if command else {}),
        **({"args": args} if args else {}),
        **({"ports": ports} if ports else {}),
        **(probes or {}),
        **({"lifecycle": lifecycle} if lifecycle else {}),
    }
    spec: dict[str, Any] = {
        "serviceAccountName": service_account,
        # IRSA mounts its own projected token; the Kubernetes API token is not needed.
        "automountServiceAccountToken": False,
        "securityContext": pod_security_context(),
        "containers": [container],
        "volumes": volumes,
        "nodeSelector": node_selector,
        "tolerations": tolerations,
        **({"restartPolicy": restart_policy} if restart_policy else {}),
        **(
            {"terminationGracePeriodSeconds": termination_grace_seconds}
            if termination_grace_seconds
            else {}
        ),
    }
    if spread:
        spec["topologySpreadConstraints"] = [
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": selector(component)},
            },
            {
                "maxSkew": 1,
                "topologyKey": "kubernetes.io/hostname",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": selector(component)},
            },
        ]
    return spec


def deployment_spec(
    component: str, replicas: int, pod: dict, min_ready_seconds: int = 0
) -> dict[str, Any]:
    """A rolling update that never drops below the desired count (surge first)."""
    return {
        "replicas": replicas,
        "minReadySeconds": min_ready_seconds,
        "revisionHistoryLimit": 5,
        "selector": {"matchLabels": selector(component)},
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
        },
        "template": {"metadata": {"labels": labels(component)}, "spec": pod},
    }


def autoscaler_spec(deployment: str, minimum: int, maximum: int) -> dict[str, Any]:
    return {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment},
        "minReplicas": minimum,
        "maxReplicas": maximum,
        "metrics": [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 70},
                },
            }
        ],
        # Scale down slowly: CRM traffic is bursty and pods take a while to start.
        "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}},
    }


def _cidr_peers(cidrs: Input[Sequence[str]]) -> Output[list[dict[str, Any]]]:
    return Output.from_input(cidrs).apply(lambda found: [{"ipBlock": {"cidr": c}} for c in found])


def network_policies(
    *, load_balancer_cidrs: Input[Sequence[str]], data_cidrs: Input[Sequence[str]]
) -> dict[str, dict[str, Any]]:
    """Deny everything by default, then allow exactly what the CRM needs."""
    everything = {"podSelector": {}}
    return {
        "default-deny": {**everything, "policyTypes": ["Ingress", "Egress"]},
        "allow-load-balancer": {
            "podSelector": {"matchLabels": selector("server")},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": _cidr_peers(load_balancer_cidrs),
                    "ports": [{"protocol": "TCP", "port": SERVER_PORT}],
                }
            ],
        },
        "allow-dns": {
            **everything,
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                            },
                            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                        }
                    ],
                    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                }
            ],
        },
        "allow-data-stores": {
            **everything,
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": _cidr_peers(data_cidrs),
                    "ports": [{"protocol": "TCP", "port": 5432}, {"protocol": "TCP", "port": 6379}],
                }
            ],
        },
        "allow-https": {
            **everything,
            "policyTypes": ["Egress"],
            "egress": [
                {
                    # AWS APIs (S3, STS) and outbound integrations; never the node's metadata.
                    "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.169.254/32"]}}],
                    "ports": [{"protocol": "TCP", "port": 443}],
                }
            ],
        },
    }
