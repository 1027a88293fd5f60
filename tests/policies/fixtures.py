"""Resources as the offline gate receives them, built compliant by default.

Every builder returns a resource dict in the format of `guardrails.offline.evaluate`; `change`
derives a variant with some (dotted) properties replaced or removed.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from stacks.policy_config import build_policy_config

SECRET_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
UNKNOWN = UNKNOWN_STRING_VALUE
DELETE = object()

ACCOUNT = "111122223333"
REGION = "eu-central-1"
ALLOWED = ["eu-central-1", "eu-west-1"]
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0b5e4c5e-1111-2222-3333-444455556666"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/crm"
CERT_ARN = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/abc"
LB_ARN = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/crm/1"
OIDC = "oidc.eks.eu-central-1.amazonaws.com/id/ABC"
PSA = "pod-security.kubernetes.io/enforce"
ALB = "alb.ingress.kubernetes.io/"


def prod_config(**overrides: Any) -> dict[str, Any]:
    """The policy config of a prod stack, with per-policy overrides merged in."""
    config = build_policy_config(
        environment="prod", region=REGION, allowed_regions=ALLOWED, high_availability=True
    )
    for name, value in overrides.items():
        config[name] = {**config.get(name, {}), **value}
    return config


def secret(value: Any) -> dict[str, Any]:
    return {SECRET_KEY: SECRET_SIG, "value": value}


def urn(kind: str, name: str) -> str:
    return f"urn:pulumi:test::crm-platform::{kind}::{name}"


AWS_PROVIDER = {
    "type": "pulumi:providers:aws",
    "name": "aws",
    "urn": urn("pulumi:providers:aws", "aws"),
    "props": {"region": REGION},
}
K8S_PROVIDER = {
    "type": "pulumi:providers:kubernetes",
    "name": "k8s",
    "urn": urn("pulumi:providers:kubernetes", "k8s"),
    "props": {"enableServerSideApply": True},
}


RANDOM_PROVIDER = {
    "type": "pulumi:providers:random",
    "name": "random",
    "urn": urn("pulumi:providers:random", "random"),
    "props": {},
}


def resource(
    kind: str,
    name: str,
    props: dict[str, Any],
    *,
    deps: dict[str, list[dict[str, Any]]] | None = None,
    provider: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A resource dict; `deps` maps a property to the resources it refers to."""
    if provider is None and not kind.startswith("pulumi:providers:"):
        provider = {"kubernetes": K8S_PROVIDER, "random": RANDOM_PROVIDER}.get(
            kind.split(":")[0], AWS_PROVIDER
        )
    property_dependencies = {prop: [r["urn"] for r in refs] for prop, refs in (deps or {}).items()}
    return {
        "type": kind,
        "name": name,
        "urn": urn(kind, name),
        "props": props,
        "parent": None,
        "dependencies": sorted({u for urns in property_dependencies.values() for u in urns}),
        "property_dependencies": property_dependencies,
        "protect": False,
        "provider": provider,
    }


def change(res: dict[str, Any], name: str | None = None, **paths: Any) -> dict[str, Any]:
    """A copy of `res` with dotted property paths ("a__b" for a.b) set, or removed (DELETE)."""
    result = copy.deepcopy(res)
    if name is not None:
        result["name"], result["urn"] = name, urn(res["type"], name)
    for dotted, value in paths.items():
        *parents, leaf = dotted.split("__")
        node = result["props"]
        for key in parents:
            node = node.setdefault(key, {})
        if value is DELETE:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return result


MASTER_PASSWORD = resource(
    "random:index/randomPassword:RandomPassword",
    "db-master-password",
    {"length": 40, "special": False},
)


