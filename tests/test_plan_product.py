"""The offline plan as a product: summary, JSON contract, diff, estimates and diagram.

Documents are built from the session's synthesized stacks (tests/conftest.py); CLI tests swap
the CLI's synthesis for those cached plans, so no test synthesizes a stack again.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

import stacks.cli
from stacks.cli import app
from stacks.offline.diagram import DRAWN, mermaid
from stacks.offline.diff import diff, render
from stacks.offline.document import SCHEMA_VERSION, build, dumps
from stacks.offline.estimates import monthly_cost, table
from stacks.offline.gate import check
from stacks.offline.render import WIDTH, details, summary
from stacks.policy_config import policy_config_for
from stacks.settings import load_settings
from stacks.stackfile import read_stack_config
from tests.conftest import shipped

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "schemas/plan.schema.json").read_text())
STACKS = ["dev", "staging", "prod"]
runner = CliRunner()
_documents: dict[str, dict[str, Any]] = {}


def document_of(stack: str) -> dict[str, Any]:
    """The plan document of a shipped stack (built once per test process)."""
    if stack not in _documents:
        settings = load_settings(stack, read_stack_config(stack))
        plan = shipped(stack)
        _documents[stack] = build(plan, settings, check(plan, policy_config_for(settings)))
    return copy.deepcopy(_documents[stack])


@pytest.fixture
def cached_synthesis(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI on the session's synthesized stacks, with an empty gate: these tests are about
    --diff and --diagram, whose exit codes must not depend on today's policy findings."""
    monkeypatch.setattr(
        stacks.cli, "synthesize_stack", lambda stack, config, settings: shipped(stack)
    )
    monkeypatch.setattr(stacks.cli, "check", lambda plan, policy_config: [])


