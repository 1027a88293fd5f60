"""The CRM on Kubernetes: restricted pods, migrations gating rollouts, autoscaling, policies,
pods bound to the platform's target group, secrets kept out of plain inputs, and
API-schema-valid objects."""

from __future__ import annotations

import json

import kubernetes_validate
import pulumi
import pytest

from components.crm_app import CrmApp, CrmAppArgs
from components.crm_app.rollout import migration_job_name
from stacks.offline import Plan
from stacks.offline.model import is_secret, unwrap
from stacks.settings.cluster import SUPPORTED_KUBERNETES_VERSIONS
from tests.support import synth_component

SECRET_VALUES = ("s3cr3t-redis-token",)
CRM_SECRET = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:crm-login-AbCdEf"
MASTER_SECRET = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:crm-master-AbCdEf"
CA_BUNDLE = "-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n"
TARGET_GROUP = "arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/crm/0123"
# The schema of the Kubernetes version the cluster runs by default.
KUBERNETES_VERSION = SUPPORTED_KUBERNETES_VERSIONS[0]


def _args(**overrides) -> CrmAppArgs:
    values = dict(
        namespace="crm",
        image="twentycrm/twenty",
        version="v2.42.5",
        domain="crm.example.com",
        region="eu-central-1",
        database_host="db.internal",
        database_port=5432,
        database_name="twenty",
        database_secret_arn=CRM_SECRET,
        database_secret_version="00000000-0000-4000-8000-000000000001",
        database_role="twenty",
        master_secret_arn=MASTER_SECRET,
        db_bootstrap_role_arn="arn:aws:iam::123456789012:role/crm-db-bootstrap",
        replica_hosts=["replica-1.internal", "replica-2.internal"],
        ca_bundle=CA_BUNDLE,
        redis_host="redis.internal",
        redis_port=6379,
        redis_auth_token=pulumi.Output.secret(SECRET_VALUES[0]),
        bucket_name="attachments",
        app_role_arn="arn:aws:iam::123456789012:role/crm-app",
        secrets_role_arn="arn:aws:iam::123456789012:role/crm-secrets",
        target_group_arn=TARGET_GROUP,
        deregistration_delay_seconds=30,
        load_balancer_cidrs=["10.0.96.0/22", "10.0.100.0/22"],
        data_cidrs=["10.0.104.0/23", "10.0.106.0/23"],
        min_server_pods=3,
        max_server_pods=9,
        min_worker_pods=2,
        max_worker_pods=4,
        pool_size=10,
        node_selector={"crm-platform/pool": "application"},
    )
    return CrmAppArgs(**(values | overrides))


def _synth(**overrides) -> Plan:
    def build(opts: pulumi.ResourceOptions) -> None:
        import pulumi_kubernetes as k8s

        providers = {**opts.providers, "kubernetes": k8s.Provider("k8s", kubeconfig="{}")}
        CrmApp("crm", _args(**overrides), opts=pulumi.ResourceOptions(providers=providers))

    return synth_component(build)


@pytest.fixture(scope="module")
def app() -> Plan:
    return _synth()


def _one(plan: Plan, kind: str, name: str):
    return next(
        r for r in plan.resources if r.type.endswith(f":{kind}") and r.get("metadata.name") == name
    )


def _manifest(resource) -> dict:
    """The object as the API server would receive it (numbers back to ints, secrets opened)."""

    def plain(value):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return plain(unwrap(resource.inputs))


def test_namespace_enforces_restricted_pod_security(app: Plan) -> None:
    namespace = app.one("kubernetes:core/v1:Namespace")
    labels = namespace.get("metadata.labels")
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/audit"] == "restricted"


def _migration(app: Plan):
    return _one(app, "Job", migration_job_name("v2.42.5"))


