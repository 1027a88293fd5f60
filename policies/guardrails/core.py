"""Machinery shared by every guardrail: resource views, policy wrappers and message helpers.

Policies are written as small generator functions over a `Res` (one resource's inputs) or a
`Stack` (all resources). The wrappers here turn them into the SDK's `ResourceValidationPolicy` /
`StackValidationPolicy`, so the engine (over gRPC) and the offline gate run the very same objects.

Unknown values (preview): reading one through `Res.get` raises the SDK's `UnknownValueError`,
which the SDK reports as an advisory "can't run policy during preview" note. Checks that only need
to know whether a property is *set* use `Res.present`/`Res.peek`, which never raise.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy import proxy as _proxy
from pulumi_policy.proxy import UnknownValueError

from .secrets import REDACTED, SecretStr, is_secret

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY
LOW, MEDIUM, HIGH, CRITICAL = Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL

UNKNOWN_SENTINELS = frozenset(
    {
        _proxy.UNKNOWN_BOOLEAN_VALUE,
        _proxy.UNKNOWN_NUMBER_VALUE,
        _proxy.UNKNOWN_STRING_VALUE,
        _proxy.UNKNOWN_ARRAY_VALUE,
        _proxy.UNKNOWN_ASSET_VALUE,
        _proxy.UNKNOWN_ARCHIVE_VALUE,
        _proxy.UNKNOWN_OBJECT_VALUE,
    }
)


class _Unknown:
    """Marker returned by `Res.peek` for a value that is only known after deployment."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = _Unknown()


# --- value helpers ---------------------------------------------------------------------------


