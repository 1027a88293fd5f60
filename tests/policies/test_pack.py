"""The pack as the engine sees it: metadata, isolation, and a real gRPC session."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime import proto
from pulumi.runtime.proto import analyzer_pb2_grpc
from pulumi_policy import EnforcementLevel, StackValidationPolicy

from policies.guardrails import PACK_NAME, PACK_VERSION, POLICIES
from policies.guardrails.core import SUPPRESSIONS
from policies.guardrails.offline import LEVEL_TO_PROTO, evaluate, reconcile
from stacks.policy_config import build_policy_config

from . import sdk
from .fixtures import ALLOWED, REGION, bucket, db_primary, secret

PACK_DIR = Path(__file__).resolve().parents[2] / "policies"
ROOT = PACK_DIR.parent
TOKEN = re.compile(r'"((?:aws|kubernetes):[\w.-]+/[\w.]+:[A-Z]\w*)"')


def test_pulumi_policy_yaml_matches_the_package() -> None:
    project = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    # the engine runs the pack with the project's virtualenv, next to the pack directory
    assert (PACK_DIR / project["runtime"]["options"]["virtualenv"]).resolve() == ROOT / ".venv"
    assert (project["name"], str(project["version"])) == (PACK_NAME, PACK_VERSION)
    assert re.fullmatch(r"[a-zA-Z0-9-_.]{1,100}", project["name"])


def test_pack_requirements_pin_the_project_versions() -> None:
    def pins(path: Path) -> dict[str, str]:
        lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
        return dict(line.split("==") for line in lines if "==" in line)

    pack, project = pins(PACK_DIR / "requirements.txt"), pins(ROOT / "requirements.txt")
    assert {"pulumi", "pulumi-policy"} <= set(pack)
    assert {name: project[name] for name in pack} == pack


def test_every_policy_is_fully_described() -> None:
    for policy in POLICIES:
        assert policy.name != "all" and re.fullmatch(r"[a-z0-9-]+", policy.name)
        assert policy.description.endswith(".") and policy.remediation_steps
        assert policy.severity is not None and policy.enforcement_level is not None
        assert policy.tags
        schema = policy.config_schema
        for name, spec in (schema.properties if schema else {}).items():
            assert name != "enforcementLevel"
            assert spec.get("description") and spec.get("type"), (policy.name, name)


def controls(policy) -> list[str]:
    """The external controls a policy implements: its tags that name one (capitalised ids)."""
    return [tag for tag in policy.tags if tag[:1].isupper()]


def test_every_policy_maps_to_external_controls_in_the_readme() -> None:
    readme = (PACK_DIR / "README.md").read_text()
    for policy in POLICIES:
        assert controls(policy), f"{policy.name} maps to no external control"
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{policy.name}` |"))
        cells = [cell.strip() for cell in row.strip("|").split(" | ")]
        assert cells[1:5] == [
            policy.tags[0],
            policy.severity.value,
            policy.enforcement_level.value,
            "stack" if isinstance(policy, StackValidationPolicy) else "resource",
        ], row
        assert cells[-1] == ", ".join(f"`{c}`" for c in controls(policy)), row


def test_readme_publishes_the_count_per_category() -> None:
    readme = (PACK_DIR / "README.md").read_text()
    counts = Counter(policy.tags[0] for policy in POLICIES)
    for category, count in counts.items():
        assert f"\n| {category} | {count} |\n" in readme, category
    assert f"\n{len(POLICIES)} policies" in readme


def test_readme_lists_every_policy_and_property() -> None:
    readme = (PACK_DIR / "README.md").read_text()
    for policy in POLICIES:
        assert f"| `{policy.name}` |" in readme, policy.name
        for name in policy.config_schema.properties if policy.config_schema else ():
            common = name == SUPPRESSIONS and policy.name != "suppressed-findings"
            row = f"| (every policy) | `{name}` |" if common else f"| `{policy.name}` | `{name}` |"
            assert row in readme, (policy.name, name)


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def test_the_pack_imports_nothing_from_what_it_checks() -> None:
    for path in PACK_DIR.rglob("*.py"):
        roots = {name.split(".")[0] for name in _imports(path)}
        assert not roots & {"components", "stacks", "ops", "tests", "policies"}, path


def test_every_type_token_in_the_pack_exists_in_the_sdks() -> None:
    tokens = {
        token
        for path in (PACK_DIR / "guardrails").glob("*.py")
        for token in TOKEN.findall(path.read_text())
    }
    assert len(tokens) > 60
    missing = [t for t in tokens if sdk.resource_class(t) is None and not sdk.is_custom_resource(t)]
    assert sorted(missing) == []


# --- gRPC ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """The pack started the way the engine starts it; only the pack directory is importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHONPATH", "PULUMI_"))}
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", str(PACK_DIR)],
        cwd=PACK_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        port = _first_line(process, timeout=60)
        assert port.isdigit(), f"no port, stderr: {process.stderr.read().decode()}"
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=30)
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        process.terminate()
        process.wait(timeout=30)


def _first_line(process: subprocess.Popen, timeout: float) -> str:
    line: list[bytes] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return line[0].decode().strip() if line else ""


def _struct(value: dict) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(value)
    return struct


def _resource(res: dict) -> dict:
    provider = res["provider"]
    return {
        "type": res["type"],
        "properties": _struct(res["props"]),
        "urn": res["urn"],
        "name": res["name"],
        "provider": proto.AnalyzerProviderResource(
            type=provider["type"],
            properties=_struct(provider["props"]),
            urn=provider["urn"],
            name=provider["name"],
        ),
    }


