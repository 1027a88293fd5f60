"""The typed model of every stack setting (`crm-platform:*` plus `aws:region`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from .base import RetentionDays, Section, int_range
from .cache import CacheSettings
from .cluster import ClusterSettings
from .database import DatabaseSettings, check_placement
from .errors import FieldError
from .network import NetworkSettings
from .residency import Region, ResidencySettings
from .storage import StorageSettings

Profile = Literal["dev", "staging", "prod"]
DataClassification = Literal["public", "internal", "confidential", "restricted"]


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
    owner: str = Field("platform-engineering", min_length=1, max_length=64)
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

    @model_validator(mode="after")
    def _region_is_resident(self) -> StackSettings:
        allowed = self.residency.allowed_regions
        if self.region not in allowed:
            raise FieldError(
                "region", self.region, f"must be in residency.allowedRegions: {', '.join(allowed)}"
            )
        return self

    @model_validator(mode="after")
    def _data_tier_fits(self) -> StackSettings:
        check_placement(
            self.database, self.network.az_count, self.region, self.residency.allowed_regions
        )
        return self
