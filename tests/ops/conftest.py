"""Fixtures for the ops tests: moto-backed AWS with fake credentials, a CLI runner over a
fresh Typer app, and the recording Pulumi stand-in."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest
import typer
from moto import mock_aws
from typer.testing import CliRunner, Result

from ops.aws import session
from ops.cli import register
from tests.ops.helpers import REGION, FakePulumi

AWS_ENV = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "MOTO_ACCOUNT_ID",
)


@pytest.fixture(autouse=True)
def isolated_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ambient AWS configuration, metadata service or narrow terminal leaks into a test."""
    for name in AWS_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("COLUMNS", "250")
    # moto otherwise loads thousands of public AMIs into every EC2 region it touches.
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        # The tests' own boto3.client() calls share the parsed service models too.
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", session())
        yield


@pytest.fixture
def cli() -> Callable[..., Result]:
    app = typer.Typer()
    register(app)
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, list(args), input=input)

    return invoke


@pytest.fixture
def fake_pulumi(tmp_path: Path) -> FakePulumi:
    root = tmp_path / "pulumi-root"
    (root / "bin").mkdir(parents=True)
    script = Path(__file__).with_name("fake_pulumi.py").read_text()
    binary = root / "bin" / "pulumi"
    binary.write_text(f"#!{sys.executable}\n{script}")
    binary.chmod(0o755)
    project = tmp_path / "project"
    (project / "policies").mkdir(parents=True)
    (project / "Pulumi.yaml").write_text("name: crm-platform\nruntime: python\n")
    (project / "policies" / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (project / "workloads").mkdir()
    (project / "workloads" / "Pulumi.yaml").write_text("name: crm-platform-workloads\n")
    fake = FakePulumi(root=root, project=project)
    fake.set_state({"stacks": {}, "fail": {}})
    return fake
