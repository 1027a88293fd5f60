"""PostgreSQL on RDS: HA per environment, replicas spread over AZs, encryption, TLS, stack-owned
credentials, backups and deletion safety, logs and monitoring, network lockdown, DR replica,
engine-version pinning and the Blue/Green upgrade path."""

from __future__ import annotations

import json
import re

import pytest

from components.database import LOG_EXPORTS, Database, DatabaseArgs, crm_login
from stacks.offline import Plan, PlannedResource
from stacks.offline.model import is_secret
from tests.conftest import variant
from tests.support import AWS_PROVIDER, synth_component, synth_stack

INSTANCE = "aws:rds/instance:Instance"
PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
DATABASE = "crm-platform:data:Database"
DR_SETTINGS = {
    "drRegion": "eu-west-1",
    "drSubnetGroupName": "crm-dr-isolated",
    "drSecurityGroupIds": ["sg-0123456789abcdef0"],
}


def _of(plan: Plan, type_token: str, name: str) -> PlannedResource:
    (found,) = [r for r in plan.of_type(type_token) if r.name == name]
    return found


def _instances(plan: Plan) -> list[PlannedResource]:
    component = plan.one(DATABASE)
    return [r for r in plan.of_type(INSTANCE) if r.parent == component.urn]


def _primary(plan: Plan) -> PlannedResource:
    return _of(plan, INSTANCE, f"{plan.stack}-db-primary")


def _replicas(plan: Plan) -> list[PlannedResource]:
    replicas = [r for r in _instances(plan) if r.name.startswith(f"{plan.stack}-db-replica-")]
    return sorted(replicas, key=lambda r: r.name)


@pytest.fixture(scope="module")
def with_dr() -> Plan:
    return synth_stack("prod", database=DR_SETTINGS)


@pytest.mark.parametrize(
    ("stack", "multi_az", "replicas"), [("dev", False, 0), ("staging", True, 1), ("prod", True, 2)]
)
def test_primary_ha_and_replica_count_per_environment(stack, multi_az, replicas, request) -> None:
    plan: Plan = request.getfixturevalue(stack)
    assert _primary(plan).get("multiAz") is multi_az
    assert len(_replicas(plan)) == replicas
    assert len(_instances(plan)) == replicas + 1


def test_prod_replicas_sit_in_distinct_azs_of_the_network(prod: Plan) -> None:
    zones = [replica.get("availabilityZone") for replica in _replicas(prod)]
    assert len(zones) == 2 == len(set(zones))
    assert set(zones) <= set(prod.outputs["availabilityZones"])
    # The Multi-AZ primary takes no AZ: RDS places it and moves it on failover.
    assert _primary(prod).get("availabilityZone") is None


def test_replicas_replicate_the_primary(prod: Plan) -> None:
    primary = _primary(prod)
    for replica in _replicas(prod):
        assert replica.get("replicateSourceDb") == primary.get("identifier")
        assert replica.property_dependencies["replicateSourceDb"] == [primary.urn]
        assert replica.get("instanceClass") == primary.get("instanceClass")
        for key in ("username", "password", "manageMasterUserPassword", "engine", "engineVersion"):
            assert replica.get(key) is None, key


def test_every_instance_is_encrypted_with_the_database_key(any_stack: Plan) -> None:
    key_arn = any_stack.outputs["dbKmsKeyArn"]
    assert key_arn == any_stack.outputs["kmsKeyArns"]["database"]
    for instance in _instances(any_stack):
        assert instance.get("storageEncrypted") is True
        assert instance.get("kmsKeyId") == key_arn
        assert instance.get("performanceInsightsEnabled") is True
        assert instance.get("performanceInsightsKmsKeyId") == key_arn


def test_parameter_group_forces_tls_and_logs_slow_statements(any_stack: Plan) -> None:
    (group,) = any_stack.of_type(PARAMETER_GROUP)
    primary = _primary(any_stack)
    assert group.get("family") == f"postgres{primary.get('engineVersion').split('.')[0]}"
    assert group.get("family") == "postgres16"
    parameters = {p["name"]: p["value"] for p in group.get("parameters")}
    assert parameters["rds.force_ssl"] == "1"
    assert int(parameters["log_min_duration_statement"]) > 0
    assert parameters["log_connections"] == parameters["log_disconnections"] == "1"
    assert "log_statement" not in parameters  # would log passwords set by ALTER ROLE
    for instance in _instances(any_stack):
        assert instance.property_dependencies["parameterGroupName"] == [group.urn]


