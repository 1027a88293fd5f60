"""The CI step that pins a stack's image by digest: registry token challenge, ECR, recording."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import stat
import sys
import threading
from pathlib import Path
from typing import ClassVar

import boto3
import pytest
from moto import mock_aws

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import resolve_image_digest as resolver

from stacks.settings import SettingsError, load_settings
from tests.support import stack_config

INDEX_DIGEST = "sha256:" + hashlib.sha256(b"index").hexdigest()
TOKEN = "anonymous-pull-token"


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("twentycrm/twenty", ("registry-1.docker.io", "twentycrm/twenty")),
        ("postgres", ("registry-1.docker.io", "library/postgres")),
        ("ghcr.io/org/twenty", ("ghcr.io", "org/twenty")),
        ("localhost:5000/twenty", ("localhost:5000", "twenty")),
    ],
)
def test_image_names_split_like_docker(image: str, expected: tuple[str, str]) -> None:
    assert resolver.split_image(image) == expected


class _Registry(http.server.BaseHTTPRequestHandler):
    """A registry that challenges, issues an anonymous token, then names the index digest."""

    seen: ClassVar[list[dict]] = []

    def do_GET(self) -> None:
        body = json.dumps({"token": TOKEN}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_HEAD(self) -> None:
        self.seen.append({"path": self.path, **dict(self.headers)})
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            realm = f"http://{self.headers['Host']}/token"
            self.send_response(401)
            self.send_header(
                "WWW-Authenticate",
                f'Bearer realm="{realm}",service="test",scope="repository:org/twenty:pull"',
            )
        else:
            self.send_response(200)
            self.send_header("Docker-Content-Digest", INDEX_DIGEST)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def registry():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Registry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Registry.seen.clear()
    yield f"127.0.0.1:{server.server_port}"
    server.shutdown()


def test_registry_digest_answers_the_token_challenge(registry: str) -> None:
    digest = resolver.registry_digest(registry, "org/twenty", "v2.42.5", scheme="http")
    assert digest == INDEX_DIGEST
    first, second = _Registry.seen
    assert first["path"] == second["path"] == "/v2/org/twenty/manifests/v2.42.5"
    assert "Authorization" not in first and second["Authorization"] == f"Bearer {TOKEN}"
    # The multi-architecture index is asked for first: its digest covers every platform.
    assert second["Accept"].split(", ")[0] == "application/vnd.oci.image.index.v1+json"


def test_ecr_digest_comes_from_the_aws_api(monkeypatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "layers": [],
        }
    )
    with mock_aws():
        ecr = boto3.client("ecr", region_name="eu-central-1")
        registry = ecr.create_repository(repositoryName="twenty")["repository"]["registryId"]
        pushed = ecr.put_image(repositoryName="twenty", imageManifest=manifest, imageTag="v2.42.5")
        host = f"{registry}.dkr.ecr.eu-central-1.amazonaws.com"
        digest = resolver.resolve(f"{host}/twenty", "v2.42.5")
    # What ECR answered when the image was pushed.
    assert digest == pushed["image"]["imageId"]["imageDigest"]


def _fake_pulumi(directory: Path) -> Path:
    calls = directory / "calls"
    script = directory / "pulumi"
    script.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return calls


def test_write_records_version_and_digest_even_over_a_stale_one(
    monkeypatch, tmp_path: Path, capsys
) -> None:
    calls = _fake_pulumi(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(resolver, "resolve", lambda image, tag: INDEX_DIGEST)
    stale = stack_config("dev", app={"imageDigest": f"v2.41.0@{INDEX_DIGEST}"})
    monkeypatch.setattr("stacks.stackfile.read_stack_config", lambda stack: dict(stale))
    version = load_settings("dev", stack_config("dev")).app.version
    assert resolver.main(["dev", "--write"]) == 0
    value = f"{version}@{INDEX_DIGEST}"
    assert capsys.readouterr().out.strip() == value
    assert calls.read_text().split() == [
        "config", "set", "--path", resolver.CONFIG_KEY, value, "--stack", "dev",
    ]  # fmt: skip


def test_a_stale_digest_is_refused_by_the_settings() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings("dev", stack_config("dev", app={"imageDigest": f"v2.41.0@{INDEX_DIGEST}"}))
    (message,) = caught.value.messages
    assert message.startswith("crm-platform:app.imageDigest: 'v2.41.0@sha256:")
    assert "must be recorded for app.version v2.42.5" in message


def test_unknown_stack_is_a_usage_error(capsys) -> None:
    assert resolver.main(["nowhere"]) == 2
    assert "usage: resolve_image_digest.py STACK" in capsys.readouterr().err
