"""How the CRM reaches PostgreSQL: only its own login in its pods, verified TLS, a rotation
that rolls the pods, reads on replicas, and the bootstrap Job (its SQL run against a real
PostgreSQL when one is installed)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import shutil
import subprocess
import tempfile
import urllib.error
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from components.crm_app import database_access as db
from stacks.offline import Plan
from stacks.offline.layers import OFFLINE_CA_BUNDLE
from stacks.workloads import rds_ca
from tests.conftest import shipped, variant
from tests.support import synth_stack

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
JOB = "kubernetes:batch/v1:Job"
APP_FILES = Path(db.__file__).resolve().parent


def _workloads(plan: Plan, type_token: str) -> dict:
    return {r.get("metadata.name"): r for r in plan.layers["workloads"].of_type(type_token)}


def _crm_pods(plan: Plan) -> dict[str, dict]:
    """Pod templates of the CRM's own processes (server, worker, migration)."""
    pods = {name: r.get("spec.template.spec") for name, r in _workloads(plan, DEPLOYMENT).items()}
    for name, job in _workloads(plan, JOB).items():
        if name.startswith("twenty-migrate-"):
            pods[name] = job.get("spec.template.spec")
    return pods


def _env(pod: dict) -> dict[str, dict]:
    (container,) = pod["containers"]
    return {e["name"]: e for e in container["env"]}


def _external_secret(plan: Plan, name: str):
    return next(
        r
        for r in plan.layers["workloads"].resources
        if r.get("metadata.name") == name and r.get("kind") == "ExternalSecret"
    )


