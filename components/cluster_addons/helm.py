"""One way to install a controller: its chart, pinned, as a Helm release that waits."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s


def pinned_release(
    parent: pulumi.Resource,
    name: str,
    *,
    chart: str,
    version: str,
    repository: str,
    namespace: str,
    values: dict,
) -> k8s.helm.v3.Release:
    """`chart` at exactly `version`, rolled back if it does not become ready (atomic)."""
    return k8s.helm.v3.Release(
        name,
        name=chart,
        chart=chart,
        version=version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=repository),
        namespace=namespace,
        values=values,
        atomic=True,
        max_history=5,
        opts=pulumi.ResourceOptions(parent=parent),
    )