def test_image_is_pinned_and_migration_job_named_by_tag(app: Plan) -> None:
    job = _migration(app)
    assert job.get("metadata.name") == "twenty-migrate-v2-42-5" == migration_job_name("v2.42.5")
    images = {
        c["image"]
        for r in app.resources
        if r.type in ("kubernetes:apps/v1:Deployment", "kubernetes:batch/v1:Job")
        for c in r.get("spec.template.spec.containers")
    }
    assert images == {"twentycrm/twenty:v2.42.5"}


def test_migration_job_runs_the_upgrade_and_gates_both_deployments(app: Plan) -> None:
    job = _migration(app)
    (container,) = job.get("spec.template.spec.containers")
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert container["args"] == ["true"]
    assert env["DISABLE_DB_MIGRATIONS"] == "false"
    assert job.get("spec.backoffLimit") == 1 and job.get("spec.activeDeadlineSeconds") >= 1800
    for deployment in app.of_type("kubernetes:apps/v1:Deployment"):
        assert job.urn in deployment.dependencies
        (container,) = deployment.get("spec.template.spec.containers")
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["DISABLE_DB_MIGRATIONS"] == "true"
        assert env["DISABLE_CRON_JOBS_REGISTRATION"] == "true"


@pytest.mark.parametrize("kind", ["Deployment", "Job"])
def test_pods_are_restricted(app: Plan, kind: str) -> None:
    for workload in app.resources:
        if not workload.type.endswith(f":{kind}"):
            continue
        pod = workload.get("spec.template.spec")
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"] == {"drop": ["ALL"]}
            assert context["readOnlyRootFilesystem"] is True
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
            assert container["resources"]["requests"] and container["resources"]["limits"]


def test_server_probes_port_and_rollout(app: Plan) -> None:
    server = _one(app, "Deployment", "twenty-server")
    (container,) = server.get("spec.template.spec.containers")
    assert container["ports"][0]["containerPort"] == 3000
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": 3000}
    assert server.get("spec.strategy.rollingUpdate.maxUnavailable") == 0
    assert server.get("spec.replicas") == 3
    assert "spec.replicas" in server.ignore_changes


def test_pods_spread_across_zones_and_nodes(app: Plan) -> None:
    for name in ("twenty-server", "twenty-worker"):
        constraints = _one(app, "Deployment", name).get(
            "spec.template.spec.topologySpreadConstraints"
        )
        keys = {c["topologyKey"]: c["whenUnsatisfiable"] for c in constraints}
        assert keys == {
            "topology.kubernetes.io/zone": "DoNotSchedule",
            "kubernetes.io/hostname": "ScheduleAnyway",
        }


def test_autoscalers_and_disruption_budgets(app: Plan) -> None:
    server = _one(app, "HorizontalPodAutoscaler", "twenty-server")
    worker = _one(app, "HorizontalPodAutoscaler", "twenty-worker")
    assert (server.get("spec.minReplicas"), server.get("spec.maxReplicas")) == (3, 9)
    assert (worker.get("spec.minReplicas"), worker.get("spec.maxReplicas")) == (2, 4)
    assert server.get("spec.scaleTargetRef.name") == "twenty-server"
    budgets = app.of_type("kubernetes:policy/v1:PodDisruptionBudget")
    assert sorted(
        b.get("spec.selector.matchLabels")["app.kubernetes.io/component"] for b in budgets
    ) == [
        "server",
        "worker",
    ]


def test_network_policies_deny_by_default_and_allow_what_is_needed(app: Plan) -> None:
    policies = {
        p.get("metadata.name"): p
        for p in app.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    }
    assert policies["default-deny"].get("spec.policyTypes") == ["Ingress", "Egress"]
    assert policies["default-deny"].get("spec.podSelector") == {}
    lb = policies["allow-load-balancer"].get("spec.ingress")[0]
    assert [p["ipBlock"]["cidr"] for p in lb["from"]] == ["10.0.96.0/22", "10.0.100.0/22"]
    assert lb["ports"] == [{"protocol": "TCP", "port": 3000}]
    data = policies["allow-data-stores"].get("spec.egress")[0]
    assert {p["port"] for p in data["ports"]} == {5432, 6379}
    https = policies["allow-https"].get("spec.egress")[0]
    assert https["to"][0]["ipBlock"]["except"] == ["169.254.169.254/32"]
    assert {p["port"] for p in policies["allow-dns"].get("spec.egress")[0]["ports"]} == {53}


