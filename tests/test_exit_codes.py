"""Exit codes as documented from a real process: a reader that leaves early (`| head -1`)
changes nothing, `make` reports the command's own code, and `matrix` refuses a bad order."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stacks.cli import app
from stacks.stackfile import stack_names

ROOT = Path(__file__).resolve().parent.parent


def test_a_closed_pipe_is_quiet_and_keeps_the_exit_code() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte: every write hits EPIPE
    try:
        done = subprocess.run(
            [sys.executable, "-m", "stacks", "policy-config", "dev"],
            cwd=ROOT,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (0, "")


@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_make_plan_of_an_unknown_stack_reports_exit_code_2() -> None:
    done = subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.runtime", "plan", "STACK=nosuch"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "no file Pulumi.nosuch.yaml" in done.stderr
    assert "Traceback" not in done.stderr


def test_matrix_lists_every_stack_file_in_promotion_order() -> None:
    result = CliRunner().invoke(app, ["matrix"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert sorted(entry["stack"] for entry in document["matrix"]["include"]) == stack_names()
    ranks = {"dev": 0, "staging": 1, "prod": 2}
    profiles = {entry["stack"]: entry["profile"] for entry in document["matrix"]["include"]}
    order = [ranks[profiles[stack]] for stack in document["promotion"]]
    assert order == sorted(order) and sorted(document["promotion"]) == stack_names()


@pytest.mark.parametrize("order", ["dev,qa", "dev,dev"])
def test_matrix_refuses_an_order_naming_unknown_or_repeated_stacks(order: str) -> None:
    result = CliRunner().invoke(app, ["matrix", "--promotion", order])
    assert result.exit_code == 2
    assert f"--promotion '{order}': must name each stack at most once" in result.stderr


def test_matrix_keeps_a_configured_order() -> None:
    result = CliRunner().invoke(app, ["matrix", "--promotion", "staging,prod"])
    assert json.loads(result.stdout)["promotion"] == ["staging", "prod"]