def as_bool(value: Any) -> bool | None:
    """True/False for a boolean or a "true"/"false" string (launch templates use strings)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def as_number(value: Any) -> float | None:
    """A number from an int, a float (the wire format of every number) or a numeric string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def as_list(value: Any) -> list[Any]:
    """A list from None, a single string (IAM allows both) or a sequence."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence):
        return list(value)
    return [value]


def plain(value: Any) -> Any:
    """A JSON-able copy of a (proxied) value: secrets redacted, unknowns marked."""
    if is_secret(value):
        return REDACTED
    if (isinstance(value, str) and value in UNKNOWN_SENTINELS) or value is UNKNOWN:
        return "<unknown>"
    if isinstance(value, Mapping):
        return {str(key): plain(peek_item(value, key)) for key in value}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [plain(peek_item(value, index)) for index in range(len(value))]
    return value


def show(value: Any) -> str:
    """How a value appears in a message: quoted strings, JSON for structures, never a secret."""
    if is_secret(value):
        return REDACTED
    if value is UNKNOWN or (isinstance(value, str) and value in UNKNOWN_SENTINELS):
        return "an unknown value (computed during deployment)"
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    text = json.dumps(plain(value), sort_keys=True)
    return text if len(text) <= 200 else text[:197] + "..."


def setting(prop: str, value: Any) -> str:
    """Message fragment: `sets <prop> to <value>` or `leaves <prop> unset`."""
    return f"leaves {prop} unset" if value is None else f"sets {prop} to {show(value)}"


def show_derived(value: Any, *sources: Any) -> str:
    """`show(value)` for a value computed from `sources`: redacted if any of them is secret."""
    return REDACTED if any(is_secret(source) for source in sources) else show(value)


def show_list(values: Iterable[Any]) -> str:
    return ", ".join(show(value) for value in values) or "none"


def arn_region(value: Any) -> str | None:
    """The region field of an ARN ("" for global ARNs), or None if `value` is not an ARN."""
    if not isinstance(value, str) or not value.startswith("arn:"):
        return None
    parts = value.split(":", 5)
    if len(parts) != 6:
        return None
    return SecretStr(parts[3]) if is_secret(value) else parts[3]


# --- policy documents --------------------------------------------------------------------------


def policy_statements(document: Any) -> list[Mapping[str, Any]]:
    """The statements of an IAM-style policy given as JSON text or as an object.

    Raises ValueError when the document cannot be read, so callers can fail closed.
    """
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError as error:
            raise ValueError(f"it is not valid JSON ({error.msg})") from None
    if not isinstance(document, Mapping):
        raise ValueError("it is not a JSON object")
    statements = document.get("Statement")
    if isinstance(statements, Mapping):
        return [statements]
    if isinstance(statements, Sequence) and not isinstance(statements, str):
        return [s for s in statements if isinstance(s, Mapping)]
    raise ValueError("it has no Statement")


def principals(statement: Mapping[str, Any], kind: str) -> list[Any]:
    """Principal values of one kind ("AWS", "Service", "Federated"); a bare "*" counts as AWS."""
    principal = statement.get("Principal")
    if isinstance(principal, str):
        return [principal] if kind == "AWS" else []
    if isinstance(principal, Mapping):
        return as_list(principal.get(kind))
    return []


# Condition keys that pin a wildcard principal to one account or organization.
ACCOUNT_SCOPING_KEYS = frozenset(
    {
        "kms:calleraccount",
        "aws:principalaccount",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principalarn",
        "aws:sourceaccount",
        "aws:sourcearn",
        "aws:sourceowner",
        "aws:sourceorgid",
    }
)


def condition_keys(statement: Mapping[str, Any]) -> set[str]:
    """Lower-cased condition keys of a statement (`{"StringEquals": {"kms:CallerAccount": ..}}`)."""
    condition = statement.get("Condition")
    if not isinstance(condition, Mapping):
        return set()
    return {
        str(key).lower()
        for block in condition.values()
        if isinstance(block, Mapping)
        for key in block
    }


def public_statements(document: Any) -> list[int]:
    """Indexes of Allow statements open to any principal without an account-scoping condition.

    Raises ValueError if the document cannot be read.
    """
    found = []
    for index, statement in enumerate(policy_statements(document)):
        if statement.get("Effect") != "Allow":
            continue
        if "*" not in principals(statement, "AWS"):
            continue
        if not condition_keys(statement) & ACCOUNT_SCOPING_KEYS:
            found.append(index)
    return found


# --- property access ---------------------------------------------------------------------------

Path = str | tuple[str, ...]
"""A property path: dotted ("vpcConfig.endpointPublicAccess") or a tuple of keys (for keys that
contain dots, such as Kubernetes annotations)."""


def _keys(path: Path) -> tuple[str, ...]:
    return tuple(path.split(".")) if isinstance(path, str) else path


def lookup(node: Any, path: Path) -> Any:
    """The value at `path` below `node`, None if absent; raises UnknownValueError if unknown."""
    keys = _keys(path)
    for key in keys:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
        if node is None:
            return None
    if isinstance(node, str) and node in UNKNOWN_SENTINELS:
        raise UnknownValueError(node, list(keys))
    return node


def peek_item(container: Any, key: Any) -> Any:
    """`container[key]`, or `UNKNOWN` when that value is unknown during preview."""
    try:
        return container[key]
    except UnknownValueError:
        return UNKNOWN


def entries(value: Any) -> list[Any] | None:
    """Items of a peeked list (unknown items as `UNKNOWN`); None if the list itself is unknown."""
    if value is UNKNOWN:
        return None
    if value is None:
        return []
    if isinstance(value, Mapping | str):
        return [value]
    return [peek_item(value, index) for index in range(len(value))]


def known(value: Any, path: Path) -> Any:
    """`value`, raising the SDK's UnknownValueError if it is `UNKNOWN` (reported as advisory)."""
    if value is UNKNOWN:
        raise UnknownValueError(_proxy.UNKNOWN_STRING_VALUE, list(_keys(path)))
    return value


def known_items(value: Any, path: Path) -> list[Any]:
    """`entries(value)` with every item known, raising UnknownValueError otherwise."""
    items = entries(known(value, path)) or []
    for item in items:
        known(item, path)
    return items


