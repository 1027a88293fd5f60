"""What the engine runs (`python -m pulumi.policy <engine> <pack dir>`): assemble the pack.

Constructing PolicyPack starts the gRPC server and never returns, so the policies live in
`guardrails/` where tests and the offline gate import them.
"""

from guardrails import PACK_DESCRIPTION, PACK_NAME, POLICIES
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name=PACK_NAME,
    policies=list(POLICIES),
    enforcement_level=EnforcementLevel.ADVISORY,
    description=PACK_DESCRIPTION,
    display_name="crm-platform guardrails",
    provider="aws",
    tags=["aws", "kubernetes", "security", "residency", "availability"],
)
