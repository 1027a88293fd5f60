"""Errors that the ops commands turn into one message and a documented exit code."""

from __future__ import annotations

EXIT_FAILED = 1  # a check failed, violations were found, or an operation step failed
EXIT_USAGE = 2  # invalid arguments or a user error (credentials, permissions, region, names)


class OpsError(Exception):
    """An expected failure: the CLI prints the message (no traceback) and exits with exit_code."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class UserError(OpsError):
    """Something the operator has to fix: credentials, permissions, region, a wrong name."""

    exit_code = EXIT_USAGE
