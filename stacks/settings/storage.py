"""Storage settings: the S3 bucket holding the CRM's file attachments."""

from __future__ import annotations

from typing import Annotated

from .base import Section, int_range


class StorageSettings(Section):
    """`crm-platform:storage`: the attachments bucket (versioned, SSE-KMS, private)."""

    noncurrent_version_expiration_days: Annotated[int, int_range(1, 3650)] = 90
    """Days an overwritten or deleted attachment stays recoverable before S3 expires it."""
