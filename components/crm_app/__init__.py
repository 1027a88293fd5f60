"""The Twenty CRM on Kubernetes: workloads, secrets, autoscaling, network policies, ingress."""

from .app import CrmApp, CrmAppArgs, database_secret_reader_policy

__all__ = ["CrmApp", "CrmAppArgs", "database_secret_reader_policy"]
