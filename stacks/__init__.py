"""Stacks of crm-platform: settings, environment profiles and the two layers that compose the
components — `platform` (every AWS resource) and `workloads` (Kubernetes objects only)."""

__version__ = "0.2.0"
