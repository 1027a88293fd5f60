"""Resolve the digest of a stack's Twenty image and record it beside the tag.

CI runs this when it sets a version on a stack (promotion): the registry is asked which
manifest `image:version` names now, and `crm-platform:app.imageDigest` becomes
`<version>@sha256:…`, so every later deploy pulls exactly what was tested, and a digest left
behind by an older version is refused by the settings instead of pulling the old image.

    python scripts/resolve_image_digest.py STACK            # print the value
    python scripts/resolve_image_digest.py STACK --write    # also `pulumi config set` it

Registries: any OCI distribution registry with anonymous pull (Docker Hub, GHCR, …) through
its token challenge, and Amazon ECR through the AWS API (the caller's credentials).
Exit codes: 0 recorded/printed, 1 the registry or pulumi failed, 2 invalid usage or stack.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DOCKER_HUB = "registry-1.docker.io"
MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
ECR_HOST = re.compile(r"^\d{12}\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")
CONFIG_KEY = "crm-platform:app.imageDigest"
TIMEOUT_SECONDS = 30


class ResolveError(Exception):
    """The registry did not name a digest."""


def split_image(image: str) -> tuple[str, str]:
    """`twentycrm/twenty` → (registry-1.docker.io, twentycrm/twenty); `host/x/y` keeps its
    host (a first part with a dot or a port is a registry, as Docker reads it)."""
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return DOCKER_HUB, image if rest else f"library/{image}"


def _challenge(header: str) -> dict[str, str]:
    """`Bearer realm="…",service="…",scope="…"` → its parameters."""
    return dict(re.findall(r'(\w+)="([^"]*)"', header))


def _anonymous_token(challenge: dict[str, str]) -> str:
    query = urllib.parse.urlencode({k: v for k, v in challenge.items() if k != "realm"})
    with urllib.request.urlopen(f"{challenge['realm']}?{query}", timeout=TIMEOUT_SECONDS) as r:
        body = json.load(r)
    return body.get("token") or body["access_token"]


def registry_digest(host: str, repository: str, tag: str, scheme: str = "https") -> str:
    """HEAD the tag's manifest (index first: the multi-architecture digest) and read
    `Docker-Content-Digest`, answering a bearer challenge anonymously once."""
    url = f"{scheme}://{host}/v2/{repository}/manifests/{tag}"
    headers = {"Accept": MANIFEST_TYPES}
    for _ in range(2):
        request = urllib.request.Request(url, method="HEAD", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                digest = response.headers.get("Docker-Content-Digest", "")
                if not DIGEST.match(digest):
                    raise ResolveError(f"{url} answered no sha256 digest ({digest!r})")
                return digest
        except urllib.error.HTTPError as error:
            challenge = error.headers.get("WWW-Authenticate", "")
            if (
                error.code != 401
                or not challenge.startswith("Bearer")
                or "Authorization" in headers
            ):
                raise ResolveError(f"{url} answered HTTP {error.code}") from error
            headers["Authorization"] = f"Bearer {_anonymous_token(_challenge(challenge))}"
    raise ResolveError(f"{url} refused the anonymous token")


def ecr_digest(host: str, repository: str, tag: str) -> str:
    import boto3

    region = ECR_HOST.match(host).group(1)
    client = boto3.client("ecr", region_name=region)
    try:
        found = client.describe_images(
            registryId=host.split(".", 1)[0],
            repositoryName=repository,
            imageIds=[{"imageTag": tag}],
        )["imageDetails"]
    except client.exceptions.ClientError as error:
        raise ResolveError(f"ECR {repository}:{tag}: {error}") from error
    return found[0]["imageDigest"]


def resolve(image: str, tag: str) -> str:
    host, repository = split_image(image)
    if ECR_HOST.match(host):
        return ecr_digest(host, repository, tag)
    return registry_digest(host, repository, tag)


def record(stack: str, value: str) -> None:
    """Write the value into the stack's config the way the CLI does (keeps the file's style)."""
    command = ["pulumi", "config", "set", "--path", CONFIG_KEY, value, "--stack", stack]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise ResolveError(f"`{' '.join(command)}` failed: {completed.stderr.strip()}")


def main(argv: list[str]) -> int:
    from stacks.settings import SettingsError, load_settings
    from stacks.stackfile import read_stack_config, stack_names

    arguments = [a for a in argv if a != "--write"]
    if len(arguments) != 1 or arguments[0] not in stack_names():
        print(f"usage: resolve_image_digest.py STACK [--write]; STACK is one of "
              f"{', '.join(stack_names())}", file=sys.stderr)  # fmt: skip
        return 2
    stack = arguments[0]
    config = read_stack_config(stack)
    # The digest being replaced may belong to an older version: judge everything else.
    app_config = json.loads(config.get("crm-platform:app", "{}"))
    app_config.pop("imageDigest", None)
    config["crm-platform:app"] = json.dumps(app_config)
    try:
        app = load_settings(stack, config).app
    except SettingsError as error:
        print("\n".join(error.messages), file=sys.stderr)
        return 2
    try:
        value = f"{app.version}@{resolve(app.image, app.version)}"
        if "--write" in argv:
            record(stack, value)
    except (ResolveError, OSError) as error:
        print(f"{app.image}:{app.version}: {error}", file=sys.stderr)
        return 1
    print(value)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
