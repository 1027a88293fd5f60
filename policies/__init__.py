"""The crm-guardrails policy pack; a package only so `policies.guardrails` imports from the root."""
