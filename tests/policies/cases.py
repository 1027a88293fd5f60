"""The case table: for every policy, stacks that violate it and stacks that comply.

The first resource of a case is its subject: a violating case must produce a finding of the
policy on that resource whose message contains `needle`; a compliant case must produce no finding
of the policy at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .fixtures import (
    ACCOUNT,
    ADMIN,
    ADMIN_STATEMENT,
    ALB,
    AWS_PROVIDER,
    DELETE,
    DESCRIBE_ANYTHING,
    IRSA_TRUST,
    K8S_PROVIDER,
    KEY_ARN,
    MASTER_PASSWORD,
    PSA,
    REGION,
    UNKNOWN,
    VIA_SERVICE_STATEMENT,
    app_secret,
    backup_plan,
    backup_selection,
    backup_vault,
    bucket,
    bucket_logging,
    bucket_part,
    bucket_policy,
    cache,
    change,
    cluster_in,
    container,
    db_primary,
    db_replica,
    deployment,
    eks_cluster,
    flow_log,
    helm_release,
    hpa,
    ingress,
    instance,
    job,
    k8s_provider_for,
    kms_key,
    launch_template,
    listener,
    load_balancer,
    locked_bucket,
    log_bucket,
    log_group,
    master_secret,
    master_secret_version,
    namespace,
    node_group,
    ownership,
    parameter_group,
    pod_spec,
    policy_json,
    private_subnet,
    public_access_block,
    rds_managed_primary,
    resource,
    role,
    rotation,
    route_table,
    secret,
    security_group,
    service,
    sse,
    stack_owned_master_secret,
    target_group_binding,
    topic,
    vault_lock,
    versioning,
    vpc,
    vpc_endpoint,
    waf_association,
    with_timeout,
    world_https,
)


@dataclass(frozen=True)
class Case:
    policy: str
    compliant: bool
    label: str
    resources: list[dict[str, Any]]
    needle: str = ""
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.policy}:{'ok' if self.compliant else 'bad'}:{self.label}"


CASES: list[Case] = []


def ok(policy: str, label: str, *resources: dict[str, Any], config: dict | None = None) -> None:
    CASES.append(Case(policy, True, label, list(resources), config=config or {}))


def bad(
    policy: str, label: str, needle: str, *resources: dict[str, Any], config: dict | None = None
) -> None:
    CASES.append(Case(policy, False, label, list(resources), needle, config or {}))


def sources(port: int, *cidrs: str, v6: bool = False) -> list[dict[str, Any]]:
    key = "ipv6CidrBlocks" if v6 else "cidrBlocks"
    rule = {"protocol": "tcp", "fromPort": port, "toPort": port, key: list(cidrs)}
    return [{**rule, "description": "partners"}]


def ingress_rule(group: dict[str, Any], cidr: str, name: str = "a") -> dict[str, Any]:
    """A standalone ingress rule of `group` on PostgreSQL's port."""
    props = {
        "securityGroupId": UNKNOWN,
        "ipProtocol": "tcp",
        "fromPort": 5432,
        "toPort": 5432,
        "cidrIpv4": cidr,
        "description": "partner",
    }
    kind = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
    return resource(kind, f"rule-{name}", props, deps={"securityGroupId": [group]})


def replace_pod(**paths: Any) -> dict[str, Any]:
    return deployment(spec=pod_spec(**paths))


def with_container(**paths: Any) -> dict[str, Any]:
    return deployment(spec=pod_spec(containers=[container(**paths)]))


# --- residency ---------------------------------------------------------------------------------
P = "residency-region-allowlist"
ok(P, "provider region", db_primary())
ok(P, "own region", db_primary(region="eu-west-1"))
ok(
    P,
    "global service",
    resource(
        "aws:iam/role:Role",
        "r",
        {"assumeRolePolicy": IRSA_TRUST},
        provider=change(AWS_PROVIDER, region="us-east-1"),
    ),
)
ok(P, "not aws", deployment())
bad(P, "own region", '"us-east-1"', db_primary(region="us-east-1"))
bad(P, "provider", "us-east-1", change(AWS_PROVIDER, region="us-east-1"))

P = "residency-copy-destinations"
primary = db_primary()
ok(P, "same-region replica", db_replica(primary), primary)
ok(
    P,
    "in-region replica source ARN",
    db_replica(primary, replicateSourceDb="arn:aws:rds:eu-west-1:111122223333:db:crm-db"),
)
bad(
    P,
    "cross-region replica",
    "replicateSourceDb",
    db_replica(primary, replicateSourceDb="arn:aws:rds:us-east-1:111122223333:db:crm-db"),
)
secret_replicas = [{"region": "eu-west-1", "kmsKeyId": KEY_ARN.replace("central", "west")}]
ok(P, "secret replicas", app_secret(replicas=secret_replicas))
bad(
    P,
    "secret replica region",
    "replicas[0].region",
    app_secret(replicas=[{"region": "us-west-2", "kmsKeyId": "alias/x"}]),
)

P = "residency-s3-replication"
source, target = bucket("source"), bucket("replica", region="eu-west-1")
rules = [{"status": "Enabled", "destination": {"bucket": UNKNOWN}}]
replication_kind = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"


def replication(destination: dict[str, Any]) -> dict[str, Any]:
    props = {"bucket": "crm-source", "role": "arn:aws:iam::111122223333:role/r", "rules": rules}
    deps = {"bucket": [source], "rules": [destination]}
    return resource(replication_kind, "replication", props, deps=deps)


ok(P, "in-stack destination", replication(target), source, target)
forbidden = bucket("replica", region="us-east-1")
bad(P, "destination region", "us-east-1", replication(forbidden), source, forbidden)
external = change(
    replication(target),
    rules=[{"status": "Enabled", "destination": {"bucket": "arn:aws:s3:::someone-elses-bucket"}}],
)
external["property_dependencies"] = {"bucket": [source["urn"]]}
bad(P, "external destination", "someone-elses-bucket", external, source)

# --- network -----------------------------------------------------------------------------------
P = "vpc-flow-logs"
network = vpc()
ok(P, "ALL flow log", network, flow_log(network))
bad(P, "no flow log", "no aws:ec2/flowLog:FlowLog", network)
bad(P, "REJECT only", '"REJECT"', network, flow_log(network, trafficType="REJECT"))

P = "default-security-group-closed"
default_sg = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
ok(P, "empty", resource(default_sg, "default", {"vpcId": "vpc-1", "ingress": [], "egress": []}))
bad(
    P,
    "ingress",
    "ingress",
    resource(
        default_sg,
        "default",
        {
            "vpcId": "vpc-1",
            "ingress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}],
        },
    ),
)