def _configure(analyzer: analyzer_pb2_grpc.AnalyzerStub, config: dict) -> None:
    """Configure as the engine does: schema defaults and levels reconciled with the file."""
    request = proto.ConfigureAnalyzerRequest()
    for name, settings in reconcile(config).items():
        request.policyConfig[name].enforcementLevel = LEVEL_TO_PROTO[settings.level]
        request.policyConfig[name].properties.update(settings.properties)
    analyzer.Configure(request, timeout=30)


def test_grpc_session_like_the_engine(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
    assert info.name == PACK_NAME and info.supportsConfig
    assert len(info.policies) == len(POLICIES) >= 40
    schemas = {p.name: json_format.MessageToDict(p.configSchema) for p in info.policies}
    assert schemas["residency-region-allowlist"]["required"] == ["allowedRegions"]
    assert schemas["rds-backup-retention"]["properties"]["minRetentionDays"]["default"] == 7
    types = {p.name: p.policy_type for p in info.policies}
    assert types["vpc-flow-logs"] == proto.PolicyType.POLICY_TYPE_STACK
    assert types["rds-multi-az"] == proto.PolicyType.POLICY_TYPE_RESOURCE

    # Configure as the engine does: schema defaults and levels reconciled with the stack's file.
    config = build_policy_config(
        environment="dev", region=REGION, allowed_regions=ALLOWED, high_availability=False
    )
    _configure(analyzer, config)

    compliant = db_primary()
    response = analyzer.Analyze(proto.AnalyzeRequest(**_resource(compliant)), timeout=30)
    assert list(response.diagnostics) == []

    password = "s3cr3t-literal-password"
    violating = db_primary(
        region="us-east-1",
        multiAz=False,
        password=password,
        username=secret("root"),
    )
    response = analyzer.Analyze(proto.AnalyzeRequest(**_resource(violating)), timeout=30)
    levels = {d.policyName: d.enforcementLevel for d in response.diagnostics}
    assert levels["residency-region-allowlist"] == proto.MANDATORY
    assert levels["rds-no-literal-password"] == proto.MANDATORY
    assert levels["rds-multi-az"] == proto.ADVISORY  # dev: not highly available
    assert levels["rds-custom-admin-username"] == proto.ADVISORY
    for diagnostic in response.diagnostics:
        assert diagnostic.policyPackName == PACK_NAME
        assert password not in diagnostic.message and '"root"' not in diagnostic.message
    residency = next(
        d for d in response.diagnostics if d.policyName == "residency-region-allowlist"
    )
    assert residency.severity == proto.POLICY_SEVERITY_CRITICAL
    assert '"us-east-1"' in residency.message

    lonely = bucket()
    stack = proto.AnalyzeStackRequest(
        resources=[proto.AnalyzerResource(**_resource(lonely), parent="", dependencies=[])]
    )
    response = analyzer.AnalyzeStack(stack, timeout=30)
    found = {(d.policyName, d.urn, d.enforcementLevel) for d in response.diagnostics}
    assert ("s3-bucket-encryption", lonely["urn"], proto.MANDATORY) in found
    assert ("s3-bucket-companions", lonely["urn"], proto.MANDATORY) in found
    assert ("s3-access-logging", lonely["urn"], proto.ADVISORY) in found
    json.dumps([d.message for d in response.diagnostics])  # plain text all the way


def test_suppressions_over_grpc_match_the_offline_gate(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    reason = "Migration window agreed with the DPO until 2026-03-01."
    config = build_policy_config(
        environment="prod",
        region=REGION,
        allowed_regions=ALLOWED,
        high_availability=True,
        suppressions=[
            {"policy": "residency-region-allowlist", "resource": "db", "reason": reason},
            {"policy": "s3-bucket-encryption", "resource": "attachments", "reason": reason},
            {"policy": "rds-multi-az", "resource": "gone", "reason": reason},
        ],
    )
    _configure(analyzer, config)
    stack = [db_primary(region="us-east-1"), bucket()]
    diagnostics = [
        (d, res["urn"])
        for res in stack
        for d in analyzer.Analyze(proto.AnalyzeRequest(**_resource(res)), timeout=30).diagnostics
    ]
    request = proto.AnalyzeStackRequest(
        resources=[proto.AnalyzerResource(**_resource(r), parent="") for r in stack]
    )
    diagnostics += [(d, "") for d in analyzer.AnalyzeStack(request, timeout=30).diagnostics]
    over_grpc = sorted(
        (
            d.policyName,
            d.urn or urn,
            d.enforcementLevel,
            d.message.removeprefix(d.description).strip(),
        )
        for d, urn in diagnostics
    )
    offline = sorted(
        (f.policy, f.urn or "", LEVEL_TO_PROTO[EnforcementLevel(f.enforcement)], f.message)
        for f in evaluate(stack, config)
    )
    assert over_grpc == offline
    report = [entry for entry in over_grpc if entry[0] == "suppressed-findings"]
    assert sorted(entry[1] for entry in report) == sorted(["", stack[0]["urn"], stack[1]["urn"]])
    assert all(entry[2] == proto.ADVISORY for entry in report)
    policies = {entry[0] for entry in over_grpc}
    assert not {"residency-region-allowlist", "s3-bucket-encryption"} & policies
