"""`CrmApp`: Twenty's server, worker and migrations on EKS, bound to the platform's ALB."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from . import email as mail
from . import manifests as m
from . import rollout
from .email import SmtpArgs
from .rollout import migration_job_name


@dataclass(frozen=True)
class CrmAppArgs:
    """Inputs of `CrmApp`. Capacity numbers come validated from the settings."""

    namespace: str
    """Namespace created for the CRM (PSS `restricted` enforced)."""
    image: str
    """Image repository, e.g. twentycrm/twenty."""
    version: str
    """Image tag (a release such as v2.42.5); also names the migration job."""
    domain: str
    """Public host name; SERVER_URL is https://<domain>."""
    region: str
    database_host: pulumi.Input[str]
    database_port: pulumi.Input[int]
    database_name: pulumi.Input[str]
    database_secret_arn: pulumi.Input[str]
    """RDS-managed master secret (JSON with username and password)."""
    redis_host: pulumi.Input[str]
    redis_port: pulumi.Input[int]
    redis_auth_token: pulumi.Input[str]
    """ElastiCache AUTH token (a Pulumi secret)."""
    bucket_name: pulumi.Input[str]
    app_role_arn: pulumi.Input[str]
    """IRSA role of the CRM's service account (attachments bucket and its key only)."""
    secrets_role_arn: pulumi.Input[str]
    """IRSA role that may read the database secret; used by External Secrets only."""
    target_group_arn: pulumi.Input[str]
    """The platform's IP target group; the server pods are registered in it."""
    deregistration_delay_seconds: int
    """The target group's deregistration delay: a stopping server pod keeps serving at least
    this long (preStop)."""
    load_balancer_cidrs: pulumi.Input[Sequence[str]]
    """Where the ALB's targets are reached from (the public subnets)."""
    data_cidrs: pulumi.Input[Sequence[str]]
    """Where PostgreSQL and Redis live (the isolated subnets)."""
    min_server_pods: int
    max_server_pods: int
    min_worker_pods: int
    max_worker_pods: int
    pool_size: int
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: list[dict[str, Any]] = field(default_factory=list)
    requires: Sequence[pulumi.Resource] = ()
    """Cluster add-ons that must run first: the load balancer controller (and its webhook),
    metrics-server and External Secrets. Everything here is created after them."""
    protect: bool = True
    """Protect the generated encryption key (losing it makes stored data unreadable)."""
    image_digest: str | None = None
    """`sha256:…` of the image; when set, pods pull `image:version@digest`."""
    migration_run: int = 0
    """Re-run number of the migration Job for the same image (part of its name)."""
    email: SmtpArgs | None = None
    """Outgoing mail through SMTP (SES); without it Twenty only logs its emails."""


SERVER_RESOURCES = {
    "requests": {"cpu": "250m", "memory": "512Mi"},
    "limits": {"cpu": "1", "memory": "1Gi"},
}
WORKER_RESOURCES = {
    "requests": {"cpu": "250m", "memory": "1Gi"},
    "limits": {"cpu": "1", "memory": "2Gi"},
}
MIGRATION_RESOURCES = {
    "requests": {"cpu": "100m", "memory": "512Mi"},
    "limits": {"cpu": "500m", "memory": "1Gi"},
}