def test_server_pods_are_bound_to_the_platform_target_group(app: Plan) -> None:
    """No Ingress: the load balancer is the platform's; the controller only registers the
    server pods' IPs in its target group, through the server Service."""
    assert not app.of_type("kubernetes:networking.k8s.io/v1:Ingress")
    binding = app.one("kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding")
    service = _one(app, "Service", "twenty-server")
    assert binding.get("spec") == {
        "serviceRef": {"name": "twenty-server", "port": 80},
        "targetGroupARN": TARGET_GROUP,
        "targetType": "ip",
    }
    assert service.get("spec.type") == "ClusterIP"
    assert service.get("spec.ports") == [{"name": "http", "port": 80, "targetPort": 3000}]
    assert service.get("spec.selector") == {
        "app.kubernetes.io/name": "twenty",
        "app.kubernetes.io/component": "server",
    }
    assert _one(app, "Deployment", "twenty-server").urn in binding.dependencies


def test_database_url_is_assembled_in_cluster_from_the_crm_login(app: Plan) -> None:
    external = next(
        r
        for r in app.resources
        if r.get("kind") == "ExternalSecret"
        and r.get("metadata.name").startswith("twenty-database-")
    )
    template = external.get("spec.target.template.data.PG_DATABASE_URL")
    assert template.startswith("postgres://{{ .username | urlquery }}:{{ .password | urlquery }}@")
    assert template.endswith(
        "@db.internal:5432/twenty?sslmode=verify-full&sslrootcert=%2Fetc%2Frds-ca%2Frds-ca.pem"
    )
    refs = external.get("spec.data")
    assert {r["remoteRef"]["property"] for r in refs} == {"username", "password"}
    assert {r["remoteRef"]["key"] for r in refs} == {CRM_SECRET}
    store = next(
        r
        for r in app.resources
        if r.get("kind") == "SecretStore" and r.urn in external.dependencies
    )
    assert store.get("spec.provider.aws.auth.jwt.serviceAccountRef.name") == "twenty-secrets"


def test_secret_store_waits_for_the_operator_the_add_ons_install(prod: Plan) -> None:
    release = next(
        r
        for r in prod.of_type("kubernetes:helm.sh/v3:Release")
        if r.get("chart") == "external-secrets"
    )
    assert release.get("version") == "1.0.0"
    store = next(r for r in prod.resources if r.get("kind") == "SecretStore")
    assert release.urn in store.dependencies


def test_service_accounts_carry_their_own_roles(app: Plan) -> None:
    accounts = {a.get("metadata.name"): a for a in app.of_type("kubernetes:core/v1:ServiceAccount")}
    role = "eks.amazonaws.com/role-arn"
    assert accounts["twenty"].get("metadata.annotations")[role].endswith(":role/crm-app")
    assert (
        accounts["twenty-secrets"].get("metadata.annotations")[role].endswith(":role/crm-secrets")
    )
    assert (
        accounts["twenty-db-bootstrap"]
        .get("metadata.annotations")[role]
        .endswith(":role/crm-db-bootstrap")
    )
    for workload in app.resources:
        if workload.type in ("kubernetes:apps/v1:Deployment", "kubernetes:batch/v1:Job"):
            expected = "twenty-db-bootstrap" if workload.name == "crm-db-bootstrap" else "twenty"
            assert workload.get("spec.template.spec.serviceAccountName") == expected


def test_no_kubernetes_object_carries_a_plaintext_secret(app: Plan) -> None:
    secret = app.one("kubernetes:core/v1:Secret")
    string_data = secret.inputs["stringData"]
    assert is_secret(string_data) or all(is_secret(value) for value in string_data.values())
    assert sorted(unwrap(string_data)) == ["APP_SECRET", "ENCRYPTION_KEY", "REDIS_URL"]
    for resource in app.resources:
        if resource.type.startswith("kubernetes:") and resource is not secret:
            assert SECRET_VALUES[0] not in json.dumps(unwrap(resource.inputs)), resource.urn
    redis_url = secret.get("stringData.REDIS_URL")
    assert redis_url == f"rediss://:{SECRET_VALUES[0]}@redis.internal:6379"