def test_engine_pins_the_major_and_rds_applies_minor_versions(any_stack: Plan) -> None:
    """A bare major with automatic minor upgrades: RDS's next minor never reads as a downgrade."""
    primary = _primary(any_stack)
    assert primary.get("engine") == "postgres"
    assert primary.get("engineVersion") == "16"
    assert all(i.get("autoMinorVersionUpgrade") is True for i in _instances(any_stack))
    assert primary.get("blueGreenUpdate") is None and not primary.get("allowMajorVersionUpgrade")


def test_an_explicit_minor_turns_automatic_upgrades_off_everywhere() -> None:
    plan = synth_stack("dev", database={"engineVersion": "16.11", "autoMinorVersionUpgrade": False})
    assert _primary(plan).get("engineVersion") == "16.11"
    assert all(i.get("autoMinorVersionUpgrade") is False for i in _instances(plan))


def test_master_password_is_generated_and_owned_by_the_stack(any_stack: Plan) -> None:
    """No RDS-managed password anywhere (RDS would refuse the replicas); the generated one is a
    Pulumi secret and lands in a CMK-encrypted secret of the stack."""
    primary = _primary(any_stack)
    assert primary.get("username") not in (None, "postgres", "admin")
    for instance in _instances(any_stack):
        assert instance.get("manageMasterUserPassword") is None
        assert instance.get("masterUserSecretKmsKeyId") is None
    password = _of(any_stack, RANDOM_PASSWORD, f"{any_stack.stack}-db-master-password")
    assert password.get("special") is False and password.get("length") >= 32
    assert primary.property_dependencies["password"] == [password.urn]
    assert is_secret(primary.inputs["password"])
    secret = _of(any_stack, SECRET, f"{any_stack.stack}-db-master")
    assert secret.get("kmsKeyId") == any_stack.outputs["dbKmsKeyArn"]
    assert (
        secret.property_dependencies["kmsKeyId"]
        == [
            r.urn
            for r in any_stack.of_type("aws:kms/key:Key")
            if r.get("tags.data-domain") == "database"
        ][:1]
    )
    version = _of(any_stack, SECRET_VERSION, f"{any_stack.stack}-db-master")
    assert is_secret(version.inputs["secretString"])
    assert set(version.property_dependencies["secretString"]) == {password.urn, primary.urn}
    login = json.loads(version.get("secretString"))
    assert login["username"] == primary.get("username")
    assert login["password"] == primary.get("password")
    assert login["host"] == any_stack.outputs["dbWriterAddress"]
    assert (login["port"], login["dbname"]) == (5432, primary.get("dbName"))
    assert any_stack.outputs["dbMasterSecretArn"].split(":")[6].startswith(secret.get("namePrefix"))


def test_the_crm_login_has_its_own_secret_and_alternates_on_rotation(any_stack: Plan) -> None:
    version = _of(any_stack, SECRET_VERSION, f"{any_stack.stack}-db-crm")
    secret = _of(any_stack, SECRET, f"{any_stack.stack}-db-crm")
    password = _of(any_stack, RANDOM_PASSWORD, f"{any_stack.stack}-db-crm-password")
    login = json.loads(version.get("secretString"))
    assert login["username"] == crm_login("twenty", 0) == "twenty_login_a"
    assert login["username"] != _primary(any_stack).get("username")
    assert (
        login["password"]
        != json.loads(
            _of(any_stack, SECRET_VERSION, f"{any_stack.stack}-db-master").get("secretString")
        )["password"]
    )
    assert password.get("keepers") == {"rotation": "0"}
    assert secret.get("kmsKeyId") == any_stack.outputs["dbKmsKeyArn"]
    assert any_stack.outputs["dbCrmSecretArn"].split(":")[6].startswith(secret.get("namePrefix"))
    assert any_stack.outputs["dbCrmSecretVersionId"]
    assert any_stack.outputs["dbCrmRole"] == "twenty"
    assert [crm_login("twenty", n) for n in (1, 2, 3)] == [
        "twenty_login_b",
        "twenty_login_a",
        "twenty_login_b",
    ]