P = "subnet-no-public-ip-on-launch"
subnet = "aws:ec2/subnet:Subnet"
ok(P, "private", resource(subnet, "private-a", {"vpcId": "vpc-1", "mapPublicIpOnLaunch": False}))
bad(
    P,
    "public IPs",
    "mapPublicIpOnLaunch",
    resource(subnet, "public-a", {"vpcId": "vpc-1", "mapPublicIpOnLaunch": True}),
)

P = "security-group-no-world-ingress"
lb_tag = {"crm-platform:role": "load-balancer"}
ok(P, "VPC-only", security_group())
ok(P, "tagged LB 443", security_group("web", ingress=world_https(), tags=lb_tag))
ok(
    P,
    "named LB rule",
    resource(
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        "alb-https",
        {
            "type": "ingress",
            "securityGroupId": "sg-1",
            "protocol": "tcp",
            "fromPort": 443,
            "toPort": 443,
            "cidrBlocks": ["0.0.0.0/0"],
            "description": "HTTPS",
        },
    ),
)
bad(P, "world 443 untagged", "0.0.0.0/0", security_group("web", ingress=world_https()))
bad(
    P,
    "tagged LB but 5432",
    "5432",
    security_group("web", ingress=world_https(port=5432), tags=lb_tag),
)
bad(
    P,
    "ingress rule all ports",
    "all ports",
    resource(
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "open",
        {"securityGroupId": "sg-1", "ipProtocol": "-1", "cidrIpv6": "::/0", "description": "x"},
    ),
)

ok(P, "a private /8", security_group(ingress=sources(5432, "10.0.0.0/8", "172.16.0.0/12")))
ok(P, "a public /9 is below the threshold", security_group(ingress=sources(5432, "8.0.0.0/9")))
bad(
    P,
    "internet split in halves",
    "128.0.0.0/1",
    security_group(ingress=sources(5432, "0.0.0.0/1", "128.0.0.0/1")),
)
bad(
    P,
    "a /8 worth of public blocks",
    "44.128.0.0/9",
    security_group(ingress=sources(22, "44.0.0.0/9", "44.128.0.0/9")),
)
bad(P, "IPv6 halves", "8000::/1", security_group(ingress=sources(22, "::/1", "8000::/1", v6=True)))
bad(P, "not a CIDR fails closed", "everyone", security_group(ingress=sources(22, "everyone")))

P = "security-group-public-address-space"
ok(P, "VPC-only", security_group())
ok(P, "load balancer 443", security_group("web", ingress=world_https(), tags=lb_tag))
ok(
    P,
    "private rules",
    (group := security_group()),
    ingress_rule(group, "10.0.0.0/9"),
    ingress_rule(group, "10.128.0.0/9", "b"),
)
bad(
    P,
    "public /9s split over rule resources",
    "44.128.0.0/9",
    (group := security_group()),
    ingress_rule(group, "44.0.0.0/9"),
    ingress_rule(group, "44.128.0.0/9", "b"),
)

P = "security-group-descriptions"
ok(P, "described", security_group())
bad(P, "default description", "description", security_group(description="Managed by Pulumi"))
bad(
    P,
    "rule",
    "egress[0]",
    security_group(
        egress=[{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}]
    ),
)

# --- compute -----------------------------------------------------------------------------------
P = "ec2-imdsv2-required"
ok(P, "required", launch_template())
ok(
    P,
    "hop 2 allowed by config",
    launch_template(metadataOptions__httpPutResponseHopLimit=2),
    config={P: {"maxHopLimit": 2}},
)
bad(P, "optional tokens", "httpTokens", launch_template(metadataOptions__httpTokens="optional"))
bad(
    P,
    "hop limit",
    "httpPutResponseHopLimit",
    launch_template(metadataOptions__httpPutResponseHopLimit=3),
    config={P: {"maxHopLimit": 2}},
)
bad(P, "instance without options", "httpTokens", instance(metadataOptions=DELETE))

P = "ec2-ebs-encrypted"
ok(P, "launch template", launch_template())
ok(P, "instance", instance())
bad(
    P,
    "unencrypted",
    "encrypted",
    launch_template(
        blockDeviceMappings=[{"deviceName": "/dev/xvda", "ebs": {"encrypted": "false"}}]
    ),
)
bad(P, "no mappings", "blockDeviceMappings", launch_template(blockDeviceMappings=DELETE))
bad(P, "AWS-managed key", "kmsKeyId", instance(rootBlockDevice={"encrypted": True}))

P = "ec2-no-public-ip"
ok(P, "private", launch_template())
bad(
    P,
    "launch template",
    "associatePublicIpAddress",
    launch_template(networkInterfaces=[{"associatePublicIpAddress": "true"}]),
)
bad(P, "instance", "associatePublicIpAddress", instance(associatePublicIpAddress=True))

# --- KMS ---------------------------------------------------------------------------------------
P = "kms-key-rotation"
ok(P, "rotating", kms_key())
ok(
    P,
    "asymmetric",
    kms_key(customerMasterKeySpec="RSA_2048", keyUsage="SIGN_VERIFY", enableKeyRotation=DELETE),
)
bad(P, "off", "enableKeyRotation", kms_key(enableKeyRotation=False))
bad(P, "period", "rotationPeriodInDays", kms_key(rotationPeriodInDays=730))

P = "kms-no-lockout-bypass"
ok(P, "default", kms_key())
bad(P, "bypass", "bypassPolicyLockoutSafetyCheck", kms_key(bypassPolicyLockoutSafetyCheck=True))

P = "kms-policy-no-public-principal"
ok(P, "scoped", kms_key())
public = dict(VIA_SERVICE_STATEMENT, Condition={"StringEquals": {"kms:ViaService": "s3.x"}})
bad(
    P,
    "wildcard without account",
    "Statement[1]",
    kms_key(policy=policy_json(ADMIN_STATEMENT, public)),
)
bad(P, "not JSON", "cannot be checked", kms_key(policy="{not json"))

P = "kms-deletion-window"
ok(P, "30 days", kms_key())
ok(P, "default", kms_key(deletionWindowInDays=DELETE))
bad(P, "7 days", "deletionWindowInDays", kms_key(deletionWindowInDays=7))

# --- RDS ---------------------------------------------------------------------------------------
P = "rds-storage-encrypted"
ok(P, "primary", db_primary())
ok(P, "replica inherits", db_replica(primary), primary)
bad(P, "unencrypted", "storageEncrypted", db_primary(storageEncrypted=False))

P = "rds-customer-managed-key"
ok(P, "CMK", db_primary())
bad(P, "default key", "kmsKeyId", db_primary(kmsKeyId=DELETE))
bad(
    P,
    "cross-region replica",
    "kmsKeyId",
    db_replica(primary, replicateSourceDb="arn:aws:rds:eu-west-1:111122223333:db:crm-db"),
)

P = "rds-no-public-access"
ok(P, "private", db_primary())
bad(P, "public", "publiclyAccessible", db_primary(publiclyAccessible=True))

