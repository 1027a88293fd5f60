"""The CRM on the cluster, wired to the platform's data stores and load balancer."""

from __future__ import annotations

import pulumi

from components.cluster import POOL_LABEL
from components.cluster_addons import ClusterAddons
from components.crm_app import CrmApp, CrmAppArgs
from components.crm_app.email import SmtpArgs
from components.edge import DEREGISTRATION_DELAY_SECONDS

from ..contract import PlatformOutputs
from ..settings import StackSettings


def build_crm(
    settings: StackSettings,
    platform: PlatformOutputs,
    addons: ClusterAddons,
    ca_bundle: str,
    opts: pulumi.ResourceOptions,
) -> CrmApp:
    app, capacity, database = settings.app, settings.app.capacity, settings.database
    reads_on_replicas = database.replica_reads and database.read_replicas > 0
    return CrmApp(
        f"{settings.environment}-crm",
        CrmAppArgs(
            namespace=app.namespace,
            image=app.image,
            version=app.version,
            domain=app.domain,
            region=settings.region,
            database_host=platform.db_writer_address,
            database_port=platform.db_port,
            database_name=platform.db_name,
            database_secret_arn=platform.db_crm_secret_arn,
            database_secret_version=platform.db_crm_secret_version_id,
            database_role=platform.db_crm_role,
            master_secret_arn=platform.db_master_secret_arn,
            db_bootstrap_role_arn=platform.db_bootstrap_role_arn,
            replica_hosts=platform.db_reader_addresses if reads_on_replicas else None,
            ca_bundle=ca_bundle,
            redis_host=platform.cache_primary_endpoint,
            redis_port=platform.cache_port,
            redis_auth_token=platform.cache_auth_token,
            bucket_name=platform.attachments_bucket_name,
            app_role_arn=platform.app_role_arn,
            secrets_role_arn=platform.secrets_role_arn,
            target_group_arn=platform.target_group_arn,
            deregistration_delay_seconds=DEREGISTRATION_DELAY_SECONDS,
            load_balancer_cidrs=platform.public_subnet_cidrs,
            data_cidrs=platform.isolated_subnet_cidrs,
            pool_size=capacity.pool_size,
            min_server_pods=capacity.min_server_pods,
            max_server_pods=capacity.max_server_pods,
            min_worker_pods=capacity.min_worker_pods,
            max_worker_pods=capacity.max_worker_pods,
            node_selector={POOL_LABEL: "app"},
            requires=tuple(addons.ready),
            protect=settings.protect_stateful_resources,
            image_digest=app.digest,
            migration_run=app.migration_run,
            email=SmtpArgs(
                smtp_host=platform.email_smtp_host,
                secret_arn=platform.email_secret_arn,
                from_address=app.sender,
                from_name=app.email.from_name,
            ),
        ),
        opts=opts,
    )