def _walk(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [item for child in value.values() for item in _walk(child)]
    if isinstance(value, list):
        return [item for child in value for item in _walk(child)]
    return [value]


# --- summary -------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_summary_fits_one_screen(stack: str) -> None:
    lines = summary(document_of(stack)).splitlines()
    assert len(lines) <= 60
    assert max(len(line) for line in lines) <= WIDTH
    assert lines[0].startswith(f"crm-platform {stacks.__version__} · offline plan of stack {stack}")


@pytest.mark.parametrize("stack", STACKS)
def test_summary_ends_with_a_verdict_that_matches_the_document(stack: str) -> None:
    document = document_of(stack)
    text = summary(document)
    verdict = re.search(
        rf"^{stack}: (\d+) resources · gate (PASS|FAIL) \((\d+) mandatory, (\d+) advisory\) · "
        r"~(\d+) min to deploy · [~≥]\$[\d,]+/month$",
        text.split("\n\n")[-1].split("\n", 1)[1],
        re.MULTILINE,
    )
    assert verdict, text
    not_components = [r for r in document["resources"] if r["kind"] != "component"]
    assert int(verdict.group(1)) == len(not_components)
    assert verdict.group(2) == document["policies"]["verdict"]
    assert int(verdict.group(3)) == document["policies"]["mandatory"]
    assert int(verdict.group(4)) == len(document["policies"]["findings"]) - int(verdict.group(3))
    assert int(verdict.group(5)) == round(document["estimates"]["deployTime"]["seconds"] / 60)


@pytest.mark.parametrize("stack", STACKS)
def test_summary_counts_every_component_per_layer(stack: str) -> None:
    document = document_of(stack)
    text = summary(document)
    for component in (r for r in document["resources"] if r["kind"] == "component"):
        if component["component"] == component["name"]:  # outermost components only
            row = re.search(
                rf"^  {re.escape(component['name'])} \(.*?\)((?:\s+(?:\d+|-))+)$", text, re.M
            )
            members = [r for r in document["resources"] if r["component"] == component["name"]]
            counted = sum(int(cell) for cell in row.group(1).split() if cell != "-")
            assert counted == sum(1 for r in members if r["kind"] != "component")
    total = re.search(r"total: (\d+) resources in (\d+) components", text)
    assert int(total.group(1)) == sum(r["kind"] != "component" for r in document["resources"])


def test_summary_groups_findings_by_policy_with_their_resources() -> None:
    document = document_of("dev")
    text = summary(document)
    policies = {finding["policy"] for finding in document["policies"]["findings"]}
    assert len(policies) > 3
    for policy in policies:
        assert len(re.findall(rf"^  ADVISORY\s+\w+\s+{policy} \(", text, re.M)) == 1
        block = re.search(rf"{policy} \(\d+\): (.*?)(?=\n  \S|\n\n)", text, re.S).group(1)
        block = " ".join(block.split())
        findings = document["policies"]["findings"]
        affected = {f["resource"] for f in findings if f["policy"] == policy}
        # Every resource is named, or as many as fit in two lines and the rest counted.
        named = {resource for resource in affected if resource in block}
        more = re.search(r"… \+(\d+) more$", block)
        assert len(named) + (int(more.group(1)) if more else 0) == len(affected), block
        assert len(block) <= 2 * WIDTH


def test_summary_says_what_the_cost_leaves_out() -> None:
    text = summary(document_of("prod"))
    assert "not included: usage-based charges" in text
    assert "never guessed" in text


def test_details_lists_every_resource_as_a_tree() -> None:
    document = document_of("prod")
    tree = details(document)
    assert max(len(line) for line in tree.splitlines()) <= WIDTH
    for resource in document["resources"]:
        assert f" {resource['name']}" in tree
    protected = [line for line in tree.splitlines() if "[protected]" in line]
    assert len(protected) == sum(r["protect"] for r in document["resources"])
    assert "└─ workloads" in tree and "├─ platform" in tree


# --- JSON contract -------------------------------------------------------------------------


def test_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("stack", STACKS)
def test_document_validates_against_the_shipped_schema(stack: str) -> None:
    document = json.loads(dumps(document_of(stack)))
    jsonschema.validate(document, SCHEMA)
    assert document["schemaVersion"] == SCHEMA_VERSION


@pytest.mark.parametrize("stack", STACKS)
def test_counts_add_up_to_the_listed_entries(stack: str) -> None:
    document = document_of(stack)
    counts = document["counts"]
    assert counts["entries"] == len(document["resources"])
    for breakdown in ("byKind", "byLayer", "byType"):
        assert sum(counts[breakdown].values()) == counts["entries"]


def test_kinds_distinguish_components_custom_resources_and_providers() -> None:
    plan, document = shipped("prod"), document_of("prod")
    kinds = {r["urn"]: r["kind"] for r in document["resources"]}
    for resource in plan.resources:
        expected = "component" if not resource.custom else "custom"
        if resource.type.startswith("pulumi:providers:"):
            expected = "provider"
        assert kinds[resource.urn] == expected
    assert {"component", "custom", "provider"} <= set(kinds.values())


def test_whole_numbers_stay_ints_and_provider_inputs_are_objects() -> None:
    document = document_of("prod")
    engine_values = _walk([document["resources"], document["outputs"]])
    assert not [v for v in engine_values if isinstance(v, float) and v.is_integer()]
    provider = next(r for r in document["resources"] if r["type"] == "pulumi:providers:aws")
    assert provider["inputs"]["defaultTags"]["tags"]["environment"] == "prod"
    assert provider["inputs"]["skipCredentialsValidation"] is False
    kube = next(r for r in document["resources"] if r["type"] == "pulumi:providers:kubernetes")
    assert isinstance(kube["inputs"]["kubeconfig"], dict)
    nodes = next(r for r in document["resources"] if r["type"] == "aws:eks/nodeGroup:NodeGroup")
    assert isinstance(nodes["inputs"]["scalingConfig"]["minSize"], int)


def test_document_bytes_are_deterministic_across_syntheses() -> None:
    from tests.support import synth_stack

    settings = load_settings("dev", read_stack_config("dev"))
    again = synth_stack("dev")
    fresh = build(again, settings, check(again, policy_config_for(settings)))
    assert dumps(fresh) == dumps(document_of("dev"))


@pytest.mark.parametrize(
    ("args", "kind", "code"),
    [(["plan", "qa", "--json"], "invalid-config", 2)],
)
def test_errors_are_json_on_stdout_with_json(args: list[str], kind: str, code: int) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == code
    error = json.loads(result.stdout)
    jsonschema.validate(error, SCHEMA)
    assert error["error"]["kind"] == kind and error["error"]["exitCode"] == code
    assert "Pulumi.qa.yaml" in error["error"]["message"]


def test_bad_config_is_a_json_error_before_synthesis(tmp_path, monkeypatch) -> None:
    import stacks.stackfile as stackfile

    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  crm-platform:netwrk: {}\n")
    monkeypatch.setattr(stackfile, "ROOT", tmp_path)
    result = runner.invoke(app, ["plan", "dev", "--json"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == "invalid-config" and "netwrk" in error["message"]


# --- diff ----------------------------------------------------------------------------------


def _named(document: dict[str, Any], type_token: str, name: str | None = None) -> dict[str, Any]:
    return next(
        r for r in document["resources"] if r["type"] == type_token and name in (None, r["name"])
    )


def _changed_base() -> tuple[dict[str, Any], dict[str, Any]]:
    """prod as it is, and a base where its primary database was unencrypted (a change that
    forces replacement), its app node pool smaller, one resource new and one gone."""
    current, base = document_of("prod"), document_of("prod")
    primary = next(
        r
        for r in base["resources"]
        if r["type"] == "aws:rds/instance:Instance" and r["inputs"].get("multiAz")
    )
    primary["inputs"]["storageEncrypted"] = False
    nodes = _named(base, "aws:eks/nodeGroup:NodeGroup")
    nodes["inputs"]["scalingConfig"]["maxSize"] -= 1
    base["resources"] = [r for r in base["resources"] if r["type"] != "aws:route53/record:Record"]
    gone = copy.deepcopy(_named(base, "aws:s3/bucket:Bucket"))
    gone["urn"] += "-old"
    base["resources"].append(gone)
    return base, current


def test_diff_lists_added_removed_and_changed_with_paths() -> None:
    base, current = _changed_base()
    result = diff(base, current)
    records = [r["urn"] for r in current["resources"] if r["type"] == "aws:route53/record:Record"]
    assert [item["urn"] for item in result["added"]] == sorted(records)
    assert [item["urn"] for item in result["removed"]] == [base["resources"][-1]["urn"]]
    changes = {(c["urn"], ch["path"]): ch for c in result["changed"] for ch in c["changes"]}
    nodes = _named(current, "aws:eks/nodeGroup:NodeGroup")
    scaling = changes[(nodes["urn"], "scalingConfig.maxSize")]
    assert scaling["new"] - scaling["old"] == 1 and not scaling["forcesReplacement"]


def test_diff_flags_replacement_of_a_protected_stateful_resource_with_its_source() -> None:
    base, current = _changed_base()
    result = diff(base, current)
    replaced = [item for item in result["changed"] if item["replaces"]]
    assert len(replaced) == 1
    database = replaced[0]
    assert database["type"] == "aws:rds/instance:Instance"
    assert database["stateful"] and database["protect"]
    change = next(ch for ch in database["changes"] if ch["path"] == "storageEncrypted")
    assert (change["old"], change["new"]) == (False, True)
    assert change["source"] in table("replacement")["sources"]
    assert database["urn"] in result["dataAtRisk"]
    text = render(result, "main.json")
    assert "REPLACED" in text and "storageEncrypted: false → true  (forces replacement" in text
    assert "[protected, stateful]" in text


def test_diff_masks_secrets() -> None:
    base, current = document_of("prod"), document_of("prod")
    secret_holder = next(r for r in base["resources"] if "[secret]" in json.dumps(r["inputs"]))
    assert diff(base, current)["changed"] == []
    assert "[secret]" in json.dumps(secret_holder)


def test_replacement_paths_name_real_provider_inputs() -> None:
    """Every AWS input listed as forcing replacement exists on the resource's args class."""
    import importlib

    for type_token, rule in table("replacement")["types"].items():
        if not type_token.startswith("aws:"):
            continue
        module, name = type_token.split(":")[1].split("/")[0], type_token.split(":")[2]
        args = getattr(importlib.import_module(f"pulumi_aws.{module}"), f"{name}Args")
        for path in rule["paths"]:
            head = re.sub(r"(?<!^)(?=[A-Z])", "_", path.split(".")[0]).lower()
            assert hasattr(args, head), (type_token, path)


def test_cli_diff_fails_on_replace_only_when_asked(tmp_path, cached_synthesis) -> None:
    base, _ = _changed_base()
    base_file = tmp_path / "main.json"
    base_file.write_text(dumps(base))
    plain = runner.invoke(app, ["plan", "prod", "--diff", str(base_file)])
    assert plain.exit_code == 0, plain.output
    assert "Diff against main.json" in plain.stdout and "REPLACED" in plain.stdout
    strict = runner.invoke(app, ["plan", "prod", "--diff", str(base_file), "--fail-on-replace"])
    assert strict.exit_code == 1
    assert "stateful resource(s) would be replaced or deleted" in strict.stderr
    same = tmp_path / "same.json"
    same.write_text(dumps(document_of("prod")))
    unchanged = runner.invoke(
        app, ["plan", "prod", "--diff", str(same), "--fail-on-replace", "--json"]
    )
    assert unchanged.exit_code == 0
    jsonschema.validate(json.loads(unchanged.stdout), SCHEMA)


def test_cli_diff_rejects_a_base_that_is_not_a_plan(tmp_path, cached_synthesis) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schemaVersion": "9.0"}))
    result = runner.invoke(app, ["plan", "prod", "--diff", str(bad), "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["kind"] == "invalid-base"


# --- estimates -----------------------------------------------------------------------------


def _waits_for(document: dict[str, Any], later: str, earlier: str) -> bool:
    """`later` depends on `earlier`, directly or through a component holding it."""
    by_urn = {r["urn"]: r for r in document["resources"]}
    seen, stack = set(), list(by_urn[later]["dependencies"])
    while stack:
        urn = stack.pop()
        if urn == earlier:
            return True
        if urn in seen or urn not in by_urn:
            continue
        seen.add(urn)
        if by_urn[urn]["kind"] == "component":
            stack += [r["urn"] for r in document["resources"] if r["parent"] == urn]
    return False


@pytest.mark.parametrize("stack", STACKS)
def test_deploy_time_is_a_dependency_chain_of_sourced_durations(stack: str) -> None:
    document = document_of(stack)
    deploy = document["estimates"]["deployTime"]
    durations = table("durations")
    by_name = {(r["type"], r["name"]): r["urn"] for r in document["resources"]}
    total = 0
    for name, layer in deploy["layers"].items():
        path = layer["criticalPath"]
        steps = [by_name[(step["type"], step["name"])] for step in path]
        for earlier, later in itertools.pairwise(steps):
            assert _waits_for(document, later, earlier), (earlier, later)
        assert layer["seconds"] == layer["startup"]["seconds"] + sum(s["seconds"] for s in path)
        assert layer["startup"]["seconds"] == durations["layers"][name]["seconds"]
        for step in path:
            assert step.get("source") in (None, *durations["sources"])
        total += layer["seconds"]
    assert deploy["seconds"] == total and set(deploy["layers"]) == {"platform", "workloads"}


def test_monthly_cost_prices_only_what_the_table_sources(monkeypatch) -> None:
    plan = shipped("prod")
    cost = monthly_cost(plan, "eu-central-1")
    prices = table("prices")
    for line in cost["priced"]:
        assert line["source"] in prices["sources"] and line["sku"] in prices["prices"]
    assert all(line["sku"] not in prices["prices"] for line in cost["unknown"])
    keys = len(plan.of_type("aws:kms/key:Key"))
    assert sum(line["quantity"] for line in cost["priced"] if line["sku"] == "kms:key") == keys
    sku = cost["unknown"][0]["sku"]
    quantity = sum(line["quantity"] for line in cost["unknown"] if line["sku"] == sku)
    patched = copy.deepcopy(prices)
    patched["prices"][sku] = {"usdPerHour": 1.0, "regions": "*", "source": "kms-pricing"}
    monkeypatch.setattr(
        "stacks.offline.estimates.table", lambda name: patched if name == "prices" else table(name)
    )
    repriced = monthly_cost(plan, "eu-central-1")
    added = repriced["knownUsdPerMonth"] - cost["knownUsdPerMonth"]
    assert added == pytest.approx(quantity * prices["hoursPerMonth"])


def test_a_price_for_another_region_is_unknown_here(monkeypatch) -> None:
    patched = copy.deepcopy(table("prices"))
    patched["prices"]["kms:key"]["regions"] = "us-east-1"
    monkeypatch.setattr(
        "stacks.offline.estimates.table", lambda name: patched if name == "prices" else table(name)
    )
    cost = monthly_cost(shipped("prod"), "eu-central-1")
    assert "kms:key" in {line["sku"] for line in cost["unknown"]}


# --- diagram -------------------------------------------------------------------------------


def test_diagram_groups_by_layer_and_zone() -> None:
    document = document_of("prod")
    text = mermaid(document)
    declared = set(re.findall(r"^\s+(n\d+)\[", text, re.M))
    drawn = [r for r in document["resources"] if r["type"] in DRAWN]
    assert len(declared) == len(drawn)
    for source, target in re.findall(r"^\s+(n\d+) --> (n\d+)$", text, re.M):
        assert {source, target} <= declared
    assert "subgraph platform[platform layer]" in text and "subgraph workloads[" in text
    zones = {
        r["inputs"]["availabilityZone"]
        for r in document["resources"]
        if r["type"] == "aws:ec2/subnet:Subnet"
    }
    zoned = {zone for zone in zones if f"[{zone}]" in text}
    assert len(zoned) >= 2


def test_cli_writes_the_diagram(tmp_path, cached_synthesis) -> None:
    target = tmp_path / "prod.mmd"
    result = runner.invoke(app, ["plan", "prod", "--diagram", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text().startswith("flowchart LR")
    svg = target.with_suffix(".svg")
    if shutil.which("dot"):
        assert svg.read_text().lstrip().startswith(("<?xml", "<svg"))
    else:
        assert not svg.exists()


def test_readme_shows_the_summary_and_links_the_schema() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "(schemas/plan.schema.json)" in readme
    block = re.search(r"```text\n(crm-platform .*?)```", readme, re.S).group(1)
    verdict = r"^prod: \d+ resources · gate (PASS|FAIL) .* min to deploy · [~≥]\$"
    assert re.search(verdict, block, re.M)
    assert max(len(line) for line in block.splitlines()) <= WIDTH
