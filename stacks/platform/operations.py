"""Operations tier: the WAF in front of the CRM, locked backups, Container Insights, the
autoscaler's role, and the alarms that page.

Every threshold comes from the profile (`alarms.thresholds`); the README's "Operating prod"
lists what each alarm means and whom it pages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.alarms import Alarms, AlarmsArgs, MetricAlarm
from components.backup import Backup, BackupArgs, CopyVault
from components.cluster import iam_policies
from components.cluster_addons.cluster_autoscaler import NAMESPACE as AUTOSCALER_NAMESPACE
from components.cluster_addons.cluster_autoscaler import SERVICE_ACCOUNT as AUTOSCALER_ACCOUNT
from components.edge import Edge
from components.encryption import Encryption, KeyDomain
from components.observability import NAMESPACE as INSIGHTS_NAMESPACE
from components.observability import SERVICE_ACCOUNT as INSIGHTS_ACCOUNT
from components.observability import ContainerInsights, ContainerInsightsArgs
from components.waf import WebAcl, WebAclArgs

from ..settings import StackSettings
from .cluster import ClusterTier
from .data import DataTier
from .providers import PROJECT, keys, provider

GIB, MIB = 1024**3, 1024**2


@dataclass(frozen=True)
class OperationsTier:
    backup: Backup
    alarms: Alarms
    cluster_autoscaler_role: aws.iam.Role


def build_web_acl(
    settings: StackSettings, opts: pulumi.ResourceOptions
) -> pulumi.Input[str] | None:
    """The stack's own web ACL when `waf.enabled`, else the external `app.wafWebAclArn`."""
    waf = settings.waf
    if not waf.enabled:
        return settings.app.waf_web_acl_arn
    return WebAcl(
        f"{PROJECT}-{settings.environment}",
        WebAclArgs(
            rate_limit_per_5_minutes=waf.rate_per_ip_per_5_minutes, count_only=waf.count_only
        ),
        opts=opts,
    ).arn


def _copy_vault(settings: StackSettings) -> CopyVault | None:
    """The copy region gets its own provider (same tags) and its own backup key."""
    region = settings.backup.copy_destination(settings.region, settings.residency.allowed_regions)
    if region is None:
        return None
    env = settings.environment
    copy_provider = provider(f"aws-{env}-backup-copy", region, settings)
    copy_keys = keys(
        f"{env}-backup-copy-keys", region, settings, copy_provider, domains=(KeyDomain.BACKUP,)
    )
    return CopyVault(provider=copy_provider, kms_key_arn=copy_keys.keys[KeyDomain.BACKUP].arn)