P = "rds-subnet-group"
ok(P, "dedicated", db_primary())
ok(P, "computed name", db_primary(dbSubnetGroupName=UNKNOWN))
bad(P, "missing", "dbSubnetGroupName", db_primary(dbSubnetGroupName=DELETE))
bad(P, "default", "dbSubnetGroupName", db_primary(dbSubnetGroupName="default"))

P = "rds-multi-az"
ok(P, "multi-AZ", db_primary())
bad(P, "single-AZ", "multiAz", db_primary(multiAz=False))

P = "rds-read-replicas"
ok(P, "one replica", primary, db_replica(primary))
bad(P, "none", "read replica", db_primary())
bad(P, "too few", "at least 2", primary, db_replica(primary), config={P: {"minReplicas": 2}})

P = "rds-backup-retention"
ok(P, "14 days", db_primary())
ok(P, "replica skipped", db_replica(primary), primary)
bad(P, "unset", "AWS default 1 day", db_primary(backupRetentionPeriod=DELETE))
bad(P, "short", "backupRetentionPeriod", db_primary(backupRetentionPeriod=3))

P = "rds-deletion-protection"
ok(P, "protected", db_primary())
bad(P, "off", "deletionProtection", db_primary(deletionProtection=False))
bad(P, "no final snapshot", "skipFinalSnapshot", db_primary(skipFinalSnapshot=True))

P = "rds-iam-authentication"
ok(P, "on", db_primary())
bad(
    P, "off", "iamDatabaseAuthenticationEnabled", db_primary(iamDatabaseAuthenticationEnabled=False)
)

P = "rds-log-exports"
ok(P, "postgres", db_primary())
ok(P, "replica without engine", db_replica(primary), primary)
bad(P, "missing upgrade", '"upgrade"', db_primary(enabledCloudwatchLogsExports=["postgresql"]))

P = "rds-force-tls"
ok(P, "parameter group", parameter_group())
ok(P, "instance", db_primary())
bad(
    P,
    "force_ssl 0",
    "rds.force_ssl",
    parameter_group(parameters=[{"name": "rds.force_ssl", "value": "0"}]),
)
bad(P, "no parameters", "rds.force_ssl", parameter_group(parameters=DELETE))
bad(P, "default group", "parameterGroupName", db_primary(parameterGroupName="default.postgres16"))

P = "rds-auto-minor-version-upgrade"
ok(P, "on", db_primary())
bad(P, "off", "autoMinorVersionUpgrade", db_primary(autoMinorVersionUpgrade=False))

P = "rds-enhanced-monitoring"
ok(P, "60s", db_primary())
bad(P, "off", "monitoringInterval", db_primary(monitoringInterval=0))
bad(P, "no role", "monitoringRoleArn", db_primary(monitoringRoleArn=DELETE))

P = "rds-performance-insights-cmk"
ok(P, "CMK", db_primary())
ok(P, "disabled", db_primary(performanceInsightsEnabled=False, performanceInsightsKmsKeyId=DELETE))
bad(P, "default key", "performanceInsightsKmsKeyId", db_primary(performanceInsightsKmsKeyId=DELETE))

P = "rds-copy-tags-to-snapshot"
ok(P, "on", db_primary())
bad(P, "off", "copyTagsToSnapshot", db_primary(copyTagsToSnapshot=False))

P = "rds-no-literal-password"
ok(P, "stack-owned secret", db_primary(), *stack_owned_master_secret())
ok(P, "known Pulumi secret", db_primary(password=secret("correct-horse-battery")))
ok(P, "RDS-managed", rds_managed_primary())
bad(P, "plaintext", "plain (non-secret)", db_primary(password="correct-horse-battery"))
bad(
    P,
    "plaintext cluster password",
    "masterPassword",
    resource(
        "aws:rds/cluster:Cluster",
        "aurora",
        {"engine": "aurora-postgresql", "masterUsername": "crm", "masterPassword": "hunter2-x"},
    ),
)

P = "rds-master-secret-cmk"
ok(P, "stack-owned CMK secret", db_primary(), *stack_owned_master_secret())
ok(P, "RDS-managed with a CMK", rds_managed_primary())
ok(P, "replica", db_replica(db_primary()), db_primary(), *stack_owned_master_secret())
bad(P, "stored nowhere", "no aws:secretsmanager/secretVersion", db_primary(), MASTER_PASSWORD)
bad(
    P,
    "secret under the AWS key",
    "kmsKeyId unset",
    db_primary(),
    MASTER_PASSWORD,
    (stored := master_secret(kmsKeyId=DELETE)),
    master_secret_version(stored),
)
bad(
    P,
    "secret outside the stack",
    "names no aws:secretsmanager/secret:Secret",
    db_primary(),
    MASTER_PASSWORD,
    change(master_secret_version(master_secret()), secretId=f"{KEY_ARN}-elsewhere"),
)
bad(
    P,
    "unrelated secret",
    "no aws:secretsmanager/secretVersion",
    db_primary(),
    MASTER_PASSWORD,
    master_secret(),
    master_secret_version(master_secret(), source=app_secret()),
)
bad(
    P,
    "RDS-managed under the AWS key",
    "masterUserSecretKmsKeyId",
    rds_managed_primary(masterUserSecretKmsKeyId=DELETE),
)

P = "rds-replica-of-managed-password-source"
ok(P, "stack-owned password", db_replica(db_primary()), db_primary(), *stack_owned_master_secret())
ok(
    P,
    "SQL Server source",
    db_replica(sqlserver := rds_managed_primary(engine="sqlserver-se")),
    sqlserver,
)
bad(
    P,
    "managed source",
    '"Limitations for Secrets Manager integration with Amazon RDS"',
    db_replica(rds_managed_primary()),
    rds_managed_primary(),
)

P = "rds-custom-admin-username"
ok(P, "custom", db_primary())
bad(P, "postgres", '"postgres"', db_primary(username="postgres"))

# --- ElastiCache -------------------------------------------------------------------------------
P = "elasticache-encryption"
ok(P, "encrypted", cache())
bad(P, "no transit", "transitEncryptionEnabled", cache(transitEncryptionEnabled=False))
bad(P, "preferred", "transitEncryptionMode", cache(transitEncryptionMode="preferred"))
bad(P, "no at-rest", "atRestEncryptionEnabled", cache(atRestEncryptionEnabled=DELETE))
bad(P, "default key", "kmsKeyId", cache(kmsKeyId=DELETE))

P = "elasticache-auth"
ok(P, "token", cache())
ok(P, "RBAC", cache(authToken=DELETE, userGroupIds=["crm-users"]))
bad(P, "none", "authToken", cache(authToken=DELETE))

P = "elasticache-high-availability"
ok(P, "two nodes", cache())
ok(P, "cluster mode", cache(numCacheClusters=DELETE, numNodeGroups=2, replicasPerNodeGroup=1))
bad(P, "single node", "node(s)", cache(numCacheClusters=1))
bad(P, "no failover", "automaticFailoverEnabled", cache(automaticFailoverEnabled=False))