def field(entry: Any, path: Path) -> Any:
    """The value at `path` in a list entry: None if absent, `UNKNOWN` if unknown."""
    if entry is UNKNOWN:
        return UNKNOWN
    try:
        return lookup(entry, path)
    except UnknownValueError:
        return UNKNOWN


# --- resource views --------------------------------------------------------------------------


class Res:
    """Read-only view of one resource as a policy sees it (inputs in Analyze, state in stacks)."""

    __slots__ = ("create_timeout", "name", "props", "provider", "type", "urn")

    def __init__(
        self,
        resource_type: str,
        name: str,
        urn: str,
        props: Mapping[str, Any],
        provider: Res | None = None,
        create_timeout: float = 0.0,
    ) -> None:
        self.type = resource_type
        self.name = name
        self.urn = urn
        self.props = props
        self.provider = provider
        self.create_timeout = create_timeout
        """Seconds of the `custom_timeouts.create` option (0: the provider's default)."""

    @classmethod
    def of(cls, source: ResourceValidationArgs | PolicyResource) -> Res:
        provider = source.provider
        view = (
            None
            if provider is None
            else cls(provider.resource_type, provider.name, provider.urn, provider.props)
        )
        timeouts = source.opts.custom_timeouts if source.opts else None
        create = timeouts.create_seconds if timeouts else 0.0
        return cls(source.resource_type, source.name, source.urn, source.props, view, create)

    @property
    def label(self) -> str:
        return f'{self.type} "{self.name}"'

    def get(self, path: Path) -> Any:
        """The value at `path`, None if absent; raises UnknownValueError if it is unknown."""
        return lookup(self.props, path)

    def peek(self, path: Path) -> Any:
        """Like `get` but returns `UNKNOWN` instead of raising."""
        try:
            return self.get(path)
        except UnknownValueError:
            return UNKNOWN

    def present(self, path: Path) -> bool:
        """Whether `path` is set (an unknown value counts: it will be set during deployment)."""
        value = self.peek(path)
        if isinstance(value, str | Mapping | Sequence):
            return len(value) > 0
        return value is not None

    def items(self, path: Path) -> list[Any]:
        """The list at `path` ([] if absent); raises UnknownValueError like `get`."""
        return as_list(self.get(path))

    def tags(self, path: Path = "tags") -> Mapping[str, Any]:
        value = self.peek(path)
        return value if isinstance(value, Mapping) else {}


class Stack:
    """All resources of a stack, with reference resolution between them."""

    def __init__(self, resources: Sequence[PolicyResource]) -> None:
        self.resources = [Res.of(resource) for resource in resources]
        by_urn = {res.urn: res for res in self.resources}
        self._deps: dict[str, dict[str, list[Res]]] = {
            resource.urn: {
                prop: [by_urn[dep.urn] for dep in deps if dep.urn in by_urn]
                for prop, deps in resource.property_dependencies.items()
            }
            for resource in resources
        }

    def of_type(self, types: Collection[str]) -> list[Res]:
        return [res for res in self.resources if res.type in types]

    def sources(self, res: Res, prop: str) -> list[Res]:
        """Every resource of the stack that the value of `res.prop` is computed from."""
        return list(self._deps.get(res.urn, {}).get(prop, []))

    def refs(self, res: Res, prop: str, types: Collection[str]) -> list[Res]:
        """Resources of `types` that `res.prop` points to.

        A reference is found through the property's dependencies (known even during preview,
        when ids are not) or, failing that, by an identity value (id, ARN, name) appearing in it.
        """
        found = [dep for dep in self._deps.get(res.urn, {}).get(prop, []) if dep.type in types]
        values = set(all_strings(res.peek(prop)))
        if values:
            found += [
                target
                for target in self.of_type(types)
                if target not in found and values & identities(target)
            ]
        return found