class CrmApp(pulumi.ComponentResource):
    """Namespace, secrets, migration job, server and worker, autoscaling, disruption budgets,
    network policies, service and its binding to the load balancer's target group."""

    def __init__(self, name: str, args: CrmAppArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("crm-platform:app:CrmApp", name, None, opts)
        self._name, self._args = name, args
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={
                "name": args.namespace,
                "labels": {
                    f"pod-security.kubernetes.io/{mode}": "restricted"
                    for mode in ("enforce", "audit", "warn")
                }
                | {"pod-security.kubernetes.io/enforce-version": "latest"}
                | rollout.readiness_gate_labels(),
            },
            # Every other object lives in this namespace, so it waits for the add-ons too.
            opts=self._child(depends_on=list(args.requires)),
        )
        ns = namespace.metadata.name
        self._namespace = ns
        app_account = self._service_account("twenty", args.app_role_arn, namespace)
        secrets_account = self._service_account("twenty-secrets", args.secrets_role_arn, namespace)
        database_secret = self._database_secret(secrets_account)
        app_secret = self._app_secret(namespace)
        secrets = [database_secret, app_secret, *self._email_secret()]

        image = self._image()
        server_url = f"https://{args.domain}"

        def env(migrations: bool) -> list[dict]:
            return (
                m.environment(
                    server_url=server_url,
                    bucket_name=args.bucket_name,
                    region=args.region,
                    pool_size=args.pool_size,
                    migrations=migrations,
                )
                + [{"name": "IS_WORKSPACE_CREATION_LIMITED_TO_SERVER_ADMINS", "value": "true"}]
                + (mail.environment(args.email) if args.email else [])
            )

        placement = {"node_selector": args.node_selector, "tolerations": args.tolerations}
        job_name = migration_job_name(args.version, args.image_digest, args.migration_run)
        migration = k8s.batch.v1.Job(
            # One logical resource across images: a new name replaces the previous Job.
            f"{name}-migrate",
            metadata={"name": job_name, "namespace": ns, "labels": m.labels("migrate")},
            spec={
                "backoffLimit": 1,
                "activeDeadlineSeconds": rollout.MIGRATION_DEADLINE_SECONDS,
                "template": {
                    "metadata": {"labels": m.labels("migrate")},
                    # The image's entrypoint initialises/upgrades the database and registers
                    # cron jobs, then runs its arguments: `true` exits successfully.
                    "spec": m.pod_spec(
                        component="migrate",
                        image=image,
                        env=env(migrations=True),
                        resources=MIGRATION_RESOURCES,
                        service_account=app_account.metadata.name,
                        args=["true"],
                        spread=False,
                        restart_policy="Never",
                        **placement,
                    ),
                },
            },
            opts=pulumi.ResourceOptions.merge(
                self._child(depends_on=secrets), rollout.migration_options()
            ),
        )
        after_migration = self._child(depends_on=[migration, *secrets])
        self.server = self._deployment(
            "server",
            args.min_server_pods,
            m.pod_spec(
                component="server",
                image=image,
                env=env(migrations=False),
                resources=SERVER_RESOURCES,
                service_account=app_account.metadata.name,
                ports=[{"name": "http", "containerPort": m.SERVER_PORT, "protocol": "TCP"}],
                probes=rollout.http_probes(),
                lifecycle=rollout.server_lifecycle(args.deregistration_delay_seconds),
                termination_grace_seconds=rollout.server_termination_grace(
                    args.deregistration_delay_seconds
                ),
                **placement,
            ),
            after_migration,
            min_ready_seconds=rollout.MIN_READY_SECONDS,
        )
        self.worker = self._deployment(
            "worker",
            args.min_worker_pods,
            m.pod_spec(
                component="worker",
                image=image,
                env=env(migrations=False),
                resources=WORKER_RESOURCES,
                service_account=app_account.metadata.name,
                command=["yarn", "worker:prod"],
                termination_grace_seconds=rollout.WORKER_GRACE_SECONDS,
                **placement,
            ),
            after_migration,
        )
        for component, deployment, low, high in (
            ("server", self.server, args.min_server_pods, args.max_server_pods),
            ("worker", self.worker, args.min_worker_pods, args.max_worker_pods),
        ):
            k8s.autoscaling.v2.HorizontalPodAutoscaler(
                f"{name}-{component}",
                metadata={"name": f"twenty-{component}", "namespace": ns},
                spec=m.autoscaler_spec(deployment.metadata.name, low, high),
                opts=self._child(),
            )
            k8s.policy.v1.PodDisruptionBudget(
                f"{name}-{component}",
                metadata={"name": f"twenty-{component}", "namespace": ns},
                spec={"maxUnavailable": 1, "selector": {"matchLabels": m.selector(component)}},
                opts=self._child(),
            )
        policies = m.network_policies(
            load_balancer_cidrs=args.load_balancer_cidrs, data_cidrs=args.data_cidrs
        )
        if args.email:
            policies["allow-smtp"] = mail.egress_policy()
        for policy, spec in policies.items():
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{policy}",
                metadata={"name": policy, "namespace": ns},
                spec=spec,
                opts=self._child(),
            )
        self.target_group_binding = self._bind_targets()
        self.url = server_url
        self.register_outputs({"url": self.url, "version": args.version})

    def _child(self, **options: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **options)

    def _service_account(
        self, account: str, role_arn: pulumi.Input[str], namespace: k8s.core.v1.Namespace
    ) -> k8s.core.v1.ServiceAccount:
        return k8s.core.v1.ServiceAccount(
            f"{self._name}-{account}",
            metadata={
                "name": account,
                "namespace": namespace.metadata.name,
                "annotations": {"eks.amazonaws.com/role-arn": role_arn},
            },
            automount_service_account_token=False,
            opts=self._child(),
        )

    def _database_secret(
        self, reader: k8s.core.v1.ServiceAccount
    ) -> k8s.apiextensions.CustomResource:
        """PG_DATABASE_URL assembled inside the cluster by External Secrets from the
        RDS-managed master secret: the password never passes through Pulumi or its state."""
        args = self._args
        store = k8s.apiextensions.CustomResource(
            f"{self._name}-secret-store",
            api_version="external-secrets.io/v1",
            kind="SecretStore",
            metadata={"name": "aws-secrets-manager", "namespace": self._namespace},
            spec={
                "provider": {
                    "aws": {
                        "service": "SecretsManager",
                        "region": args.region,
                        "auth": {"jwt": {"serviceAccountRef": {"name": reader.metadata.name}}},
                    }
                }
            },
            opts=self._child(depends_on=list(args.requires)),
        )
        self._secret_store = store
        url = pulumi.Output.concat(
            "postgres://{{ .username | urlquery }}:{{ .password | urlquery }}@",
            args.database_host,
            ":",
            pulumi.Output.from_input(args.database_port).apply(str),
            "/",
            args.database_name,
        )
        return k8s.apiextensions.CustomResource(
            f"{self._name}-database-secret",
            api_version="external-secrets.io/v1",
            kind="ExternalSecret",
            metadata={"name": m.DATABASE_SECRET, "namespace": self._namespace},
            spec={
                # RDS rotates the managed password; pick up the new one within 15 minutes.
                "refreshInterval": "15m",
                "secretStoreRef": {"name": store.metadata["name"], "kind": "SecretStore"},
                "target": {
                    "name": m.DATABASE_SECRET,
                    "creationPolicy": "Owner",
                    "template": {"engineVersion": "v2", "data": {"PG_DATABASE_URL": url}},
                },
                "data": [
                    {
                        "secretKey": key,
                        "remoteRef": {"key": args.database_secret_arn, "property": key},
                    }
                    for key in ("username", "password")
                ],
            },
            opts=self._child(depends_on=[store]),
        )

    def _image(self) -> str:
        """`image:tag`, pinned by digest when one is recorded (the tag stays for people)."""
        args = self._args
        tagged = f"{args.image}:{args.version}"
        return f"{tagged}@{args.image_digest}" if args.image_digest else tagged

    def _email_secret(self) -> list[k8s.apiextensions.CustomResource]:
        """The SMTP credentials synced from the platform's secret (none without email)."""
        if not self._args.email:
            return []
        return [
            k8s.apiextensions.CustomResource(
                f"{self._name}-email-secret",
                api_version="external-secrets.io/v1",
                kind="ExternalSecret",
                metadata={"name": mail.EMAIL_SECRET, "namespace": self._namespace},
                spec=mail.credentials_spec(self._args.email, self._secret_store.metadata["name"]),
                opts=self._child(depends_on=[self._secret_store]),
            )
        ]

    def _app_secret(self, namespace: k8s.core.v1.Namespace) -> k8s.core.v1.Secret:
        """Generated keys (stable across updates; protected in prod: losing ENCRYPTION_KEY
        makes stored credentials unreadable) and the Redis URL with its AUTH token."""
        args = self._args
        keep = self._child(protect=args.protect)
        encryption_key = random.RandomPassword(
            f"{self._name}-encryption-key", length=48, special=False, opts=keep
        )
        app_secret = random.RandomPassword(
            f"{self._name}-app-secret", length=48, special=False, opts=keep
        )
        token = pulumi.Output.from_input(args.redis_auth_token).apply(lambda t: quote(t, safe=""))
        redis_url = pulumi.Output.concat(
            "rediss://:",
            token,
            "@",
            args.redis_host,
            ":",
            pulumi.Output.from_input(args.redis_port).apply(str),
        )
        return k8s.core.v1.Secret(
            f"{self._name}-app-secret",
            metadata={"name": m.APP_SECRET, "namespace": namespace.metadata.name},
            type="Opaque",
            string_data={
                "ENCRYPTION_KEY": encryption_key.result,
                "APP_SECRET": app_secret.result,
                "REDIS_URL": pulumi.Output.secret(redis_url),
            },
            opts=self._child(),
        )

    def _deployment(
        self,
        component: str,
        replicas: int,
        pod: dict,
        opts: pulumi.ResourceOptions,
        min_ready_seconds: int = 0,
    ) -> k8s.apps.v1.Deployment:
        return k8s.apps.v1.Deployment(
            f"{self._name}-{component}",
            metadata={
                "name": f"twenty-{component}",
                "namespace": self._namespace,
                "labels": m.labels(component),
            },
            spec=m.deployment_spec(component, replicas, pod, min_ready_seconds),
            # The autoscaler owns the replica count once the deployment exists.
            opts=pulumi.ResourceOptions.merge(opts, self._child(ignore_changes=["spec.replicas"])),
        )

    def _bind_targets(self) -> k8s.apiextensions.CustomResource:
        """A ClusterIP Service for the server, and a TargetGroupBinding: the load balancer
        controller registers the server pods' IPs in the platform's target group."""
        service = k8s.core.v1.Service(
            f"{self._name}-server",
            metadata={"name": "twenty-server", "namespace": self._namespace},
            spec={
                "type": "ClusterIP",
                "selector": m.selector("server"),
                "ports": [{"name": "http", "port": 80, "targetPort": m.SERVER_PORT}],
            },
            opts=self._child(),
        )
        return k8s.apiextensions.CustomResource(
            f"{self._name}-targets",
            api_version="elbv2.k8s.aws/v1beta1",
            kind="TargetGroupBinding",
            metadata={"name": "twenty-server", "namespace": self._namespace},
            spec={
                "serviceRef": {"name": service.metadata.name, "port": 80},
                "targetGroupARN": self._args.target_group_arn,
                "targetType": "ip",
            },
            opts=self._child(depends_on=[self.server]),
        )
