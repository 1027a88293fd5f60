"""The Twenty CRM on Kubernetes: workloads, secrets, autoscaling, network policies, and the
binding of its server pods to the platform's load balancer."""

from .app import CrmApp, CrmAppArgs

__all__ = ["CrmApp", "CrmAppArgs"]