def identities(res: Res) -> set[str]:
    """Known values that other resources use to refer to `res`."""
    names = {
        value
        for key in ("id", "arn", "name", "bucket", "identifier")
        if isinstance(value := res.peek(key), str) and value not in UNKNOWN_SENTINELS
    }
    bucket = res.peek("bucket")
    if res.type.startswith("aws:s3/bucket") and isinstance(bucket, str):
        names.add(f"arn:aws:s3:::{bucket}")
    return names


def all_strings(value: Any) -> Iterator[str]:
    """Every known string inside a (proxied) value."""
    if isinstance(value, str):
        if value not in UNKNOWN_SENTINELS:
            yield value
    elif isinstance(value, Mapping):
        for key in value:
            yield from all_strings(peek_item(value, key))
    elif isinstance(value, Sequence):
        for index in range(len(value)):
            yield from all_strings(peek_item(value, index))


# --- policy wrappers -------------------------------------------------------------------------

Config = Mapping[str, Any]
ResourceCheck = Callable[[Res, Config], Iterable[str]]
# A stack check yields messages about its subject, or (resource, message) about another one.
StackCheck = Callable[[Stack, Res, Config], Iterable[str | tuple[Res, str]]]


MIN_REASON_LENGTH = 10
SUPPRESSIONS = "suppressions"
SUPPRESSION_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "resource": {"type": "string", "minLength": 1},
            "reason": {"type": "string", "minLength": MIN_REASON_LENGTH},
        },
        "required": ["resource", "reason"],
        "additionalProperties": False,
    },
    "default": [],
    "description": "Resources (logical name or URN) this policy does not report, each with the "
    "written reason; the policy `suppressed-findings` shows them as acknowledged.",
}


def _schema(config: Mapping[str, dict[str, Any]] | None, required: list[str] | None):
    properties = {**(config or {}), SUPPRESSIONS: SUPPRESSION_SCHEMA}
    return PolicyConfigSchema(properties=properties, required=required)


def _defaults(config: Mapping[str, dict[str, Any]] | None) -> dict[str, Any]:
    found = {key: spec["default"] for key, spec in (config or {}).items() if "default" in spec}
    return {**found, SUPPRESSIONS: []}


def suppressed(res: Res, config: Config) -> bool:
    """Whether the policy's config suppresses its findings on `res` (by name or URN)."""
    return any(entry["resource"] in (res.name, res.urn) for entry in config.get(SUPPRESSIONS, ()))


class GuardrailResourcePolicy(ResourceValidationPolicy):
    """A resource policy whose check runs only on the resource types it applies to."""

    def __init__(
        self,
        *,
        check: ResourceCheck,
        applies_to: Callable[[str], bool],
        config: Mapping[str, dict[str, Any]] | None = None,
        required: list[str] | None = None,
        **metadata: Any,
    ) -> None:
        super().__init__(
            validate=self._validate, config_schema=_schema(config, required), **metadata
        )
        self.check = check
        self.applies_to = applies_to
        self.defaults = _defaults(config)

    def _validate(self, args: ResourceValidationArgs, report: ReportViolation) -> None:
        if not self.applies_to(args.resource_type):
            return
        # The engine fills schema defaults; merging them again keeps direct calls working too.
        config = {**self.defaults, **args.get_config()}
        res = Res.of(args)
        if suppressed(res, config):
            return
        for message in self.check(res, config):
            report(message, None)