def policy_json(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


# --- AWS ---------------------------------------------------------------------------------------

ADMIN_STATEMENT = {
    "Sid": "AccountAdmin",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
    "Action": "kms:*",
    "Resource": "*",
}
VIA_SERVICE_STATEMENT = {
    "Sid": "ViaRds",
    "Effect": "Allow",
    "Principal": {"AWS": "*"},
    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
    "Resource": "*",
    "Condition": {
        "StringEquals": {
            "kms:CallerAccount": ACCOUNT,
            "kms:ViaService": f"rds.{REGION}.amazonaws.com",
        }
    },
}
LOGS_STATEMENT = {
    "Sid": "CloudWatchLogs",
    "Effect": "Allow",
    "Principal": {"Service": f"logs.{REGION}.amazonaws.com"},
    "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"],
    "Resource": "*",
    "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{REGION}:*"}},
}


def kms_key(name: str = "data-key", **paths: Any) -> dict[str, Any]:
    props = {
        "description": "CRM data",
        "enableKeyRotation": True,
        "deletionWindowInDays": 30,
        "policy": policy_json(ADMIN_STATEMENT, VIA_SERVICE_STATEMENT, LOGS_STATEMENT),
    }
    return change(resource("aws:kms/key:Key", name, props), **paths)


def vpc() -> dict[str, Any]:
    return resource("aws:ec2/vpc:Vpc", "main", {"cidrBlock": "10.0.0.0/16"})


def flow_log(target: dict[str, Any], **paths: Any) -> dict[str, Any]:
    props = {
        "vpcId": UNKNOWN,
        "trafficType": "ALL",
        "logDestinationType": "cloud-watch-logs",
        "logDestination": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/crm/flow",
        "iamRoleArn": ROLE_ARN,
    }
    res = resource("aws:ec2/flowLog:FlowLog", "flow", props, deps={"vpcId": [target]})
    return change(res, **paths)


def security_group(name: str = "endpoints", **paths: Any) -> dict[str, Any]:
    props = {
        "description": "Interface endpoints: HTTPS from the VPC",
        "vpcId": "vpc-1",
        "ingress": [
            {
                "protocol": "tcp",
                "fromPort": 443,
                "toPort": 443,
                "cidrBlocks": ["10.0.0.0/16"],
                "description": "HTTPS from the VPC",
            }
        ],
        "egress": [
            {
                "protocol": "-1",
                "fromPort": 0,
                "toPort": 0,
                "cidrBlocks": ["0.0.0.0/0"],
                "description": "All egress",
            }
        ],
    }
    return change(resource("aws:ec2/securityGroup:SecurityGroup", name, props), **paths)


def world_https(protocol: str = "tcp", port: int = 443) -> list[dict[str, Any]]:
    return [
        {
            "protocol": protocol,
            "fromPort": port,
            "toPort": port,
            "cidrBlocks": ["0.0.0.0/0"],
            "description": "HTTPS from the internet",
        }
    ]


def launch_template(**paths: Any) -> dict[str, Any]:
    props = {
        "metadataOptions": {
            "httpEndpoint": "enabled",
            "httpTokens": "required",
            "httpPutResponseHopLimit": 1,
        },
        "blockDeviceMappings": [
            {
                "deviceName": "/dev/xvda",
                "ebs": {
                    "encrypted": "true",
                    "kmsKeyId": KEY_ARN,
                    "volumeSize": 50,
                    "volumeType": "gp3",
                },
            }
        ],
        "networkInterfaces": [{"associatePublicIpAddress": "false", "securityGroups": ["sg-1"]}],
    }
    return change(resource("aws:ec2/launchTemplate:LaunchTemplate", "nodes", props), **paths)


def instance(**paths: Any) -> dict[str, Any]:
    props = {
        "ami": "ami-123",
        "instanceType": "t3.micro",
        "associatePublicIpAddress": False,
        "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1},
        "rootBlockDevice": {"encrypted": True, "kmsKeyId": KEY_ARN},
    }
    return change(resource("aws:ec2/instance:Instance", "bastion", props), **paths)


