"""How the CRM reaches PostgreSQL: its own login (never the master's), verified TLS, reads on a
replica, and the bootstrap Job that keeps the database roles in shape.

Pure builders (bodies of Kubernetes objects) plus `DatabaseAccess`, a plain holder of the
objects `CrmApp` creates from them as its children.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pulumi
import pulumi_kubernetes as k8s
from pulumi import Input, Output

from . import manifests as m

CA_DIR = "/etc/rds-ca"
CA_FILE = "rds-ca.pem"
CA_PATH = f"{CA_DIR}/{CA_FILE}"
BOOTSTRAP_DIR = "/etc/db-bootstrap"
BOOTSTRAP_SQL = "bootstrap.sql"
SCRAM_SCRIPT = "scram-verifier.js"
MASTER_SECRET = "twenty-db-master"
"""Kubernetes Secret with the master login; only the bootstrap Job's pod refers to it."""
BOOTSTRAP_SERVICE_ACCOUNT = "twenty-db-bootstrap"
BOOTSTRAP_JOB = "twenty-db-bootstrap"
BOOTSTRAP_DEADLINE_SECONDS = 600
BOOTSTRAP_RESOURCES = {
    "requests": {"cpu": "50m", "memory": "64Mi"},
    "limits": {"cpu": "250m", "memory": "256Mi"},
}
REPLICA_KEYS = {"server": "PG_REPLICA_URL_SERVER", "worker": "PG_REPLICA_URL_WORKER"}
"""Keys of the login secret holding each component's replica URL: the server reads from the
first replica, the worker from the last, so with two replicas each serves one component."""
_FILES = Path(__file__).resolve().parent


@cache
def bootstrap_files() -> dict[str, str]:
    """The SQL the Job runs and the script that turns the password into a SCRAM verifier."""
    return {
        BOOTSTRAP_SQL: (_FILES / "db_bootstrap.sql").read_text(),
        SCRAM_SCRIPT: (_FILES / "scram_verifier.js").read_text(),
    }


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def ca_config_map_name(bundle: str) -> str:
    """Named after the bundle's content: a new bundle is a new ConfigMap and rolls the pods."""
    return f"rds-ca-{_short_hash(bundle)}"


def login_secret_name(version_id: Input[str]) -> Output[str]:
    """Named after the login secret's version: a rotation creates the new Kubernetes Secret
    beside the old one and changes every pod template that reads it, so the pods restart on
    the new login while the old ones keep working until they are replaced."""
    return Output.from_input(version_id).apply(lambda v: f"twenty-database-{_short_hash(v)}")


def port_text(port: Input[int]) -> Output[str]:
    """A stack reference hands numbers over as floats: 5432.0 must still read 5432."""
    return Output.from_input(port).apply(lambda value: str(int(value)))


def connection_url(host: Input[str], port: Input[int], database: Input[str]) -> Output[str]:
    """An External Secrets template: the login's username and password fill in inside the
    cluster. `verify-full` checks the server's certificate against the RDS CAs and its name.

    The CA path is percent-encoded: Twenty's entrypoint takes the database name from the text
    after the URL's last `/` (up to `?`), so a raw `/etc/...` path would make it create a
    database named after the file; libpq and node-postgres decode the parameter."""
    return Output.concat(
        "postgres://{{ .username | urlquery }}:{{ .password | urlquery }}@",
        host,
        ":",
        port_text(port),
        "/",
        database,
        f"?sslmode=verify-full&sslrootcert={quote(CA_PATH, safe='')}",
    )


def replica_urls(
    hosts: Input[Sequence[str]], port: Input[int], database: Input[str]
) -> dict[str, Output[str]]:
    """Each component's replica URL (empty dict without replicas)."""
    all_hosts = Output.from_input(hosts)
    return {
        component: connection_url(all_hosts.apply(lambda h, i=index: h[i]), port, database)
        for component, index in (("server", 0), ("worker", -1))
    }


def login_data(
    host: Input[str],
    port: Input[int],
    database: Input[str],
    replica_hosts: Input[Sequence[str]] | None,
) -> dict[str, Any]:
    """Keys of the CRM's login secret: the URLs the pods read, and the bare login for the
    bootstrap Job (which sets its password)."""
    data: dict[str, Any] = {
        "PG_DATABASE_URL": connection_url(host, port, database),
        "username": "{{ .username }}",
        "password": "{{ .password }}",
    }
    if replica_hosts is not None:
        urls = replica_urls(replica_hosts, port, database)
        data |= {REPLICA_KEYS[component]: url for component, url in urls.items()}
    return data


