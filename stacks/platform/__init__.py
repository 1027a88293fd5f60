"""The platform layer: every AWS resource of an environment, deployable from anywhere.

It talks only to AWS's public APIs (it creates nothing inside the cluster), and exports the
`PlatformOutputs` contract the workloads layer builds on.
"""

from __future__ import annotations

import pulumi

from components.encryption import KeyDomain

from ..contract import PlatformOutputs
from ..settings import StackSettings
from ..settings_reader import read_settings
from .cluster import build_cluster
from .data import build_data
from .edge import build_access_logs, build_edge, build_email
from .network import build_network
from .operations import build_operations, build_web_acl
from .providers import keys, provider
from .runner import build_runner


def build(settings: StackSettings) -> PlatformOutputs:
    """Create every AWS resource of the stack, tier by tier, and return the contract."""
    env = settings.environment
    aws_provider = provider(f"aws-{env}", settings.region, settings)
    opts = pulumi.ResourceOptions(providers={"aws": aws_provider})
    keys_ = keys(f"{env}-keys", settings.region, settings, aws_provider)
    network = build_network(settings, keys_, opts)
    access_logs = build_access_logs(settings, opts)
    data = build_data(settings, network, keys_, access_logs.bucket_name, opts)
    email = build_email(settings, keys_, opts)
    cluster = build_cluster(settings, network, keys_, data, email, opts)
    edge = build_edge(settings, network, access_logs, build_web_acl(settings, opts), opts)
    runner = build_runner(settings, network, keys_, cluster.cluster, opts)
    operations = build_operations(settings, keys_, data, cluster, edge, opts)
    database, eks = data.database, cluster.cluster.cluster
    return PlatformOutputs(
        region=settings.region,
        allowed_regions=settings.residency.allowed_regions,
        profile=settings.profile,
        vpc_id=network.vpc.id,
        availability_zones=network.availability_zones,
        public_subnet_ids=network.public_subnet_ids,
        private_subnet_ids=network.private_subnet_ids,
        isolated_subnet_ids=network.isolated_subnet_ids,
        public_subnet_cidrs=network.layout.public,
        isolated_subnet_cidrs=network.layout.isolated,
        kms_key_arns=keys_.key_arns,
        cluster_name=eks.name,
        cluster_endpoint=eks.endpoint,
        cluster_certificate_authority=eks.certificate_authority.apply(lambda ca: ca.data),
        cluster_secrets_key_arn=cluster.cluster.secrets_key_arn,
        oidc_provider_arn=cluster.cluster.oidc_provider.arn,
        volumes_key_arn=keys_.keys[KeyDomain.VOLUMES].arn,
        app_role_arn=cluster.app_role.arn,
        secrets_role_arn=cluster.secrets_role.arn,
        db_bootstrap_role_arn=cluster.db_bootstrap_role.arn,
        load_balancer_controller_role_arn=cluster.cluster.load_balancer_controller_role.arn,
        target_group_arn=edge.target_group.arn,
        load_balancer_security_group_id=edge.security_group.id,
        load_balancer_dns_name=edge.dns_name,
        crm_url=f"https://{settings.app.domain}",
        db_primary_identifier=database.identifier,
        db_replica_identifiers=database.replica_identifiers,
        db_kms_key_arn=keys_.keys[KeyDomain.DATABASE].arn,
        db_writer_address=database.writer_address,
        db_port=database.port,
        db_name=database.database_name,
        db_reader_endpoints=database.reader_endpoints,
        db_reader_addresses=database.reader_addresses,
        db_master_secret_arn=database.master_secret_arn,
        db_crm_secret_arn=database.crm_secret_arn,
        db_crm_secret_version_id=database.crm_secret_version_id,
        db_crm_role=database.crm_role,
        db_multi_az=settings.database.multi_az,
        db_dr_region=settings.database.dr_region or "",
        db_dr_replica_arn=database.dr_replica.arn if database.dr_replica else "",
        cache_primary_endpoint=data.cache.primary_endpoint,
        cache_port=data.cache.port,
        cache_auth_token=data.cache.auth_token,
        attachments_bucket_name=data.storage.bucket_name,
        storage_kms_key_arn=keys_.keys[KeyDomain.STORAGE].arn,
        deploy_runner_label=runner.label if runner else "",
        email_smtp_host=email.smtp_host,
        email_secret_arn=email.secret_arn,
        email_dkim_tokens=email.dkim_tokens,
        kubernetes_version=settings.cluster.kubernetes_version,
        cluster_autoscaler_role_arn=operations.cluster_autoscaler_role.arn,
        backup_vault_name=operations.backup.vault.name,
        alarm_topic_arn=operations.alarms.topic_arn,
        web_acl_arn=edge.web_acl_arn or "",
    )


def program() -> None:
    """The platform's Pulumi program: validate every setting, build, export the contract."""
    build(read_settings()).export()
