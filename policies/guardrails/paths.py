"""Every path data can leave by: destination ARNs and endpoints of any input, public resource
policies, and customer-managed keys in the resource's own region for every store.

These rules judge values rather than named properties, so a delivery target that the pack does
not know by name (an SNS subscription, an EventBridge target, an SQS redrive queue, a Lambda
destination, a Firehose stream...) is judged all the same.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .core import (
    CRITICAL,
    HIGH,
    UNKNOWN,
    Res,
    entries,
    field,
    public_statements,
    resource_policy,
    setting,
    show,
    show_list,
)
from .loadbalancer import INGRESS, annotation
from .residency import named_regions

# --- resource policies -----------------------------------------------------------------------

POLICY_HOLDERS = {
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
    "aws:sns/topic:Topic": "policy",
    "aws:sns/topicPolicy:TopicPolicy": "policy",
    "aws:sqs/queue:Queue": "policy",
    "aws:sqs/queuePolicy:QueuePolicy": "policy",
    "aws:secretsmanager/secretPolicy:SecretPolicy": "policy",
    "aws:ecr/repositoryPolicy:RepositoryPolicy": "policy",
    "aws:kms/keyPolicy:KeyPolicy": "policy",
    "aws:kms/key:Key": "policy",
}


@resource_policy(
    "resource-policy-no-public-principal",
    types=set(POLICY_HOLDERS),
    description="Resource policies (S3, SNS, SQS, KMS, Secrets Manager, ECR) must not grant a "
    "public principal without a condition pinning an account, organization or source.",
    severity=CRITICAL,
    remediation=(
        "Name the principals, or add a condition on aws:PrincipalAccount, aws:PrincipalOrgID, "
        "aws:SourceAccount or aws:SourceArn to the statement that allows Principal '*'."
    ),
    tags=["public-exposure", "Config:SNS_TOPIC_NO_PUBLIC_ACCESS", "SH:S3.2", "CKV_AWS_70"],
)
def no_public_principal(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    prop = POLICY_HOLDERS[res.type]
    document = res.get(prop)
    if document is None:
        return
    try:
        public = public_statements(document)
    except ValueError as error:
        yield f"{res.label} has a {prop} that cannot be read ({error}), so it is refused."
        return
    for index in public:
        yield (
            f'{res.label} {prop} Statement[{index}] allows Principal "*" with no condition '
            "pinning an account, organization or source; that grants the world access."
        )


# --- customer-managed keys --------------------------------------------------------------------

# Where each store names its key; a store without one uses an AWS-managed key.
KEY_INPUTS = {
    "aws:sns/topic:Topic": "kmsMasterKeyId",
    "aws:sqs/queue:Queue": "kmsMasterKeyId",
    "aws:backup/vault:Vault": "kmsKeyArn",
    "aws:backup/logicallyAirGappedVault:LogicallyAirGappedVault": "encryptionKeyArn",
    "aws:ebs/volume:Volume": "kmsKeyId",
    "aws:ebs/snapshotCopy:SnapshotCopy": "kmsKeyId",
    "aws:ecr/repository:Repository": "encryptionConfigurations.kmsKey",
    "aws:cloudwatch/logGroup:LogGroup": "kmsKeyId",
    "aws:secretsmanager/secret:Secret": "kmsKeyId",
}


# Stores whose missing key has a policy of its own (sns-topic-cmk, ec2-ebs-encrypted,
# log-group-kms, secret-customer-managed-key): only the key's region is judged here.
CHECKED_ELSEWHERE = frozenset(
    {
        "aws:sns/topic:Topic",
        "aws:ebs/volume:Volume",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:secretsmanager/secret:Secret",
    }
)


def _key(res: Res) -> tuple[str, Any]:
    path = KEY_INPUTS[res.type]
    if res.type == "aws:ecr/repository:Repository":
        configs = entries(res.peek("encryptionConfigurations"))
        if configs is None:
            return path, UNKNOWN
        kms = [c for c in configs if field(c, "encryptionType") == "KMS"]
        return path, field(kms[0], "kmsKey") if kms else None
    return path, res.peek(path)


def _own_region(res: Res) -> Any:
    own = res.peek("region")
    if own:
        return own
    return res.provider.peek("region") if res.provider is not None else None


def _aws_managed(key: Any) -> bool:
    return isinstance(key, str) and ("alias/aws/" in key or key == "")


@resource_policy(
    "store-customer-managed-key",
    types=set(KEY_INPUTS),
    description="SNS, SQS, backup vaults, EBS, ECR, log groups and secrets must be encrypted with "
    "a customer-managed KMS key in the resource's own region.",
    severity=HIGH,
    remediation=(
        "Set the store's key input (kmsMasterKeyId, kmsKeyArn, kmsKeyId, encryptionConfigurations"
        "[].kmsKey) to a customer-managed key created in the same region."
    ),
    tags=[
        "encryption",
        "SH:SNS.1",
        "SH:SQS.1",
        "CKV_AWS_26",
        "CKV_AWS_27",
        "CKV_AWS_166",
        "CKV_AWS_136",
        "AwsSolutions-SNS2",
    ],
)
def store_cmk(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    path, key = _key(res)
    if (key is None or _aws_managed(key)) and res.type not in CHECKED_ELSEWHERE:
        yield (
            f"{res.label} {setting(path, key)}, so an AWS-managed key would encrypt it; set a "
            "customer-managed key."
        )
        return
    regions = named_regions(key) if isinstance(key, str) else set()
    home = _own_region(res)
    if isinstance(home, str) and regions and regions != {home}:
        yield (
            f"{res.label} uses key {show(key)} from region(s) {show_list(sorted(regions))} "
            f"({path}); the key must be in the resource's own region {show(home)}."
        )


# --- public endpoints -------------------------------------------------------------------------

SERVICE = "kubernetes:core/v1:Service"
SERVICE_SCHEME = "service.beta.kubernetes.io/aws-load-balancer-scheme"
SERVICE_INTERNAL = "service.beta.kubernetes.io/aws-load-balancer-internal"
INGRESS_SCHEME = "alb.ingress.kubernetes.io/scheme"


def _service_problems(res: Res) -> Iterator[str]:
    kind = res.get("spec.type")
    if kind == "NodePort":
        yield (
            f'{res.label} sets spec.type to "NodePort", which opens the port on every node '
            "and bypasses the stack's edge; use ClusterIP behind the edge's target group."
        )
    elif kind == "LoadBalancer":
        scheme = annotation(res, SERVICE_SCHEME)
        internal = str(annotation(res, SERVICE_INTERNAL)).lower() == "true"
        if scheme != "internal" and not internal:
            yield (
                f"{res.label} is a LoadBalancer Service with {SERVICE_SCHEME} "
                f"{show(scheme)}; it must be explicitly internal: public traffic enters only "
                "through the stack's edge (its ALB, WAF and TLS policy)."
            )


@resource_policy(
    "k8s-no-public-endpoints",
    types={SERVICE, INGRESS},
    description="Kubernetes Services and Ingresses must be internal: public traffic enters only "
    "through the stack's edge.",
    severity=CRITICAL,
    remediation=(
        "Use ClusterIP Services bound to the edge's target group (TargetGroupBinding); annotate "
        "any LoadBalancer Service or Ingress as internal."
    ),
    tags=["kubernetes", "public-exposure", "Kyverno:restrict-nodeport"],
)
def no_public_endpoints(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if res.type == SERVICE:
        yield from _service_problems(res)
        return
    scheme = annotation(res, INGRESS_SCHEME)
    if scheme != "internal":
        yield (
            f"{res.label} {setting(INGRESS_SCHEME, scheme)}; an Ingress must be explicitly "
            "internal: public traffic enters only through the stack's edge (its ALB, WAF and "
            "TLS policy), not a load balancer of the workloads."
        )
