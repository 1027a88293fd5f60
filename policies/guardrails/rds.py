"""RDS: encryption, private placement, availability, backups, TLS, logging and credentials.

Read replicas (`replicateSourceDb` set) inherit storage encryption, credentials, backups and the
parameter group of a same-region source, so those checks skip them, as AWSGuard does. A replica
whose source is an ARN is cross-region and must declare its own key, subnet group and parameter
group.
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
    UNKNOWN,
    Res,
    Stack,
    as_bool,
    as_number,
    boolean,
    entries,
    field,
    integer,
    resource_policy,
    setting,
    show,
    show_list,
    stack_policy,
    strings,
)
from .secrets import is_secret

INSTANCE = "aws:rds/instance:Instance"
CLUSTER = "aws:rds/cluster:Cluster"
CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
CLUSTER_PARAMETER_GROUP = "aws:rds/clusterParameterGroup:ClusterParameterGroup"


def is_replica(res: Res) -> bool:
    return res.type == INSTANCE and res.present("replicateSourceDb")


def is_cross_region_replica(res: Res) -> bool:
    source = res.peek("replicateSourceDb")
    return isinstance(source, str) and source.startswith("arn:")


def primary_or_cluster(res: Res) -> bool:
    """Resources that own their data settings: primaries, clusters, cross-region replicas."""
    return not is_replica(res) or is_cross_region_replica(res)


@resource_policy(
    "rds-storage-encrypted",
    types={INSTANCE, CLUSTER},
    description="RDS storage must be encrypted at rest.",
    severity=HIGH,
    remediation="Set storage_encrypted=True with kms_key_id (replicas inherit it from the source).",
    tags=["rds", "encryption", "SH:RDS.3", "AwsSolutions-RDS2", "CKV_AWS_16"],
)
def storage_encrypted(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if is_replica(res) or res.present("replicationSourceIdentifier"):
        return
    value = res.get("storageEncrypted")
    if not as_bool(value):
        yield f"{res.label} {setting('storageEncrypted', value)}; it must be true."


@resource_policy(
    "rds-customer-managed-key",
    types={INSTANCE, CLUSTER},
    description="RDS storage must be encrypted with a customer-managed KMS key.",
    severity=MEDIUM,
    remediation="Set kms_key_id to a customer-managed key ARN in the database's region.",
    tags=["rds", "encryption", "CP:rds-instance-configure-customer-managed-key"],
)
def customer_managed_key(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if primary_or_cluster(res) and not res.present("kmsKeyId"):
        yield (
            f"{res.label} leaves kmsKeyId unset, so AWS's default aws/rds key would be used; set "
            "a customer-managed key."
        )


@resource_policy(
    "rds-no-public-access",
    types={INSTANCE, CLUSTER, CLUSTER_INSTANCE},
    description="Databases must not be publicly accessible.",
    severity=CRITICAL,
    remediation="Set publicly_accessible=False and place the database in private subnets.",
    tags=["rds", "public-exposure", "SH:RDS.2", "CKV_AWS_17", "RDSInstancePublicAccess"],
)
def no_public_access(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    value = res.get("publiclyAccessible")
    if as_bool(value):
        yield f"{res.label} {setting('publiclyAccessible', value)}; it must be false or unset."


@resource_policy(
    "rds-subnet-group",
    types={INSTANCE, CLUSTER},
    description="Databases must be placed in a dedicated (non-default) DB subnet group.",
    severity=HIGH,
    remediation="Create an aws.rds.SubnetGroup of private subnets and set db_subnet_group_name.",
    tags=["rds", "network", "SH:RDS.18"],
)
def subnet_group(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if not primary_or_cluster(res):
        return
    name = res.peek("dbSubnetGroupName")
    if name is None or name == "" or name == "default":
        yield (
            f"{res.label} {setting('dbSubnetGroupName', name)}; it must name a dedicated subnet "
            "group of private subnets (not the default VPC's)."
        )


@resource_policy(
    "rds-multi-az",
    types={INSTANCE},
    description="Primary RDS instances must be Multi-AZ.",
    severity=MEDIUM,
    remediation="Set multi_az=True on the primary (dev stacks may relax this policy to advisory).",
    tags=["rds", "availability", "SH:RDS.5", "AwsSolutions-RDS3", "CKV_AWS_157"],
)
def multi_az(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if is_replica(res):
        return
    value = res.get("multiAz")
    if not as_bool(value):
        yield f"{res.label} {setting('multiAz', value)}; the primary must be Multi-AZ (true)."


@stack_policy(
    "rds-read-replicas",
    subjects={INSTANCE},
    description="Every primary RDS instance must have enough read replicas.",
    severity=MEDIUM,
    remediation="Create aws.rds.Instance replicas with replicate_source_db=<primary>.identifier.",
    config={"minReplicas": integer(1, "Read replicas required per primary instance.", 0, 15)},
    tags=["rds", "availability", "WA:REL10-BP01"],
)
def read_replicas(stack: Stack, primary: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if is_replica(primary):
        return
    minimum = int(config["minReplicas"])
    replicas = [
        replica
        for replica in stack.of_type({INSTANCE})
        if is_replica(replica) and primary in stack.refs(replica, "replicateSourceDb", {INSTANCE})
    ]
    if len(replicas) < minimum:
        yield (
            f"{primary.label} has {len(replicas)} read replica(s) referring to it through "
            f"replicateSourceDb; at least {minimum} are required."
        )


def _retention_check(res: Res, minimum: int) -> Iterator[str]:
    days = res.get("backupRetentionPeriod")
    effective = 1 if days is None else as_number(days) or 0
    if effective < minimum:
        shown = "unset (AWS default 1 day)" if days is None else show(days)
        yield (
            f"{res.label} sets backupRetentionPeriod to {shown}; at least {minimum} days of "
            "automated backups are required."
        )


@resource_policy(
    "rds-backup-retention",
    types={INSTANCE, CLUSTER},
    description="RDS automated backups must be retained long enough.",
    severity=MEDIUM,
    remediation="Set backup_retention_period to at least minRetentionDays.",
    config={
        "minRetentionDays": integer(7, "Shortest allowed backupRetentionPeriod.", 1, 35),
        "checkReadReplicas": boolean(False, "Also require backups on read replicas."),
    },
    tags=["rds", "backup", "SH:RDS.11", "AwsSolutions-RDS13", "CKV_AWS_133"],
)
def backup_retention(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if is_replica(res) and not config["checkReadReplicas"]:
        return
    yield from _retention_check(res, int(config["minRetentionDays"]))


@resource_policy(
    "rds-deletion-protection",
    types={INSTANCE, CLUSTER},
    description="Databases must be protected from deletion and keep a final snapshot.",
    severity=MEDIUM,
    remediation="Set deletion_protection=True and keep skip_final_snapshot=False.",
    tags=["rds", "protection", "SH:RDS.8", "CKV_AWS_293"],
)
def deletion_protection(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if is_replica(res):
        return
    value = res.get("deletionProtection")
    if not as_bool(value):
        yield f"{res.label} {setting('deletionProtection', value)}; it must be true."
    if as_bool(res.get("skipFinalSnapshot")):
        yield (
            f"{res.label} sets skipFinalSnapshot to true; a final snapshot must be taken when the "
            "database is deleted (false)."
        )


@resource_policy(
    "rds-iam-authentication",
    types={INSTANCE, CLUSTER},
    description="RDS should allow IAM database authentication.",
    severity=MEDIUM,
    enforcement=ADVISORY,
    remediation="Set iam_database_authentication_enabled=True.",
    tags=["rds", "identity", "SH:RDS.10", "CKV_AWS_161"],
)
def iam_authentication(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if is_replica(res):
        return
    value = res.get("iamDatabaseAuthenticationEnabled")
    if not as_bool(value):
        yield (
            f"{res.label} {setting('iamDatabaseAuthenticationEnabled', value)}; it should be "
            "true so short-lived IAM tokens can replace passwords."
        )


@resource_policy(
    "rds-log-exports",
    types={INSTANCE},
    description="RDS instances must export their engine logs to CloudWatch Logs.",
    severity=MEDIUM,
    remediation="Set enabled_cloudwatch_logs_exports (postgres: ['postgresql', 'upgrade']).",
    config={
        "requiredExports": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "default": {
                "postgres": ["postgresql", "upgrade"],
                "mysql": ["error", "slowquery"],
                "mariadb": ["error", "slowquery"],
            },
            "description": "Log types required per engine (matched as a prefix of `engine`).",
        }
    },
    tags=["rds", "logging", "SH:RDS.9", "CKV_AWS_129", "RDSLoggingEnabled"],
)
def log_exports(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    engine = res.get("engine")
    if not isinstance(engine, str):
        return  # Replicas inherit the engine and do not name it.
    for prefix, required in config["requiredExports"].items():
        if engine.startswith(prefix):
            exported = set(res.items("enabledCloudwatchLogsExports"))
            missing = [log for log in required if log not in exported]
            if missing:
                yield (
                    f"{res.label} exports logs {show_list(sorted(exported))} "
                    f"(enabledCloudwatchLogsExports); {engine} instances must also export "
                    f"{show_list(missing)}."
                )


TLS_PARAMETERS = {
    "postgres": ("rds.force_ssl", {"1"}),
    "aurora-postgresql": ("rds.force_ssl", {"1"}),
    "mysql": ("require_secure_transport", {"1", "ON", "on"}),
    "aurora-mysql": ("require_secure_transport", {"1", "ON", "on"}),
    "mariadb": ("require_secure_transport", {"1", "ON", "on"}),
}


def _tls_parameter(family: str) -> tuple[str, set[str]] | None:
    for prefix in sorted(TLS_PARAMETERS, key=len, reverse=True):
        if family.startswith(prefix):
            return TLS_PARAMETERS[prefix]
    return None


@resource_policy(
    "rds-force-tls",
    types={INSTANCE, PARAMETER_GROUP, CLUSTER_PARAMETER_GROUP},
    description="Database connections must be forced to use TLS.",
    severity=HIGH,
    remediation=(
        "Use a parameter group with rds.force_ssl=1 (PostgreSQL) or require_secure_transport=1 "
        "(MySQL/MariaDB) and set parameter_group_name on the instance."
    ),
    tags=["rds", "encryption-in-transit", "SH:RDS.38", "CKV2_AWS_69"],
)
def force_tls(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if res.type == INSTANCE:
        engine = res.get("engine")
        if not primary_or_cluster(res) or not isinstance(engine, str):
            return
        if _tls_parameter(engine) is None:
            return
        group = res.peek("parameterGroupName")
        if group is None or (isinstance(group, str) and group.startswith("default.")):
            yield (
                f"{res.label} {setting('parameterGroupName', group)}; it must name a custom "
                "parameter group that forces TLS (default groups cannot be changed)."
            )
        return
    family = res.get("family")
    wanted = _tls_parameter(family) if isinstance(family, str) else None
    if wanted is None:
        return
    name, values = wanted
    found = [
        field(parameter, "value")
        for parameter in entries(res.get("parameters")) or []
        if field(parameter, "name") == name
    ]
    if not any(value is UNKNOWN or value in values or as_number(value) == 1 for value in found):
        yield (
            f"{res.label} (family {show(family)}) sets {name} to {show_list(found)}; it must be "
            f"{show_list(sorted(values))} so unencrypted connections are refused."
        )


@resource_policy(
    "rds-auto-minor-version-upgrade",
    types={INSTANCE, CLUSTER, CLUSTER_INSTANCE},
    description="RDS must apply minor engine upgrades automatically.",
    severity=MEDIUM,
    remediation="Remove auto_minor_version_upgrade=False (it defaults to true).",
    tags=["rds", "patching", "SH:RDS.13", "CKV_AWS_226"],
)
def auto_minor_upgrade(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    value = res.get("autoMinorVersionUpgrade")
    if as_bool(value) is False:
        yield f"{res.label} sets autoMinorVersionUpgrade to false; it must be true or unset."


@resource_policy(
    "rds-enhanced-monitoring",
    types={INSTANCE, CLUSTER_INSTANCE},
    description="RDS instances should publish Enhanced Monitoring metrics.",
    severity=LOW,
    enforcement=ADVISORY,
    remediation="Set monitoring_interval (e.g. 60) and monitoring_role_arn.",
    tags=["rds", "monitoring", "SH:RDS.6", "CKV_AWS_118"],
)
def enhanced_monitoring(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    interval = res.get("monitoringInterval")
    if not (as_number(interval) or 0) > 0:
        yield (
            f"{res.label} {setting('monitoringInterval', interval)}; it should be above 0 "
            "(e.g. 60) with a monitoringRoleArn."
        )
    elif not res.present("monitoringRoleArn"):
        yield f"{res.label} enables Enhanced Monitoring without monitoringRoleArn; set the role."


@resource_policy(
    "rds-performance-insights-cmk",
    types={INSTANCE, CLUSTER, CLUSTER_INSTANCE},
    description="Performance Insights data must be encrypted with a customer-managed key.",
    severity=MEDIUM,
    remediation="Set performance_insights_kms_key_id whenever Performance Insights is enabled.",
    tags=["rds", "encryption", "CKV_AWS_354"],
)
def performance_insights_cmk(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if as_bool(res.get("performanceInsightsEnabled")) and not res.present(
        "performanceInsightsKmsKeyId"
    ):
        yield (
            f"{res.label} enables Performance Insights but leaves performanceInsightsKmsKeyId "
            "unset; set a customer-managed key."
        )


@resource_policy(
    "rds-copy-tags-to-snapshot",
    types={INSTANCE, CLUSTER},
    description="RDS should copy tags to snapshots so backups stay attributable.",
    severity=LOW,
    enforcement=ADVISORY,
    remediation="Set copy_tags_to_snapshot=True.",
    tags=["rds", "SH:RDS.17", "CKV2_AWS_60"],
)
def copy_tags(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if is_replica(res):
        return
    value = res.get("copyTagsToSnapshot")
    if not as_bool(value):
        yield f"{res.label} {setting('copyTagsToSnapshot', value)}; it should be true."


def _password_props(res: Res) -> tuple[str, str]:
    return (
        ("password", "username") if res.type == INSTANCE else ("masterPassword", "masterUsername")
    )


def _is_literal(value: Any) -> bool:
    """A known value that is not a Pulumi secret: it sits in config and state in plain text."""
    return value is not None and value is not UNKNOWN and value != "" and not is_secret(value)


@resource_policy(
    "rds-no-literal-password",
    types={INSTANCE, CLUSTER},
    description="A master password must never be a literal: only a Pulumi secret is accepted.",
    severity=CRITICAL,
    remediation=(
        "Generate the password with pulumi_random.RandomPassword (its result is secret) or read "
        "it with config.require_secret; never pass a plain string."
    ),
    tags=["rds", "secrets", "CWE-798"],
)
def no_literal_password(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    password, _ = _password_props(res)
    if _is_literal(res.peek(password)):
        yield (
            f"{res.label} sets {password} to a plain (non-secret) value, which would be stored "
            "in the stack's config and state in clear text; it must be a Pulumi secret."
        )


SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
SECRET_VALUE_PROPS = ("secretString", "secretStringWo", "secretBinary")
# What the check follows: the database, its password's source (pulumi-random), the secret.
MASTER_SECRET_READS = frozenset({INSTANCE, CLUSTER, SECRET, SECRET_VERSION})


def _stored_in(stack: Stack, res: Res, password: str) -> list[Res]:
    """Secret versions whose value is computed from what the password is computed from."""
    origins = {source.urn for source in stack.sources(res, password)}
    return [
        version
        for version in stack.of_type({SECRET_VERSION})
        if any(
            origins & {source.urn for source in stack.sources(version, prop)}
            for prop in SECRET_VALUE_PROPS
        )
    ]


def _managed_secret_problem(res: Res) -> Iterator[str]:
    if not res.present("masterUserSecretKmsKeyId"):
        yield (
            f"{res.label} lets RDS manage the master secret but leaves masterUserSecretKmsKeyId "
            "unset; the secret must be encrypted with a customer-managed key."
        )


def _stack_secret_problem(stack: Stack, res: Res, password: str) -> Iterator[str]:
    versions = _stored_in(stack, res, password)
    if not versions:
        yield (
            f"{res.label} sets {password}, but no {SECRET_VERSION} of this stack stores a value "
            f"computed from the same source; store the master credentials in a Secrets Manager "
            "secret of the stack."
        )
    for version in versions:
        secrets = stack.refs(version, "secretId", {SECRET})
        if not secrets:
            yield (
                f"{res.label} keeps its master password in {version.label}, whose secretId names "
                "no aws:secretsmanager/secret:Secret of this stack; its key cannot be verified."
            )
        for secret in secrets:
            if not secret.present("kmsKeyId"):
                yield (
                    f"{res.label} keeps its master password in {secret.label}, which leaves "
                    "kmsKeyId unset (AWS-managed key); set a customer-managed key."
                )


@stack_policy(
    "rds-master-secret-cmk",
    subjects={INSTANCE, CLUSTER},
    description="The master password must be kept in a Secrets Manager secret encrypted with a "
    "customer-managed KMS key.",
    severity=HIGH,
    remediation=(
        "Store the generated password in an aws.secretsmanager.Secret with kms_key_id=<CMK> "
        "through an aws.secretsmanager.SecretVersion whose secret_string is built from the same "
        "pulumi_random.RandomPassword (or, without replicas, set master_user_secret_kms_key_id)."
    ),
    tags=["rds", "secrets", "encryption", "SecretsManagerUsingKMSKey", "CKV_AWS_149"],
    reads=lambda kind: kind in MASTER_SECRET_READS or kind.startswith("random:"),
)
def master_secret_cmk(stack: Stack, res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if is_replica(res):
        return
    password, _ = _password_props(res)
    if as_bool(res.peek("manageMasterUserPassword")):
        yield from _managed_secret_problem(res)
    elif res.present(password):
        yield from _stack_secret_problem(stack, res, password)


MANAGED_PASSWORD_LIMITATION = (
    'Amazon RDS User Guide, "Limitations for Secrets Manager integration with Amazon RDS": RDS '
    "does not create a read replica of a source whose master password it manages with Secrets "
    "Manager, for every engine but RDS for SQL Server"
)


@stack_policy(
    "rds-replica-of-managed-password-source",
    subjects={INSTANCE},
    description="A read replica must not replicate a source whose master password RDS manages.",
    severity=HIGH,
    remediation=(
        "Remove manage_master_user_password from the source; own the master password in the "
        "stack (pulumi_random secret stored in a CMK-encrypted Secrets Manager secret)."
    ),
    tags=["rds", "availability", "RDS-UG:rds-secrets-manager-limitations"],
    reads={INSTANCE},
)
def replica_of_managed_source(
    stack: Stack, replica: Res, config: Mapping[str, Any]
) -> Iterator[str]:
    if not is_replica(replica):
        return
    for source in stack.refs(replica, "replicateSourceDb", {INSTANCE}):
        engine = source.peek("engine")
        if isinstance(engine, str) and engine.startswith("sqlserver"):
            continue
        if as_bool(source.peek("manageMasterUserPassword")):
            yield (
                f"{replica.label} replicates {source.label} (replicateSourceDb), whose master "
                f"password RDS manages (manageMasterUserPassword); {MANAGED_PASSWORD_LIMITATION}, "
                "so the replica cannot be created."
            )


@resource_policy(
    "rds-custom-admin-username",
    types={INSTANCE, CLUSTER},
    description="RDS should not use a well-known master user name.",
    severity=LOW,
    enforcement=ADVISORY,
    remediation="Choose an application-specific master user name.",
    config={
        "forbiddenUsernames": strings(
            ["admin", "administrator", "postgres", "root", "master", "sa"],
            "Master user names that attackers try first.",
        )
    },
    tags=["rds", "SH:RDS.25"],
)
def custom_admin_username(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if is_replica(res):
        return
    _, username = _password_props(res)
    value = res.get(username)
    if isinstance(value, str) and value.lower() in config["forbiddenUsernames"]:
        yield f"{res.label} {setting(username, value)}; choose a less guessable name."