def test_crm_pods_never_see_the_master_login(any_stack: Plan) -> None:
    master_secrets = {
        r.get("metadata.name")
        for r in any_stack.layers["workloads"].resources
        if r.get("kind") == "ExternalSecret"
        and r.get("spec.data")[0]["remoteRef"]["key"] == any_stack.outputs["dbMasterSecretArn"]
    }
    assert master_secrets == {db.MASTER_SECRET}
    pods = _crm_pods(any_stack)
    assert len(pods) == 3
    for name, pod in pods.items():
        referenced = {
            e["valueFrom"]["secretKeyRef"]["name"] for e in _env(pod).values() if "valueFrom" in e
        } | {v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
        assert not referenced & master_secrets, name
        assert pod["serviceAccountName"] == "twenty"
    bootstrap = _workloads(any_stack, JOB)[db.BOOTSTRAP_JOB].get("spec.template.spec")
    assert bootstrap["serviceAccountName"] == db.BOOTSTRAP_SERVICE_ACCOUNT
    env = _env(bootstrap)
    assert env["PGPASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": db.MASTER_SECRET,
        "key": "password",
    }


def test_tls_is_verified_against_the_rds_certificate_authorities(any_stack: Plan) -> None:
    config_maps = _workloads(any_stack, "kubernetes:core/v1:ConfigMap")
    ca_name = db.ca_config_map_name(OFFLINE_CA_BUNDLE)
    assert config_maps[ca_name].get("data") == {db.CA_FILE: OFFLINE_CA_BUNDLE}
    assert config_maps[ca_name].get("immutable") is True
    login = _external_secret(any_stack, _login_name(any_stack))
    for key, url in login.get("spec.target.template.data").items():
        if key.startswith("PG_"):
            query = parse_qs(urlsplit(url).query)
            assert query == {"sslmode": ["verify-full"], "sslrootcert": [db.CA_PATH]}, key
    pods = {**_crm_pods(any_stack), "bootstrap": _bootstrap_pod(any_stack)}
    for name, pod in pods.items():
        env = _env(pod)
        assert "PG_SSL_ALLOW_SELF_SIGNED" not in env, name
        (mount,) = [m for m in pod["containers"][0]["volumeMounts"] if m["mountPath"] == db.CA_DIR]
        (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
        assert volume["configMap"]["name"] == ca_name, name
    assert _env(_bootstrap_pod(any_stack))["PGSSLMODE"]["value"] == "verify-full"


def test_a_new_ca_bundle_is_a_new_config_map() -> None:
    assert db.ca_config_map_name("a") != db.ca_config_map_name("b")
    assert db.ca_config_map_name("a") == db.ca_config_map_name("a")


def _login_name(plan: Plan) -> str:
    (name,) = [
        r.get("metadata.name")
        for r in plan.layers["workloads"].resources
        if r.get("kind") == "ExternalSecret"
        and r.get("spec.data")[0]["remoteRef"]["key"] == plan.outputs["dbCrmSecretArn"]
    ]
    return name


def _bootstrap_pod(plan: Plan) -> dict:
    return _workloads(plan, JOB)[db.BOOTSTRAP_JOB].get("spec.template.spec")


def test_rotating_the_login_restarts_the_pods_and_reruns_the_bootstrap() -> None:
    """A rotation is a new secret version: a new Kubernetes Secret name in every pod template
    (a rolling restart of server and worker) and a new bootstrap pod (the Job runs again)."""
    before, after = shipped("dev"), variant("dev", database={"crmLoginRotation": 1})
    assert _login_name(before) != _login_name(after)
    for name, pod in _crm_pods(before).items():
        rotated = _crm_pods(after)[name]
        assert _env(pod)["PG_DATABASE_URL"] != _env(rotated)["PG_DATABASE_URL"], name
        assert _env(rotated)["PG_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == (
            _login_name(after)
        )
    assert _bootstrap_pod(before) != _bootstrap_pod(after)


@pytest.mark.parametrize(
    ("stack", "server", "worker"),
    [("staging", 0, 0), ("prod", 0, 1)],
)
def test_reads_go_to_the_replicas(stack: str, server: int, worker: int) -> None:
    plan = shipped(stack)
    readers = plan.outputs["dbReaderAddresses"]
    data = _external_secret(plan, _login_name(plan)).get("spec.target.template.data")
    for component, index in (("server", server), ("worker", worker)):
        key = db.REPLICA_KEYS[component]
        assert f"@{readers[index]}:5432/" in data[key]
        env = _env(_workloads(plan, DEPLOYMENT)[f"twenty-{component}"].get("spec.template.spec"))
        assert env["PG_DATABASE_REPLICA_URL"]["valueFrom"]["secretKeyRef"]["key"] == key
    assert f"@{plan.outputs['dbWriterAddress']}:5432/" in data["PG_DATABASE_URL"]
    migration = next(p for n, p in _crm_pods(plan).items() if n.startswith("twenty-migrate-"))
    assert "PG_DATABASE_REPLICA_URL" not in _env(migration)


def test_without_replicas_or_when_turned_off_every_query_goes_to_the_writer(dev: Plan) -> None:
    plans = [dev, synth_stack("staging", database={"replicaReads": False})]
    for plan in plans:
        data = _external_secret(plan, _login_name(plan)).get("spec.target.template.data")
        assert not set(data) & set(db.REPLICA_KEYS.values())
        for pod in _crm_pods(plan).values():
            assert "PG_DATABASE_REPLICA_URL" not in _env(pod)


def test_bootstrap_runs_before_migrations_with_the_shipped_files(prod: Plan) -> None:
    jobs = _workloads(prod, JOB)
    bootstrap = jobs[db.BOOTSTRAP_JOB]
    migration = next(j for n, j in jobs.items() if n.startswith("twenty-migrate-"))
    assert bootstrap.urn in migration.dependencies
    # the Job awaiter (no waitFor annotation) fails the deploy if the bootstrap fails
    assert "pulumi.com/waitFor" not in (bootstrap.get("metadata.annotations") or {})
    assert bootstrap.create_timeout >= bootstrap.get("spec.activeDeadlineSeconds")
    assert bootstrap.delete_before_replace
    files = _workloads(prod, "kubernetes:core/v1:ConfigMap")[db.BOOTSTRAP_JOB].get("data")
    assert files == {
        db.BOOTSTRAP_SQL: (APP_FILES / "db_bootstrap.sql").read_text(),
        db.SCRAM_SCRIPT: (APP_FILES / "scram_verifier.js").read_text(),
    }
    env = _env(bootstrap.get("spec.template.spec"))
    assert env["CRM_ROLE"]["value"] == prod.outputs["dbCrmRole"]
    assert env["CRM_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == _login_name(prod)
    assert env["PGHOST"]["value"] == prod.outputs["dbWriterAddress"]
    (container,) = bootstrap.get("spec.template.spec.containers")
    assert container["image"] == migration.get("spec.template.spec.containers")[0]["image"]
    assert "PASSWORD" not in " ".join(container["command"]).replace("$CRM_PASSWORD", "")


# --- the bootstrap's SQL and SCRAM verifier, for real ---------------------------------------


def _reference_verifier(password: str, salt: bytes, iterations: int = 4096) -> str:
    """RFC 5802 / 7677: SaltedPassword, then StoredKey = H(HMAC(SP, "Client Key"))."""
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    b64 = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def _verifier(password: str, salt: bytes | None = None) -> str:
    env = {"PATH": os.environ["PATH"], "CRM_PASSWORD": password}
    if salt is not None:
        env["SCRAM_SALT"] = base64.b64encode(salt).decode()
    return subprocess.run(
        ["node", str(APP_FILES / "scram_verifier.js")],
        env=env, capture_output=True, text=True, check=True, timeout=30,
    ).stdout  # fmt: skip


needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
# The PostgreSQL tests are one scenario on one server (created, rotated, drifted, repaired): the
# same worker runs them, in order (`--dist loadgroup`).
one_server = pytest.mark.xdist_group("postgres")


@needs_node
def test_scram_verifier_matches_the_rfc_computation() -> None:
    salt = bytes(range(16))
    assert _verifier("pencil", salt) == _reference_verifier("pencil", salt)
    assert _verifier("pencil") != _verifier("pencil")  # a fresh salt every run


@needs_node
def test_scram_verifier_refuses_an_empty_password() -> None:
    result = subprocess.run(
        ["node", str(APP_FILES / "scram_verifier.js")],
        env={"PATH": os.environ["PATH"]}, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 1 and "CRM_PASSWORD is empty" in result.stderr


def _as_server_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as the `postgres` account."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="module")
def postgres():
    """A throw-away PostgreSQL: local socket trusted (the master), TCP by SCRAM password."""
    if not (shutil.which("initdb") and shutil.which("pg_ctl") and shutil.which("psql")):
        pytest.skip("PostgreSQL server binaries are not installed")
    root = Path(tempfile.mkdtemp(prefix="crm-pg-"))  # reachable by the server's account
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    data, port = root / "data", 54329 + os.getpid() % 500
    run = lambda *c: subprocess.run(_as_server_user(list(c)), check=True, capture_output=True)  # noqa: E731
    run("initdb", "-D", str(data), "-U", "postgres", "--auth-local=trust",
        "--auth-host=scram-sha-256")  # fmt: skip
    options = f"-k {root} -p {port} -c listen_addresses=127.0.0.1"
    run("pg_ctl", "-D", str(data), "-l", str(root / "server.log"), "-o", options, "-w", "start")
    server = {"socket": str(root), "port": str(port)}
    _master(server, "CREATE DATABASE twenty")
    yield server
    run("pg_ctl", "-D", str(data), "-m", "immediate", "stop")
    shutil.rmtree(root, ignore_errors=True)


def _master(server: dict, sql: str, database: str = "postgres") -> str:
    return subprocess.run(
        ["psql", "-X", "-q", "-At", "-h", server["socket"], "-p", server["port"], "-U",
         "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-c", sql],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout.strip()  # fmt: skip


def _bootstrap(server: dict, login: str, password: str) -> subprocess.CompletedProcess:
    """What the Job's command runs, against the test server."""
    return subprocess.run(
        ["psql", "-X", "-q", "-h", server["socket"], "-p", server["port"], "-U", "postgres",
         "-d", "twenty", "-v", "ON_ERROR_STOP=1", "-v", "owner=twenty", "-v", f"login={login}",
         "-v", f"verifier={_verifier(password)}", "-v", "database=twenty",
         "-f", str(APP_FILES / "db_bootstrap.sql")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def _as_crm(server: dict, login: str, password: str, sql: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["psql", "-X", "-q", "-At", "-h", "127.0.0.1", "-p", server["port"], "-U", login,
         "-d", "twenty", "-v", "ON_ERROR_STOP=1", "-c", sql],
        env={**os.environ, "PGPASSWORD": password}, capture_output=True, text=True, timeout=30,
    )  # fmt: skip


@needs_node
@one_server
def test_bootstrap_creates_a_least_privilege_owner_idempotently(postgres) -> None:
    for _ in range(2):
        result = _bootstrap(postgres, "twenty_login_a", "first0password")
        assert result.returncode == 0, result.stderr
    roles = _master(
        postgres,
        "SELECT rolname, rolcanlogin, rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication"
        " OR rolbypassrls FROM pg_roles WHERE rolname IN ('twenty', 'twenty_login_a') ORDER BY 1",
    )
    assert roles.splitlines() == ["twenty|f|f", "twenty_login_a|t|f"]
    assert _master(
        postgres, "SELECT datdba::regrole FROM pg_database WHERE datname = 'twenty'"
    ) == ("twenty")
    created = _as_crm(
        postgres,
        "twenty_login_a",
        "first0password",
        "CREATE SCHEMA core; CREATE TABLE core.t (id int); SELECT current_user",
    )
    assert created.returncode == 0 and created.stdout.strip() == "twenty", created.stderr
    owner = "SELECT tableowner FROM pg_tables WHERE tablename = 't'"
    assert _master(postgres, owner, "twenty") == "twenty"
    assert _as_crm(postgres, "twenty_login_a", "wrong", "SELECT 1").returncode != 0
    refused = _as_crm(postgres, "twenty_login_a", "first0password", "CREATE DATABASE other")
    assert refused.returncode != 0 and "permission denied" in refused.stderr


@needs_node
@one_server
def test_rotation_to_the_other_login_keeps_the_previous_one_working(postgres) -> None:
    assert _bootstrap(postgres, "twenty_login_a", "first0password").returncode == 0
    assert _bootstrap(postgres, "twenty_login_b", "second0password").returncode == 0
    created = _as_crm(
        postgres,
        "twenty_login_a",
        "first0password",
        "CREATE SCHEMA IF NOT EXISTS rotation; "
        "CREATE TABLE IF NOT EXISTS rotation.rotated (id int)",
    )
    assert created.returncode == 0, created.stderr
    # the new login owns (through the owner role) what the previous one created
    altered = _as_crm(
        postgres,
        "twenty_login_b",
        "second0password",
        "ALTER TABLE rotation.rotated ADD COLUMN name text",
    )
    assert altered.returncode == 0, altered.stderr


@needs_node
@one_server
def test_bootstrap_puts_a_drifted_role_back_in_shape(postgres) -> None:
    # The login exists whichever tests of this module ran before on this worker.
    assert _bootstrap(postgres, "twenty_login_a", "first0password").returncode == 0
    _master(postgres, "CREATE ROLE rds_superuser_like; GRANT rds_superuser_like TO twenty_login_a")
    _master(postgres, "ALTER ROLE twenty_login_a CREATEDB")
    assert _bootstrap(postgres, "twenty_login_a", "first0password").returncode == 0
    members = _master(
        postgres,
        "SELECT count(*) FROM pg_auth_members WHERE member = 'twenty_login_a'::regrole "
        "AND roleid <> 'twenty'::regrole",
    )
    assert members == "0"
    assert _master(
        postgres, "SELECT rolcreatedb FROM pg_roles WHERE rolname = 'twenty_login_a'"
    ) == ("f")
    # what only a superuser can grant makes the Job fail loudly instead of passing
    _master(postgres, "ALTER ROLE twenty_login_a SUPERUSER")
    result = _bootstrap(postgres, "twenty_login_a", "first0password")
    assert result.returncode != 0
    assert "role twenty_login_a has privileges the CRM must not have" in result.stderr
    _master(postgres, "ALTER ROLE twenty_login_a NOSUPERUSER")


# --- the RDS CA bundle ------------------------------------------------------------------------


def test_bundle_location_comes_from_the_region_partition() -> None:
    assert rds_ca.partition_of("eu-central-1") == "aws"
    assert rds_ca.bundle_url("eu-central-1").startswith("https://truststore.pki.rds.")
    with pytest.raises(rds_ca.BundleError, match="no RDS CA bundle location is known for "
                       "partition aws-cn"):  # fmt: skip
        rds_ca.bundle_url("cn-north-1")


class _Response:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def read(self) -> bytes:
        return self.body


def test_fetch_returns_the_pem_bundle(monkeypatch) -> None:
    seen = {}

    def urlopen(url, timeout):
        seen["url"], seen["timeout"] = url, timeout
        return _Response(OFFLINE_CA_BUNDLE.encode())

    monkeypatch.setattr(rds_ca.urllib.request, "urlopen", urlopen)
    assert rds_ca.fetch_bundle("eu-west-1") == OFFLINE_CA_BUNDLE
    assert seen == {"url": rds_ca.bundle_url("eu-west-1"), "timeout": rds_ca.TIMEOUT_SECONDS}


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (_Response(b"<html>Access Denied</html>"), "did not return PEM certificates"),
        (urllib.error.URLError("timed out"), "cannot download the RDS CA bundle from https://"),
    ],
)
def test_a_bad_download_stops_with_one_message(monkeypatch, response, message) -> None:
    def urlopen(url, timeout):
        if isinstance(response, Exception):
            raise response
        return response

    monkeypatch.setattr(rds_ca.urllib.request, "urlopen", urlopen)
    with pytest.raises(rds_ca.BundleError, match=message):
        rds_ca.fetch_bundle("eu-central-1")


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_each_replica_carries_no_more_than_the_writer_budget(stack: str) -> None:
    """Reads open a second pool per process, on a replica of the writer's class: the busiest
    replica (from the synthesized autoscalers, pools and URLs) stays within the budget the
    settings check for the writer, which also counts the migration Job."""
    from stacks.settings import load_settings
    from tests.support import stack_config

    plan = shipped(stack)
    settings = load_settings(stack, stack_config(stack))
    data = _external_secret(plan, _login_name(plan)).get("spec.target.template.data")
    autoscalers = _workloads(plan, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
    per_replica: dict[str, int] = {}
    for component in ("server", "worker"):
        pod = _workloads(plan, DEPLOYMENT)[f"twenty-{component}"].get("spec.template.spec")
        pool = int(_env(pod)["PG_POOL_MAX_CONNECTIONS"]["value"])
        host = data[db.REPLICA_KEYS[component]].split("@")[1].split(":")[0]
        pods = autoscalers[f"twenty-{component}"].get("spec.maxReplicas")
        per_replica[host] = per_replica.get(host, 0) + pods * pool
    assert set(per_replica) <= set(plan.outputs["dbReaderAddresses"])
    budget = settings.database.max_connections * 8 // 10
    assert max(per_replica.values()) < settings.app.capacity.connections_at_peak() <= budget


def test_twentys_entrypoint_reads_the_database_name_from_the_url(any_stack: Plan) -> None:
    """Twenty's entrypoint (packages/twenty-docker/twenty/entrypoint.sh) takes the database
    name as the URL's text after the last `/`, up to `?`, and creates that database if it is
    missing: the CA path in the URL must not add a `/`."""
    login = _external_secret(any_stack, _login_name(any_stack))
    url = login.get("spec.target.template.data")["PG_DATABASE_URL"]
    entrypoint = "echo \"$PG_DATABASE_URL\" | awk -F '/' '{print $NF}' | cut -d'?' -f1"
    found = subprocess.run(
        ["bash", "-c", entrypoint],
        env={"PG_DATABASE_URL": url, "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert found == "twenty" == urlsplit(url).path.lstrip("/")