def _backup(
    settings: StackSettings,
    keys_: Encryption,
    data: DataTier,
    topic_arn: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> Backup:
    backup = settings.backup
    primary = data.database.primary
    return Backup(
        f"{settings.environment}-backup",
        BackupArgs(
            vault_name=f"{PROJECT}-{settings.environment}",
            kms_key_arn=keys_.keys[KeyDomain.BACKUP].arn,
            resource_arns=[primary.arn, data.storage.bucket_arn],
            daily_retention_days=backup.daily_retention_days,
            monthly_retention_days=backup.monthly_retention_days,
            lock=backup.vault_lock,
            copy=_copy_vault(settings),
            restore_test_database_arn=primary.arn if backup.restore_testing else None,
            notification_topic_arn=topic_arn,
            protect=settings.protect_stateful_resources,
        ),
        opts=opts,
    )


def _database_alarms(settings: StackSettings, data: DataTier) -> list[MetricAlarm]:
    limits, db = settings.alarms.thresholds, data.database
    primary = {"DBInstanceIdentifier": db.identifier}
    budget = settings.database.max_connections * 8 // 10
    alarms = [
        _rds("db-cpu", primary, "CPUUtilization", limits.database_cpu_percent,
             "Primary CPU high: slow queries or too little instance; check Performance Insights."),
        _rds("db-free-storage", primary, "FreeStorageSpace", limits.database_free_storage_gib * GIB,
             "Primary storage nearly full: autoscaling lagging or at maxAllocatedStorageGib.",
             comparison="LessThanOrEqualToThreshold", statistic="Minimum"),
        _rds("db-freeable-memory", primary, "FreeableMemory",
             limits.database_freeable_memory_mib * MIB,
             "Primary low on memory: swapping ahead; consider a larger instance class.",
             comparison="LessThanOrEqualToThreshold", statistic="Minimum"),
        _rds("db-connections", primary, "DatabaseConnections", budget,
             f"Connections at the CRM's budget (80% of max_connections = {budget}): pods beyond "
             "the capacity model or a connection leak.", statistic="Maximum"),
    ]  # fmt: skip
    for number, identifier in enumerate(db.replica_identifiers, start=1):
        replica = {"DBInstanceIdentifier": identifier}
        alarms += [
            _rds(f"replica-{number}-lag", replica, "ReplicaLag",
                 limits.replica_lag_seconds, "Read replica behind the primary: readers stale.",
                 statistic="Maximum"),
            _rds(f"replica-{number}-cpu", replica, "CPUUtilization",
                 limits.database_cpu_percent, "Read replica CPU high."),
        ]  # fmt: skip
    return alarms


def _rds(name: str, dimensions: dict, metric: str, threshold: float, description: str,
         **options) -> MetricAlarm:  # fmt: skip
    return MetricAlarm(
        name=name,
        description=description,
        namespace="AWS/RDS",
        metric=metric,
        dimensions=dimensions,
        threshold=threshold,
        **options,
    )


def _cache_alarms(settings: StackSettings) -> list[MetricAlarm]:
    """Per node: ElastiCache names a replication group's members `<group>-001`, `-002`, ..."""
    limits, group = settings.alarms.thresholds, f"{PROJECT}-{settings.environment}"
    alarms = []
    for number in range(1, settings.cache.nodes + 1):
        node = {"CacheClusterId": f"{group}-{number:03d}"}
        cache = dict(namespace="AWS/ElastiCache", dimensions=node, statistic="Maximum")
        alarms += [
            MetricAlarm(name=f"cache-{number}-memory", metric="DatabaseMemoryUsagePercentage",
                        threshold=limits.cache_memory_percent,
                        description="Valkey memory filling: with noeviction, writes (queues, "
                        "sessions) fail when full; raise cache.nodeType.", **cache),
            MetricAlarm(name=f"cache-{number}-evictions", metric="Evictions", threshold=1,
                        description="Valkey evicted keys: BullMQ jobs may be lost; the parameter "
                        "group must keep maxmemory-policy noeviction.", evaluation_periods=1,
                        treat_missing_data="notBreaching", **{**cache, "statistic": "Sum"}),
            MetricAlarm(name=f"cache-{number}-connections", metric="CurrConnections",
                        threshold=limits.cache_connections,
                        description="Valkey connections unusually high: a client leak.", **cache),
        ]  # fmt: skip
    return alarms


def _edge_alarms(settings: StackSettings, edge: Edge) -> list[MetricAlarm]:
    limits = settings.alarms.thresholds
    balancer = {"LoadBalancer": edge.load_balancer.arn_suffix}
    targets = {**balancer, "TargetGroup": edge.target_group.arn_suffix}
    alb = dict(namespace="AWS/ApplicationELB", evaluation_periods=1)
    quiet = dict(statistic="Sum", treat_missing_data="notBreaching")
    return [
        MetricAlarm(name="alb-5xx", metric="HTTPCode_ELB_5XX_Count", dimensions=balancer,
                    threshold=limits.load_balancer_errors, description="The load balancer "
                    "answers 5xx itself: no healthy CRM pod, or it cannot reach them.",
                    **alb, **quiet),
        MetricAlarm(name="alb-target-5xx", metric="HTTPCode_Target_5XX_Count",
                    dimensions=targets, threshold=limits.target_errors,
                    description="The CRM answers 5xx: check server logs, database and Valkey.",
                    **alb, **quiet),
        MetricAlarm(name="alb-latency-p99", metric="TargetResponseTime", dimensions=targets,
                    threshold=limits.latency_p99_ms / 1000, statistic="p99",
                    description="CRM p99 latency high: saturated pods or a slow database.",
                    **{**alb, "evaluation_periods": 3}),
        MetricAlarm(name="alb-unhealthy-hosts", metric="UnHealthyHostCount", dimensions=targets,
                    threshold=1, statistic="Maximum", period_seconds=60,
                    description="A CRM server pod fails its /healthz check.",
                    **{**alb, "evaluation_periods": 5}),
        MetricAlarm(name="crm-healthy-pods", metric="HealthyHostCount", dimensions=targets,
                    threshold=settings.app.capacity.min_server_pods,
                    comparison="LessThanThreshold", statistic="Minimum", period_seconds=60,
                    treat_missing_data="breaching", description="Fewer healthy CRM server pods "
                    "than the autoscaler's floor: the CRM is degraded or down.",
                    **{**alb, "evaluation_periods": 5}),
    ]  # fmt: skip


def _cluster_alarms(settings: StackSettings, cluster_name: pulumi.Input[str]) -> list[MetricAlarm]:
    limits, capacity = settings.alarms.thresholds, settings.app.capacity
    cluster = {"ClusterName": cluster_name}
    insights = dict(namespace="ContainerInsights")
    return [
        MetricAlarm(name="nodes-cpu", metric="node_cpu_utilization", dimensions=cluster,
                    threshold=limits.node_cpu_percent, description="Nodes busy: the autoscaler "
                    "may be at a pool's maxSize.", **insights),
        MetricAlarm(name="nodes-memory", metric="node_memory_utilization", dimensions=cluster,
                    threshold=limits.node_memory_percent,
                    description="Nodes short of memory: pods risk OOM kills.", **insights),
        MetricAlarm(name="nodes-failed", metric="cluster_failed_node_count", dimensions=cluster,
                    threshold=1, statistic="Maximum", description="A node reports a failing "
                    "condition (node auto repair replaces it).", **insights),
        MetricAlarm(name="crm-running-pods", metric="namespace_number_of_running_pods",
                    dimensions={**cluster, "Namespace": settings.app.namespace},
                    threshold=capacity.min_server_pods + capacity.min_worker_pods,
                    comparison="LessThanThreshold", statistic="Minimum",
                    treat_missing_data="breaching", description="Fewer CRM pods (server and "
                    "worker) running than the autoscalers' floors: pending or crashing pods.",
                    **insights),
    ]  # fmt: skip


def build_operations(
    settings: StackSettings,
    keys_: Encryption,
    data: DataTier,
    cluster: ClusterTier,
    edge: Edge,
    opts: pulumi.ResourceOptions,
) -> OperationsTier:
    env, eks = settings.environment, cluster.cluster
    ContainerInsights(
        f"{env}-insights",
        ContainerInsightsArgs(
            cluster_name=eks.cluster.name,
            kubernetes_version=settings.cluster.kubernetes_version,
            agent_role_arn=eks.workload_role(
                "cloudwatch-agent",
                INSIGHTS_NAMESPACE,
                INSIGHTS_ACCOUNT,
                managed_policies=["CloudWatchAgentServerPolicy"],
            ).arn,
            logs_key_arn=keys_.keys[KeyDomain.LOGS].arn,
            log_retention_days=settings.logging.retention_days,
            depends_on=tuple(eks.node_groups.values()),
        ),
        opts=opts,
    )
    alarms = Alarms(
        f"{env}-alarms",
        AlarmsArgs(
            topic_name=f"{PROJECT}-{env}-alarms",
            kms_key_arn=keys_.keys[KeyDomain.ALERTS].arn,
            emails=tuple(settings.alarms.emails),
            alarms=(
                *_database_alarms(settings, data),
                *_cache_alarms(settings),
                *_edge_alarms(settings, edge),
                *_cluster_alarms(settings, eks.cluster.name),
            ),
        ),
        opts=opts,
    )
    autoscaler_role = eks.workload_role(
        "cluster-autoscaler",
        AUTOSCALER_NAMESPACE,
        AUTOSCALER_ACCOUNT,
        policy_json=json.dumps(iam_policies.cluster_autoscaler(eks.name)),
    )
    backup = _backup(settings, keys_, data, alarms.topic_arn, opts)
    return OperationsTier(backup=backup, alarms=alarms, cluster_autoscaler_role=autoscaler_role)
