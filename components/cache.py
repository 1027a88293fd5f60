"""The CRM's Valkey: an ElastiCache replication group (cluster mode disabled) for Twenty's
sessions, cache and BullMQ queues; encrypted at rest and in transit, AUTH-protected, private."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from .security_groups import clients_only

ENGINE = "valkey"
PORT = 6379
LOG_TYPES = ("slow-log", "engine-log")
# ElastiCache AUTH tokens: 16-128 printable characters, the only non-alphanumerics allowed
# being these (no @, " or /).
AUTH_TOKEN_LENGTH = 64
AUTH_TOKEN_SPECIALS = "!&#$^<>-"


@dataclass(frozen=True)
class CacheArgs:
    """Inputs of `Cache`."""

    replication_group_id: str
    """ElastiCache id (at most 40 characters); never change it, it forces a new group."""
    vpc_id: pulumi.Input[str]
    """VPC of the cache security group."""
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Isolated subnets (no route out of the VPC) the nodes live in."""
    availability_zones: pulumi.Input[Sequence[str]]
    """AZs of those subnets; node n is placed in zone n modulo their number."""
    client_security_group_ids: Sequence[pulumi.Input[str]]
    """Security groups allowed to connect on 6379; no CIDR is ever allowed."""
    kms_key_arn: pulumi.Input[str]
    """Cache key: encryption at rest of nodes and snapshots."""
    logs_key_arn: pulumi.Input[str]
    """Logs key of the slow-log and engine-log groups."""
    node_type: str = "cache.m7g.large"
    """Node type of every node."""
    nodes: int = 2
    """Primary plus replicas; 2 or more enables automatic failover and Multi-AZ."""
    snapshot_retention_days: int = 7
    """Days of daily snapshots (0: none)."""
    engine_version: str = "8.1"
    """Valkey version; its major version picks the parameter group family."""
    snapshot_window: str = "02:00-03:00"
    """Daily UTC snapshot window (at least 60 minutes)."""
    maintenance_window: str = "sun:05:00-sun:06:00"
    """Weekly UTC maintenance window (at least 60 minutes, apart from the snapshot window)."""
    log_retention_days: int = 365
    """Retention of the log groups."""
    protect: bool = True
    """Pulumi `protect` on the replication group (it holds queued jobs and sessions)."""


class Cache(pulumi.ComponentResource):
    """Replication group, its subnet and parameter groups, security group, AUTH token, logs."""

    def __init__(
        self, name: str, args: CacheArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("crm-platform:data:Cache", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        high_availability = args.nodes >= 2
        self.port = PORT

        self.security_group = clients_only(
            name,
            self,
            vpc_id=args.vpc_id,
            port=PORT,
            service="Valkey",
            client_security_group_ids=args.client_security_group_ids,
        )
        subnet_group = aws.elasticache.SubnetGroup(
            name,
            description=f"{name} isolated subnets",
            subnet_ids=args.subnet_ids,
            opts=child,
        )
        # No explicit name: a new family (major upgrade) creates the new group first.
        parameter_group = aws.elasticache.ParameterGroup(
            name,
            family=f"{ENGINE}{args.engine_version.split('.')[0]}",
            description="CRM Valkey: never evict (BullMQ queues must not lose jobs)",
            parameters=[
                aws.elasticache.ParameterGroupParameterArgs(
                    name="maxmemory-policy", value="noeviction"
                )
            ],
            opts=child,
        )
        auth = random.RandomPassword(
            f"{name}-auth",
            length=AUTH_TOKEN_LENGTH,
            special=True,
            override_special=AUTH_TOKEN_SPECIALS,
            opts=child,
        )
        # RandomPassword's result is secret in the engine already; saying so here keeps the
        # token secret whatever produces it (and under the offline mocks).
        auth_token = pulumi.Output.secret(auth.result)
        log_groups = {
            log_type: aws.cloudwatch.LogGroup(
                f"{name}-{log_type}",
                name=f"/aws/elasticache/{args.replication_group_id}/{log_type}",
                kms_key_id=args.logs_key_arn,
                retention_in_days=args.log_retention_days,
                opts=child,
            )
            for log_type in LOG_TYPES
        }
        zones = pulumi.Output.from_input(args.availability_zones)
        self.replication_group = aws.elasticache.ReplicationGroup(
            name,
            replication_group_id=args.replication_group_id,
            description="CRM sessions, cache and job queues",
            engine=ENGINE,
            engine_version=args.engine_version,
            node_type=args.node_type,
            cluster_mode="disabled",
            num_cache_clusters=args.nodes,
            automatic_failover_enabled=high_availability,
            multi_az_enabled=high_availability,
            preferred_cache_cluster_azs=zones.apply(
                lambda names: [names[i % len(names)] for i in range(args.nodes)]
            ),
            port=PORT,
            subnet_group_name=subnet_group.name,
            security_group_ids=[self.security_group.id],
            parameter_group_name=parameter_group.name,
            at_rest_encryption_enabled=True,
            kms_key_id=args.kms_key_arn,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            auth_token=auth_token,
            auth_token_update_strategy="ROTATE",
            auto_minor_version_upgrade=True,
            snapshot_retention_limit=args.snapshot_retention_days,
            snapshot_window=args.snapshot_window,
            maintenance_window=args.maintenance_window,
            final_snapshot_identifier=f"{args.replication_group_id}-final",
            log_delivery_configurations=[
                aws.elasticache.ReplicationGroupLogDeliveryConfigurationArgs(
                    destination=group.name,
                    destination_type="cloudwatch-logs",
                    log_format="json",
                    log_type=log_type,
                )
                for log_type, group in log_groups.items()
            ],
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.primary_endpoint = self.replication_group.primary_endpoint_address
        self.reader_endpoint = self.replication_group.reader_endpoint_address
        self.auth_token = auth_token
        self.security_group_id = self.security_group.id
        self.register_outputs(
            {
                "primaryEndpoint": self.primary_endpoint,
                "readerEndpoint": self.reader_endpoint,
                "port": PORT,
                "securityGroupId": self.security_group_id,
            }
        )