def _secret_env(name: str, secret: Input[str], key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def _ca_volume(config_map: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return (
        {"name": "rds-ca", "configMap": {"name": config_map}},
        {"name": "rds-ca", "mountPath": CA_DIR, "readOnly": True},
    )


def with_database(
    pod: dict[str, Any],
    *,
    login_secret: Input[str],
    ca_config_map: str,
    replica_key: str | None = None,
) -> dict[str, Any]:
    """`pod` (from manifests.pod_spec) reading the CRM's login and trusting only the RDS CAs."""
    volume, mount = _ca_volume(ca_config_map)
    container = dict(pod["containers"][0])
    pod = {**pod, "containers": [container, *pod["containers"][1:]]}
    container["env"] = [
        *container["env"],
        _secret_env("PG_DATABASE_URL", login_secret, "PG_DATABASE_URL"),
        # Node's own TLS also trusts the RDS CAs (the URL's sslrootcert is what pg uses).
        {"name": "NODE_EXTRA_CA_CERTS", "value": CA_PATH},
    ]
    if replica_key:
        container["env"].append(_secret_env("PG_DATABASE_REPLICA_URL", login_secret, replica_key))
    container["volumeMounts"] = [*container["volumeMounts"], mount]
    pod["volumes"] = [*pod["volumes"], volume]
    return pod


def bootstrap_command() -> list[str]:
    """Verifier first (node ships in the image), then psql with variables, stopping at the
    first error; the password is never on a command line or in a statement."""
    script = (
        "set -eu; "
        f'verifier="$(node {BOOTSTRAP_DIR}/{SCRAM_SCRIPT})"; '
        "exec psql -X -q -v ON_ERROR_STOP=1 "
        '-v owner="$CRM_ROLE" -v login="$CRM_LOGIN" -v verifier="$verifier" '
        '-v database="$PGDATABASE" '
        f"-f {BOOTSTRAP_DIR}/{BOOTSTRAP_SQL}"
    )
    return ["sh", "-c", script]


def bootstrap_env(
    *,
    host: Input[str],
    port: Input[int],
    database: Input[str],
    role: Input[str],
    login_secret: Input[str],
) -> list[dict[str, Any]]:
    """libpq's variables: the master login from its own Secret, verified TLS."""
    return [
        {"name": "HOME", "value": "/tmp"},
        {"name": "PGHOST", "value": host},
        {"name": "PGPORT", "value": port_text(port)},
        {"name": "PGDATABASE", "value": database},
        {"name": "PGSSLMODE", "value": "verify-full"},
        {"name": "PGSSLROOTCERT", "value": CA_PATH},
        {"name": "PGCONNECT_TIMEOUT", "value": "10"},
        _secret_env("PGUSER", MASTER_SECRET, "username"),
        _secret_env("PGPASSWORD", MASTER_SECRET, "password"),
        {"name": "CRM_ROLE", "value": role},
        _secret_env("CRM_LOGIN", login_secret, "username"),
        _secret_env("CRM_PASSWORD", login_secret, "password"),
    ]


def bootstrap_pod(
    *,
    image: str,
    env: list[dict[str, Any]],
    ca_config_map: str,
    files_config_map: Input[str],
    node_selector: dict[str, str],
    tolerations: list[dict],
) -> dict[str, Any]:
    pod = m.pod_spec(
        component="db-bootstrap",
        image=image,
        env=env,
        resources=BOOTSTRAP_RESOURCES,
        service_account=BOOTSTRAP_SERVICE_ACCOUNT,
        command=bootstrap_command(),
        node_selector=node_selector,
        tolerations=tolerations,
        spread=False,
        restart_policy="Never",
    )
    ca_volume, ca_mount = _ca_volume(ca_config_map)
    pod["volumes"] += [
        ca_volume,
        {"name": "bootstrap", "configMap": {"name": files_config_map}},
    ]
    pod["containers"][0]["volumeMounts"] += [
        ca_mount,
        {"name": "bootstrap", "mountPath": BOOTSTRAP_DIR, "readOnly": True},
    ]
    return pod


@dataclass(frozen=True)
class DatabaseAccess:
    """What `CrmApp` created for database access; its pods are built with these names."""

    login_secret_name: Output[str]
    ca_config_map_name: str
    bootstrap: k8s.batch.v1.Job
    """Runs before the migration Job; the CRM's workloads wait for it."""
    secrets: list[pulumi.Resource]