class GuardrailStackPolicy(StackValidationPolicy):
    """A stack policy checking each resource of its subject types in the context of the stack.

    A subject whose check needs a value that is unknown during preview is skipped: the resource
    policies already flag unknowns, and the engine re-runs stack policies with the final state.

    `reads` (optional) says which resource types the check looks at, subjects included; the
    offline gate then hands the policy only those (the SDK deserializes the whole stack once per
    stack policy, the bulk of the gate's time). Without it the policy gets every resource.
    """

    def __init__(
        self,
        *,
        check: StackCheck,
        subjects: Collection[str],
        config: Mapping[str, dict[str, Any]] | None = None,
        required: list[str] | None = None,
        reads: Collection[str] | Callable[[str], bool] | None = None,
        **metadata: Any,
    ) -> None:
        super().__init__(
            validate=self._validate, config_schema=_schema(config, required), **metadata
        )
        self.check = check
        self.subjects = frozenset(subjects)
        self.defaults = _defaults(config)
        if reads is None or callable(reads):
            self.reads = reads
        else:
            self.reads = (frozenset(reads) | self.subjects).__contains__

    def _validate(self, args: StackValidationArgs, report: ReportViolation) -> None:
        config = {**self.defaults, **args.get_config()}
        stack = Stack(args.resources)
        for subject in stack.of_type(self.subjects):
            try:
                findings = list(self.check(stack, subject, config))
            except UnknownValueError:
                continue
            for res, message in findings_about(subject, findings):
                if not suppressed(res, config):
                    report(message, res.urn)


def findings_about(subject: Res, findings: Iterable[str | tuple[Res, str]]):
    """(resource, message) pairs of a stack check's findings on `subject` or other resources."""
    return [(subject, f) if isinstance(f, str) else f for f in findings]


def _metadata(
    name: str,
    description: str,
    severity: Severity,
    enforcement: EnforcementLevel,
    remediation: str,
    tags: Sequence[str],
) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "severity": severity,
        "enforcement_level": enforcement,
        "remediation_steps": remediation,
        "tags": list(tags),
    }


def resource_policy(
    name: str,
    *,
    types: Collection[str] | Callable[[str], bool],
    description: str,
    severity: Severity,
    remediation: str,
    enforcement: EnforcementLevel = MANDATORY,
    config: Mapping[str, dict[str, Any]] | None = None,
    required: list[str] | None = None,
    tags: Sequence[str] = (),
) -> Callable[[ResourceCheck], GuardrailResourcePolicy]:
    """Decorator: turn `check(res, config) -> messages` into a resource policy."""
    applies_to = types if callable(types) else frozenset(types).__contains__

    def wrap(check: ResourceCheck) -> GuardrailResourcePolicy:
        return GuardrailResourcePolicy(
            check=check,
            applies_to=applies_to,
            config=config,
            required=required,
            **_metadata(name, description, severity, enforcement, remediation, tags),
        )

    return wrap


def stack_policy(
    name: str,
    *,
    subjects: Collection[str],
    description: str,
    severity: Severity,
    remediation: str,
    enforcement: EnforcementLevel = MANDATORY,
    config: Mapping[str, dict[str, Any]] | None = None,
    required: list[str] | None = None,
    tags: Sequence[str] = (),
    reads: Collection[str] | Callable[[str], bool] | None = None,
) -> Callable[[StackCheck], GuardrailStackPolicy]:
    """Decorator: turn `check(stack, subject, config) -> messages` into a stack policy."""

    def wrap(check: StackCheck) -> GuardrailStackPolicy:
        return GuardrailStackPolicy(
            check=check,
            subjects=subjects,
            config=config,
            required=required,
            reads=reads,
            **_metadata(name, description, severity, enforcement, remediation, tags),
        )

    return wrap


# --- config schema snippets ------------------------------------------------------------------


def integer(default: int, description: str, minimum: int = 0, maximum: int | None = None):
    spec: dict[str, Any] = {"type": "integer", "minimum": minimum, "default": default}
    if maximum is not None:
        spec["maximum"] = maximum
    spec["description"] = description
    return spec


def boolean(default: bool, description: str) -> dict[str, Any]:
    return {"type": "boolean", "default": default, "description": description}


def string(default: str, description: str) -> dict[str, Any]:
    return {"type": "string", "default": default, "description": description}


def strings(default: Sequence[str], description: str, min_items: int = 0) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"type": "string"},
        "minItems": min_items,
        "default": list(default),
        "description": description,
    }
