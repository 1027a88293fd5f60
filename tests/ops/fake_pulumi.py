"""A recording stand-in for the `pulumi` CLI, installed as <root>/bin/pulumi by the tests.

It answers the commands pulumi.automation sends (version, stack select/output/history,
config get/set, refresh, preview, up), appends each argv to <root>/calls.jsonl and keeps
stacks, config and injected failures in <root>/state.json. It reports CLI 3.200.0: up to
3.205 the SDK reads engine events from the --event-log file, which a script can write
(newer CLIs stream them over gRPC). `up` acts like the program: it exports the stack's
outputs with crmVersion taken from the config key app.version."""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / "state.json"
VERSION = "3.200.0"
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


def write_events(args: list[str]) -> None:
    log = option(args, "--event-log")
    if log:
        with open(log, "a", encoding="utf-8") as events:
            events.write(json.dumps({"sequence": 1, "summaryEvent": {"resourceChanges": {}}}))
            events.write("\n" + json.dumps({"sequence": 2, "cancelEvent": {}}) + "\n")


def main(argv: list[str]) -> None:
    state = json.loads(STATE.read_text())
    args = [a for a in argv if a != "--non-interactive"]
    record = {"argv": args}
    config_file = option(args, "--policy-pack-config")
    if config_file:
        record["policy_config"] = json.loads(Path(config_file).read_text())
    with open(ROOT / "calls.jsonl", "a", encoding="utf-8") as log:
        log.write(json.dumps(record) + "\n")

    if args == ["version"]:
        print(f"v{VERSION}")
        return
    name = option(args, "--stack")
    stack = state["stacks"].get(name)
    if stack is None:
        fail(f"no stack named '{name}' found")
    verb = args[0] if args[0] not in ("stack", "config") else " ".join(args[:2])
    injected = state.get("fail", {}).get(verb)
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
        version = stack["config"].get("app.version")
        stack["outputs"] = {**stack["outputs"], "crmVersion": version}
        print(f"up: {name} ok")
    else:
        fail(f"fake pulumi does not support: {' '.join(args)}", code=2)
    STATE.write_text(json.dumps(state))


if __name__ == "__main__":
    main(sys.argv[1:])
