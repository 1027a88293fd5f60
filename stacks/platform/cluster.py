"""Cluster tier: the private EKS cluster and the IAM roles its workloads will assume."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.cluster import Cluster, ClusterArgs, NodePool
from components.email import Email
from components.encryption import Encryption, KeyDomain
from components.iam import dns_suffix, secret_reader_policy
from components.network import Network

from ..settings import StackSettings
from .data import DataTier
from .providers import PROJECT

APP_SERVICE_ACCOUNT = "twenty"
SECRETS_SERVICE_ACCOUNT = "twenty-secrets"
DB_BOOTSTRAP_SERVICE_ACCOUNT = "twenty-db-bootstrap"


@dataclass(frozen=True)
class ClusterTier:
    cluster: Cluster
    app_role: aws.iam.Role
    """The CRM's pods: the attachments bucket and its key, nothing else."""
    secrets_role: aws.iam.Role
    """External Secrets for the CRM: reads the CRM's login and SMTP secrets, nothing else."""
    db_bootstrap_role: aws.iam.Role
    """External Secrets for the database bootstrap Job: reads the master secret, nothing else."""


def build_cluster(
    settings: StackSettings,
    network: Network,
    keys_: Encryption,
    data: DataTier,
    email: Email,
    opts: pulumi.ResourceOptions,
) -> ClusterTier:
    cluster_settings = settings.cluster
    cluster = Cluster(
        f"{settings.environment}-cluster",
        ClusterArgs(
            name=f"{PROJECT}-{settings.environment}",
            kubernetes_version=cluster_settings.kubernetes_version,
            vpc_id=network.vpc.id,
            private_subnet_ids=network.private_subnet_ids,
            workload_security_group_id=network.workload_security_group.id,
            secrets_key_arn=keys_.keys[KeyDomain.CLUSTER].arn,
            volumes_key_arn=keys_.keys[KeyDomain.VOLUMES].arn,
            logs_key_arn=keys_.keys[KeyDomain.LOGS].arn,
            system_pool=NodePool(**cluster_settings.system_nodes.model_dump()),
            app_pool=NodePool(**cluster_settings.app_nodes.model_dump()),
            log_retention_days=settings.logging.retention_days,
            admin_role_arns=tuple(cluster_settings.admin_role_arns),
            grant_deployer_admin=cluster_settings.grant_deployer_admin,
            endpoint_public_access=cluster_settings.endpoint_public_access,
            public_access_cidrs=tuple(cluster_settings.public_access_cidrs),
            private_access_cidrs=tuple(cluster_settings.private_access_cidrs),
            max_unavailable_percentage=cluster_settings.max_unavailable_percentage,
            protect=settings.protect_stateful_resources,
        ),
        opts=opts,
    )
    namespace = settings.app.namespace
    database_key = keys_.keys[KeyDomain.DATABASE].arn
    return ClusterTier(
        cluster=cluster,
        app_role=cluster.workload_role(
            "crm-app", namespace, APP_SERVICE_ACCOUNT, data.storage.access_policy_json
        ),
        secrets_role=cluster.workload_role(
            "crm-secrets",
            namespace,
            SECRETS_SERVICE_ACCOUNT,
            secret_reader_policy(
                dns_suffix(cluster),
                (data.database.crm_secret_arn, database_key),
                (email.secret_arn, keys_.keys[KeyDomain.EMAIL].arn),
            ),
        ),
        db_bootstrap_role=cluster.workload_role(
            "crm-db-bootstrap",
            namespace,
            DB_BOOTSTRAP_SERVICE_ACCOUNT,
            secret_reader_policy(
                dns_suffix(cluster), (data.database.master_secret_arn, database_key)
            ),
        ),
    )
