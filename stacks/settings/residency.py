"""Data residency: which regions may hold this stack's data, and where it physically is."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from .base import Section
from .errors import FieldError
from .regions import JURISDICTIONS, check_region, sovereign_regions

Region = Annotated[str, AfterValidator(check_region)]
Jurisdiction = Literal["EU", "UK", "CH", "US", "CA", "AU", "JP", "IN", "BR", "CN"]


class ResidencySettings(Section):
    """`crm-platform:residency`: the allow-list every regional resource and copy must respect."""

    jurisdiction: Jurisdiction = "EU"
    """Legal area the data must stay in; every allowed region must be located inside it."""
    allowed_regions: list[Region] = Field(
        default_factory=lambda: ["eu-central-1", "eu-west-1"], min_length=1
    )
    """Regions that may hold data or copies of it (replicas, backups, snapshots)."""
    sovereign_only: bool = False
    """Allow only sovereign-cloud regions (botocore describes them so: `eusc-de-east-1`, the
    AWS European Sovereign Cloud, operated and supported from the EU)."""

    @model_validator(mode="after")
    def _regions_inside_jurisdiction(self) -> ResidencySettings:
        inside = JURISDICTIONS[self.jurisdiction]
        for index, region in enumerate(self.allowed_regions):
            if region not in inside:
                raise FieldError(
                    f"allowedRegions.{index}",
                    region,
                    f"must be a region located in {self.jurisdiction}: {', '.join(sorted(inside))}",
                )
            if self.sovereign_only and region not in sovereign_regions():
                choices = sorted(sovereign_regions() & inside) or [f"none in {self.jurisdiction}"]
                raise FieldError(
                    f"allowedRegions.{index}",
                    region,
                    "must be a sovereign-cloud region (sovereignOnly is set): "
                    + ", ".join(choices),
                )
        return self