def db_primary(**paths: Any) -> dict[str, Any]:
    props = {
        "identifier": "crm-db",
        "engine": "postgres",
        "engineVersion": "16.4",
        "instanceClass": "db.r6g.large",
        "storageEncrypted": True,
        "kmsKeyId": KEY_ARN,
        "publiclyAccessible": False,
        "dbSubnetGroupName": "crm-db",
        "multiAz": True,
        "backupRetentionPeriod": 14,
        "deletionProtection": True,
        "skipFinalSnapshot": False,
        "finalSnapshotIdentifier": "crm-db-final",
        "iamDatabaseAuthenticationEnabled": True,
        "enabledCloudwatchLogsExports": ["postgresql", "upgrade"],
        "parameterGroupName": "crm-postgres16",
        "autoMinorVersionUpgrade": True,
        "monitoringInterval": 60,
        "monitoringRoleArn": ROLE_ARN,
        "performanceInsightsEnabled": True,
        "performanceInsightsKmsKeyId": KEY_ARN,
        "copyTagsToSnapshot": True,
        "username": "crm_admin",
        "password": secret(UNKNOWN),
    }
    res = resource("aws:rds/instance:Instance", "db", props, deps={"password": [MASTER_PASSWORD]})
    return change(res, **paths)


def rds_managed_primary(**paths: Any) -> dict[str, Any]:
    """The former design: RDS manages the master password in Secrets Manager."""
    managed = {"manageMasterUserPassword": True, "masterUserSecretKmsKeyId": KEY_ARN}
    return change(db_primary(password=DELETE, **managed), **paths)


def master_secret(**paths: Any) -> dict[str, Any]:
    props = {"name": "crm/db-master", "kmsKeyId": KEY_ARN, "recoveryWindowInDays": 30}
    return change(resource("aws:secretsmanager/secret:Secret", "db-master", props), **paths)


def master_secret_version(target: dict[str, Any], source: dict[str, Any] = MASTER_PASSWORD):
    """A secret version whose value is computed from `source` (the master password)."""
    props = {"secretId": UNKNOWN, "secretString": secret(UNKNOWN)}
    deps = {"secretId": [target], "secretString": [source]}
    return resource("aws:secretsmanager/secretVersion:SecretVersion", "db-master", props, deps=deps)


def stack_owned_master_secret() -> list[dict[str, Any]]:
    """The stack-owned master credentials: random password, CMK secret, its version."""
    stored = master_secret()
    return [MASTER_PASSWORD, stored, master_secret_version(stored)]


def db_replica(primary: dict[str, Any], name: str = "db-replica-1", **paths: Any):
    props = {
        "identifier": name,
        "replicateSourceDb": UNKNOWN,
        "instanceClass": "db.r6g.large",
        "publiclyAccessible": False,
        "autoMinorVersionUpgrade": True,
        "monitoringInterval": 60,
        "monitoringRoleArn": ROLE_ARN,
        "performanceInsightsEnabled": True,
        "performanceInsightsKmsKeyId": KEY_ARN,
        "skipFinalSnapshot": True,
    }
    res = resource("aws:rds/instance:Instance", name, props, deps={"replicateSourceDb": [primary]})
    return change(res, **paths)


def parameter_group(**paths: Any) -> dict[str, Any]:
    props = {
        "family": "postgres16",
        "parameters": [
            {"name": "rds.force_ssl", "value": "1"},
            {"name": "log_min_duration_statement", "value": "1000"},
        ],
    }
    return change(resource("aws:rds/parameterGroup:ParameterGroup", "pg16", props), **paths)


def cache(**paths: Any) -> dict[str, Any]:
    props = {
        "description": "Twenty cache and queues",
        "engine": "valkey",
        "nodeType": "cache.r7g.large",
        "numCacheClusters": 2,
        "automaticFailoverEnabled": True,
        "multiAzEnabled": True,
        "atRestEncryptionEnabled": True,
        "kmsKeyId": KEY_ARN,
        "transitEncryptionEnabled": True,
        "authToken": secret("redis-token-value"),
        "snapshotRetentionLimit": 7,
        "subnetGroupName": "crm-cache",
        "autoMinorVersionUpgrade": True,
    }
    return change(
        resource("aws:elasticache/replicationGroup:ReplicationGroup", "cache", props), **paths
    )


def bucket(name: str = "attachments", tags: dict[str, str] | None = None, **paths: Any):
    props = {"bucket": f"crm-{name}", "tags": tags or {"crm-platform:purpose": "attachments"}}
    return change(resource("aws:s3/bucket:Bucket", name, props), **paths)


