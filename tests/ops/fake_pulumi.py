"""A recording stand-in for the `pulumi` CLI, installed as <root>/bin/pulumi by the tests.

It answers the commands pulumi.automation sends (version, stack init/select/output/history,
config get/set, refresh, preview, up, destroy), appends each argv with the project of its
working directory to <root>/calls.jsonl and keeps stacks, config and injected failures in
<root>/state.json. Stacks are per project, as in a self-managed backend: `prod` of the
platform (crm-platform, the repository root) and `workloads/prod` of the workloads layer
(crm-platform-workloads, workloads/). It reports CLI 3.200.0: up to 3.205 the SDK reads
engine events from the --event-log file, which a script can write (newer CLIs stream them
over gRPC). `up` of a workloads stack acts like its program: it exports crmVersion from the
settings' one home, the platform stack's config key app.version (the root stack file)."""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / "state.json"
VERSION = "3.200.0"
PLATFORM = "crm-platform"
HISTORY = [
    {
        "kind": "update",
        "startTime": "2026-01-01T00:00:00.000Z",
        "endTime": "2026-01-01T00:01:00.000Z",
        "message": "",
        "environment": {},
        "config": {},
        "result": "succeeded",
    }
]


def option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def fail(message: str, code: int = 255) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)


def stack_label(name: str) -> str:
    """`prod` for the platform project in the working directory, `workloads/prod` else."""
    project = re.search(r"^name:\s*(\S+)", Path("Pulumi.yaml").read_text(), re.M).group(1)
    layer = project.removeprefix(PLATFORM).lstrip("-")
    return f"{layer}/{name}" if layer else name


def write_events(args: list[str]) -> None:
    log = option(args, "--event-log")
    if log:
        with open(log, "a", encoding="utf-8") as events:
            events.write(json.dumps({"sequence": 1, "summaryEvent": {"resourceChanges": {}}}))
            events.write("\n" + json.dumps({"sequence": 2, "cancelEvent": {}}) + "\n")


def main(argv: list[str]) -> None:
    state = json.loads(STATE.read_text())
    args = [a for a in argv if a != "--non-interactive"]
    name = option(args, "--stack") or (args[2] if args[:2] == ["stack", "init"] else None)
    label = stack_label(name) if name else None
    record = {"argv": args, "stack": label}
    config_file = option(args, "--policy-pack-config")
    if config_file:
        record["policy_config"] = json.loads(Path(config_file).read_text())
    with open(ROOT / "calls.jsonl", "a", encoding="utf-8") as log:
        log.write(json.dumps(record) + "\n")

    if args == ["version"]:
        print(f"v{VERSION}")
        return
    if args[:2] == ["stack", "init"]:
        if label in state["stacks"]:
            fail(f"stack '{name}' already exists")
        provider = option(args, "--secrets-provider")
        state["stacks"][label] = {"outputs": {}, "config": {}, "secretsProvider": provider}
        STATE.write_text(json.dumps(state))
        return
    stack = state["stacks"].get(label)
    if stack is None:
        fail(f"no stack named '{name}' found")
    verb = args[0] if args[0] not in ("stack", "config") else " ".join(args[:2])
    failures = state.get("fail", {})
    injected = failures.get(f"{verb} {label}") or failures.get(verb)
    if injected:
        if verb == "preview":
            write_events(args)
        print(injected.get("stdout", ""))
        fail(injected["stderr"])

    if verb == "stack select":
        return
    if verb == "stack output":
        print(json.dumps(stack["outputs"]))
    elif verb == "stack history":
        print(json.dumps(HISTORY))
    elif verb == "config get":
        key = args[args.index("--json") - 1]
        if key not in stack["config"]:
            fail(f"configuration key 'crm-platform:{key}' not found for stack '{name}'")
        print(json.dumps({"value": stack["config"][key], "secret": False}))
    elif verb == "config set":
        key = args[args.index("--path") + 1] if "--path" in args else args[2]
        stack["config"][key] = args[args.index("--") + 1]
    elif verb in ("refresh", "preview"):
        write_events(args)
        print(f"{verb}: {name} ok")
    elif verb == "up":
        if label != name:
            version = state["stacks"].get(name, {}).get("config", {}).get("app.version")
            stack["outputs"] = {**stack["outputs"], "crmVersion": version}
        print(f"up: {label} ok")
    elif verb == "destroy":
        stack["outputs"] = {}
        print(f"destroy: {label} ok")
    else:
        fail(f"fake pulumi does not support: {' '.join(args)}", code=2)
    STATE.write_text(json.dumps(state))


if __name__ == "__main__":
    main(sys.argv[1:])
