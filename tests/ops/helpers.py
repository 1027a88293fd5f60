"""Helpers for the ops tests: a deployed-looking stack in moto, the Pulumi stand-in's
record, and the assertion every user-facing failure must meet."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from typer.testing import Result

from stacks.offline import Plan
from stacks.offline.model import redact

REGION = "eu-central-1"
ACCOUNT = "123456789012"


def flat(output: str) -> str:
    """CLI output without table borders and line breaks, for phrase assertions."""
    return " ".join(re.sub(r"[│┃]", " ", output).split())


def assert_clean_failure(result: Result, code: int, *fragments: str) -> None:
    """A user-facing failure: expected exit code, the message, and no traceback."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    text = flat(result.output)
    for fragment in fragments:
        assert fragment in text, result.output


def kms_key(region: str = REGION) -> str:
    return boto3.client("kms", region_name=region).create_key()["KeyMetadata"]["Arn"]


def _replace(value: Any, mapping: dict[str, str]) -> Any:
    if isinstance(value, str):
        return mapping.get(value, value)
    if isinstance(value, list):
        return [_replace(item, mapping) for item in value]
    if isinstance(value, dict):
        return {key: _replace(item, mapping) for key, item in value.items()}
    return value


KEY_OUTPUTS = ("dbKmsKeyArn", "clusterSecretsKeyArn", "storageKmsKeyArn")


def _real_keys(plan: Plan) -> dict[str, str]:
    """A moto KMS key for each key the checked resources use (moto picks key ids itself)."""
    arns = sorted({plan.outputs[name] for name in KEY_OUTPUTS})
    return {arn: kms_key(plan.outputs["region"]) for arn in arns}


def _deploy_parameter_groups(plan: Plan, rds) -> None:
    """The stack's parameter groups (TLS required) under the names the instances use."""
    home = plan.named(f"aws-{plan.stack}").urn
    used = {r.get("parameterGroupName") for r in plan.of_type("aws:rds/instance:Instance")}
    for group in plan.of_type("aws:rds/parameterGroup:ParameterGroup"):
        if group.provider != home:
            continue
        name = next(n for n in used if n and n.startswith(group.name))
        rds.create_db_parameter_group(
            DBParameterGroupName=name,
            DBParameterGroupFamily=group.get("family"),
            Description=group.get("description"),
        )
        rds.modify_db_parameter_group(
            DBParameterGroupName=name,
            Parameters=[
                {
                    "ParameterName": p["name"],
                    "ParameterValue": p["value"],
                    "ApplyMethod": "immediate",
                }
                for p in group.get("parameters")
            ],
        )


def _deploy_database(plan: Plan, keys: dict[str, str]) -> None:
    rds = boto3.client("rds", region_name=plan.outputs["region"])
    _deploy_parameter_groups(plan, rds)
    instances = plan.of_type("aws:rds/instance:Instance")
    for db in (r for r in instances if not r.get("replicateSourceDb")):
        rds.create_db_instance(
            DBParameterGroupName=db.get("parameterGroupName"),
            DBInstanceIdentifier=db.get("identifier"),
            DBInstanceClass=db.get("instanceClass"),
            Engine=db.get("engine"),
            EngineVersion=db.get("engineVersion"),
            MasterUsername=db.get("username"),
            MasterUserPassword="not-a-real-password",
            AllocatedStorage=int(db.get("allocatedStorage")),
            MultiAZ=bool(db.get("multiAz")),
            StorageEncrypted=bool(db.get("storageEncrypted")),
            KmsKeyId=keys[db.get("kmsKeyId")],
            BackupRetentionPeriod=int(db.get("backupRetentionPeriod")),
            DeletionProtection=bool(db.get("deletionProtection")),
            Tags=[{"Key": "project", "Value": "crm-platform"}],
        )
    for replica in (r for r in instances if r.get("replicateSourceDb")):
        if replica.provider != plan.named(f"aws-{plan.stack}").urn:
            continue  # a DR copy in another region: not an in-region replica
        rds.create_db_instance_read_replica(
            DBInstanceIdentifier=replica.get("identifier"),
            SourceDBInstanceIdentifier=replica.get("replicateSourceDb"),
            DBInstanceClass=replica.get("instanceClass"),
            AvailabilityZone=replica.get("availabilityZone"),
        )


def _deploy_cluster(plan: Plan, keys: dict[str, str]) -> None:
    cluster = plan.one("aws:eks/cluster:Cluster")
    boto3.client("eks", region_name=plan.outputs["region"]).create_cluster(
        name=cluster.get("name"),
        version=cluster.get("version"),
        roleArn=cluster.get("roleArn"),
        resourcesVpcConfig={"subnetIds": []},
        encryptionConfig=[_replace(cluster.get("encryptionConfig"), keys)],  # one in Pulumi
        tags={"project": "crm-platform"},
    )