def log_bucket(name: str = "alb-logs") -> dict[str, Any]:
    return bucket(name, tags={"crm-platform:purpose": "alb-access-logs"})


def tls_only_policy(target: dict[str, Any]) -> str:
    arn = f"arn:aws:s3:::{target['props']['bucket']}"
    return policy_json(
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [arn, f"{arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )


def bucket_part(kind: str, target: dict[str, Any], props: dict[str, Any], **paths: Any):
    """A bucket's configuration resource (`bucket` refers to `target`)."""
    name = f"{target['name']}-{kind.split(':')[-1]}"
    full = {"bucket": target["props"]["bucket"], **props}
    return change(resource(kind, name, full, deps={"bucket": [target]}), **paths)


def sse(target: dict[str, Any], algorithm: str = "aws:kms", **paths: Any) -> dict[str, Any]:
    default = {"sseAlgorithm": algorithm}
    if algorithm.startswith("aws:kms"):
        default["kmsMasterKeyId"] = KEY_ARN
    rule = {"applyServerSideEncryptionByDefault": default, "bucketKeyEnabled": True}
    kind = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    return bucket_part(kind, target, {"rules": [rule]}, **paths)


def public_access_block(target: dict[str, Any], **paths: Any) -> dict[str, Any]:
    flags = dict.fromkeys(
        ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"), True
    )
    kind = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
    return bucket_part(kind, target, flags, **paths)


def bucket_policy(target: dict[str, Any], **paths: Any) -> dict[str, Any]:
    kind = "aws:s3/bucketPolicy:BucketPolicy"
    return bucket_part(kind, target, {"policy": tls_only_policy(target)}, **paths)


def ownership(target: dict[str, Any], **paths: Any) -> dict[str, Any]:
    kind = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
    return bucket_part(kind, target, {"rule": {"objectOwnership": "BucketOwnerEnforced"}}, **paths)


def versioning(target: dict[str, Any], **paths: Any) -> dict[str, Any]:
    kind = "aws:s3/bucketVersioning:BucketVersioning"
    return bucket_part(kind, target, {"versioningConfiguration": {"status": "Enabled"}}, **paths)


def bucket_logging(target: dict[str, Any], destination: dict[str, Any]) -> dict[str, Any]:
    props = {"targetBucket": destination["props"]["bucket"], "targetPrefix": "s3/"}
    return bucket_part("aws:s3/bucketLogging:BucketLogging", target, props)


def locked_bucket(target: dict[str, Any], *, versioned: bool = True) -> list[dict[str, Any]]:
    """A bucket with all the companions s3-bucket-companions requires."""
    parts = [target, public_access_block(target), bucket_policy(target), ownership(target)]
    return [*parts, versioning(target)] if versioned else parts


def eks_cluster(**paths: Any) -> dict[str, Any]:
    props = {
        "roleArn": ROLE_ARN,
        "version": "1.35",
        "vpcConfig": {
            "subnetIds": ["subnet-a", "subnet-b", "subnet-c"],
            "endpointPrivateAccess": True,
            "endpointPublicAccess": False,
        },
        "encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": KEY_ARN}},
        "enabledClusterLogTypes": [
            "api",
            "audit",
            "authenticator",
            "controllerManager",
            "scheduler",
        ],
    }
    return change(resource("aws:eks/cluster:Cluster", "cluster", props), **paths)


def node_group(**paths: Any) -> dict[str, Any]:
    props = {
        "clusterName": "crm",
        "nodeRoleArn": ROLE_ARN,
        "subnetIds": ["subnet-a", "subnet-b", "subnet-c"],
        "scalingConfig": {"minSize": 3, "maxSize": 6, "desiredSize": 3},
        "launchTemplate": {"id": "lt-123", "version": "1"},
    }
    return change(resource("aws:eks/nodeGroup:NodeGroup", "app-nodes", props), **paths)