P = "elasticache-backups"
ok(P, "7 days", cache())
bad(P, "off", "snapshotRetentionLimit", cache(snapshotRetentionLimit=0))

P = "elasticache-subnet-group"
ok(P, "dedicated", cache())
bad(P, "default", "subnetGroupName", cache(subnetGroupName="default"))

P = "elasticache-auto-minor-upgrade"
ok(P, "on", cache())
bad(P, "off", "autoMinorVersionUpgrade", cache(autoMinorVersionUpgrade=False))

# --- S3 ----------------------------------------------------------------------------------------
attachments = bucket()
logs = log_bucket()

P = "s3-public-access-block"
ok(P, "all four", public_access_block(attachments))
bad(
    P,
    "one off",
    "restrictPublicBuckets",
    public_access_block(attachments, restrictPublicBuckets=False),
)

P = "s3-bucket-encryption"
ok(P, "SSE-KMS", attachments, sse(attachments))
ok(P, "log bucket AES256", logs, sse(logs, "AES256"))
bad(P, "missing", "no server-side encryption", attachments)
bad(P, "AES256 on data bucket", "sseAlgorithm", sse(attachments, "AES256"), attachments)
bad(
    P,
    "no bucket key",
    "bucketKeyEnabled",
    sse(
        attachments,
        rules=[
            {
                "applyServerSideEncryptionByDefault": {
                    "sseAlgorithm": "aws:kms",
                    "kmsMasterKeyId": KEY_ARN,
                }
            }
        ],
    ),
    attachments,
)

