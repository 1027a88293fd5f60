"""Environment profiles: the defaults a `Pulumi.<env>.yaml` starts from.

The model's own defaults are the safe, highly available ones (what prod runs). A profile only
lists what it relaxes to save cost, so each stack file holds only what differs from its profile.
Keys are written as in stack config (camelCase).
"""

from __future__ import annotations

from typing import Any

PROFILES: dict[str, dict[str, Any]] = {
    "dev": {
        "protectStatefulResources": False,
        "network": {"azCount": 2, "natStrategy": "single", "interfaceEndpoints": False},
        "logging": {"retentionDays": 30},
    },
    "staging": {
        "protectStatefulResources": False,
        "network": {"natStrategy": "single"},
        "logging": {"retentionDays": 90},
    },
    "prod": {},
}