IRSA_TRUST = policy_json(
    {
        "Effect": "Allow",
        "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{OIDC}"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringEquals": {
                f"{OIDC}:sub": "system:serviceaccount:crm:twenty",
                f"{OIDC}:aud": "sts.amazonaws.com",
            }
        },
    }
)
S3_ACCESS = policy_json(
    {
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        "Resource": "arn:aws:s3:::crm-attachments/*",
    }
)
# The AWS Load Balancer Controller's policy grants specific actions on "*": allowed.
DESCRIBE_ANYTHING = policy_json(
    {
        "Effect": "Allow",
        "Action": ["ec2:DescribeInstances", "elasticloadbalancing:Describe*"],
        "Resource": "*",
    }
)
ADMIN = policy_json({"Effect": "Allow", "Action": "*", "Resource": "*"})


def role(**paths: Any) -> dict[str, Any]:
    props = {
        "assumeRolePolicy": IRSA_TRUST,
        "inlinePolicies": [{"name": "attachments", "policy": S3_ACCESS}],
        "managedPolicyArns": ["arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"],
    }
    return change(resource("aws:iam/role:Role", "twenty", props), **paths)


def load_balancer(**paths: Any) -> dict[str, Any]:
    props = {
        "loadBalancerType": "application",
        "internal": False,
        "subnets": ["subnet-a", "subnet-b"],
        "securityGroups": ["sg-lb"],
        "accessLogs": {"enabled": True, "bucket": "crm-alb-logs"},
        "dropInvalidHeaderFields": True,
        "enableDeletionProtection": True,
        "desyncMitigationMode": "defensive",
    }
    return change(resource("aws:lb/loadBalancer:LoadBalancer", "alb", props), **paths)


def listener(protocol: str = "HTTPS", **paths: Any) -> dict[str, Any]:
    if protocol == "HTTP":
        action = {
            "type": "redirect",
            "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"},
        }
        props = {"loadBalancerArn": LB_ARN, "port": 80, "protocol": "HTTP"}
    else:
        action = {"type": "forward", "targetGroupArn": "arn:aws:elasticloadbalancing:tg"}
        props = {
            "loadBalancerArn": LB_ARN,
            "port": 443,
            "protocol": protocol,
            "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
            "certificateArn": CERT_ARN,
        }
    props["defaultActions"] = [action]
    name = f"listener-{protocol.lower()}"
    return change(resource("aws:lb/listener:Listener", name, props), **paths)


def waf_association(target: dict[str, Any]) -> dict[str, Any]:
    props = {"resourceArn": UNKNOWN, "webAclArn": f"arn:aws:wafv2:{REGION}:{ACCOUNT}:acl"}
    kind = "aws:wafv2/webAclAssociation:WebAclAssociation"
    return resource(kind, "waf", props, deps={"resourceArn": [target]})


def log_group(**paths: Any) -> dict[str, Any]:
    props = {"name": "/crm/flow-logs", "retentionInDays": 365, "kmsKeyId": KEY_ARN}
    return change(resource("aws:cloudwatch/logGroup:LogGroup", "flow-logs", props), **paths)


def app_secret(**paths: Any) -> dict[str, Any]:
    props = {"name": "crm/app", "kmsKeyId": KEY_ARN, "recoveryWindowInDays": 30}
    return change(resource("aws:secretsmanager/secret:Secret", "app", props), **paths)


def rotation(target: dict[str, Any], days: int = 30) -> dict[str, Any]:
    props = {
        "secretId": UNKNOWN,
        "rotationLambdaArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:rotate",
        "rotationRules": {"automaticallyAfterDays": days},
    }
    kind = "aws:secretsmanager/secretRotation:SecretRotation"
    return resource(kind, "app-rotation", props, deps={"secretId": [target]})


# --- Kubernetes --------------------------------------------------------------------------------


def container(name: str = "server", **paths: Any) -> dict[str, Any]:
    spec = {
        "name": name,
        "image": "twentycrm/twenty:v1.2.3",
        "ports": [{"containerPort": 3000}],
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "resources": {
            "requests": {"cpu": "250m", "memory": "256Mi"},
            "limits": {"cpu": "1", "memory": "1Gi"},
        },
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": 3000}},
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": 3000}},
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    return change({"props": spec}, **paths)["props"]


def pod_spec(**paths: Any) -> dict[str, Any]:
    spec = {
        "serviceAccountName": "twenty",
        "automountServiceAccountToken": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 1000,
            "fsGroup": 1000,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container()],
        "volumes": [{"name": "tmp", "emptyDir": {}}],
    }
    return change({"props": spec}, **paths)["props"]


