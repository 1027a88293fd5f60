"""Synthesized shipped stacks are shared across a test session (each takes about a second)."""

from __future__ import annotations

import gc
import json
from typing import Any

import pytest

from stacks.offline import Plan
from stacks.stackfile import stack_names
from tests.support import synth_stack

_cache: dict[str, Plan] = {}


@pytest.fixture(params=stack_names())
def any_stack(request: pytest.FixtureRequest) -> Plan:
    return shipped(request.param)


def shipped(stack: str) -> Plan:
    """The synthesized plan of a stack file of the repository, computed once per process."""
    if stack not in _cache:
        _cache[stack] = synth_stack(stack)
    return _cache[stack]


def variant(stack: str, **overrides: Any) -> Plan:
    """A shipped stack with config overrides, synthesized once per test process."""
    key = f"{stack} {json.dumps(overrides, sort_keys=True)}"
    if key not in _cache:
        _cache[key] = synth_stack(stack, **overrides)
    return _cache[key]


@pytest.fixture
def dev() -> Plan:
    return shipped("dev")


@pytest.fixture
def staging() -> Plan:
    return shipped("staging")


@pytest.fixture
def prod() -> Plan:
    return shipped("prod")


def pytest_configure(config: pytest.Config) -> None:
    """Synthesizing stacks allocates millions of long-lived objects; collecting them for
    cycles every few hundred allocations dominated the run time. Collect far less often."""
    gc.set_threshold(200_000, 50, 100)


@pytest.fixture(autouse=True, scope="session")
def _operations_commands() -> None:
    """`python -m stacks` adds the operations commands unless an offline one runs; the tests
    drive the same `app` with every command."""
    from stacks.cli import register_operations

    register_operations()
