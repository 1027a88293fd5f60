"""Cache settings: the ElastiCache (Valkey) replication group holding sessions and job queues."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

from .base import Section, int_range


def _check_node_type(value: str) -> str:
    if not re.fullmatch(r"cache\.[a-z][a-z0-9]*\.[a-z0-9]+", value):
        raise ValueError("must be an ElastiCache node type such as cache.t4g.micro")
    return value


CacheNodeType = Annotated[str, AfterValidator(_check_node_type)]


class CacheSettings(Section):
    """`crm-platform:cache`: Valkey for Twenty's sessions, cache and BullMQ queues."""

    node_type: CacheNodeType = "cache.m7g.large"
    """Node type of every node (the primary and its replicas)."""
    nodes: Annotated[int, int_range(1, 6)] = 2
    """Nodes in the group, spread over the AZs; 2 or more turns on automatic failover and
    Multi-AZ, 1 is a single node without either."""
    snapshot_retention_days: Annotated[int, int_range(0, 35)] = 7
    """Days of daily snapshots (queued jobs survive a lost group); 0 turns snapshots off."""
