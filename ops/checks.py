"""What a live check reports, and the RDS lookups several checks share."""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import ClientError

from ops.aws import error_code


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def describe_db(rds, identifier: str) -> dict | None:
    """The instance, or None when it does not exist (a failed check, not an error)."""
    try:
        return rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
    except ClientError as exc:
        if error_code(exc) == "DBInstanceNotFound":
            return None
        raise
