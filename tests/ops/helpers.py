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


def deploy_stack(stack: str, *, replica_zones: tuple[str, ...] = ("b", "c")) -> dict[str, Any]:
    """Create in moto what a healthy deployed stack has, and return its stack outputs."""
    db_key, cluster_key, storage_key = kms_key(), kms_key(), kms_key()
    rds = boto3.client("rds", region_name=REGION)
    primary = f"crm-{stack}-db"
    rds.create_db_instance(
        DBInstanceIdentifier=primary,
        DBInstanceClass="db.r6g.large",
        Engine="postgres",
        EngineVersion="16.4",
        MasterUsername="crm",
        MasterUserPassword="not-a-real-password",
        AllocatedStorage=100,
        MultiAZ=True,
        StorageEncrypted=True,
        KmsKeyId=db_key,
        AvailabilityZone=f"{REGION}a",
        BackupRetentionPeriod=1,
        Tags=[{"Key": "project", "Value": "crm-platform"}],
    )
    replicas = []
    for number, zone in enumerate(replica_zones, start=1):
        replica = f"{primary}-replica-{number}"
        rds.create_db_instance_read_replica(
            DBInstanceIdentifier=replica,
            SourceDBInstanceIdentifier=primary,
            AvailabilityZone=f"{REGION}{zone}",
        )
        replicas.append(replica)
    cluster = f"crm-{stack}"
    boto3.client("eks", region_name=REGION).create_cluster(
        name=cluster,
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks",
        resourcesVpcConfig={"subnetIds": []},
        encryptionConfig=[{"resources": ["secrets"], "provider": {"keyArn": cluster_key}}],
    )
    s3 = boto3.client("s3", region_name=REGION)
    bucket = f"crm-{stack}-attachments"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": storage_key,
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    return {
        "region": REGION,
        "allowedRegions": ["eu-central-1", "eu-west-1"],
        "vpcId": "vpc-0123456789abcdef0",
        "dbPrimaryIdentifier": primary,
        "dbReplicaIdentifiers": replicas,
        "dbKmsKeyArn": db_key,
        "dbWriterEndpoint": f"{primary}.example.eu-central-1.rds.amazonaws.com",
        "clusterName": cluster,
        "clusterSecretsKeyArn": cluster_key,
        "attachmentsBucketName": bucket,
        "storageKmsKeyArn": storage_key,
        "crmVersion": "v1.2.2",
    }


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
        state = self.state
        state["stacks"][name] = {"outputs": outputs, "config": config or {}}
        self.set_state(state)

    def fail(self, verb: str, stderr: str, stdout: str = "") -> None:
        state = self.state
        state["fail"][verb] = {"stderr": stderr, "stdout": stdout}
        self.set_state(state)

    def calls(self) -> list[dict[str, Any]]:
        log = self.root / "calls.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def verbs(self) -> list[str]:
        """Each call as 'verb stack', e.g. 'config set prod', 'up prod'."""
        names = []
        for call in self.calls():
            argv = call["argv"]
            verb = argv[0] if argv[0] not in ("stack", "config") else " ".join(argv[:2])
            stack = argv[argv.index("--stack") + 1] if "--stack" in argv else ""
            names.append(f"{verb} {stack}".strip())
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
