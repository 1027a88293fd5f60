"""PostgreSQL on RDS: a Multi-AZ primary, read replicas one per AZ and an optional cross-region
replica for disaster recovery; encrypted with the database key, TLS-only, logged, monitored and
hard to delete."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from .db_credentials import generated_password, stored_login
from .iam import service_trust_json
from .security_groups import clients_only

ENGINE = "postgres"
PORT = 5432
LOG_EXPORTS = ("postgresql", "upgrade")
PERFORMANCE_INSIGHTS_RETENTION_DAYS = 7  # the free tier
ENHANCED_MONITORING_POLICY = "service-role/AmazonRDSEnhancedMonitoringRole"


def parameters(slow_statement_ms: int) -> dict[str, str]:
    """The parameter group: TLS required, and logs that explain slow or failing sessions.

    `log_statement` stays off: with `ddl` a password set by ALTER ROLE would reach the logs
    (the bootstrap Job sends only a SCRAM verifier anyway).
    """
    return {
        "rds.force_ssl": "1",
        "log_min_duration_statement": str(slow_statement_ms),
        "log_connections": "1",
        "log_disconnections": "1",
        "log_lock_waits": "1",
        "log_temp_files": "10240",  # KiB: temp files above 10 MiB mean work_mem is too small
    }


LOGICAL_REPLICATION = "rds.logical_replication"
"""Static parameter RDS needs for a Blue/Green major-version upgrade of PostgreSQL (the green
environment is fed by logical replication); it takes effect after a reboot."""


def crm_login(role: str, rotation: int) -> str:
    """The login the CRM uses after `rotation` rotations: it alternates between two, so the
    previous one (and the pods still using it) keeps working while the new one rolls out."""
    return f"{role}_login_{'ab'[rotation % 2]}"


@dataclass(frozen=True)
class DisasterRecoveryArgs:
    """Where the cross-region replica goes. The VPC there is the operator's: this component
    creates the replica, its parameter group and log groups, but no network."""

    provider: pulumi.ProviderResource
    """AWS provider of the DR region (in the residency allow-list, not the primary's), with the
    stack's default tags."""
    kms_key_arn: pulumi.Input[str]
    """Database key created in that region (storage and Performance Insights)."""
    logs_key_arn: pulumi.Input[str]
    """Logs key created in that region (the replica's log groups)."""
    subnet_group_name: str
    """Existing DB subnet group of private subnets in that region."""
    security_group_ids: Sequence[str]
    """Existing security groups there that decide who may connect after a failover."""


@dataclass(frozen=True)
class DatabaseArgs:
    """Inputs of `Database`."""

    identifier: str
    """RDS identifier of the primary; replicas append `-replica-<n>` and `-dr`. Never change it:
    it names the instances, their log groups and the final snapshot."""
    vpc_id: pulumi.Input[str]
    """VPC of the database security group."""
    subnet_group_name: pulumi.Input[str]
    """DB subnet group of the isolated subnets (no route out of the VPC)."""
    availability_zones: pulumi.Input[Sequence[str]]
    """AZs of the subnet group, in order; replica n goes to zone n."""
    client_security_group_ids: Sequence[pulumi.Input[str]]
    """Security groups allowed to connect on 5432; no CIDR is ever allowed."""
    kms_key_arn: pulumi.Input[str]
    """Database key: storage, Performance Insights and the master secret."""
    logs_key_arn: pulumi.Input[str]
    """Logs key of the exported PostgreSQL logs."""
    max_connections: int
    """`max_connections` RDS derives from instance_class (the settings compute it); exposed so
    the application can check its pool sizes against it."""
    instance_class: str = "db.r7g.large"
    """Class of the primary and of every replica (a replica may have to take over)."""
    engine_version: str = "16"
    """PostgreSQL version: a major with automatic minor upgrades, or an explicit minor without
    them. Its major picks the parameter group family."""
    auto_minor_version_upgrade: bool = True
    """RDS applies new minor versions in the maintenance window."""
    blue_green_updates: bool = False
    """Engine, class and parameter changes go through an RDS Blue/Green deployment (and a major
    upgrade is allowed); turns on logical replication, which such an upgrade needs."""
    multi_az: bool = True
    """Synchronous standby in another AZ with automatic failover."""
    read_replicas: int = 2
    """Read replicas in this region, one per AZ (at most the number of AZs)."""
    allocated_storage_gib: int = 100
    """Initial gp3 storage of the primary."""
    max_allocated_storage_gib: int = 1000
    """Ceiling of storage autoscaling."""
    backup_retention_days: int = 14
    """Days of automated backups; replicas need at least 1."""
    backup_window: str = "01:00-02:00"
    """Daily UTC window of automated backups."""
    maintenance_window: str = "sun:03:00-sun:04:00"
    """Weekly UTC window for patches and minor upgrades (not overlapping backups)."""
    deletion_protection: bool = True
    """RDS refuses to delete the primary."""
    log_retention_days: int = 365
    """Retention of the exported log groups."""
    database_name: str = "twenty"
    """Database created on the primary for the CRM."""
    master_username: str = "crm_admin"
    """Master user (not `postgres`); its password is generated here and kept in a secret only
    the CRM's database bootstrap can read."""
    crm_role: str = "twenty"
    """Role that owns the CRM's database and schemas (no login, not rds_superuser). The CRM logs
    in as `<role>_login_a` or `_b`, members of it."""
    crm_login_rotation: int = 0
    """Rotations of the CRM's login so far: each one generates a new password for the other
    login of the pair."""
    slow_statement_ms: int = 1000
    """Statements running longer than this are logged with their duration."""
    monitoring_interval_seconds: int = 60
    """Enhanced Monitoring granularity (OS metrics)."""
    dr: DisasterRecoveryArgs | None = None
    """Cross-region read replica, or None."""
    protect: bool = True
    """Pulumi `protect` on the primary (the replicas hold no data of their own)."""


class Database(pulumi.ComponentResource):
    """The CRM's PostgreSQL: primary, in-region readers and an optional DR replica.

    The primary's AZ is left to RDS: Multi-AZ instances take no AZ, the primary moves to the
    standby's AZ on every failover, and a pinned AZ would force a replacement once it differs.
    Replicas instead get one distinct AZ each, so losing a zone costs at most one reader.
    """

    def __init__(
        self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("crm-platform:data:Database", name, None, opts)
        self._name = name
        self._args = args
        child = pulumi.ResourceOptions(parent=self)
        self.identifier = args.identifier
        self.port = PORT
        self.database_name = args.database_name
        self.master_username = args.master_username
        self.max_connections = args.max_connections
        self.crm_role = args.crm_role
        self.crm_username = crm_login(args.crm_role, args.crm_login_rotation)

        self.security_group = clients_only(
            name,
            self,
            vpc_id=args.vpc_id,
            port=PORT,
            service="PostgreSQL",
            client_security_group_ids=args.client_security_group_ids,
        )
        monitoring_role, monitoring_attachment = self._monitoring_role()
        wait_for_monitoring = pulumi.ResourceOptions(
            parent=self, depends_on=[monitoring_attachment]
        )
        common = {
            "instance_class": args.instance_class,
            "storage_type": "gp3",
            "max_allocated_storage": args.max_allocated_storage_gib,
            "storage_encrypted": True,
            "port": PORT,
            "publicly_accessible": False,
            "iam_database_authentication_enabled": True,
            "auto_minor_version_upgrade": args.auto_minor_version_upgrade,
            "copy_tags_to_snapshot": True,
            "maintenance_window": args.maintenance_window,
            "performance_insights_enabled": True,
            "performance_insights_retention_period": PERFORMANCE_INSIGHTS_RETENTION_DAYS,
            "monitoring_interval": args.monitoring_interval_seconds,
            "monitoring_role_arn": monitoring_role.arn,
            "enabled_cloudwatch_logs_exports": list(LOG_EXPORTS),
        }
        local = {
            **common,
            "kms_key_id": args.kms_key_arn,
            "performance_insights_kms_key_id": args.kms_key_arn,
            "parameter_group_name": self._parameter_group(name, child).name,
            "vpc_security_group_ids": [self.security_group.id],
        }
        master_password = generated_password(f"{name}-master-password", self)
        self.primary = self._instance(
            "primary",
            args.identifier,
            args.logs_key_arn,
            pulumi.ResourceOptions.merge(
                wait_for_monitoring,
                pulumi.ResourceOptions(
                    protect=args.protect, additional_secret_outputs=["password"]
                ),
            ),
            engine=ENGINE,
            engine_version=args.engine_version,
            db_name=args.database_name,
            username=args.master_username,
            # Stack-owned, not RDS-managed: RDS creates no read replica and no Blue/Green
            # deployment of a source whose master password it manages in Secrets Manager.
            password=master_password.result,
            multi_az=args.multi_az,
            db_subnet_group_name=args.subnet_group_name,
            allocated_storage=args.allocated_storage_gib,
            backup_retention_period=args.backup_retention_days,
            backup_window=args.backup_window,
            deletion_protection=args.deletion_protection,
            skip_final_snapshot=False,
            final_snapshot_identifier=self._final_snapshot_name(args.identifier),
            delete_automated_backups=False,
            **self._upgrade_path(),
            **local,
        )
        zones = pulumi.Output.from_input(args.availability_zones)
        self.replica_identifiers = [
            f"{args.identifier}-replica-{number}" for number in range(1, args.read_replicas + 1)
        ]
        self.replicas = [
            self._instance(
                f"replica-{index + 1}",
                identifier,
                args.logs_key_arn,
                wait_for_monitoring,
                replicate_source_db=self.primary.identifier,
                availability_zone=zones.apply(lambda names, i=index: names[i]),
                **self._replica_safety(),
                **local,
            )
            for index, identifier in enumerate(self.replica_identifiers)
        ]
        self.dr_replica = (
            self._dr_replica(args.dr, common, monitoring_attachment) if args.dr else None
        )

        self.writer_endpoint = self.primary.endpoint
        self.writer_address = self.primary.address
        self.reader_endpoints = [replica.endpoint for replica in self.replicas]
        self.reader_addresses = [replica.address for replica in self.replicas]
        master_secret, _ = self._login_secret(
            "master",
            "master user (only the CRM's database bootstrap reads it)",
            args.master_username,
            master_password.result,
        )
        self.master_secret_arn = master_secret.arn
        crm_password = generated_password(
            f"{name}-crm-password", self, keepers={"rotation": str(args.crm_login_rotation)}
        )
        crm_secret, crm_version = self._login_secret(
            "crm",
            "the CRM's login (owner of its database, not rds_superuser)",
            self.crm_username,
            crm_password.result,
        )
        self.crm_secret_arn = crm_secret.arn
        self.crm_secret_version_id = crm_version.version_id
        self.security_group_id = self.security_group.id
        self.register_outputs(
            {
                "writerEndpoint": self.writer_endpoint,
                "readerEndpoints": self.reader_endpoints,
                "masterSecretArn": self.master_secret_arn,
                "crmSecretArn": self.crm_secret_arn,
                "securityGroupId": self.security_group_id,
                "drReplicaArn": self.dr_replica.arn if self.dr_replica else None,
            }
        )

    def _login_secret(
        self, label: str, purpose: str, username: str, password: pulumi.Output[str]
    ) -> tuple[aws.secretsmanager.Secret, aws.secretsmanager.SecretVersion]:
        args = self._args
        return stored_login(
            f"{self._name}-{label}",
            self,
            description=f"PostgreSQL {args.identifier}: {purpose}",
            kms_key_arn=args.kms_key_arn,
            login={
                "engine": ENGINE,
                "username": username,
                "password": password,
                "host": self.writer_address,
                "port": PORT,
                "dbname": args.database_name,
            },
            protect=args.protect,
        )

    def _final_snapshot_name(self, identifier: str) -> pulumi.Output[str]:
        """`<identifier>-final-<8 hex>`: the suffix is drawn once per deployment, so a stack
        destroyed, recreated and destroyed again does not collide with its first snapshot."""
        suffix = random.RandomId(
            f"{self._name}-final-snapshot", byte_length=4, opts=pulumi.ResourceOptions(parent=self)
        )
        return pulumi.Output.concat(identifier, "-final-", suffix.hex)

    def _upgrade_path(self) -> dict[str, object]:
        """With Blue/Green updates, the provider upgrades through a green copy and switches."""
        if not self._args.blue_green_updates:
            return {}
        return {
            "blue_green_update": aws.rds.InstanceBlueGreenUpdateArgs(enabled=True),
            "allow_major_version_upgrade": True,
        }

    @staticmethod
    def _replica_safety() -> dict[str, object]:
        """Replicas only copy the primary: no final snapshot (RDS refuses one for a replica)
        and no deletion protection, so readers can be scaled down in one `pulumi up`."""
        return {"skip_final_snapshot": True, "deletion_protection": False}

    def _parameter_group(self, name: str, opts: pulumi.ResourceOptions) -> aws.rds.ParameterGroup:
        major = self._args.engine_version.split(".")[0]
        # No explicit name: a new family (major upgrade) creates the new group before the old
        # one is deleted.
        return aws.rds.ParameterGroup(
            name,
            family=f"{ENGINE}{major}",
            description="CRM PostgreSQL: TLS only, slow statements and sessions logged",
            parameters=[
                aws.rds.ParameterGroupParameterArgs(name=key, value=value)
                for key, value in parameters(self._args.slow_statement_ms).items()
            ]
            + self._logical_replication(),
            opts=opts,
        )

    def _logical_replication(self) -> list[aws.rds.ParameterGroupParameterArgs]:
        if not self._args.blue_green_updates:
            return []
        return [
            aws.rds.ParameterGroupParameterArgs(
                name=LOGICAL_REPLICATION, value="1", apply_method="pending-reboot"
            )
        ]

    def _monitoring_role(self) -> tuple[aws.iam.Role, aws.iam.RolePolicyAttachment]:
        """The role Enhanced Monitoring assumes (for this account's instances only) and its
        policy attachment, which instances wait for: RDS checks the role when it is set."""
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account_id = aws.get_caller_identity_output(opts=invoke).account_id
        partition = aws.get_partition_output(opts=invoke).partition
        role = aws.iam.Role(
            f"{self._name}-monitoring",
            description="RDS Enhanced Monitoring of the CRM database",
            assume_role_policy=service_trust_json("monitoring.rds", self, account_id),
            opts=pulumi.ResourceOptions(parent=self),
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{self._name}-monitoring",
            role=role.name,
            policy_arn=partition.apply(
                lambda p: f"arn:{p}:iam::aws:policy/{ENHANCED_MONITORING_POLICY}"
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return role, attachment

    def _instance(
        self,
        label: str,
        identifier: str,
        logs_key_arn: pulumi.Input[str],
        opts: pulumi.ResourceOptions,
        **inputs: object,
    ) -> aws.rds.Instance:
        """One instance whose exported logs land in log groups created (and encrypted) first;
        RDS would otherwise create them unencrypted and never expiring."""
        log_groups = [
            aws.cloudwatch.LogGroup(
                f"{self._name}-{label}-{log}",
                name=f"/aws/rds/instance/{identifier}/{log}",
                kms_key_id=logs_key_arn,
                retention_in_days=self._args.log_retention_days,
                opts=pulumi.ResourceOptions(parent=self, provider=opts.provider),
            )
            for log in LOG_EXPORTS
        ]
        return aws.rds.Instance(
            f"{self._name}-{label}",
            identifier=identifier,
            **inputs,
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=log_groups)),
        )

    def _dr_replica(
        self,
        dr: DisasterRecoveryArgs,
        common: dict[str, object],
        monitoring_attachment: aws.iam.RolePolicyAttachment,
    ) -> aws.rds.Instance:
        """A replica in the DR region, encrypted with that region's key, in the operator's VPC
        there. `python -m stacks failover` promotes it when the primary region is lost."""
        in_region = pulumi.ResourceOptions(parent=self, provider=dr.provider)
        return self._instance(
            "dr",
            f"{self._args.identifier}-dr",
            dr.logs_key_arn,
            pulumi.ResourceOptions(
                parent=self, provider=dr.provider, depends_on=[monitoring_attachment]
            ),
            # A cross-region source is named by ARN, and RDS needs the destination-region key.
            replicate_source_db=self.primary.arn,
            kms_key_id=dr.kms_key_arn,
            performance_insights_kms_key_id=dr.kms_key_arn,
            parameter_group_name=self._parameter_group(f"{self._name}-dr", in_region).name,
            db_subnet_group_name=dr.subnet_group_name,
            vpc_security_group_ids=list(dr.security_group_ids),
            **self._replica_safety(),
            **common,
        )