def test_a_rotation_draws_a_new_password_for_the_other_login(dev: Plan) -> None:
    rotated = variant("dev", database={"crmLoginRotation": 1})
    before = json.loads(_of(dev, SECRET_VERSION, "dev-db-crm").get("secretString"))
    after = json.loads(_of(rotated, SECRET_VERSION, "dev-db-crm").get("secretString"))
    assert (before["username"], after["username"]) == ("twenty_login_a", "twenty_login_b")
    assert _of(rotated, RANDOM_PASSWORD, "dev-db-crm-password").get("keepers") == {"rotation": "1"}
    assert rotated.outputs["dbCrmSecretVersionId"] != dev.outputs["dbCrmSecretVersionId"]
    # the master login does not move
    assert _of(rotated, SECRET_VERSION, "dev-db-master").get("secretString") == _of(
        dev, SECRET_VERSION, "dev-db-master"
    ).get("secretString")


@pytest.mark.parametrize(("stack", "protected"), [("dev", False), ("prod", True)])
def test_login_secrets_are_protected_in_prod(stack, protected, request) -> None:
    plan: Plan = request.getfixturevalue(stack)
    for label in ("master", "crm"):
        secret = _of(plan, SECRET, f"{stack}-db-{label}")
        assert secret.protect is protected
        assert secret.get("recoveryWindowInDays") == (30 if protected else 7)
        assert secret.get("namePrefix") == f"{stack}-db-{label}-" and secret.get("name") is None


@pytest.mark.parametrize(
    ("stack", "retention", "protected"),
    [("dev", 1, False), ("staging", 7, False), ("prod", 14, True)],
)
def test_backups_and_deletion_safety(stack, retention, protected, request) -> None:
    plan: Plan = request.getfixturevalue(stack)
    primary = _primary(plan)
    assert primary.get("backupRetentionPeriod") == retention
    assert primary.get("deletionProtection") is protected
    assert primary.protect is protected
    assert primary.get("skipFinalSnapshot") is False
    suffix = _of(plan, "random:index/randomId:RandomId", f"{stack}-db-final-snapshot")
    assert primary.property_dependencies["finalSnapshotIdentifier"] == [suffix.urn]
    assert re.fullmatch(
        rf"{primary.get('identifier')}-final-[0-9a-f]{{8}}", primary.get("finalSnapshotIdentifier")
    )
    assert primary.get("deleteAutomatedBackups") is False
    assert primary.get("copyTagsToSnapshot") is True
    assert primary.get("backupWindow") and primary.get("maintenanceWindow")
    for replica in _replicas(plan):
        # replicas hold no data of their own and must be removable in one `pulumi up`
        assert replica.protect is False
        assert replica.get("skipFinalSnapshot") is True


def test_storage_is_gp3_with_autoscaling(any_stack: Plan) -> None:
    primary = _primary(any_stack)
    assert primary.get("maxAllocatedStorage") * 10 >= primary.get("allocatedStorage") * 11
    for instance in _instances(any_stack):
        assert instance.get("storageType") == "gp3"
        assert instance.get("maxAllocatedStorage") == primary.get("maxAllocatedStorage")


def test_instances_are_private_and_admit_only_the_workload_group(any_stack: Plan) -> None:
    group = _of(any_stack, SECURITY_GROUP, f"{any_stack.stack}-db")
    workloads = _of(any_stack, SECURITY_GROUP, f"{any_stack.stack}-net-workloads")
    (rule,) = group.get("ingress")
    assert (rule["protocol"], rule["fromPort"], rule["toPort"]) == ("tcp", 5432, 5432)
    assert len(rule["securityGroups"]) == 1
    assert group.property_dependencies["ingress"] == [workloads.urn]
    assert not rule.get("cidrBlocks") and not rule.get("ipv6CidrBlocks")
    assert group.get("egress") == []
    db_subnets = any_stack.one("aws:rds/subnetGroup:SubnetGroup")
    assert _primary(any_stack).property_dependencies["dbSubnetGroupName"] == [db_subnets.urn]
    for instance in _instances(any_stack):
        assert instance.get("publiclyAccessible") is False
        assert instance.get("iamDatabaseAuthenticationEnabled") is True
        assert instance.property_dependencies["vpcSecurityGroupIds"] == [group.urn]


