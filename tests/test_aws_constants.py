"""AWS names that vary by partition come from the provider's data sources (partition, DNS
suffix, service principals, ELB account), never from literals in components/ or stacks/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PARTITIONED = ("arn:aws:", "amazonaws.com")
# Literals that are the same in every partition, with the reason.
ALLOWED = {
    ("components/crm_app/app.py", "eks.amazonaws.com/role-arn"): (
        "a Kubernetes annotation key read by EKS's pod identity webhook, not an AWS name"
    ),
    ("components/cluster_addons/load_balancer_controller.py", "eks.amazonaws.com/role-arn"): (
        "a Kubernetes annotation key read by EKS's pod identity webhook, not an AWS name"
    ),
    ("components/cluster_addons/cluster_autoscaler.py", "eks.amazonaws.com/role-arn"): (
        "a Kubernetes annotation key read by EKS's pod identity webhook, not an AWS name"
    ),
    ("components/cluster/iam_policies.py", "elasticloadbalancing.amazonaws.com"): (
        "part of the controller's published policy, compared with upstream by a drift test"
    ),
    (
        "stacks/workloads/rds_ca.py",
        "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem",
    ): (
        "the RDS User Guide's trust-store URL of partition aws, keyed by the partition botocore "
        "gives the region; no documented rule derives it from a DNS suffix, so other partitions "
        "are refused until their own documented URL is added"
    ),
}


def _docstrings(tree: ast.AST) -> set[int]:
    """Bare string statements: module, class, function and attribute docstrings."""
    return {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}


def partitioned_literals(path: Path) -> list[tuple[int, str]]:
    """(line, text) of string constants (f-string parts included) naming a partition's ARN
    prefix or DNS suffix; docstrings and comments only describe, so they are skipped."""
    tree = ast.parse(path.read_text())
    skip = _docstrings(tree)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skip
        and any(marker in node.value for marker in PARTITIONED)
    ]


def _sources() -> list[Path]:
    return sorted(p for folder in ("components", "stacks") for p in (ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_partition_literal_in_code(path: Path) -> None:
    relative = str(path.relative_to(ROOT))
    found = [
        f"{relative}:{line}: {text!r}"
        for line, text in partitioned_literals(path)
        if (relative, text) not in ALLOWED
    ]
    assert found == [], "take it from aws.get_partition / get_service_principal instead"


def test_the_scan_finds_a_literal_it_should(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Roles assumed by eks.amazonaws.com."""\n'
        'ROLE = f"arn:aws:iam::{1}:root"\n'
        'SERVICE = "logs.eu-west-1.amazonaws.com"\n'
    )
    assert sorted(line for line, _ in partitioned_literals(sample)) == [2, 3]


def test_every_allowance_is_still_needed() -> None:
    for (relative, text), reason in ALLOWED.items():
        assert reason and text in [t for _, t in partitioned_literals(ROOT / relative)]
