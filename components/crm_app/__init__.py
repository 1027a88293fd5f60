"""The Twenty CRM on Kubernetes: workloads, secrets, autoscaling, network policies, ingress."""

from .app import CrmApp, CrmAppArgs

__all__ = ["CrmApp", "CrmAppArgs"]