def test_generated_keys_are_protected_when_asked(app: Plan) -> None:
    keys = app.of_type("random:index/randomPassword:RandomPassword")
    assert len(keys) == 2 and all(k.protect for k in keys)
    assert all(k.get("length") >= 32 and k.get("special") is False for k in keys)


def _validate_builtin_objects(plan: Plan) -> int:
    """Validate every object of a built-in kind; return how many were checked."""
    checked = 0
    for resource in plan.resources:
        if not resource.type.startswith("kubernetes:") or "helm.sh" in resource.type:
            continue
        manifest = _manifest(resource)
        if "." in manifest["apiVersion"].split("/")[0] and "k8s.io" not in manifest["apiVersion"]:
            continue  # custom resources (external-secrets.io)
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
        checked += 1
    return checked


def test_objects_validate_against_the_kubernetes_schema(app: Plan) -> None:
    assert _validate_builtin_objects(app) >= 15


def test_every_object_of_the_prod_stack_validates(prod: Plan) -> None:
    # the CRM's objects plus the cluster's (e.g. the default StorageClass)
    assert _validate_builtin_objects(prod) >= 16


def test_namespace_injects_load_balancer_readiness_gates(app: Plan) -> None:
    labels = app.one("kubernetes:core/v1:Namespace").get("metadata.labels")
    assert labels["elbv2.k8s.aws/pod-readiness-gate-inject"] == "enabled"


def test_server_drains_longer_than_the_target_group_deregisters(app: Plan) -> None:
    server = _one(app, "Deployment", "twenty-server")
    pod = server.get("spec.template.spec")
    (container,) = pod["containers"]
    pause = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pause >= 30  # the args' deregistration delay
    assert pod["terminationGracePeriodSeconds"] > pause
    assert server.get("spec.minReadySeconds") > 0
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["timeoutSeconds"] > 1  # not the 1-second default
    worker = _one(app, "Deployment", "twenty-worker").get("spec.template.spec")
    assert worker["terminationGracePeriodSeconds"] > 30  # the Kubernetes default


def test_migration_failure_fails_the_update_and_a_rerun_replaces_the_job(app: Plan) -> None:
    job = _migration(app)
    assert "pulumi.com/waitFor" not in (job.get("metadata.annotations") or {})
    assert job.create_timeout >= job.get("spec.activeDeadlineSeconds")
    assert job.delete_before_replace
    rerun = _one(
        _synth(migration_run=2, image_digest="sha256:" + "ab" * 32),
        "Job",
        "twenty-migrate-v2-42-5-abababababab-r2",
    )
    # Same logical resource under a new object name: Pulumi replaces the failed Job.
    assert rerun.urn == job.urn
    assert rerun.get("metadata.name") == "twenty-migrate-v2-42-5-abababababab-r2"
    (container,) = rerun.get("spec.template.spec.containers")
    assert container["image"] == "twentycrm/twenty:v2.42.5@sha256:" + "ab" * 32


def test_encryption_key_is_kept_across_versions(app: Plan) -> None:
    def key(plan: Plan):
        return next(
            r
            for r in plan.of_type("random:index/randomPassword:RandomPassword")
            if r.name.endswith("encryption-key")
        )

    before, after = key(app), key(_synth(version="v2.43.0"))
    assert after.urn == before.urn and after.inputs == before.inputs


def test_workspace_creation_is_limited_to_server_admins(app: Plan) -> None:
    for workload in ("twenty-server", "twenty-worker"):
        (container,) = _one(app, "Deployment", workload).get("spec.template.spec.containers")
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["IS_WORKSPACE_CREATION_LIMITED_TO_SERVER_ADMINS"] == "true"
