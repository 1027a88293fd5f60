"""The crm-guardrails policy config of one stack (`pulumi preview --policy-pack-config <file>`).

Stack config does not reach a Python policy pack, so everything a stack's guardrails need (the
allowed regions above all) is handed over here, from the same settings the stack is built from.
Security and residency policies stay mandatory everywhere. What differs between environments:

* availability policies (Multi-AZ, replicas, HA cache, node spread, pod replicas) are mandatory
  only when the stack is meant to be highly available; otherwise advisory, so their findings
  still show what a production stack would need;
* protection policies (deletion protection, backup/snapshot retention, log retention, locked
  AWS Backup vaults and the data they cover, WAF on internet-facing load balancers) are mandatory
  only in prod, where backup vault locks must also be in compliance mode;
* `adopting` names policies whose subject the stack does not build yet (work in flight): they
  report as advisories until the feature lands and the entry is removed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from policies.guardrails import CHECKS
from policies.guardrails.core import MIN_REASON_LENGTH, SUPPRESSIONS
from policies.guardrails.limits import END_OF_STANDARD_SUPPORT
from policies.guardrails.suppressions import NAME as SUPPRESSION_REPORT

from .settings import StackSettings
from .settings.cluster import SUPPORTED_KUBERNETES_VERSIONS
from .settings.upgrade_calendar import dated_versions

ENVIRONMENTS = ("dev", "staging", "prod")

AVAILABILITY_POLICIES = (
    "rds-multi-az",
    "rds-read-replicas",
    "elasticache-high-availability",
    "eks-nodegroup-multi-az",
    "k8s-min-replicas",
)
PROTECTION_POLICIES = (
    "rds-deletion-protection",
    "rds-backup-retention",
    "elasticache-backups",
    "lb-deletion-protection",
    "log-group-retention",
    "backup-vault-lock",
    "backup-selection-coverage",
)
COMPLIANCE_LOCK_POLICIES = ("backup-vault-lock", "backup-selection-coverage")

# Policies the shipped stacks do not satisfy yet, with the work that makes them pass. The plan
# shows their findings as advisories; delete an entry when its work is merged.
ADOPTING = {}


def _level(mandatory: bool) -> str:
    return "mandatory" if mandatory else "advisory"


def build_policy_config(
    *,
    environment: str,
    region: str,
    allowed_regions: Sequence[str],
    high_availability: bool,
    eks_versions: Sequence[str] | None = None,
    imds_max_hop_limit: int = 2,
    require_waf: bool = False,
    eks_support_end: dict[str, str] | None = None,
    adopting: Sequence[str] = (),
    suppressions: Sequence[Mapping[str, str]] = (),
) -> dict[str, Any]:
    """The JSON document for `--policy-pack-config`.

    environment: the stack's profile, one of dev | staging | prod.
    region: the stack's region (`aws:region`), used where neither a resource nor its provider
        names one. It must be one of `allowed_regions`.
    allowed_regions: regions that may hold data or copies of it.
    high_availability: whether availability policies are mandatory.
    eks_versions: Kubernetes versions the cluster may run (default: the pack's list).
    imds_max_hop_limit: largest IMDS hop limit on nodes (2 lets system pods reach IMDS).
    require_waf: make "internet-facing load balancers need WAF" mandatory outside prod too.
    eks_support_end: end of EKS standard support per version (YYYY-MM-DD) for versions the
        pack's calendar does not date yet (merged over the pack's table).
    adopting: policies reported as advisories while the stack is adopting them (see ADOPTING).
    suppressions: `{"policy", "resource" (logical name or URN), "reason"}` entries: the policy
        does not report on that resource; `suppressed-findings` shows each one as acknowledged
        with its reason, and reports the ones that match nothing.
    """
    if environment not in ENVIRONMENTS:
        raise ValueError(f"environment must be one of {', '.join(ENVIRONMENTS)}: {environment!r}")
    regions = list(dict.fromkeys(allowed_regions))
    if not regions:
        raise ValueError("allowed_regions must name at least one region")
    if region not in regions:
        raise ValueError(f"region {region!r} is not in allowed_regions {regions}")

    config: dict[str, Any] = {
        "residency-region-allowlist": {"allowedRegions": regions, "defaultRegion": region},
        "residency-copy-destinations": {"allowedRegions": regions},
        "residency-s3-replication": {"allowedRegions": regions, "defaultRegion": region},
        "backup-copy-destinations": {"allowedRegions": regions, "defaultRegion": region},
        "rds-cross-region-replica-parameter-group": {"defaultRegion": region},
        "ec2-imdsv2-required": {"maxHopLimit": imds_max_hop_limit},
        "lb-waf": {"enforcementLevel": _level(require_waf or environment == "prod")},
    }
    for name in AVAILABILITY_POLICIES:
        config[name] = {"enforcementLevel": _level(high_availability)}
    for name in PROTECTION_POLICIES:
        config[name] = {"enforcementLevel": _level(environment == "prod")}
    for name in COMPLIANCE_LOCK_POLICIES:
        config[name]["requireComplianceMode"] = environment == "prod"
    if eks_versions is not None:
        config["eks-supported-version"] = {"allowedVersions": list(eks_versions)}
    if eks_support_end:
        calendar = {**END_OF_STANDARD_SUPPORT, **eks_support_end}
        for name in ("eks-standard-support-ending", "eks-standard-support-ended"):
            config[name] = {"endOfStandardSupport": calendar}
    for name in adopting:
        config.setdefault(name, {})["enforcementLevel"] = "advisory"
    _suppress(config, [_checked(index, entry) for index, entry in enumerate(suppressions)])
    return config


SUPPRESSIBLE = frozenset(policy.name for policy in CHECKS)
SUPPRESSION_KEYS = ("policy", "resource", "reason")


def _checked(index: int, entry: Mapping[str, str]) -> dict[str, str]:
    """One suppression, or ValueError naming the entry, the bad value and what is allowed."""
    where = f"suppressions[{index}]"
    if not isinstance(entry, Mapping) or sorted(entry) != sorted(SUPPRESSION_KEYS):
        keys = sorted(entry) if isinstance(entry, Mapping) else entry
        raise ValueError(f"{where}: {keys!r} must have exactly the keys policy, resource, reason")
    policy, resource, reason = (entry[key] for key in SUPPRESSION_KEYS)
    if policy not in SUPPRESSIBLE:
        raise ValueError(f"{where}.policy: {policy!r} is not a policy of the pack")
    if not isinstance(resource, str) or not resource.strip():
        raise ValueError(f"{where}.resource: {resource!r} must name a resource (name or URN)")
    if not isinstance(reason, str) or len(reason.strip()) < MIN_REASON_LENGTH:
        raise ValueError(
            f"{where}.reason: {reason!r} is too short; write why, in at least "
            f"{MIN_REASON_LENGTH} characters"
        )
    return {"policy": policy, "resource": resource, "reason": reason.strip()}


def _suppress(config: dict[str, Any], entries: list[dict[str, str]]) -> None:
    """Write each suppression into its policy's config and the report's (with that config)."""
    pairs = [(entry["policy"], entry["resource"]) for entry in entries]
    repeated = sorted({pair for pair in pairs if pairs.count(pair) > 1})
    if repeated:
        raise ValueError(f"suppressions: {repeated!r} are suppressed more than once")
    for entry in entries:
        target = config.setdefault(entry["policy"], {})
        target.setdefault(SUPPRESSIONS, []).append(
            {"resource": entry["resource"], "reason": entry["reason"]}
        )
    report = [{**entry, "config": _properties(config[entry["policy"]])} for entry in entries]
    if report:
        config[SUPPRESSION_REPORT] = {SUPPRESSIONS: report}


def _properties(settings: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in settings.items() if k not in ("enforcementLevel", SUPPRESSIONS)}


def policy_config_for(settings: StackSettings) -> dict[str, Any]:
    """The policy config of a validated stack: one source of truth for regions and versions."""
    return build_policy_config(
        environment=settings.profile,
        region=settings.region,
        allowed_regions=settings.residency.allowed_regions,
        high_availability=settings.profile == "prod",
        eks_versions=SUPPORTED_KUBERNETES_VERSIONS,
        require_waf=settings.waf.enabled or settings.app.waf_web_acl_arn is not None,
        eks_support_end=dated_versions(),
        adopting=list(ADOPTING),
        suppressions=[suppression.model_dump() for suppression in settings.suppressions],
    )
