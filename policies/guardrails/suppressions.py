"""Suppressions with written reasons, in the manner of cdk-nag, reported rather than hidden.

A stack suppresses one policy for one resource in that policy's config (`suppressions`:
resource + reason), and the policy stays silent on that resource. `suppressed-findings` holds the
same entries with the suppressed policy's name and effective properties; it re-runs the
suppressed check on the named resource and reports, as advisories that never block, each
acknowledged finding with its reason, and each suppression that matched nothing (no such
resource, or no finding on it), so stale suppressions do not linger. The engine (gRPC) and the
offline gate run this same object, so both show the same acknowledgements.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    PolicyConfigSchema,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from .core import (
    ADVISORY,
    LOW,
    MIN_REASON_LENGTH,
    SUPPRESSIONS,
    GuardrailResourcePolicy,
    GuardrailStackPolicy,
    Res,
    Stack,
    findings_about,
)

NAME = "suppressed-findings"
ACKNOWLEDGED = "Acknowledged "
Target = GuardrailResourcePolicy | GuardrailStackPolicy
LATER = "its verdict needs values that are only known after deployment"


def _entry_schema(names: Sequence[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "policy": {"type": "string", "enum": sorted(names)},
            "resource": {"type": "string", "minLength": 1},
            "reason": {"type": "string", "minLength": MIN_REASON_LENGTH},
            "config": {"type": "object"},
        },
        "required": ["policy", "resource", "reason"],
        "additionalProperties": False,
    }


def _subjects(target: Target, stack: Stack, matches: list[Res]) -> list[Res]:
    if isinstance(target, GuardrailResourcePolicy):
        return [res for res in matches if target.applies_to(res.type)]
    return stack.of_type(target.subjects)


def _run(target: Target, stack: Stack, subject: Res, config: Mapping[str, Any]):
    if isinstance(target, GuardrailResourcePolicy):
        return [(subject, message) for message in target.check(subject, config)]
    return findings_about(subject, target.check(stack, subject, config))


def _findings(target: Target, stack: Stack, matches: list[Res], config: Mapping[str, Any]):
    """(resource, message) of the suppressed policy's findings on the named resources."""
    for subject in _subjects(target, stack, matches):
        try:
            found = _run(target, stack, subject, config)
        except UnknownValueError:
            found = [(subject, f"{subject.label}: {LATER}.")]
        yield from ((res, message) for res, message in found if res in matches)


class SuppressionReport(StackValidationPolicy):
    """Acknowledged findings and unused suppressions, as advisories."""

    def __init__(self, policies: Sequence[Target]) -> None:
        self.targets = {policy.name: policy for policy in policies}
        schema = {
            "type": "array",
            "items": _entry_schema(list(self.targets)),
            "default": [],
            "description": "Every suppression of the stack: policy, resource, reason and the "
            "suppressed policy's effective config (stacks.policy_config writes it).",
        }
        super().__init__(
            name=NAME,
            description="Suppressed findings are shown with their reasons; unused suppressions "
            "are reported.",
            enforcement_level=ADVISORY,
            severity=LOW,
            remediation_steps=(
                "Fix the finding and remove the suppression, or keep it with a reason a reviewer "
                "accepts; remove suppressions reported as unused."
            ),
            config_schema=PolicyConfigSchema(properties={SUPPRESSIONS: schema}),
            tags=["governance", "NagSuppressions (cdk-nag)"],
            validate=self._validate,
        )
        self.defaults = {SUPPRESSIONS: []}

    def _validate(self, args: StackValidationArgs, report: ReportViolation) -> None:
        stack = Stack(args.resources)
        for entry in args.get_config().get(SUPPRESSIONS, ()):
            for message, urn in self._report(stack, entry):
                report(message, urn)

    def _report(self, stack: Stack, entry: Mapping[str, Any]) -> Iterator[tuple[str, str | None]]:
        name, wanted, reason = entry["policy"], entry["resource"], entry["reason"]
        target = self.targets[name]
        config = {**target.defaults, **entry.get("config", {}), SUPPRESSIONS: []}
        matches = [res for res in stack.resources if wanted in (res.name, res.urn)]
        if not matches:
            yield (
                f'The suppression of {name} for "{wanted}" is unused: no resource of this stack '
                "has that name or URN; remove it.",
                None,
            )
            return
        found = list(_findings(target, stack, matches, config))
        for res, message in found:
            yield f'{ACKNOWLEDGED}{name} on {res.label} (reason: "{reason}"): {message}', res.urn
        for res in (res for res in matches if all(res is not r for r, _ in found)):
            yield (
                f"The suppression of {name} for {res.label} is unused: the policy reports "
                "nothing on it; remove it.",
                res.urn,
            )