P = "s3-tls-only-policy"
ok(P, "deny insecure", bucket_policy(attachments))
bad(
    P,
    "allow only",
    "aws:SecureTransport",
    bucket_policy(
        attachments,
        policy=policy_json(
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::crm-attachments/*",
            }
        ),
    ),
)

P = "s3-versioning-enabled"
ok(P, "enabled", versioning(attachments))
bad(
    P,
    "suspended",
    "Suspended",
    versioning(attachments, versioningConfiguration={"status": "Suspended"}),
)

P = "s3-object-ownership-enforced"
ok(P, "enforced", ownership(attachments))
bad(
    P, "writer", "objectOwnership", ownership(attachments, rule={"objectOwnership": "ObjectWriter"})
)
bad(
    P,
    "public ACL",
    "public-read",
    bucket_part("aws:s3/bucketAcl:BucketAcl", attachments, {"acl": "public-read"}),
)

P = "s3-bucket-companions"
ok(P, "locked", *locked_bucket(attachments))
ok(P, "log bucket without versioning", *locked_bucket(logs, versioned=False))
bad(P, "bare", "BucketPublicAccessBlock", attachments)
bad(P, "no versioning", "BucketVersioning", *locked_bucket(attachments, versioned=False))

P = "s3-access-logging"
ok(P, "logged", attachments, bucket_logging(attachments, logs))
ok(P, "log bucket", logs)
bad(P, "not logged", "BucketLogging", attachments)

# --- EKS ---------------------------------------------------------------------------------------
P = "eks-private-endpoint"
ok(P, "private", eks_cluster())
ok(
    P,
    "public with CIDRs",
    eks_cluster(
        vpcConfig__endpointPublicAccess=True, vpcConfig__publicAccessCidrs=["203.0.113.0/24"]
    ),
)
bad(P, "public default", "publicAccessCidrs", eks_cluster(vpcConfig__endpointPublicAccess=DELETE))
bad(
    P,
    "world",
    "0.0.0.0/0",
    eks_cluster(vpcConfig__endpointPublicAccess=True, vpcConfig__publicAccessCidrs=["0.0.0.0/0"]),
)
bad(
    P,
    "public forbidden",
    "endpointPublicAccess",
    eks_cluster(vpcConfig__endpointPublicAccess=True, vpcConfig__publicAccessCidrs=["10.0.0.0/8"]),
    config={P: {"allowPublicAccessWithCidrs": False}},
)

P = "eks-secrets-encryption"
ok(P, "KMS", eks_cluster())
bad(P, "none", "encryptionConfig", eks_cluster(encryptionConfig=DELETE))

P = "eks-control-plane-logging"
ok(P, "all", eks_cluster())
bad(P, "some", '"audit"', eks_cluster(enabledClusterLogTypes=["api"]))

P = "eks-supported-version"
ok(P, "1.35", eks_cluster())
ok(P, "node group follows cluster", node_group())
bad(P, "old", '"1.28"', eks_cluster(version="1.28"))
bad(P, "unpinned", "version", eks_cluster(version=DELETE))

P = "eks-nodegroup-no-ssh"
ok(P, "no remote access", node_group())
ok(P, "restricted", node_group(remoteAccess={"ec2SshKey": "k", "sourceSecurityGroupIds": ["sg"]}))
bad(P, "open SSH", "sourceSecurityGroupIds", node_group(remoteAccess={"ec2SshKey": "k"}))

P = "eks-nodegroup-multi-az"
ok(P, "three subnets", node_group())
bad(P, "one subnet", "subnetIds", node_group(subnetIds=["subnet-a"]))
bad(
    P,
    "one node",
    "minSize",
    node_group(scalingConfig={"minSize": 1, "maxSize": 2, "desiredSize": 1}),
)

# --- IAM ---------------------------------------------------------------------------------------
P = "iam-no-wildcard-admin"
ok(
    P,
    "specific actions on *",
    resource("aws:iam/policy:Policy", "lbc", {"policy": DESCRIBE_ANYTHING}),
)
ok(P, "role", role())
bad(P, "admin", "Statement[0]", resource("aws:iam/policy:Policy", "admin", {"policy": ADMIN}))
bad(
    P,
    "object form",
    "every action",
    resource(
        "aws:iam/rolePolicy:RolePolicy",
        "admin",
        {
            "role": "r",
            "policy": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}],
            },
        },
    ),
)
bad(P, "role inline", "inlinePolicies[0]", role(inlinePolicies=[{"name": "x", "policy": ADMIN}]))

P = "iam-no-admin-managed-policy"
ok(P, "worker policy", role())
bad(
    P,
    "attachment",
    "AdministratorAccess",
    resource(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "admin",
        {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
    ),
)
bad(
    P,
    "role",
    "PowerUserAccess",
    role(managedPolicyArns=["arn:aws:iam::aws:policy/PowerUserAccess"]),
)

P = "iam-no-public-trust"
ok(P, "IRSA", role())
bad(
    P,
    "anyone",
    'Principal "*"',
    role(
        assumeRolePolicy=policy_json(
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
        )
    ),
)
bad(P, "IRSA without sub", "sub claim", role(assumeRolePolicy=IRSA_TRUST.replace(":sub", ":aud2")))

# --- load balancers ----------------------------------------------------------------------------
P = "lb-https-redirect"
ok(P, "redirect", listener("HTTP"))
ok(P, "ingress", ingress())
bad(
    P,
    "forward",
    "defaultActions[0]",
    listener("HTTP", defaultActions=[{"type": "forward", "targetGroupArn": "tg"}]),
)
bad(P, "ingress without redirect", "ssl-redirect", ingress(**{f"{ALB}ssl-redirect": None}))

P = "lb-modern-tls"
ok(P, "TLS 1.3", listener())
ok(P, "ingress", ingress())
bad(P, "old policy", "ELBSecurityPolicy-2016-08", listener(sslPolicy="ELBSecurityPolicy-2016-08"))
bad(P, "ingress default policy", "ssl-policy", ingress(**{f"{ALB}ssl-policy": None}))

P = "lb-access-logs"
ok(P, "on", load_balancer())
ok(P, "ingress", ingress())
bad(P, "off", "accessLogs.enabled", load_balancer(accessLogs=DELETE))
bad(
    P,
    "ingress",
    "access_logs.s3.enabled",
    ingress(**{f"{ALB}load-balancer-attributes": "deletion_protection.enabled=true"}),
)

P = "lb-drop-invalid-headers"
ok(P, "on", load_balancer())
ok(P, "network LB", load_balancer(loadBalancerType="network", dropInvalidHeaderFields=DELETE))
bad(P, "off", "dropInvalidHeaderFields", load_balancer(dropInvalidHeaderFields=False))

P = "lb-deletion-protection"
ok(P, "on", load_balancer())
ok(P, "ingress", ingress())
bad(P, "off", "enableDeletionProtection", load_balancer(enableDeletionProtection=DELETE))

P = "lb-desync-mitigation"
ok(P, "defensive", load_balancer())
bad(P, "monitor", '"monitor"', load_balancer(desyncMitigationMode="monitor"))

P = "lb-waf"
alb = load_balancer()
ok(P, "associated", alb, waf_association(alb))
ok(P, "internal", load_balancer(internal=True))
ok(P, "ingress", ingress())
bad(P, "no WAF", "WAFv2", alb)
bad(P, "ingress", "wafv2-acl-arn", ingress(**{f"{ALB}wafv2-acl-arn": None}))

# --- logs and secrets --------------------------------------------------------------------------
P = "log-group-kms"
ok(P, "CMK", log_group())
bad(P, "none", "kmsKeyId", log_group(kmsKeyId=DELETE))

P = "log-group-retention"
ok(P, "a year", log_group())
ok(P, "never expires", log_group(retentionInDays=DELETE))
bad(P, "30 days", "retentionInDays", log_group(retentionInDays=30))

P = "secret-customer-managed-key"
ok(P, "CMK", app_secret())
bad(P, "default key", "kmsKeyId", app_secret(kmsKeyId=DELETE))
bad(
    P, "replica default key", "replicas[0].kmsKeyId", app_secret(replicas=[{"region": "eu-west-1"}])
)

P = "secret-rotation"
app = app_secret()
ok(P, "rotated", app, rotation(app))
bad(P, "none", "SecretRotation", app)
bad(P, "too slow", "automaticallyAfterDays", rotation(app, days=365), app)

# --- Kubernetes --------------------------------------------------------------------------------
P = "k8s-pss-baseline"
ok(P, "deployment", deployment())
ok(P, "job", job())
bad(P, "host network", "hostNetwork", replace_pod(hostNetwork=True))
bad(P, "privileged", "privileged", with_container(securityContext__privileged=True))
bad(P, "hostPath", "hostPath", replace_pod(volumes=[{"name": "h", "hostPath": {"path": "/"}}]))
bad(P, "hostPort", "hostPort", with_container(ports=[{"containerPort": 80, "hostPort": 80}]))
bad(P, "SYS_ADMIN", "SYS_ADMIN", with_container(securityContext__capabilities__add=["SYS_ADMIN"]))

P = "k8s-run-as-non-root"
ok(P, "pod level", deployment())
bad(
    P,
    "unset",
    "runAsNonRoot",
    replace_pod(securityContext={"seccompProfile": {"type": "RuntimeDefault"}}),
)
bad(P, "root user", "runAsUser", with_container(securityContext__runAsUser=0))

P = "k8s-no-privilege-escalation"
ok(P, "false", deployment())
bad(
    P,
    "unset",
    "allowPrivilegeEscalation",
    with_container(securityContext__allowPrivilegeEscalation=DELETE),
)

P = "k8s-drop-capabilities"
ok(P, "drop ALL", deployment())
ok(P, "NET_BIND_SERVICE", with_container(securityContext__capabilities__add=["NET_BIND_SERVICE"]))
bad(P, "no drop", '"ALL"', with_container(securityContext__capabilities=DELETE))

P = "k8s-seccomp-profile"
ok(P, "RuntimeDefault", deployment())
bad(P, "unset", "seccompProfile", replace_pod(securityContext={"runAsNonRoot": True}))
bad(
    P,
    "container Unconfined",
    '"Unconfined"',
    with_container(securityContext__seccompProfile={"type": "Unconfined"}),
)

P = "k8s-restricted-volumes"
ok(P, "emptyDir", deployment())
bad(P, "nfs", '"nfs"', replace_pod(volumes=[{"name": "n", "nfs": {"server": "x", "path": "/"}}]))

P = "k8s-read-only-root-filesystem"
ok(P, "read-only", deployment())
bad(
    P,
    "writable",
    "readOnlyRootFilesystem",
    with_container(securityContext__readOnlyRootFilesystem=False),
)

P = "k8s-resources"
ok(P, "declared", deployment())
bad(
    P,
    "no limits",
    "resources.limits",
    with_container(resources={"requests": {"cpu": "1", "memory": "1Gi"}}),
)

P = "k8s-probes"
ok(P, "probes", deployment())
ok(
    P,
    "jobs need none",
    job(pod_spec(restartPolicy="Never", containers=[container(livenessProbe=DELETE)])),
)
bad(P, "no readiness", '"readinessProbe"', with_container(readinessProbe=DELETE))

P = "k8s-image-pinned"
ok(P, "tag", deployment())
ok(
    P,
    "digest",
    with_container(image="twentycrm/twenty@sha256:" + "a" * 64),
    config={P: {"requireDigest": True}},
)
bad(P, "latest", ":latest", with_container(image="twentycrm/twenty:latest"))
bad(P, "untagged", '"registry:5000/twenty"', with_container(image="registry:5000/twenty"))
bad(P, "digest required", "digest", deployment(), config={P: {"requireDigest": True}})

P = "k8s-service-account-token"
ok(P, "dedicated, no token", deployment())
ok(
    P,
    "API client allowed",
    replace_pod(automountServiceAccountToken=DELETE),
    config={P: {"apiServiceAccounts": ["twenty"]}},
)
bad(P, "default SA", "default service account", replace_pod(serviceAccountName=DELETE))
bad(
    P,
    "token mounted",
    "automountServiceAccountToken",
    replace_pod(automountServiceAccountToken=True),
)

P = "k8s-namespace-psa-restricted"
ok(P, "restricted", namespace())
ok(P, "kube-system exempt", namespace("kube-system", **{PSA: "privileged"}))
bad(P, "baseline", '"baseline"', namespace("crm", **{PSA: "baseline"}))
bad(P, "unlabelled", PSA, namespace("crm", team="crm"))

P = "k8s-no-default-namespace"
ok(P, "crm", deployment())
ok(P, "computed namespace", deployment(metadata={"name": "x", "namespace": UNKNOWN}))
ok(
    P,
    "provider namespace",
    dict(deployment(metadata={"name": "x"}), provider=change(K8S_PROVIDER, namespace="crm")),
)
bad(P, "unset", "metadata.namespace unset", deployment(metadata={"name": "x"}))
bad(
    P,
    "helm release",
    '"default"',
    resource(
        "kubernetes:helm.sh/v3:Release",
        "lbc",
        {"chart": "aws-load-balancer-controller", "namespace": "default"},
    ),
)

P = "k8s-min-replicas"
server = deployment()
ok(P, "three replicas", server)
ok(P, "HPA", deployment(spec__replicas=DELETE), hpa(deployment(spec__replicas=DELETE)))
bad(P, "one replica", "spec.replicas", deployment(spec__replicas=1))
bad(
    P,
    "HPA min 1",
    "minReplicas",
    deployment(spec__replicas=5),
    hpa(deployment(spec__replicas=5), min_replicas=1),
)

# --- workloads as a service (issue 12) ---------------------------------------------------------
GATE = "elbv2.k8s.aws/pod-readiness-gate-inject"
gated_ns = namespace("crm", **{PSA: "restricted", GATE: "enabled"})
P = "k8s-pod-readiness-gate"
ok(P, "labelled", deployment(), service(), target_group_binding(), gated_ns)
ok(P, "no load balancer", deployment(), service(), namespace())
ok(P, "instance targets", deployment(), service(), target_group_binding("instance"), namespace())
bad(P, "binding", GATE, deployment(), service(), target_group_binding(), namespace())
bad(
    P,
    "ip ingress",
    "is not declared",
    deployment(),
    service(),
    ingress(**{f"{ALB}target-type": "ip"}),
)

P = "k8s-prestop-hook"
sleep = {"preStop": {"sleep": {"seconds": 20}}}
ok(P, "preStop", with_container(lifecycle=sleep), service())
ok(P, "no service", deployment())
bad(P, "missing", "lifecycle.preStop", deployment(), service())

P = "k8s-leader-election"
ok(P, "elected", helm_release(replicaCount=2, leaderElect=True))
ok(P, "one replica", helm_release(replicaCount=1))
ok(P, "other chart", helm_release("metrics-server", replicas=2))
ok(P, "flag on", with_container(args=["--leader-elect=true"]))
bad(P, "chart default", "values.leaderElect unset", helm_release(replicaCount=2))
bad(P, "flag off", "--leader-elect false", with_container(args=["--leader-elect", "false"]))

P = "k8s-job-await-deadline"
deadline_job = change(job(), spec__activeDeadlineSeconds=1800)
ok(P, "custom timeout", with_timeout(deadline_job, 1800))
ok(
    P,
    "annotation",
    change(deadline_job, metadata__annotations={"pulumi.com/timeoutSeconds": "2400"}),
)
bad(P, "default wait", "600 s", deadline_job)
bad(P, "short timeout", "customTimeouts.create", with_timeout(deadline_job, 900))
bad(P, "no deadline", "activeDeadlineSeconds unset", with_timeout(job(), 1800))
bad(
    P,
    "waitFor",
    "pulumi.com/waitFor",
    change(
        with_timeout(deadline_job, 1800),
        metadata__annotations={"pulumi.com/waitFor": "condition=Complete"},
    ),
)
bad(
    P,
    "skipAwait",
    "pulumi.com/skipAwait",
    change(
        with_timeout(deadline_job, 1800), metadata__annotations={"pulumi.com/skipAwait": "true"}
    ),
)

# --- operating prod (issue 13) -----------------------------------------------------------------
vault = backup_vault()
P = "backup-vault-lock"
ok(P, "compliance", vault, vault_lock(vault))
ok(
    P,
    "governance outside prod",
    vault,
    vault_lock(vault, changeableForDays=DELETE),
    config={P: {"requireComplianceMode": False}},
)
bad(P, "unlocked", "no aws:backup/vaultLockConfiguration", vault)
bad(P, "governance", "governance mode", vault, vault_lock(vault, changeableForDays=DELETE))

P = "backup-selection-coverage"
primary, attachments = db_primary(), bucket()
plan = backup_plan(vault)
covered = [vault, vault_lock(vault), plan, backup_selection(plan, primary, attachments)]
ok(P, "database", primary, *covered)
ok(P, "bucket", attachments, *covered)
ok(P, "log bucket", log_bucket())
bad(P, "no selection", "not in any aws:backup/selection", db_primary())
bad(
    P,
    "unlocked vault",
    "none of them locked",
    attachments,
    vault,
    plan,
    backup_selection(plan, attachments),
)

P = "backup-copy-destinations"
dublin = change(AWS_PROVIDER, "dublin", region="eu-west-1")
virginia = change(AWS_PROVIDER, "virginia", region="us-east-1")
copy_vault = backup_vault("copy", provider=dublin)
far_vault = backup_vault("copy", provider=virginia)
ok(P, "vault in allowed region", backup_plan(vault, copy_vault), vault, copy_vault)
ok(P, "literal arn", backup_plan(vault, f"arn:aws:backup:eu-west-1:{ACCOUNT}:backup-vault:c"))
ok(P, "no copy", backup_plan(vault), vault)
bad(P, "vault outside", '"us-east-1"', backup_plan(vault, far_vault), vault, far_vault)
bad(
    P,
    "literal arn outside",
    '"us-east-1"',
    backup_plan(vault, f"arn:aws:backup:us-east-1:{ACCOUNT}:backup-vault:c"),
)
unresolved = backup_plan(vault, copy_vault)  # the copy vault lives in no stack we can see
unresolved["property_dependencies"] = {"rules": [vault["urn"]]}
bad(P, "unresolvable", "fail closed", unresolved, vault)

P = "sns-topic-cmk"
ok(P, "cmk", topic())
bad(P, "unset", "kmsMasterKeyId unset", topic(kmsMasterKeyId=DELETE))
bad(P, "aws managed", "AWS managed key", topic(kmsMasterKeyId="alias/aws/sns"))

# --- documented limits (issue 15) --------------------------------------------------------------
P = "eks-private-cluster-endpoints"
subnet = private_subnet()
isolated = cluster_in(subnet)
ENDPOINTS = ["ec2", "ecr.api", "ecr.dkr", "s3", "elasticloadbalancing", "logs", "sts"]
endpoints = [vpc_endpoint(name) for name in ENDPOINTS]
ecr_image = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/twenty:v1.2.3"
ok(P, "endpoints", isolated, subnet, *route_table(subnet), *endpoints)
ok(
    P,
    "ecr image",
    isolated,
    subnet,
    *route_table(subnet),
    *endpoints,
    with_container(image=ecr_image),
)
nat = {"cidrBlock": "0.0.0.0/0", "natGatewayId": "nat-1"}
ok(P, "nat route", isolated, subnet, *route_table(subnet, nat))
bad(P, "no endpoints", '"ec2", "ecr.api"', isolated, subnet, *route_table(subnet))
bad(
    P,
    "docker hub image",
    "private ECR",
    deployment(),
    isolated,
    subnet,
    *route_table(subnet),
    *endpoints,
)

P = "rds-cross-region-replica-parameter-group"
source = db_primary()
dr = dict(
    db_replica(source, "db-dr", parameterGroupName="crm-postgres16"),
    provider=change(AWS_PROVIDER, "dr", region="eu-west-1"),
)
ok(P, "in region", db_replica(source, parameterGroupName="crm-postgres16"), source)
ok(P, "no group", dict(db_replica(source, "db-dr"), provider=dr["provider"]), source)
ok(P, "mysql", dr, db_primary(engine="mysql", engineVersion="8.0"))
bad(P, "cross region", "pending-reboot", dr, source)

standard = eks_cluster(upgradePolicy={"supportType": "STANDARD"})
P = "eks-standard-support-ending"
ok(P, "far", standard, config={P: {"asOf": "2026-12-01"}})
ok(
    P,
    "extended",
    eks_cluster(upgradePolicy={"supportType": "EXTENDED"}),
    config={P: {"asOf": "2027-02-15"}},
)
bad(P, "near", "ends on 2027-03-27", standard, config={P: {"asOf": "2027-02-15"}})

P = "eks-standard-support-ended"
ok(P, "in support", standard, config={P: {"asOf": "2026-12-01"}})
ok(P, "extended", eks_cluster(version="1.36", upgradePolicy={"supportType": "EXTENDED"}))
bad(P, "past", "ended on 2027-03-27", standard, config={P: {"asOf": "2027-04-01"}})
bad(
    P,
    "undated",
    "no end of standard support",
    eks_cluster(version="1.36", upgradePolicy={"supportType": "STANDARD"}),
)

P = "eks-private-api-deploy-path"
private_cluster = eks_cluster()
provider = k8s_provider_for(private_cluster)
via = {key: provider[key] for key in ("type", "name", "urn", "props")}
ok(P, "workloads stack", dict(namespace(), provider=change(K8S_PROVIDER)))
public = eks_cluster(
    vpcConfig__endpointPublicAccess=True, vpcConfig__publicAccessCidrs=["203.0.113.0/24"]
)
ok(P, "public api", k8s_provider_for(public), public)
bad(
    P,
    "private api",
    "endpointPublicAccess false",
    provider,
    private_cluster,
    dict(namespace(), provider=via),
)

# --- suppressions ------------------------------------------------------------------------------
P = "suppressed-findings"
REASON = "Single-AZ until the data migration ends (CRM-42)."


def suppressing(policy: str, name: str) -> dict[str, Any]:
    entry = {"policy": policy, "resource": name, "reason": REASON, "config": {}}
    return {P: {"suppressions": [entry]}}


ok(P, "no suppressions", db_primary(multiAz=False))
bad(
    P,
    "acknowledged",
    f'Acknowledged rds-multi-az on aws:rds/instance:Instance "db" (reason: "{REASON}")',
    db_primary(multiAz=False),
    config=suppressing("rds-multi-az", "db"),
)
bad(
    P,
    "unused",
    "is unused: the policy reports nothing on it",
    db_primary(),
    config=suppressing("rds-multi-az", "db"),
)


# --- paths data can leave by -------------------------------------------------------------------
FAR = "us-east-1"


def aws(kind: str, name: str, **props: Any) -> dict[str, Any]:
    return resource(kind, name, props)


def arn(service: str, resource_part: str, region: str = REGION) -> str:
    return f"arn:aws:{service}:{region}:{ACCOUNT}:{resource_part}"


SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
QUEUE = "aws:sqs/queue:Queue"
INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
FIREHOSE = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
P = "residency-region-allowlist"
ok(
    P,
    "in-region subscription",
    aws(SUBSCRIPTION, "s", topic=arn("sns", "t"), protocol="sqs", endpoint=arn("sqs", "q")),
)
ok(P, "unknown in-stack target", aws(EVENT_TARGET, "t", rule="r", arn=UNKNOWN))
ok(P, "labels are not paths", aws(QUEUE, "q", tags={"copy-of": arn("sqs", "q", FAR)}))
bad(
    P,
    "SNS to a far queue",
    FAR,
    aws(SUBSCRIPTION, "s", topic=arn("sns", "t"), protocol="sqs", endpoint=arn("sqs", "q", FAR)),
)
bad(
    P,
    "SNS to a far HTTPS endpoint",
    FAR,
    aws(
        SUBSCRIPTION,
        "s",
        topic=arn("sns", "t"),
        protocol="https",
        endpoint=f"https://api-gw.execute-api.{FAR}.amazonaws.com/hook",
    ),
)
bad(
    P,
    "EventBridge to a far bus",
    FAR,
    aws(EVENT_TARGET, "t", rule="r", arn=arn("events", "event-bus/x", FAR)),
)
bad(
    P,
    "EventBridge rule dead letters far",
    "deadLetterConfig",
    aws(
        EVENT_TARGET,
        "t",
        rule="r",
        arn=arn("sqs", "q"),
        deadLetterConfig={"arn": arn("sqs", "dlq", FAR)},
    ),
)
bad(
    P,
    "SQS redrive in JSON",
    "redrivePolicy",
    aws(
        QUEUE,
        "q",
        redrivePolicy=json.dumps(
            {"deadLetterTargetArn": arn("sqs", "dlq", FAR), "maxReceiveCount": 5}
        ),
    ),
)
bad(
    P,
    "Lambda destination",
    FAR,
    aws(
        INVOKE_CONFIG,
        "i",
        functionName="f",
        destinationConfig={"onFailure": {"destination": arn("sqs", "dlq", FAR)}},
    ),
)
bad(
    P,
    "Firehose to a far stream",
    FAR,
    aws(
        FIREHOSE,
        "f",
        destination="extended_s3",
        kinesisSourceConfiguration={
            "kinesisStreamArn": arn("kinesis", "stream/s", FAR),
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/r",
        },
    ),
)
bad(
    P,
    "log destination",
    FAR,
    aws(
        "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter",
        "l",
        logGroup="g",
        filterPattern="",
        destinationArn=arn("firehose", "deliverystream/x", FAR),
    ),
)

P = "resource-policy-no-public-principal"
PUBLIC_READ = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}
PINNED = {**PUBLIC_READ, "Condition": {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}}
ok(P, "TLS-only bucket policy", bucket_policy(bucket()))
ok(P, "pinned to the account", bucket_policy(bucket(), policy=policy_json(PINNED)))
ok(
    P,
    "topic for a service",
    aws(
        "aws:sns/topic:Topic",
        "t",
        kmsMasterKeyId=KEY_ARN,
        policy=policy_json(
            {
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": "*",
            }
        ),
    ),
)
bad(
    P,
    "public bucket read",
    "Statement[0]",
    bucket_policy(bucket(), policy=policy_json(PUBLIC_READ)),
)
bad(
    P,
    "public queue",
    'Principal "*"',
    aws(
        "aws:sqs/queuePolicy:QueuePolicy",
        "q",
        queueUrl="https://sqs",
        policy=policy_json({**PUBLIC_READ, "Action": "sqs:SendMessage"}),
    ),
)
bad(
    P,
    "public secret",
    'Principal "*"',
    aws(
        "aws:secretsmanager/secretPolicy:SecretPolicy",
        "s",
        secretArn=UNKNOWN,
        policy=policy_json({**PUBLIC_READ, "Principal": {"AWS": "*"}}),
    ),
)
bad(
    P,
    "public ECR",
    'Principal "*"',
    aws(
        "aws:ecr/repositoryPolicy:RepositoryPolicy",
        "r",
        repository="crm",
        policy=policy_json({**PUBLIC_READ, "Action": "ecr:BatchGetImage"}),
    ),
)
bad(
    P,
    "unreadable",
    "cannot be read",
    aws("aws:sns/topicPolicy:TopicPolicy", "t", arn=UNKNOWN, policy="{not json"),
)

P = "store-customer-managed-key"
ok(P, "SNS with a CMK", aws("aws:sns/topic:Topic", "t", kmsMasterKeyId=KEY_ARN))
ok(P, "SQS with a CMK", aws(QUEUE, "q", kmsMasterKeyId=UNKNOWN))
ok(P, "backup vault", aws("aws:backup/vault:Vault", "v", kmsKeyArn=KEY_ARN))
ok(
    P,
    "ECR KMS",
    aws(
        "aws:ecr/repository:Repository",
        "r",
        encryptionConfigurations=[{"encryptionType": "KMS", "kmsKey": KEY_ARN}],
    ),
)
ok(P, "a log group's missing key is log-group-kms's", log_group(kmsKeyId=DELETE))
bad(P, "SQS-managed SSE", "kmsMasterKeyId", aws(QUEUE, "q", sqsManagedSseEnabled=True))
bad(P, "SQS AWS key", "alias/aws/sqs", aws(QUEUE, "q", kmsMasterKeyId="alias/aws/sqs"))
bad(
    P,
    "SNS key in another region",
    "eu-west-1",
    aws("aws:sns/topic:Topic", "t", kmsMasterKeyId=KEY_ARN.replace(REGION, "eu-west-1")),
)
bad(P, "vault unencrypted", "kmsKeyArn", aws("aws:backup/vault:Vault", "v"))
bad(
    P,
    "ECR AES256",
    "encryptionConfigurations",
    aws(
        "aws:ecr/repository:Repository",
        "r",
        encryptionConfigurations=[{"encryptionType": "AES256"}],
    ),
)
bad(
    P,
    "snapshot copy",
    "kmsKeyId",
    aws(
        "aws:ebs/snapshotCopy:SnapshotCopy",
        "c",
        sourceSnapshotId="snap-1",
        sourceRegion=REGION,
        encrypted=True,
    ),
)
bad(
    P,
    "key in another region",
    "eu-west-1",
    log_group(kmsKeyId=KEY_ARN.replace(REGION, "eu-west-1")),
)

SERVICE = "kubernetes:core/v1:Service"


def service(kind: str, **annotations: str) -> dict[str, Any]:
    props = {
        "metadata": {"name": "twenty", "namespace": "crm", "annotations": annotations},
        "spec": {"type": kind, "ports": [{"port": 3000}], "selector": {"app": "twenty"}},
    }
    return resource(SERVICE, "twenty", props)


P = "k8s-no-public-endpoints"
ok(P, "ClusterIP", service("ClusterIP"))
ok(
    P,
    "internal NLB",
    service("LoadBalancer", **{"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}),
)
ok(P, "internal Ingress", ingress(**{f"{ALB}scheme": "internal"}))
bad(P, "public LoadBalancer", "must be explicitly internal", service("LoadBalancer"))
bad(
    P,
    "internet-facing NLB",
    '"internet-facing"',
    service(
        "LoadBalancer", **{"service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing"}
    ),
)
bad(P, "NodePort", "NodePort", service("NodePort"))
bad(P, "internet-facing Ingress", "internet-facing", ingress())
bad(P, "Ingress without a scheme", "unset", ingress(**{f"{ALB}scheme": None}))

# Locked backups copied in-jurisdiction: a plan copying to a locked, CMK-encrypted vault of the
# DR region (an allowed one), and the same plan pointed outside.
DR_REGION = "eu-west-1"
DR_PROVIDER = change(AWS_PROVIDER, region=DR_REGION)
DR_VAULT = arn("backup", "backup-vault:crm-dr", DR_REGION)


def backup_plan(destination: str) -> dict[str, Any]:
    rule = {
        "ruleName": "daily",
        "targetVaultName": "crm",
        "schedule": "cron(0 3 * * ? *)",
        "copyActions": [{"destinationVaultArn": destination, "lifecycle": {"deleteAfter": 35}}],
    }
    return aws("aws:backup/plan:Plan", "crm", rules=[rule])


locked_dr_vault = [
    resource(
        "aws:backup/vault:Vault",
        "crm-dr",
        {"kmsKeyArn": KEY_ARN.replace(REGION, DR_REGION)},
        provider=DR_PROVIDER,
    ),
    resource(
        "aws:backup/vaultLockConfiguration:VaultLockConfiguration",
        "crm-dr-lock",
        {"backupVaultName": "crm-dr", "minRetentionDays": 7, "maxRetentionDays": 35},
        provider=DR_PROVIDER,
    ),
]
for P in ("residency-copy-destinations", "residency-region-allowlist"):
    ok(P, "locked backups copied in-jurisdiction", backup_plan(DR_VAULT), *locked_dr_vault)
    bad(P, "backups copied abroad", FAR, backup_plan(DR_VAULT.replace(DR_REGION, FAR)))
ok("store-customer-managed-key", "locked DR vault with its region's key", *locked_dr_vault)
