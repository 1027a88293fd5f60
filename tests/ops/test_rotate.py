"""`rotate-db-password STACK` through the Automation API against the recording Pulumi
stand-in: the rotation counter moves by one, nothing is deployed, bad input is one message."""

from __future__ import annotations

from components.database import crm_login
from ops.rotate import ROTATION_KEY, login
from tests.ops.helpers import FakePulumi, assert_clean_failure, flat, pulumi_args


def test_first_rotation_moves_to_the_second_login(cli, fake_pulumi: FakePulumi) -> None:
    fake_pulumi.add_stack("prod", {}, {"app.version": "v1.2.3"})
    result = cli("rotate-db-password", "prod", *pulumi_args(fake_pulumi))
    assert result.exit_code == 0, result.output
    assert fake_pulumi.state["stacks"]["prod"]["config"][ROTATION_KEY] == "1"
    assert "twenty_login_a to twenty_login_b" in flat(result.output)
    # a configuration change only: the deploy (platform, then workloads) carries it out
    assert not {"up prod", "preview prod", "refresh prod"} & set(fake_pulumi.verbs())


def test_each_rotation_alternates(cli, fake_pulumi: FakePulumi) -> None:
    fake_pulumi.add_stack("dev", {}, {ROTATION_KEY: "6"})
    result = cli("rotate-db-password", "dev", *pulumi_args(fake_pulumi))
    assert result.exit_code == 0, result.output
    assert fake_pulumi.state["stacks"]["dev"]["config"][ROTATION_KEY] == "7"
    assert "twenty_login_a to twenty_login_b" in flat(result.output)


def test_the_command_and_the_stack_agree_on_the_login() -> None:
    assert [login(n) for n in range(4)] == [crm_login("twenty", n) for n in range(4)]


def test_unknown_stack_and_bad_counter_are_clean_failures(cli, fake_pulumi: FakePulumi) -> None:
    assert_clean_failure(cli("rotate-db-password", "nope", *pulumi_args(fake_pulumi)), 2, "nope")
    fake_pulumi.add_stack("dev", {}, {ROTATION_KEY: "many"})
    assert_clean_failure(
        cli("rotate-db-password", "dev", *pulumi_args(fake_pulumi)),
        2,
        "crm-platform:database.crmLoginRotation of stack dev is 'many'",
    )
    assert fake_pulumi.state["stacks"]["dev"]["config"][ROTATION_KEY] == "many"