def deployment(name: str = "twenty-server", spec: dict[str, Any] | None = None, **paths: Any):
    props = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "crm"},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": spec or pod_spec()},
        },
    }
    return change(resource("kubernetes:apps/v1:Deployment", name, props), **paths)


def job(spec: dict[str, Any] | None = None) -> dict[str, Any]:
    template = spec or pod_spec(restartPolicy="Never")
    props = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "migrate-v1-2-3", "namespace": "crm"},
        "spec": {"backoffLimit": 1, "template": {"spec": template}},
    }
    return resource("kubernetes:batch/v1:Job", "migrate", props)


def namespace(name: str = "crm", **labels: str) -> dict[str, Any]:
    props = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": labels or {PSA: "restricted"}},
    }
    return resource("kubernetes:core/v1:Namespace", name, props)


def ingress(**annotations: str) -> dict[str, Any]:
    base = {
        f"{ALB}scheme": "internet-facing",
        f"{ALB}listen-ports": '[{"HTTP": 80}, {"HTTPS": 443}]',
        f"{ALB}ssl-redirect": "443",
        f"{ALB}certificate-arn": CERT_ARN,
        f"{ALB}ssl-policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
        f"{ALB}load-balancer-attributes": (
            "access_logs.s3.enabled=true,access_logs.s3.bucket=crm-alb-logs,"
            "routing.http.drop_invalid_header_fields.enabled=true,deletion_protection.enabled=true"
        ),
        f"{ALB}wafv2-acl-arn": f"arn:aws:wafv2:{REGION}:{ACCOUNT}:regional/webacl/crm/1",
    }
    merged = {k: v for k, v in {**base, **annotations}.items() if v is not None}
    props = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "twenty", "namespace": "crm", "annotations": merged},
        "spec": {
            "ingressClassName": "alb",
            "rules": [
                {
                    "host": "crm.example.com",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {
                                    "service": {"name": "twenty", "port": {"number": 3000}}
                                },
                            }
                        ]
                    },
                }
            ],
        },
    }
    return resource("kubernetes:networking.k8s.io/v1:Ingress", "twenty", props)


def hpa(target: dict[str, Any], min_replicas: int = 2) -> dict[str, Any]:
    props = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "twenty-server", "namespace": "crm"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": UNKNOWN},
            "minReplicas": min_replicas,
            "maxReplicas": 6,
        },
    }
    kind = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
    return resource(kind, "twenty-server-hpa", props, deps={"spec": [target]})


def service(name: str = "twenty", **paths: Any) -> dict[str, Any]:
    props = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "crm"},
        "spec": {"selector": {"app": "twenty-server"}, "ports": [{"port": 3000}]},
    }
    return change(resource("kubernetes:core/v1:Service", f"{name}-svc", props), **paths)


TARGET_GROUP_BINDING = "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding"


def target_group_binding(target_type: str = "ip") -> dict[str, Any]:
    props = {
        "apiVersion": "elbv2.k8s.aws/v1beta1",
        "kind": "TargetGroupBinding",
        "metadata": {"name": "twenty", "namespace": "crm"},
        "spec": {
            "serviceRef": {"name": "twenty", "port": 3000},
            "targetGroupARN": f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/crm/1",
            "targetType": target_type,
        },
    }
    return resource(TARGET_GROUP_BINDING, "twenty-tgb", props)


def helm_release(chart: str = "external-secrets", **values: Any) -> dict[str, Any]:
    props = {"chart": chart, "version": "1.0.0", "namespace": "external-secrets", "values": values}
    return resource("kubernetes:helm.sh/v3:Release", chart, props)


