"""`CrmApp`: Twenty's server, worker and migrations on EKS, bound to the platform's ALB."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from . import database_access as db
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
    """The CRM's login secret (JSON username/password); never the master's."""
    database_secret_version: pulumi.Input[str]
    """Its current version: a new one (a rotation) restarts the pods on the new login."""
    database_role: pulumi.Input[str]
    """Role that owns the CRM's database; the bootstrap Job keeps it and the login in shape."""
    master_secret_arn: pulumi.Input[str]
    """The master login, read only for the bootstrap Job."""
    db_bootstrap_role_arn: pulumi.Input[str]
    """IRSA role that may read the master secret; used by External Secrets for the Job only."""
    replica_hosts: pulumi.Input[Sequence[str]] | None
    """Read replicas Twenty sends its read-only queries to (None: every query to the writer)."""
    ca_bundle: str
    """PEM bundle of the RDS certificate authorities the pods verify the database against."""
    redis_host: pulumi.Input[str]
    redis_port: pulumi.Input[int]
    redis_auth_token: pulumi.Input[str]
    """ElastiCache AUTH token (a Pulumi secret)."""
    bucket_name: pulumi.Input[str]
    app_role_arn: pulumi.Input[str]
    """IRSA role of the CRM's service account (attachments bucket and its key only)."""
    secrets_role_arn: pulumi.Input[str]
    """IRSA role that may read the CRM's login secret; used by External Secrets only."""
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
        image = self._image()
        access = self._database_access(secrets_account, namespace, image)
        app_secret = self._app_secret(namespace)
        secrets = [*access.secrets, app_secret, *self._email_secret()]

        def with_database(pod: dict, replica_key: str | None = None) -> dict:
            return db.with_database(
                pod,
                login_secret=access.login_secret_name,
                ca_config_map=access.ca_config_map_name,
                replica_key=replica_key if args.replica_hosts is not None else None,
            )

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
                    "spec": with_database(
                        m.pod_spec(
                            component="migrate",
                            image=image,
                            env=env(migrations=True),
                            resources=MIGRATION_RESOURCES,
                            service_account=app_account.metadata.name,
                            args=["true"],
                            spread=False,
                            restart_policy="Never",
                            **placement,
                        )
                    ),
                },
            },
            opts=pulumi.ResourceOptions.merge(
                self._child(depends_on=[access.bootstrap, *secrets]), rollout.migration_options()
            ),
        )
        after_migration = self._child(depends_on=[migration, *secrets])
        self.server = self._deployment(
            "server",
            args.min_server_pods,
            with_database(
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
                db.REPLICA_KEYS["server"],
            ),
            after_migration,
            min_ready_seconds=rollout.MIN_READY_SECONDS,
        )
        self.worker = self._deployment(
            "worker",
            args.min_worker_pods,
            with_database(
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
                db.REPLICA_KEYS["worker"],
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

    def _store(
        self, resource: str, name: str, reader: k8s.core.v1.ServiceAccount
    ) -> k8s.apiextensions.CustomResource:
        """A SecretStore whose reads use `reader`'s IRSA role (only its own secrets)."""
        return k8s.apiextensions.CustomResource(
            f"{self._name}-{resource}",
            api_version="external-secrets.io/v1",
            kind="SecretStore",
            metadata={"name": name, "namespace": self._namespace},
            spec={
                "provider": {
                    "aws": {
                        "service": "SecretsManager",
                        "region": self._args.region,
                        "auth": {"jwt": {"serviceAccountRef": {"name": reader.metadata.name}}},
                    }
                }
            },
            opts=self._child(depends_on=list(self._args.requires)),
        )

    def _external_secret(
        self,
        resource: str,
        name: pulumi.Input[str],
        store: k8s.apiextensions.CustomResource,
        secret_arn: pulumi.Input[str],
        data: dict[str, pulumi.Input[str]],
    ) -> k8s.apiextensions.CustomResource:
        """A Kubernetes Secret built inside the cluster from one JSON login in Secrets
        Manager: the password never passes through the workloads' Pulumi state."""
        return k8s.apiextensions.CustomResource(
            f"{self._name}-{resource}",
            api_version="external-secrets.io/v1",
            kind="ExternalSecret",
            metadata={"name": name, "namespace": self._namespace},
            spec={
                "refreshInterval": "1h",
                "secretStoreRef": {"name": store.metadata["name"], "kind": "SecretStore"},
                "target": {
                    "name": name,
                    "creationPolicy": "Owner",
                    "template": {"engineVersion": "v2", "data": data},
                },
                "data": [
                    {"secretKey": key, "remoteRef": {"key": secret_arn, "property": key}}
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

    def _database_access(
        self, reader: k8s.core.v1.ServiceAccount, namespace: k8s.core.v1.Namespace, image: str
    ) -> db.DatabaseAccess:
        """The CRM's login (its pods' only database credentials), the master login for the
        bootstrap Job alone (its own service account and IRSA role), the RDS CA bundle and the
        Job that keeps the database roles in shape before migrations run."""
        args = self._args
        login_name = db.login_secret_name(args.database_secret_version)
        # The CRM's store keeps its resource name (and serves the SMTP secret too).
        self._secret_store = self._store("secret-store", "aws-secrets-manager", reader)
        login = self._external_secret(
            "database-secret",
            login_name,
            self._secret_store,
            args.database_secret_arn,
            db.login_data(
                args.database_host, args.database_port, args.database_name, args.replica_hosts
            ),
        )
        bootstrap_account = self._service_account(
            db.BOOTSTRAP_SERVICE_ACCOUNT, args.db_bootstrap_role_arn, namespace
        )
        master = self._external_secret(
            "database-master-secret",
            db.MASTER_SECRET,
            self._store(
                "db-master-secret-store", "aws-secrets-manager-db-master", bootstrap_account
            ),
            args.master_secret_arn,
            {"username": "{{ .username }}", "password": "{{ .password }}"},
        )
        ca_name = db.ca_config_map_name(args.ca_bundle)
        ca = k8s.core.v1.ConfigMap(
            f"{self._name}-rds-ca",
            metadata={"name": ca_name, "namespace": self._namespace},
            data={db.CA_FILE: args.ca_bundle},
            immutable=True,
            opts=self._child(),
        )
        return db.DatabaseAccess(
            login_secret_name=login_name,
            ca_config_map_name=ca_name,
            bootstrap=self._bootstrap_job(image, login_name, ca_name, [login, master, ca]),
            secrets=[login, ca],
        )

    def _bootstrap_job(
        self,
        image: str,
        login_secret: pulumi.Output[str],
        ca_config_map: str,
        needs: list[pulumi.Resource],
    ) -> k8s.batch.v1.Job:
        """Runs as the master user with the Twenty image's psql and node; a new login
        (a rotation) changes its pod template, so the Job is replaced and runs again."""
        args = self._args
        files = k8s.core.v1.ConfigMap(
            f"{self._name}-db-bootstrap",
            metadata={"name": db.BOOTSTRAP_JOB, "namespace": self._namespace},
            data=db.bootstrap_files(),
            opts=self._child(),
        )
        env = db.bootstrap_env(
            host=args.database_host,
            port=args.database_port,
            database=args.database_name,
            role=args.database_role,
            login_secret=login_secret,
        )
        pod = db.bootstrap_pod(
            image=image,
            env=env,
            ca_config_map=ca_config_map,
            files_config_map=files.metadata.name,
            node_selector=args.node_selector,
            tolerations=args.tolerations,
        )
        return k8s.batch.v1.Job(
            f"{self._name}-db-bootstrap",
            metadata={
                "name": db.BOOTSTRAP_JOB,
                "namespace": self._namespace,
                "labels": m.labels("db-bootstrap"),
            },
            spec={
                "backoffLimit": 3,
                "activeDeadlineSeconds": db.BOOTSTRAP_DEADLINE_SECONDS,
                "template": {"metadata": {"labels": m.labels("db-bootstrap")}, "spec": pod},
            },
            # The Job awaiter fails the update on a failed Job; a rotation replaces it.
            opts=pulumi.ResourceOptions.merge(
                self._child(depends_on=[*needs, files]),
                rollout.migration_options(db.BOOTSTRAP_DEADLINE_SECONDS),
            ),
        )

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
            db.port_text(args.redis_port),
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
