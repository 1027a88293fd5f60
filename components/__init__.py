"""Reusable Pulumi components of crm-platform. Each module holds one ComponentResource and its
typed args; none reads `pulumi.Config` (the stacks pass validated values in)."""
