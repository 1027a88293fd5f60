"""Delivery and operations tooling for crm-platform: state bootstrap, verification,
residency audit, replica failover and stack promotion (see ops/README.md)."""
