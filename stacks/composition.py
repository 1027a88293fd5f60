"""Composes the components into one stack from validated settings."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.access_logs import AccessLogBucket, AccessLogBucketArgs
from components.cache import Cache, CacheArgs
from components.certificate import CertificateArgs, DnsValidatedCertificate
from components.cluster import POOL_LABEL, Cluster, ClusterArgs, NodePool
from components.crm_app import CrmApp, CrmAppArgs, database_secret_reader_policy
from components.database import Database, DatabaseArgs, DisasterRecoveryArgs
from components.encryption import Encryption, EncryptionArgs, KeyDomain
from components.network import Network, NetworkArgs
from components.storage import Storage, StorageArgs

from .settings import StackSettings

PROJECT = "crm-platform"


def default_tags(settings: StackSettings) -> dict[str, str]:
    """Tags every AWS resource carries (through the provider), used for cost and audits."""
    return {
        "project": PROJECT,
        "environment": settings.environment,
        "owner": settings.owner,
        "data-classification": settings.data_classification,
        "managed-by": "pulumi",
    }


def _provider(name: str, region: str, settings: StackSettings) -> aws.Provider:
    """An explicit provider: every resource names its region and carries the stack's tags;
    it uses the stack's `aws:` account settings (explicit providers ignore the stack config)."""
    access = settings.aws
    return aws.Provider(
        name,
        region=region,
        default_tags=aws.ProviderDefaultTagsArgs(tags=default_tags(settings)),
        profile=access.profile,
        assume_roles=[
            aws.ProviderAssumeRoleArgs(
                role_arn=role.role_arn, session_name=role.session_name, external_id=role.external_id
            )
            for role in access.assume_roles
        ]
        or None,
        allowed_account_ids=access.allowed_account_ids or None,
    )


def _keys(
    name: str,
    region: str,
    settings: StackSettings,
    provider: aws.Provider,
    domains: tuple[KeyDomain, ...] = tuple(KeyDomain),
) -> Encryption:
    return Encryption(
        name,
        EncryptionArgs(
            region=region,
            alias_prefix=f"{PROJECT}/{settings.environment}",
            domains=domains,
            deletion_window_days=settings.encryption.key_deletion_window_days,
            protect=settings.protect_stateful_resources,
        ),
        opts=pulumi.ResourceOptions(providers={"aws": provider}),
    )


