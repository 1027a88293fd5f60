"""Shared boto3 plumbing: clients under the stack's AWS profile, and AWS errors turned into
OpsErrors. Regions and residency come from the stack files, never from here."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConfigNotFound,
    CredentialRetrievalError,
    EndpointConnectionError,
    InvalidConfigError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
    WaiterError,
)
from botocore.loaders import create_loader

from ops.errors import OpsError, UserError

PROJECT = "crm-platform"

ACCESS_DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "AuthorizationError",
        "UnauthorizedOperation",
        "Forbidden",
        "403",
    }
)
BAD_CREDENTIAL_CODES = frozenset(
    {
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "AuthFailure",
    }
)
REGION_CODES = frozenset({"OptInRequired", "InvalidRegion"})

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})
# Service models are parsed once per process; sessions (and so credentials) stay per call.
_LOADER = create_loader()


_PROFILE: ContextVar[str | None] = ContextVar("aws_profile", default=None)


@contextmanager
def aws_profile(name: str | None) -> Iterator[None]:
    """Run AWS calls under a stack's `aws:profile` (None: the ambient credentials)."""
    token = _PROFILE.set(name)
    try:
        yield
    finally:
        _PROFILE.reset(token)


def session() -> boto3.session.Session:
    core = botocore.session.Session()
    core.register_component("data_loader", _LOADER)
    return boto3.session.Session(botocore_session=core, profile_name=_PROFILE.get())


def client(service: str, region: str, sess: boto3.session.Session | None = None):
    """A boto3 client pinned to an explicit region (never the ambient default); pass `sess`
    to share one session (and its resolved credentials) across many clients."""
    return (sess or session()).client(service, region_name=region, config=_CONFIG)


def partition(region: str) -> str:
    return session().get_partition_for_region(region)


def require_allowed_region(region: str, allowed: Iterable[str], what: str = "region") -> None:
    allowed = list(allowed)
    if region not in allowed:
        raise UserError(
            f"{what} {region!r} is outside the residency allow-list ({', '.join(allowed)}); "
            "refusing."
        )


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def translate(exc: Exception) -> OpsError:
    """Turn a botocore exception into an OpsError with an actionable message."""
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return UserError(
            "No AWS credentials found. Configure credentials (AWS_PROFILE / SSO login / "
            "OIDC role) and retry."
        )
    if isinstance(exc, (ProfileNotFound, ConfigNotFound, InvalidConfigError)):
        return UserError(
            f"AWS configuration problem: {exc}. Check AWS_PROFILE (or the stack's aws:profile) "
            "against your AWS config file."
        )
    if isinstance(exc, (CredentialRetrievalError, TokenRetrievalError, SSOError)):
        return UserError(
            f"Could not get AWS credentials: {exc}. Log in again (e.g. aws sso login)."
        )
    if isinstance(exc, NoRegionError):
        return UserError("No AWS region configured; set aws:region in the stack file.")
    if isinstance(exc, EndpointConnectionError):
        return UserError(f"Cannot reach the AWS endpoint ({exc}); check the region and network.")
    if isinstance(exc, WaiterError):
        return OpsError(f"Timed out or failed while waiting: {exc}")
    if isinstance(exc, ClientError):
        code = error_code(exc)
        message = exc.response.get("Error", {}).get("Message", "") or str(exc)
        operation = exc.operation_name
        if code in ACCESS_DENIED_CODES:
            return UserError(
                f"Access denied calling {operation} ({code}): {message}. "
                "The role in use lacks this permission."
            )
        if code in BAD_CREDENTIAL_CODES:
            return UserError(
                f"AWS rejected the credentials calling {operation} ({code}): {message}"
            )
        if code in REGION_CODES:
            return UserError(f"Region not usable for {operation} ({code}): {message}")
        return OpsError(f"AWS error calling {operation} ({code}): {message}")
    if isinstance(exc, BotoCoreError):
        return OpsError(f"AWS client error: {exc}")
    raise TypeError(f"not an AWS error: {exc!r}")


AWS_ERRORS = (BotoCoreError, ClientError)


def kms_key_id(value: str) -> str:
    """Key id from a key ARN or a bare key id (aliases are resolved by same_kms_key)."""
    return value.rsplit(":key/", 1)[-1] if ":key/" in value else value


def same_kms_key(actual: str | None, expected: str | None, region: str) -> bool:
    """True when two KMS references (key ARN, key id or alias) name the same key."""
    if not actual or not expected:
        return False
    ids = []
    for ref in (actual, expected):
        if "alias/" in ref:
            ref = client("kms", region).describe_key(KeyId=ref)["KeyMetadata"]["KeyId"]
        ids.append(kms_key_id(ref))
    return ids[0] == ids[1]


def tags_match(tags: dict[str, str], wanted: dict[str, str]) -> bool:
    return all(tags.get(key) == value for key, value in wanted.items())
