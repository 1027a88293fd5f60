"""Tests of the crm-guardrails policy pack (policies/) and of stacks/policy_config.py."""