def with_timeout(res: dict[str, Any], seconds: float) -> dict[str, Any]:
    """`res` registered with custom_timeouts create = `seconds`."""
    return {**copy.deepcopy(res), "create_timeout": seconds}


def backup_vault(name: str = "vault", provider: dict[str, Any] | None = None) -> dict[str, Any]:
    props = {"name": f"crm-{name}", "kmsKeyArn": KEY_ARN}
    return resource("aws:backup/vault:Vault", name, props, provider=provider)


def vault_lock(vault: dict[str, Any], **paths: Any) -> dict[str, Any]:
    props = {"backupVaultName": UNKNOWN, "minRetentionDays": 35, "changeableForDays": 3}
    kind = "aws:backup/vaultLockConfiguration:VaultLockConfiguration"
    res = resource(kind, f"{vault['name']}-lock", props, deps={"backupVaultName": [vault]})
    return change(res, **paths)


def backup_plan(vault: dict[str, Any], *copies: Any) -> dict[str, Any]:
    """A plan into `vault`; each copy is a vault resource (referenced) or a literal ARN."""
    actions = [{"destinationVaultArn": UNKNOWN if isinstance(c, dict) else c} for c in copies]
    rule = {"ruleName": "daily", "targetVaultName": UNKNOWN, "schedule": "cron(0 3 * * ? *)"}
    if actions:
        rule["copyActions"] = actions
    vaults = [vault, *(c for c in copies if isinstance(c, dict))]
    props = {"name": "crm-daily", "rules": [rule]}
    return resource("aws:backup/plan:Plan", "daily", props, deps={"rules": vaults})


def backup_selection(plan: dict[str, Any], *targets: dict[str, Any]) -> dict[str, Any]:
    props = {"name": "crm-data", "iamRoleArn": ROLE_ARN, "planId": UNKNOWN, "resources": UNKNOWN}
    deps = {"planId": [plan], "resources": list(targets)}
    return resource("aws:backup/selection:Selection", "data", props, deps=deps)


def topic(**paths: Any) -> dict[str, Any]:
    props = {"name": "crm-alarms", "kmsMasterKeyId": KEY_ARN}
    return change(resource("aws:sns/topic:Topic", "alarms", props), **paths)


def private_subnet(name: str = "private-a") -> dict[str, Any]:
    props = {"vpcId": "vpc-1", "cidrBlock": "10.0.1.0/24", "mapPublicIpOnLaunch": False}
    return resource("aws:ec2/subnet:Subnet", name, props)


def route_table(subnet: dict[str, Any], *routes: dict[str, Any]) -> list[dict[str, Any]]:
    """A route table with `routes` inline, associated with `subnet`."""
    table = resource("aws:ec2/routeTable:RouteTable", "private", {"vpcId": "vpc-1", "routes": []})
    table["props"]["routes"] = list(routes)
    props = {"subnetId": UNKNOWN, "routeTableId": UNKNOWN}
    deps = {"subnetId": [subnet], "routeTableId": [table]}
    kind = "aws:ec2/routeTableAssociation:RouteTableAssociation"
    return [table, resource(kind, f"{subnet['name']}-assoc", props, deps=deps)]


def vpc_endpoint(service_name: str) -> dict[str, Any]:
    kind = "Gateway" if service_name == "s3" else "Interface"
    props = {
        "vpcId": "vpc-1",
        "serviceName": f"com.amazonaws.{REGION}.{service_name}",
        "vpcEndpointType": kind,
    }
    return resource("aws:ec2/vpcEndpoint:VpcEndpoint", f"endpoint-{service_name}", props)


def cluster_in(subnet: dict[str, Any], **paths: Any) -> dict[str, Any]:
    res = eks_cluster(**paths)
    res["property_dependencies"] = {"vpcConfig": [subnet["urn"]]}
    res["dependencies"] = [subnet["urn"]]
    return res


def k8s_provider_for(cluster: dict[str, Any]) -> dict[str, Any]:
    props = {"kubeconfig": UNKNOWN, "enableServerSideApply": True}
    return resource(
        "pulumi:providers:kubernetes", "cluster-k8s", props, deps={"kubeconfig": [cluster]}
    )
