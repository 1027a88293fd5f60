"""Outgoing mail of the CRM: Twenty's SMTP driver pointed at Amazon SES.

The SMTP credentials live in a KMS-encrypted Secrets Manager secret the platform creates;
External Secrets copies them into the namespace, so they never pass through the workloads'
Pulumi state. Variable names are Twenty's (`config-variables.ts`, group EmailSettings).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

EMAIL_SECRET = "twenty-email"
SMTP_SUBMISSION_PORT = 587
"""STARTTLS submission; Twenty's `EMAIL_SMTP_PORT` default, and one SES's SMTP interface
serves."""
METADATA_ADDRESS = "169.254.169.254/32"


@dataclass(frozen=True)
class SmtpArgs:
    """Where and as whom the CRM sends mail."""

    smtp_host: pulumi.Input[str]
    """SES SMTP endpoint of the stack's region."""
    secret_arn: pulumi.Input[str]
    """Secrets Manager secret with `username` and `password` (the SMTP credentials)."""
    from_address: str
    """Sender address, at the domain SES verified."""
    from_name: str


def environment(email: SmtpArgs) -> list[dict[str, Any]]:
    """Twenty's SMTP driver with credentials from the synced secret."""
    secret = lambda env, key: {  # noqa: E731
        "name": env,
        "valueFrom": {"secretKeyRef": {"name": EMAIL_SECRET, "key": key}},
    }
    return [
        {"name": "EMAIL_DRIVER", "value": "smtp"},
        {"name": "EMAIL_SMTP_HOST", "value": email.smtp_host},
        {"name": "EMAIL_SMTP_PORT", "value": str(SMTP_SUBMISSION_PORT)},
        secret("EMAIL_SMTP_USER", "username"),
        secret("EMAIL_SMTP_PASSWORD", "password"),
        {"name": "EMAIL_FROM_ADDRESS", "value": email.from_address},
        {"name": "EMAIL_SYSTEM_ADDRESS", "value": email.from_address},
        {"name": "EMAIL_FROM_NAME", "value": email.from_name},
    ]


def credentials_spec(email: SmtpArgs, store: pulumi.Input[str]) -> dict[str, Any]:
    """ExternalSecret body: the platform's SMTP secret as the `twenty-email` Secret."""
    return {
        "refreshInterval": "1h",
        "secretStoreRef": {"name": store, "kind": "SecretStore"},
        "target": {"name": EMAIL_SECRET, "creationPolicy": "Owner"},
        "data": [
            {"secretKey": key, "remoteRef": {"key": email.secret_arn, "property": key}}
            for key in ("username", "password")
        ],
    }


def egress_policy() -> dict[str, Any]:
    """NetworkPolicy body: SMTP submission out of the server and worker pods (SES endpoints
    have public addresses that change), never to the node's metadata service."""
    return {
        "podSelector": {"matchExpressions": [_components("server", "worker")]},
        "policyTypes": ["Egress"],
        "egress": [
            {
                "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": [METADATA_ADDRESS]}}],
                "ports": [{"protocol": "TCP", "port": SMTP_SUBMISSION_PORT}],
            }
        ],
    }


def _components(*names: str) -> dict[str, Any]:
    return {"key": "app.kubernetes.io/component", "operator": "In", "values": list(names)}
