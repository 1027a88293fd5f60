"""The typed model of every stack setting (`crm-platform:*` plus `aws:region`)."""

from __future__ import annotations

from typing import Annotated, Literal

import botocore
from pydantic import AfterValidator, Field, model_validator

from .access import AwsAccessSettings
from .app import POOLS_PER_PROCESS, ROLLOUT_EXTRA_PROCESSES, AppSettings
from .aws_rules import tag_value_rule
from .base import RetentionDays, Section, int_range
from .cache import CacheSettings
from .cluster import ClusterSettings
from .database import DatabaseSettings, check_placement
from .delivery import DeployRunnerSettings
from .errors import FieldError
from .network import NetworkSettings
from .operations import AlarmSettings, BackupSettings, WafSettings, check_copy_region
from .regions import email_regions, missing_services
from .residency import Region, ResidencySettings
from .storage import StorageSettings
from .suppressions import Suppression

Profile = Literal["dev", "staging", "prod"]
DataClassification = Literal["public", "internal", "confidential", "restricted"]


def _check_tag_value(value: str) -> str:
    problem = tag_value_rule().problem(value)
    if problem:
        raise ValueError(f"{problem}, as AWS tag values must")
    return value


TagValue = Annotated[str, AfterValidator(_check_tag_value)]


class LoggingSettings(Section):
    """`crm-platform:logging`: retention of every log group the stack creates."""

    retention_days: RetentionDays = 365
    """Days CloudWatch keeps flow, control-plane and database logs."""


class EncryptionSettings(Section):
    """`crm-platform:encryption`: the customer-managed KMS keys."""

    key_deletion_window_days: Annotated[int, int_range(7, 30)] = 30
    """Waiting period before a scheduled key deletion happens (the longest AWS allows)."""


class StackSettings(Section):
    """Everything a stack is built from, validated before any resource is registered."""

    profile: Profile
    """Environment profile whose defaults apply (dev cheap, staging prod-like, prod HA)."""
    environment: str = Field(pattern=r"^[a-z][a-z0-9-]{0,20}$")
    """Stack name; prefixes resource names and is the `environment` tag."""
    region: Region
    """`aws:region`: where every regional resource is created."""
    aws: AwsAccessSettings = Field(default_factory=AwsAccessSettings)
    """`aws:profile`, `aws:assumeRoles`, `aws:allowedAccountIds`: the account deployed to."""
    owner: TagValue = "platform-engineering"
    """Team answerable for the stack (the `owner` tag)."""
    data_classification: DataClassification = "confidential"
    """Sensitivity of the data (the `data-classification` tag); a CRM holds personal data."""
    protect_stateful_resources: bool = True
    """Pulumi `protect` on keys, databases and buckets so `pulumi destroy` cannot remove them."""
    residency: ResidencySettings = Field(default_factory=ResidencySettings)
    network: NetworkSettings = Field(default_factory=NetworkSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    encryption: EncryptionSettings = Field(default_factory=EncryptionSettings)
    cluster: ClusterSettings = Field(default_factory=ClusterSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    app: AppSettings
    deploy_runner: DeployRunnerSettings = Field(default_factory=DeployRunnerSettings)
    backup: BackupSettings = Field(default_factory=BackupSettings)
    alarms: AlarmSettings = Field(default_factory=AlarmSettings)
    waf: WafSettings = Field(default_factory=WafSettings)
    suppressions: list[Suppression] = Field(default_factory=list)
    """Acknowledged policy findings: `{policy, resource, reason}` each."""

    @model_validator(mode="after")
    def _each_finding_acknowledged_once(self) -> StackSettings:
        pairs = [(s.policy, s.resource) for s in self.suppressions]
        for index, pair in enumerate(pairs):
            if pair in pairs[:index]:
                raise FieldError(
                    f"suppressions.{index}", list(pair), "must not repeat a policy and resource"
                )
        return self

    @model_validator(mode="after")
    def _runner_has_egress(self) -> StackSettings:
        """The runner talks to GitHub and downloads Pulumi plugins and Helm charts: it needs
        a NAT gateway (interface endpoints reach AWS APIs only)."""
        repository = self.deploy_runner.repository
        if repository and self.network.nat_strategy == "none":
            raise FieldError(
                "deployRunner.repository",
                repository,
                "requires network.natStrategy other than none (the runner reaches GitHub and "
                "package registries through a NAT gateway); or leave it unset and deploy the "
                "workloads layer from elsewhere inside the VPC",
            )
        return self

    @model_validator(mode="after")
    def _region_is_resident(self) -> StackSettings:
        allowed = self.residency.allowed_regions
        if self.region not in allowed:
            raise FieldError(
                "region", self.region, f"must be in residency.allowedRegions: {', '.join(allowed)}"
            )
        if self.region not in email_regions():
            raise FieldError(
                "region",
                self.region,
                "must be a region where Amazon SES sends mail (the CRM's email stays resident)",
            )
        return self

    @model_validator(mode="after")
    def _services_exist_in_region(self) -> StackSettings:
        """Refuse a region lacking a service the stack uses (botocore's endpoints table),
        before anything is registered."""
        optional = {"wafv2": "WAF"} if self.app.waf_web_acl_arn else {}
        missing = missing_services(self.region, optional)
        if missing:
            raise FieldError(
                "region",
                self.region,
                f"must offer every service the stack uses; botocore {botocore.__version__}'s "
                f"endpoints table lists no endpoint there for {', '.join(missing)}",
            )
        return self

    @model_validator(mode="after")
    def _data_tier_fits(self) -> StackSettings:
        check_placement(
            self.database, self.network.az_count, self.region, self.residency.allowed_regions
        )
        return self

    @model_validator(mode="after")
    def _operations_fit(self) -> StackSettings:
        """Backup copies stay in the allow-list; one web ACL source, not two."""
        check_copy_region(self.backup, self.region, self.residency.allowed_regions)
        if self.app.waf_web_acl_arn and self.waf.enabled:
            raise FieldError(
                "app.wafWebAclArn",
                self.app.waf_web_acl_arn,
                "replaces the stack's own web ACL; set waf.enabled: false to use it (a load "
                "balancer takes one web ACL)",
            )
        return self

    @model_validator(mode="after")
    def _app_fits(self) -> StackSettings:
        """The CRM's peak connections stay within 80% of the database's max_connections, and
        an existing certificate lives where the load balancer does."""
        capacity = self.app.capacity
        pool, limit = capacity.pool_size, self.database.max_connections
        budget = limit * 8 // 10
        needed = capacity.connections_at_peak()
        if needed > budget:
            raise FieldError(
                "app.capacity",
                needed,
                "must keep PostgreSQL connections within 80% of max_connections: "
                f"({capacity.max_server_pods} server pods + {capacity.max_worker_pods} worker "
                f"pods + {ROLLOUT_EXTRA_PROCESSES} during a rollout) x {POOLS_PER_PROCESS} pools "
                f"x {pool} = {needed} > {budget} "
                f"(80% of {limit} on {self.database.instance_class}); lower "
                "peakRequestsPerSecond, maxWorkerPods or poolSize, or choose a larger "
                "database.instanceClass",
            )
        certificate = self.app.tls.certificate_arn
        if certificate and certificate.split(":")[3] != self.region:
            raise FieldError(
                "app.tls.certificateArn",
                certificate,
                f"must be a certificate in {self.region}, the load balancer's region",
            )
        return self
