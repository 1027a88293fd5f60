"""The CRM application: version, public endpoint, TLS and capacity (the S = N x C model)."""

from __future__ import annotations

import ipaddress
import math
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from .base import Section, int_range
from .errors import FieldError
from .network import Cidr

_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_ACM_ARN = re.compile(r"^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate/[0-9a-f-]{36}$")
_WAF_ARN = re.compile(r"^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:regional/webacl/[\w-]+/[\w-]+$")


def _check(pattern: re.Pattern, description: str):
    def check(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(f"must be {description}")
        return value

    return AfterValidator(check)


Hostname = Annotated[str, _check(_HOSTNAME, "a lowercase DNS name such as crm.example.com")]
Version = Annotated[
    str, _check(re.compile(r"^v\d+\.\d+\.\d+$"), "a release tag such as v2.42.5 (never latest)")
]
Digest = Annotated[
    str,
    _check(
        re.compile(r"^v\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$"),
        "<version>@sha256:<64 hex digits>, as scripts/resolve_image_digest.py records it",
    ),
]
_EMAIL = re.compile(r"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@([a-z0-9-]+\.)+[a-z]{2,63}$")
EmailAddress = Annotated[str, _check(_EMAIL, "an email address such as crm@example.com")]
# Twenty's pool size per process and the pools each process opens: see connections_at_peak.
POOLS_PER_PROCESS = 2
ROLLOUT_EXTRA_PROCESSES = 2
# ALB policies that negotiate TLS 1.3 (the first also accepts TLS 1.2 clients).
SslPolicy = Literal["ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-3-2021-06"]


class TlsSettings(Section):
    """`app.tls`: the certificate of the HTTPS listener. Exactly one source must be given."""

    certificate_arn: (
        Annotated[str, _check(_ACM_ARN, "an ACM certificate ARN in the stack's region")] | None
    ) = None
    """An existing ACM certificate for the domain, in the stack's region."""
    hosted_zone_id: (
        Annotated[str, _check(re.compile(r"^Z[A-Z0-9]{1,32}$"), "a Route 53 zone id (Z…)")] | None
    ) = None
    """A public Route 53 zone of the domain: the stack creates a DNS-validated certificate and
    points the domain at the load balancer."""
    ssl_policy: SslPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    """ALB security policy of the HTTPS listener (TLS 1.3; the -1-3- policy refuses TLS 1.2)."""

    @model_validator(mode="after")
    def _exactly_one_source(self) -> TlsSettings:
        if (self.certificate_arn is None) == (self.hosted_zone_id is None):
            raise FieldError(
                "certificateArn",
                self.certificate_arn,
                "must be set, or hostedZoneId instead, but not both",
            )
        return self


class CapacitySettings(Section):
    """`app.capacity`: sizing from expected load. Throughput S = N pods x C per pod."""

    peak_requests_per_second: Annotated[int, int_range(1, 100_000)] = 60
    """Expected peak load on the CRM's HTTP API."""
    requests_per_server_pod: Annotated[int, int_range(1, 10_000)] = 20
    """Requests per second one server pod sustains (measure it; 20 is conservative)."""
    headroom_percent: Annotated[int, int_range(0, 300)] = 50
    """Extra capacity above the peak the autoscaler may add (bursts, a lost AZ)."""
    min_server_pods: Annotated[int, int_range(1, 100)] = 3
    """Autoscaler floor: 3 keeps one server pod per AZ."""
    pool_size: Annotated[int, int_range(2, 100)] = 10
    """PostgreSQL connections per process (PG_POOL_MAX_CONNECTIONS)."""
    min_worker_pods: Annotated[int, int_range(1, 100)] = 2
    """Background-job workers always running."""
    max_worker_pods: Annotated[int, int_range(1, 100)] = 4
    """Autoscaler ceiling for workers."""

    @property
    def max_server_pods(self) -> int:
        """N at peak plus headroom: ceil(peak x (1 + headroom) / C), never below the floor."""
        needed = math.ceil(
            self.peak_requests_per_second
            * (100 + self.headroom_percent)
            / 100
            / self.requests_per_server_pod
        )
        return max(self.min_server_pods, needed)

    def processes_at_peak(self) -> int:
        """Twenty processes connected at once: every autoscaler at its ceiling, plus what a
        rollout adds (one surge pod per Deployment, or the migration Job beside them)."""
        return self.max_server_pods + self.max_worker_pods + ROLLOUT_EXTRA_PROCESSES

    def connections_at_peak(self) -> int:
        """PostgreSQL connections to the primary at peak. Each Twenty process (server, worker,
        the migration's commands) opens two pools of PG_POOL_MAX_CONNECTIONS on the primary:
        the core TypeORM data source (`src/database/typeorm/core/core.datasource.ts`,
        `poolSize`) and the global workspace data source
        (`src/engine/twenty-orm/global-workspace-datasource/global-workspace-datasource.service.ts`,
        `poolSize`); the pool registry (`DatabasePoolName`: core, workspace_primary,
        workspace_replica) names no other. A replica pool, when configured, goes to a replica
        (each replica carries fewer than this). The bootstrap Job's one session ends before
        the migration Job starts."""
        return self.processes_at_peak() * POOLS_PER_PROCESS * self.pool_size

    @model_validator(mode="after")
    def _worker_bounds(self) -> CapacitySettings:
        if self.min_worker_pods > self.max_worker_pods:
            raise FieldError(
                "minWorkerPods",
                self.min_worker_pods,
                f"must not exceed maxWorkerPods ({self.max_worker_pods})",
            )
        return self


class EmailSettings(Section):
    """`app.email`: invitations, password resets and notifications through Amazon SES in the
    stack's region, from the app domain (DKIM-signed)."""

    from_address: EmailAddress | None = None
    """Sender of outgoing mail; must be at the app domain (default `noreply@<domain>`)."""
    from_name: str = Field("CRM", min_length=1, max_length=64)
    """Display name in the From header."""


class SetupSettings(Section):
    """`app.setup`: the locked-down first start. Until `completed`, the load balancer forwards
    only requests from `adminCidrs` (everyone else gets 403): Twenty lets the first visitor of
    an instance without a workspace create it and become its admin."""

    completed: bool = False
    """Set true once the first workspace and its admin exist; the CRM then opens to all."""
    admin_cidrs: list[Cidr] = Field(default_factory=list)
    """Who may reach the CRM before setup is completed (the operator's address ranges)."""

    @model_validator(mode="after")
    def _not_everyone(self) -> SetupSettings:
        for index, cidr in enumerate(self.admin_cidrs):
            if ipaddress.ip_network(cidr).prefixlen == 0:
                raise FieldError(
                    f"adminCidrs.{index}",
                    cidr,
                    "must not be the whole internet (that is what completed: true does)",
                )
        return self


class AppSettings(Section):
    """`crm-platform:app`: the Twenty CRM on the cluster."""

    domain: Hostname
    """Public host name; SERVER_URL is https://<domain>."""
    version: Version = "v2.42.5"
    """Twenty image tag; the promote command moves it from stack to stack."""
    image_digest: Digest | None = None
    """`<version>@sha256:…`: the digest of `image:version`, recorded by CI when it promotes a
    version (the tag beside it keeps a stale digest from pulling another version)."""
    migration_run: Annotated[int, int_range(0, 999)] = 0
    """Bump to run the migration Job again for the same image (after fixing a failed run)."""
    image: str = Field("twentycrm/twenty", pattern=r"^[a-z0-9./_-]+$")
    """Image repository (a mirror in ECR is a good idea in prod)."""
    namespace: str = Field("crm", pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
    """Kubernetes namespace of the CRM (Pod Security Standard `restricted` enforced)."""
    tls: TlsSettings
    waf_web_acl_arn: Annotated[str, _check(_WAF_ARN, "a regional WAFv2 web ACL ARN")] | None = None
    """Optional WAF web ACL attached to the load balancer."""
    capacity: CapacitySettings = Field(default_factory=CapacitySettings)
    email: EmailSettings = Field(default_factory=EmailSettings)
    setup: SetupSettings = Field(default_factory=SetupSettings)

    @property
    def digest(self) -> str | None:
        """The recorded `sha256:…` of `image:version` (None: pull by tag)."""
        return self.image_digest.split("@", 1)[1] if self.image_digest else None

    @property
    def sender(self) -> str:
        return self.email.from_address or f"noreply@{self.domain}"

    @model_validator(mode="after")
    def _digest_of_this_version(self) -> AppSettings:
        recorded = self.image_digest
        if recorded and recorded.split("@", 1)[0] != self.version:
            raise FieldError(
                "imageDigest",
                recorded,
                f"must be recorded for app.version {self.version}; run "
                "scripts/resolve_image_digest.py for the stack, or remove it to pull by tag",
            )
        return self

    @model_validator(mode="after")
    def _sender_at_domain(self) -> AppSettings:
        address = self.email.from_address
        if address and address.rsplit("@", 1)[1] != self.domain:
            raise FieldError(
                "email.fromAddress",
                address,
                f"must be an address at {self.domain}, the identity SES verifies and signs",
            )
        return self
