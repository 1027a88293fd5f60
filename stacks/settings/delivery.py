"""`crm-platform:deployRunner`: the in-VPC runner that deploys the workloads layer.

The Kubernetes API is private, so the workloads layer is deployed from inside the VPC: a
CodeBuild project acting as a GitHub Actions runner for one repository.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

from .base import Section

STATE_KEY_ALIAS = "alias/crm-platform-pulumi-secrets"
"""KMS alias of the Pulumi secrets provider that `bootstrap` creates."""
STATE_BUCKET_FORMAT = "crm-platform-pulumi-state-{account}-{region}"
"""Name of the Pulumi state bucket that `bootstrap` creates."""
_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")


def _repository(value: str) -> str:
    if not _REPOSITORY.match(value):
        raise ValueError("must be a GitHub repository as owner/name, e.g. acme/crm-platform")
    return value


class DeployRunnerSettings(Section):
    """The CodeBuild-hosted GitHub Actions runner in the private subnets."""

    repository: Annotated[str, AfterValidator(_repository)] | None = None
    """GitHub repository (owner/name) whose workflow jobs the runner takes; the runner is
    created when it is set. Without one, deploy the workloads layer from another place inside
    the VPC (a VPN or a bastion): nothing outside the VPC reaches the Kubernetes API."""
    connection_authorized: bool = False
    """Set to true once the GitHub connection the platform created has been authorised in the
    console (a one-time step); the webhook that starts runners is created only then."""
    state_bucket: str | None = None
    """Pulumi state bucket (default: the one `bootstrap` creates in the stack's region)."""
    secrets_key_alias: str = STATE_KEY_ALIAS
    """KMS alias of the Pulumi secrets provider."""