def _deploy_bucket(plan: Plan, keys: dict[str, str]) -> None:
    bucket = plan.outputs["attachmentsBucketName"]
    region = plan.outputs["region"]
    s3 = boto3.client("s3", region_name=region)
    location = {} if region == "us-east-1" else {"LocationConstraint": region}
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration=location)
    for resource in plan.resources:
        if resource.get("bucket") != bucket:
            continue
        kind = resource.type.split(":")[1]
        if kind == "s3/bucketServerSideEncryptionConfiguration":
            rules = _replace(resource.get("rules"), keys)
            config = _as_api(
                {"rules": rules}, "PutBucketEncryption", "ServerSideEncryptionConfiguration"
            )
            s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=config)
        if kind == "s3/bucketPublicAccessBlock":
            inputs = {key: value for key, value in resource.inputs.items() if key != "bucket"}
            config = _as_api(inputs, "PutPublicAccessBlock", "PublicAccessBlockConfiguration")
            s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=config)


def _as_api(value: Any, operation: str, member: str) -> Any:
    """Pulumi's camelCase inputs under the names of botocore's S3 model for `operation`."""
    shape = boto3.client("s3").meta.service_model.operation_model(operation).input_shape
    return _shaped(value, shape.members[member])


def _shaped(value: Any, shape) -> Any:
    if shape.type_name == "structure" and isinstance(value, list):  # Pulumi flattens a wrapper
        (only,) = shape.members
        return {only: _shaped(value, shape.members[only])}
    if shape.type_name == "structure":
        names = {name.lower(): name for name in shape.members}
        return {
            names[key.lower()]: _shaped(item, shape.members[names[key.lower()]])
            for key, item in value.items()
            if key.lower() in names
        }
    if shape.type_name == "list":
        return [_shaped(item, shape.member) for item in value]
    return value


def _deploy_login_secrets(plan: Plan, keys: dict[str, str]) -> dict[str, str]:
    """The master and CRM login secrets under the database key; returns the stack's ARNs and
    version id → moto's."""
    secrets = boto3.client("secretsmanager", region_name=plan.outputs["region"])
    real: dict[str, str] = {}
    for output in ("dbMasterSecretArn", "dbCrmSecretArn"):
        arn = plan.outputs[output]
        (secret,) = [s for s in plan.of_type("aws:secretsmanager/secret:Secret")
                     if arn.split(":")[6].startswith(s.get("namePrefix"))]  # fmt: skip
        created = secrets.create_secret(
            Name=arn.split(":")[6], KmsKeyId=keys[secret.get("kmsKeyId")], SecretString="{}"
        )
        real[arn] = created["ARN"]
        if output == "dbCrmSecretArn":
            real[plan.outputs["dbCrmSecretVersionId"]] = created["VersionId"]
    return real


def deploy_plan(plan: Plan) -> dict[str, Any]:
    """Create in moto what the synthesized `plan` deploys (its RDS instances, EKS cluster,
    attachments bucket and database login secrets, with their inputs), and return its stack
    outputs with moto's key and secret ARNs."""
    keys = _real_keys(plan)
    _deploy_database(plan, keys)
    _deploy_cluster(plan, keys)
    _deploy_bucket(plan, keys)
    keys |= _deploy_login_secrets(plan, keys)
    outputs = _replace(redact(plan.outputs), keys)
    outputs.pop("kubeconfig", None)
    return outputs


@dataclass
class FakePulumi:
    """The stand-in CLI under `root`, a project directory, and what the CLI was asked."""

    root: Path
    project: Path

    @property
    def state(self) -> dict[str, Any]:
        return json.loads((self.root / "state.json").read_text())

    def set_state(self, state: dict[str, Any]) -> None:
        (self.root / "state.json").write_text(json.dumps(state))

    def add_stack(self, name: str, outputs: dict[str, Any], config: dict | None = None) -> None:
        """`name` is `prod` for the platform stack, `workloads/prod` for the workloads stack."""
        state = self.state
        state["stacks"][name] = {"outputs": outputs, "config": config or {}}
        self.set_state(state)

    def fail(self, verb: str, stderr: str, stdout: str = "") -> None:
        """Make every `verb` (e.g. 'up') or one stack's (e.g. 'up prod') fail."""
        state = self.state
        state["fail"][verb] = {"stderr": stderr, "stdout": stdout}
        self.set_state(state)

    def calls(self) -> list[dict[str, Any]]:
        log = self.root / "calls.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def verbs(self) -> list[str]:
        """Each call as 'verb stack', e.g. 'config set prod' (platform), 'up workloads/prod'."""
        names = []
        for call in self.calls():
            argv = call["argv"]
            verb = argv[0] if argv[0] not in ("stack", "config") else " ".join(argv[:2])
            names.append(f"{verb} {call['stack'] or ''}".strip())
        return names


def limited_credentials(monkeypatch, *actions: str) -> None:
    """Switch to an IAM user allowed only `actions`; enforce with moto's
    enable_iam_authentication()."""
    iam = boto3.client("iam")
    iam.create_user(UserName="limited")
    statement = {"Effect": "Allow", "Action": list(actions), "Resource": "*"}
    iam.put_user_policy(
        UserName="limited",
        PolicyName="limited",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
    )
    key = iam.create_access_key(UserName="limited")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])


def pulumi_args(fake: FakePulumi) -> list[str]:
    return ["--work-dir", str(fake.project), "--pulumi-root", str(fake.root)]
