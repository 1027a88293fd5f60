"""The workloads layer: only Kubernetes objects, deployed from inside the VPC.

It reads the platform stack of the same environment through a `StackReference` (the
`PlatformOutputs` contract) and the environment's settings from the root stack file, and
reaches the private Kubernetes API, so it runs on the in-VPC deploy runner.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.kubeconfig import kubeconfig

from ..contract import PlatformOutputs
from ..settings import StackSettings
from ..settings_reader import read_environment_settings
from .addons import build_addons
from .crm import build_crm
from .rds_ca import BundleError, fetch_bundle

PLATFORM_PROJECT = "crm-platform"


def platform_stack_name() -> str:
    """`<org>/crm-platform/<stack>` unless `crm-platform-workloads:platformStack` says else."""
    configured = pulumi.Config().get("platformStack")
    return configured or f"{pulumi.get_organization()}/{PLATFORM_PROJECT}/{pulumi.get_stack()}"


def kubernetes_provider(platform: PlatformOutputs) -> k8s.Provider:
    """A provider for the private API; the kubeconfig holds no credential (exec plugin).
    Identified by the cluster name, so a new endpoint or CA reconfigures instead of replacing
    everything deployed through it."""
    config = pulumi.Output.all(
        platform.cluster_name,
        platform.cluster_endpoint,
        platform.cluster_certificate_authority,
        platform.region,
    ).apply(lambda values: json.dumps(kubeconfig(*values)))
    return k8s.Provider("cluster", kubeconfig=config, cluster_identifier=platform.cluster_name)


def rds_ca_bundle(region: str) -> str:
    """AWS's current RDS CA bundle; a failure stops the deploy with one message."""
    try:
        return fetch_bundle(region)
    except BundleError as error:
        raise pulumi.RunError(str(error)) from None


def program(settings: StackSettings | None = None, ca_bundle: str | None = None) -> None:
    """The workloads' Pulumi program (`settings` and `ca_bundle` given: the offline plan)."""
    settings = settings or read_environment_settings()
    ca_bundle = ca_bundle or rds_ca_bundle(settings.region)
    platform = PlatformOutputs.read(pulumi.StackReference(platform_stack_name()))
    opts = pulumi.ResourceOptions(provider=kubernetes_provider(platform))
    addons = build_addons(settings, platform, opts)
    crm = build_crm(settings, platform, addons, ca_bundle, opts)
    pulumi.export("crmUrl", crm.url)
    pulumi.export("crmVersion", settings.app.version)
