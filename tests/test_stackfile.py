"""Stack files are read strictly: what YAML would silently change or drop is refused with one
message, scalars resolve as Pulumi's YAML 1.2 parser resolves them, and a malformed file is a
configuration error (exit 2), never a traceback."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import stacks.stackfile as stackfile
from stacks.cli import app
from stacks.settings import SettingsError, load_settings
from stacks.stackfile import parse_stack_file

HEADER = "config:\n  aws:region: eu-central-1\n"


def refusal(text: str | bytes) -> str:
    raw = text if isinstance(text, bytes) else text.encode()
    with pytest.raises(SettingsError) as caught:
        parse_stack_file("Pulumi.x.yaml", raw)
    assert len(caught.value.messages) == 1
    return caught.value.messages[0]


def test_a_key_written_twice_is_refused_naming_it_and_both_lines() -> None:
    text = (
        HEADER
        + "  crm-platform:network:\n    cidr: 10.40.0.0/16\n"
        + "  crm-platform:app:\n    domain: crm.example.com\n"
        + "  crm-platform:network:\n    azCount: 3\n"
    )
    assert refusal(text) == (
        "Pulumi.x.yaml: key 'crm-platform:network' is written twice (lines 3 and 7); YAML "
        "would keep only the second and silently drop the first. Merge them into one."
    )


def test_a_nested_key_written_twice_is_refused() -> None:
    text = HEADER + "  crm-platform:database:\n    multiAz: true\n    multiAz: false\n"
    assert "key 'multiAz' is written twice (lines 4 and 5)" in refusal(text)


@pytest.mark.parametrize(("written", "read_as"), [("1.30", "1.3"), ("16.10", "16.1")])
def test_an_unquoted_number_whose_digits_would_change_is_refused(written, read_as) -> None:
    text = HEADER + f"  crm-platform:cluster:\n    kubernetesVersion: {written}\n"
    assert refusal(text) == (
        f"Pulumi.x.yaml: line 4: the unquoted number {written} is read as {read_as} (by Pulumi "
        f'too); quote it to keep it as written: "{written}".'
    )


def test_scalars_resolve_as_in_yaml_1_2() -> None:
    text = HEADER + (
        "  crm-platform:database:\n    multiAz: yes\n    readReplicas: 2\n"
        "    deletionProtection: true\n    backupWindow: 01:00-02:00\n"
        "  crm-platform:cluster:\n    kubernetesVersion: 1.36\n    maxUnavailablePercentage: 1:30\n"
    )
    config = parse_stack_file("Pulumi.x.yaml", text.encode())
    assert config["crm-platform:database"] == {
        "multiAz": "yes",  # YAML 1.1 (PyYAML's default) would make it true
        "readReplicas": 2,
        "deletionProtection": True,
        "backupWindow": "01:00-02:00",
    }
    assert config["crm-platform:cluster"] == {
        "kubernetesVersion": 1.36,  # a number, which the settings refuse, asking for quotes
        "maxUnavailablePercentage": "1:30",  # YAML 1.1 would read 90 (base 60)
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n- b\n", "Pulumi.x.yaml: must be a mapping with a 'config:' section, not a list."),
        ("just text\n", "Pulumi.x.yaml: must be a mapping with a 'config:' section, not a "
         "single value ('just text')."),
        ("config:\n  - aws:region\n", "Pulumi.x.yaml: 'config' must be a mapping of keys to "
         "values, not a list."),
        (b"config:\n  crm-platform:owner: caf\xe9\n", "Pulumi.x.yaml: not UTF-8 text (byte "
         "0xe9 on line 2); save it as UTF-8."),
    ],
)  # fmt: skip
def test_malformed_files_give_one_message(text, message) -> None:
    assert refusal(text) == message


def test_broken_yaml_gives_one_message() -> None:
    message = refusal("config:\n  aws:region: [eu-central-1\n")
    assert message.startswith("Pulumi.x.yaml: not valid YAML (") and "\n" not in message


def write_stack(tmp_path, monkeypatch, name: str, content: bytes) -> None:
    for path in stackfile.ROOT.glob("Pulumi.*.yaml"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    (tmp_path / f"Pulumi.{name}.yaml").write_bytes(content)
    monkeypatch.setattr(stackfile, "ROOT", tmp_path)


@pytest.mark.parametrize(
    "content",
    [
        b"- config\n",
        b"42\n",
        b"config:\n  crm-platform:owner: caf\xe9\n",
        b"config:\n  aws:region: eu-central-1\n  aws:region: eu-west-1\n",
        b"config:\n  region: eu-central-1\n",
    ],
    ids=["list", "scalar", "not-utf8", "duplicate", "no-namespace"],
)
@pytest.mark.parametrize("command", ["plan", "policy-config"])
def test_cli_exits_2_with_one_message_on_a_malformed_file(
    tmp_path, monkeypatch, content, command
) -> None:
    write_stack(tmp_path, monkeypatch, "broken", content)
    result = CliRunner().invoke(app, [command, "broken"])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "error: invalid configuration of stack 'broken':"
    assert len(lines) == 2 and lines[1].startswith(("Pulumi.broken.yaml: ", "region")), lines


def test_quoted_versions_and_account_settings_are_read_as_written(tmp_path, monkeypatch) -> None:
    dev = (stackfile.ROOT / "Pulumi.dev.yaml").read_text()
    extra = (
        "  crm-platform:profile: dev\n"
        '  aws:profile: crm-dev\n  aws:allowedAccountIds: ["012345678901"]\n'
        '  crm-platform:cluster:\n    kubernetesVersion: "1.36"\n'
    )
    write_stack(tmp_path, monkeypatch, "dev2", (dev + extra).encode())
    settings = load_settings("dev2", stackfile.read_stack_config("dev2"))
    assert settings.cluster.kubernetes_version == "1.36"
    assert settings.aws.profile == "crm-dev"
    assert settings.aws.allowed_account_ids == ["012345678901"]
