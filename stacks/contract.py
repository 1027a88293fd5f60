"""The outputs the platform layer exports and the workloads layer (and `ops`) reads.

One typed, documented contract instead of string keys repeated in three places: the platform
exports every field under its camelCase name, the workloads layer reads them back through a
`StackReference` with `require_output`, and the operations commands read the same names from
`pulumi stack output --json`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import pulumi

SECRET_OUTPUTS = frozenset({"cacheAuthToken"})
"""Outputs that are Pulumi secrets (encrypted in state, masked in every listing)."""


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@dataclass(frozen=True)
class PlatformOutputs:
    """What the platform stack of an environment exports. Values are Outputs (or plain)."""

    region: Any
    """The stack's region (`aws:region`)."""
    allowed_regions: Any
    """Regions that may hold data or copies of it."""
    profile: Any
    """Environment profile (dev, staging, prod): which checks `verify` applies."""
    vpc_id: Any
    availability_zones: Any
    public_subnet_ids: Any
    private_subnet_ids: Any
    isolated_subnet_ids: Any
    public_subnet_cidrs: Any
    """Where the load balancer's nodes live (NetworkPolicies admit them to the server)."""
    isolated_subnet_cidrs: Any
    """Where PostgreSQL and Redis live (NetworkPolicies let pods reach them)."""
    kms_key_arns: Any
    """Customer-managed key ARN per data domain."""
    cluster_name: Any
    cluster_endpoint: Any
    """Private API endpoint: reachable only from inside the VPC (the deploy runner)."""
    cluster_certificate_authority: Any
    cluster_secrets_key_arn: Any
    oidc_provider_arn: Any
    volumes_key_arn: Any
    """Key of the encrypted gp3 StorageClass."""
    app_role_arn: Any
    """IRSA role of the CRM's service account (attachments bucket and its key)."""
    secrets_role_arn: Any
    """IRSA role External Secrets uses to read the CRM's login secret (never the master's)."""
    db_bootstrap_role_arn: Any
    """IRSA role External Secrets uses, for the database bootstrap Job only, to read the
    master secret."""
    load_balancer_controller_role_arn: Any
    """IRSA role of the AWS Load Balancer Controller."""
    target_group_arn: Any
    """IP target group of the ALB; the workloads bind the CRM server pods to it."""
    load_balancer_security_group_id: Any
    load_balancer_dns_name: Any
    crm_url: Any
    """https://<domain>: where the CRM answers."""
    db_primary_identifier: Any
    db_replica_identifiers: Any
    db_kms_key_arn: Any
    db_writer_address: Any
    db_port: Any
    db_name: Any
    db_reader_endpoints: Any
    db_reader_addresses: Any
    """Host names of the in-region read replicas, in AZ order (empty without replicas)."""
    db_master_secret_arn: Any
    """Stack-owned master login (JSON username/password/host/port/dbname), CMK-encrypted."""
    db_crm_secret_arn: Any
    """The CRM's login (same JSON), CMK-encrypted; what the CRM's pods are built from."""
    db_crm_secret_version_id: Any
    """Version of the CRM's login now current: a new one (a rotation) restarts the pods."""
    db_crm_role: Any
    """Role owning the CRM's database; the CRM's logins are members of it."""
    db_multi_az: Any
    """Whether the primary is Multi-AZ (the profile's choice; `verify` checks it)."""
    db_dr_region: Any
    """Region of the cross-region DR replica, or "" without one."""
    db_dr_replica_arn: Any
    cache_primary_endpoint: Any
    cache_port: Any
    cache_auth_token: Any
    attachments_bucket_name: Any
    storage_kms_key_arn: Any
    deploy_runner_label: Any
    """`runs-on` prefix of the in-VPC runner (`codebuild-<project>`), or "" without one."""
    email_smtp_host: Any
    """SES SMTP endpoint of the stack's region."""
    email_secret_arn: Any
    """Secrets Manager secret with the SES SMTP `username` and `password`."""
    email_dkim_tokens: Any
    """Easy DKIM tokens (CNAME `<token>._domainkey.<domain>` → `<token>.dkim.amazonses.com`);
    the platform writes the records when it knows the domain's zone."""
    kubernetes_version: Any
    """Minor version of the control plane (the Cluster Autoscaler's image matches it)."""
    cluster_autoscaler_role_arn: Any
    """IRSA role of the Cluster Autoscaler (resizes this cluster's node groups only)."""
    backup_vault_name: Any
    """AWS Backup vault of the database and attachments (`restore-drill` restores from it)."""
    alarm_topic_arn: Any
    """CMK-encrypted SNS topic every alarm and backup notification publishes to."""
    web_acl_arn: Any
    """WAFv2 web ACL on the load balancer, or "" without one."""

    @classmethod
    def names(cls) -> dict[str, str]:
        """Field name → output name."""
        return {field.name: _camel(field.name) for field in fields(cls)}

    def export(self) -> None:
        for field, output in self.names().items():
            value = getattr(self, field)
            pulumi.export(
                output, pulumi.Output.secret(value) if output in SECRET_OUTPUTS else value
            )

    @classmethod
    def read(cls, reference: pulumi.StackReference) -> PlatformOutputs:
        """Every output, required: a platform stack that lacks one fails the workloads early."""
        return cls(**{f: reference.require_output(o) for f, o in cls.names().items()})