def build(settings: StackSettings) -> dict[str, object]:
    """Create every resource of the stack and return the stack outputs."""
    env = settings.environment
    provider = _provider(f"aws-{env}", settings.region, settings)
    with_provider = pulumi.ResourceOptions(providers={"aws": provider})

    encryption = _keys(f"{env}-keys", settings.region, settings, provider)
    network = Network(
        f"{env}-net",
        NetworkArgs(
            region=settings.region,
            cidr=settings.network.cidr,
            az_count=settings.network.az_count,
            nat_strategy=settings.network.nat_strategy,
            interface_endpoints=settings.network.interface_endpoints,
            flow_log_key_arn=encryption.keys[KeyDomain.LOGS].arn,
            flow_log_retention_days=settings.logging.retention_days,
        ),
        opts=with_provider,
    )
    outputs: dict[str, object] = {
        "region": settings.region,
        "allowedRegions": settings.residency.allowed_regions,
        "vpcId": network.vpc.id,
        "availabilityZones": network.availability_zones,
        "publicSubnetIds": network.public_subnet_ids,
        "privateSubnetIds": network.private_subnet_ids,
        "isolatedSubnetIds": network.isolated_subnet_ids,
        "kmsKeyArns": encryption.key_arns,
    }
    # Cluster: built here, after the network (its nodes carry network.workload_security_group).
    cluster_settings = settings.cluster
    cluster = Cluster(
        f"{env}-cluster",
        ClusterArgs(
            name=f"{PROJECT}-{env}",
            region=settings.region,
            kubernetes_version=cluster_settings.kubernetes_version,
            vpc_id=network.vpc.id,
            private_subnet_ids=network.private_subnet_ids,
            workload_security_group_id=network.workload_security_group.id,
            secrets_key_arn=encryption.keys[KeyDomain.CLUSTER].arn,
            volumes_key_arn=encryption.keys[KeyDomain.VOLUMES].arn,
            logs_key_arn=encryption.keys[KeyDomain.LOGS].arn,
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
        opts=with_provider,
    )
    outputs |= {
        "clusterName": cluster.cluster.name,
        "clusterEndpoint": cluster.cluster.endpoint,
        "clusterSecretsKeyArn": cluster.secrets_key_arn,
        "oidcProviderArn": cluster.oidc_provider.arn,
        "kubeconfig": cluster.kubeconfig,
    }

    # Data tier: built here, after the cluster; data stores admit only the workload group.
    db_settings = settings.database
    data_clients = [network.workload_security_group.id]
    disaster_recovery = None
    if db_settings.dr_region:
        # The DR region gets its own provider (same tags) and its own database and logs keys:
        # KMS keys are regional, and the copy must never depend on the lost region.
        dr_provider = _provider(f"aws-{env}-dr", db_settings.dr_region, settings)
        dr_keys = _keys(
            f"{env}-dr-keys",
            db_settings.dr_region,
            settings,
            dr_provider,
            domains=(KeyDomain.DATABASE, KeyDomain.LOGS),
        )
        disaster_recovery = DisasterRecoveryArgs(
            provider=dr_provider,
            kms_key_arn=dr_keys.keys[KeyDomain.DATABASE].arn,
            logs_key_arn=dr_keys.keys[KeyDomain.LOGS].arn,
            subnet_group_name=db_settings.dr_subnet_group_name,
            security_group_ids=tuple(db_settings.dr_security_group_ids),
        )
    database = Database(
        f"{env}-db",
        DatabaseArgs(
            identifier=f"{PROJECT}-{env}",
            vpc_id=network.vpc.id,
            subnet_group_name=network.db_subnet_group.name,
            availability_zones=network.availability_zones,
            client_security_group_ids=data_clients,
            kms_key_arn=encryption.keys[KeyDomain.DATABASE].arn,
            logs_key_arn=encryption.keys[KeyDomain.LOGS].arn,
            max_connections=db_settings.max_connections,
            instance_class=db_settings.instance_class,
            engine_version=db_settings.engine_version,
            multi_az=db_settings.multi_az,
            read_replicas=db_settings.read_replicas,
            allocated_storage_gib=db_settings.allocated_storage_gib,
            max_allocated_storage_gib=db_settings.max_allocated_storage_gib,
            backup_retention_days=db_settings.backup_retention_days,
            backup_window=db_settings.backup_window,
            maintenance_window=db_settings.maintenance_window,
            deletion_protection=db_settings.deletion_protection,
            log_retention_days=settings.logging.retention_days,
            dr=disaster_recovery,
            protect=settings.protect_stateful_resources,
        ),
        opts=with_provider,
    )
    cache = Cache(
        f"{env}-cache",
        CacheArgs(
            replication_group_id=f"{PROJECT}-{env}",
            vpc_id=network.vpc.id,
            subnet_ids=network.isolated_subnet_ids,
            availability_zones=network.availability_zones,
            client_security_group_ids=data_clients,
            kms_key_arn=encryption.keys[KeyDomain.CACHE].arn,
            logs_key_arn=encryption.keys[KeyDomain.LOGS].arn,
            node_type=settings.cache.node_type,
            nodes=settings.cache.nodes,
            snapshot_retention_days=settings.cache.snapshot_retention_days,
            log_retention_days=settings.logging.retention_days,
            protect=settings.protect_stateful_resources,
        ),
        opts=with_provider,
    )
    access_logs = AccessLogBucket(
        f"{env}-alb-logs",
        AccessLogBucketArgs(
            region=settings.region,
            retention_days=settings.logging.retention_days,
            protect=settings.protect_stateful_resources,
        ),
        opts=with_provider,
    )
    storage = Storage(
        f"{env}-storage",
        StorageArgs(
            bucket_name_prefix=f"{PROJECT}-{env}-attachments",
            region=settings.region,
            kms_key_arn=encryption.keys[KeyDomain.STORAGE].arn,
            noncurrent_version_expiration_days=settings.storage.noncurrent_version_expiration_days,
            protect=settings.protect_stateful_resources,
            access_log_bucket=access_logs.bucket_name,
        ),
        opts=with_provider,
    )
    outputs |= {
        "dbPrimaryIdentifier": database.identifier,
        "dbReplicaIdentifiers": database.replica_identifiers,
        "dbKmsKeyArn": encryption.keys[KeyDomain.DATABASE].arn,
        "dbWriterEndpoint": database.writer_endpoint,
        "dbReaderEndpoints": database.reader_endpoints,
        "dbMasterSecretArn": database.master_secret_arn,
        "cachePrimaryEndpoint": cache.primary_endpoint,
        "attachmentsBucketName": storage.bucket_name,
        "storageKmsKeyArn": encryption.keys[KeyDomain.STORAGE].arn,
    }
    if database.dr_replica:
        outputs |= {
            "dbDrRegion": db_settings.dr_region,
            "dbDrReplicaArn": database.dr_replica.arn,
        }

    # CRM application: built here, on the cluster's Kubernetes provider, using the data tier.
    app = settings.app
    if app.tls.hosted_zone_id:
        certificate_arn = DnsValidatedCertificate(
            f"{env}-certificate",
            CertificateArgs(domain=app.domain, hosted_zone_id=app.tls.hosted_zone_id),
            opts=with_provider,
        ).certificate_arn
    else:
        certificate_arn = app.tls.certificate_arn
    app_role = cluster.workload_role("crm-app", app.namespace, "twenty", storage.access_policy_json)
    secrets_role = cluster.workload_role(
        "crm-secrets",
        app.namespace,
        "twenty-secrets",
        database_secret_reader_policy(
            database.master_secret_arn, encryption.keys[KeyDomain.DATABASE].arn
        ),
    )
    capacity = app.capacity
    crm = CrmApp(
        f"{env}-crm",
        CrmAppArgs(
            namespace=app.namespace,
            image=app.image,
            version=app.version,
            domain=app.domain,
            region=settings.region,
            database_host=database.writer_address,
            database_port=database.port,
            database_name=database.database_name,
            database_secret_arn=database.master_secret_arn,
            redis_host=cache.primary_endpoint,
            redis_port=cache.port,
            redis_auth_token=cache.auth_token,
            bucket_name=storage.bucket_name,
            app_role_arn=app_role.arn,
            secrets_role_arn=secrets_role.arn,
            certificate_arn=certificate_arn,
            ssl_policy=app.tls.ssl_policy,
            access_log_bucket=access_logs.bucket_name,
            load_balancer_cidrs=network.layout.public,
            data_cidrs=network.layout.isolated,
            min_server_pods=capacity.min_server_pods,
            max_server_pods=capacity.max_server_pods,
            min_worker_pods=capacity.min_worker_pods,
            max_worker_pods=capacity.max_worker_pods,
            pool_size=capacity.pool_size,
            waf_web_acl_arn=app.waf_web_acl_arn,
            hosted_zone_id=app.tls.hosted_zone_id,
            node_selector={POOL_LABEL: "app"},
            # The Ingress needs the ALB controller (and its webhook), the autoscalers metrics.
            requires=(cluster.load_balancer_controller, cluster.metrics_server),
            protect=settings.protect_stateful_resources,
        ),
        opts=pulumi.ResourceOptions(
            providers={"aws": provider, "kubernetes": cluster.k8s_provider}
        ),
    )
    outputs |= {"crmVersion": app.version, "crmUrl": crm.url}
    return outputs
