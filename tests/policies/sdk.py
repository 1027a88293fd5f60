"""What the installed provider SDKs declare: resource type tokens and their input names.

Read from the SDK sources (no import of pulumi_aws, which is slow), so tests can check that the
pack and its fixtures only use tokens and property names that exist.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from pathlib import Path

TOKEN = re.compile(r'@pulumi\.type_token\("([^"]+)"\)\s*\nclass (\w+)\(pulumi\.(?:Custom|Provider)')
GETTER = re.compile(
    r'@pulumi\.getter(?:\(name="(\w+)"\))?\n(?:[ \t]+@.*\n)*[ \t]+def (\w+)\(self\)'
)


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations)))


def _module_dir(token: str) -> Path:
    package, module, name = token.split(":")
    if package == "pulumi":  # pulumi:providers:<package>
        return _package_dir(f"pulumi_{name}")
    if package == "random":
        return _package_dir("pulumi_random")
    if package == "aws":
        name = module.split("/")[0]
        name = "lambda_" if name == "lambda" else name
        return _package_dir("pulumi_aws") / ("" if name == "index" else name)
    group, version = module.split("/")
    return _package_dir("pulumi_kubernetes") / group.split(".")[0] / version


@functools.cache
def _tokens_in(directory: Path) -> dict[str, tuple[Path, str]]:
    found = {}
    for path in directory.glob("*.py"):
        for match in TOKEN.finditer(path.read_text()):
            found[match.group(1)] = (path, match.group(2))
    return found


def resource_class(token: str) -> tuple[Path, str] | None:
    """(source file, class name) of a resource type token, or None if the SDK has no such type."""
    return _tokens_in(_module_dir(token)).get(token)


def is_custom_resource(token: str) -> bool:
    """A Kubernetes type of an API group the SDK does not ship (a CRD, e.g. elbv2.k8s.aws)."""
    return token.startswith("kubernetes:") and not _module_dir(token).parent.is_dir()


# What pulumi_kubernetes.apiextensions.CustomResource takes (other keys, such as spec, are
# passed through to the object).
CUSTOM_RESOURCE_INPUTS = frozenset({"apiVersion", "kind", "metadata", "spec"})


@functools.cache
def input_names(token: str) -> frozenset[str]:
    """The engine (camelCase) names of a resource type's inputs."""
    if is_custom_resource(token):
        return CUSTOM_RESOURCE_INPUTS
    found = resource_class(token)
    assert found, f"unknown resource type {token}"
    path, name = found
    text = path.read_text()
    end = r"(?=\n@pulumi\.input_type|\n@pulumi\.type_token|\nclass )"
    match = re.search(rf"\nclass {name}(?:Init)?Args\b.*?{end}", text, re.S)
    assert match, f"no args class for {token}"
    return frozenset(m.group(1) or m.group(2) for m in GETTER.finditer(match.group(0)))


def is_region_aware(token: str) -> bool:
    return "region" in input_names(token)


def aws_module_tokens(module: str) -> list[str]:
    return sorted(_tokens_in(_package_dir("pulumi_aws") / module))