def test_logs_go_to_encrypted_log_groups_created_first(any_stack: Plan) -> None:
    logs_key = any_stack.outputs["kmsKeyArns"]["logs"]
    for instance in _instances(any_stack):
        identifier = instance.get("identifier")
        assert instance.get("enabledCloudwatchLogsExports") == list(LOG_EXPORTS)
        for log in LOG_EXPORTS:
            (group,) = [
                g
                for g in any_stack.of_type(LOG_GROUP)
                if g.get("name") == f"/aws/rds/instance/{identifier}/{log}"
            ]
            assert group.get("kmsKeyId") == logs_key
            assert group.get("retentionInDays") in (30, 90, 365)
            assert group.urn in instance.dependencies


def test_enhanced_monitoring_role(any_stack: Plan) -> None:
    name = f"{any_stack.stack}-db-monitoring"
    role = _of(any_stack, "aws:iam/role:Role", name)
    attachment = _of(any_stack, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", name)
    (statement,) = json.loads(role.get("assumeRolePolicy"))["Statement"]
    assert statement["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}
    assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"
    assert attachment.get("policyArn") == (
        "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
    )
    for instance in _instances(any_stack):
        assert instance.get("monitoringInterval") == 60
        assert instance.property_dependencies["monitoringRoleArn"] == [role.urn]
        assert attachment.urn in instance.dependencies


def test_outputs_name_every_instance_and_endpoint(any_stack: Plan) -> None:
    outputs = any_stack.outputs
    primary = _primary(any_stack)
    replicas = _replicas(any_stack)
    assert (
        outputs["dbPrimaryIdentifier"]
        == primary.get("identifier")
        == f"crm-platform-{any_stack.stack}"
    )
    assert outputs["dbReplicaIdentifiers"] == [r.get("identifier") for r in replicas]
    assert outputs["dbWriterAddress"].startswith(f"{outputs['dbPrimaryIdentifier']}.")
    assert outputs["dbPort"] == 5432
    assert [e.split(".")[0] for e in outputs["dbReaderEndpoints"]] == outputs[
        "dbReplicaIdentifiers"
    ]
    assert outputs["dbDrReplicaArn"] == outputs["dbDrRegion"] == ""


def test_component_exposes_what_the_application_needs() -> None:
    built: list[Database] = []

    def build(opts):
        database = Database(
            "x",
            DatabaseArgs(
                identifier="crm-x",
                vpc_id="vpc-1",
                subnet_group_name="db-subnets",
                availability_zones=["eu-west-1a", "eu-west-1b"],
                client_security_group_ids=["sg-0123456789abcdef0"],
                kms_key_arn="arn:aws:kms:eu-west-1:123456789012:key/db",
                logs_key_arn="arn:aws:kms:eu-west-1:123456789012:key/logs",
                max_connections=394,
                instance_class="db.t4g.medium",
                read_replicas=2,
                protect=False,
            ),
            opts=opts,
        )
        built.append(database)
        return database

    plan = synth_component(build, region="eu-west-1")
    (database,) = built
    assert (database.port, database.database_name, database.master_username) == (
        5432,
        "twenty",
        "crm_admin",
    )
    assert database.max_connections == 394
    assert database.identifier == "crm-x"
    assert database.replica_identifiers == ["crm-x-replica-1", "crm-x-replica-2"]
    zones = [_of(plan, INSTANCE, f"x-replica-{n}").get("availabilityZone") for n in (1, 2)]
    assert zones == ["eu-west-1a", "eu-west-1b"]
    component = plan.one(DATABASE)
    assert all(
        r.parent == component.urn for r in plan.resources if r.custom and r.type != AWS_PROVIDER
    )


def test_dr_replica_lives_in_the_dr_region_with_its_own_keys(with_dr: Plan) -> None:
    providers = {p.name: p for p in with_dr.of_type(AWS_PROVIDER)}
    dr_provider = providers["aws-prod-dr"]
    assert dr_provider.get("region") == "eu-west-1"
    assert dr_provider.get("defaultTags") == providers["aws-prod"].get("defaultTags")
    dr = _of(with_dr, INSTANCE, "prod-db-dr")
    assert dr.provider == dr_provider.urn
    assert (
        dr.get("replicateSourceDb") == "arn:aws:rds:eu-central-1:123456789012:db:crm-platform-prod"
    )
    assert dr.property_dependencies["replicateSourceDb"] == [_primary(with_dr).urn]
    dr_keys = {
        key.get("tags.data-domain"): key
        for key in with_dr.of_type("aws:kms/key:Key")
        if key.provider == dr_provider.urn
    }
    assert set(dr_keys) == {"database", "logs"}
    assert dr.property_dependencies["kmsKeyId"] == [dr_keys["database"].urn]
    assert dr.get("kmsKeyId").startswith("arn:aws:kms:eu-west-1:")
    assert dr.get("performanceInsightsKmsKeyId") == dr.get("kmsKeyId")
    assert dr.get("dbSubnetGroupName") == "crm-dr-isolated"
    assert dr.get("vpcSecurityGroupIds") == ["sg-0123456789abcdef0"]
    assert dr.protect is False and dr.get("skipFinalSnapshot") is True
    (dr_group,) = [g for g in with_dr.of_type(PARAMETER_GROUP) if g.provider == dr_provider.urn]
    assert dr.property_dependencies["parameterGroupName"] == [dr_group.urn]
    assert {p["name"]: p["value"] for p in dr_group.get("parameters")}["rds.force_ssl"] == "1"
    dr_logs = [g for g in with_dr.of_type(LOG_GROUP) if g.provider == dr_provider.urn]
    assert sorted(g.get("name") for g in dr_logs) == [
        f"/aws/rds/instance/crm-platform-prod-dr/{log}" for log in sorted(LOG_EXPORTS)
    ]
    assert all(g.property_dependencies["kmsKeyId"] == [dr_keys["logs"].urn] for g in dr_logs)
    assert with_dr.outputs["dbDrRegion"] == "eu-west-1"
    assert with_dr.outputs["dbDrReplicaArn"].startswith("arn:aws:rds:eu-west-1:")
    # the in-region readers are unchanged and stay on the stack's provider
    assert with_dr.outputs["dbReplicaIdentifiers"] == [
        "crm-platform-prod-replica-1",
        "crm-platform-prod-replica-2",
    ]
    assert all(r.provider == providers["aws-prod"].urn for r in _replicas(with_dr))


def test_blue_green_major_upgrade_path() -> None:
    """The documented procedure's last step: a new major through a Blue/Green deployment. The
    component takes any major; the settings admit a new one once Twenty supports it."""

    def build(opts):
        return Database(
            "bg",
            DatabaseArgs(
                identifier="crm-bg",
                vpc_id="vpc-1",
                subnet_group_name="db-subnets",
                availability_zones=["eu-west-1a"],
                client_security_group_ids=["sg-0123456789abcdef0"],
                kms_key_arn="arn:aws:kms:eu-west-1:123456789012:key/db",
                logs_key_arn="arn:aws:kms:eu-west-1:123456789012:key/logs",
                max_connections=394,
                engine_version="17",
                blue_green_updates=True,
                read_replicas=1,
                protect=False,
            ),
            opts=opts,
        )

    plan = synth_component(build, region="eu-west-1")
    primary = _of(plan, INSTANCE, "bg-primary")
    assert primary.get("blueGreenUpdate") == {"enabled": True}
    assert primary.get("allowMajorVersionUpgrade") is True
    assert primary.get("engineVersion") == "17"
    (group,) = plan.of_type(PARAMETER_GROUP)
    assert group.get("family") == "postgres17"
    logical = {p["name"]: p for p in group.get("parameters")}["rds.logical_replication"]
    assert (logical["value"], logical["applyMethod"]) == ("1", "pending-reboot")
    assert _of(plan, INSTANCE, "bg-replica-1").get("blueGreenUpdate") is None
