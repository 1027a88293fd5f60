"""Every program in examples/ synthesizes and builds what its README says."""

from __future__ import annotations

import runpy
from pathlib import Path

from stacks.offline import synthesize

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_network_only_reuses_the_network_component() -> None:
    program = EXAMPLES / "network-only" / "__main__.py"
    plan = synthesize(
        lambda: runpy.run_path(str(program)),
        stack="example",
        config={"aws:region": "eu-west-1", "crm-platform-example-network:azCount": "3"},
        project="crm-platform-example-network",
    )
    network = plan.one("crm-platform:network:Network")
    assert plan.one("aws:ec2/vpc:Vpc").get("cidrBlock") == "10.50.0.0/16"
    subnets = plan.of_type("aws:ec2/subnet:Subnet")
    assert {subnet.get("availabilityZone") for subnet in subnets} == {
        f"eu-west-1{zone}" for zone in "abc"
    }
    assert len(plan.of_type("aws:ec2/natGateway:NatGateway")) == 1
    key = plan.one("aws:kms/key:Key")
    log_group = next(r for r in plan.of_type("aws:cloudwatch/logGroup:LogGroup"))
    assert log_group.get("kmsKeyId").startswith("arn:aws:kms:eu-west-1:")
    assert key.urn in log_group.dependencies
    assert all(r.parent == network.urn for r in subnets)
    assert not [r for r in plan.resources if r.type.startswith("kubernetes:")]
    assert plan.outputs["vpcId"]


def test_license_changelog_and_version_agree() -> None:
    import tomllib

    import stacks

    root = EXAMPLES.parent
    version = tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]
    assert stacks.__version__ == version
    assert f"## {version} " in (root / "CHANGELOG.md").read_text()
    license_text = (root / "LICENSE").read_text()
    assert "Apache License" in license_text and "Version 2.0, January 2004" in license_text
    assert "END OF TERMS AND CONDITIONS" in license_text
