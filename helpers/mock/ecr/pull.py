"""Images the mock's Lambda runs from the account's ECR: pulled from its registry into the engine.

A function's ImageUri names the repository (``<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>``
or ``@sha256:...``). When the local engine has no image of that name (it was pushed, not built
here), the manifest is looked up in the account's ECR and the image pulled by digest from the
account's registry, ``localhost:<port>/<repo>@<digest>``. The pull signs in with a short-lived
token of the account root, written to a Docker config in the account's private work directory:
never the caller's credentials, and nothing in the user's own ``~/.docker``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess

from ..engine import docker
from ..identity import ROOT_ACCESS_KEY_ID
from .errors import RegistryError
from .moto_patches import active_registry
from .service import RegistryService

PULL_TOKEN_LIFETIME_S = 900
PULL_TIMEOUT_S = 900
_ECR_HOST = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com$")


class RegistryPullFailed(RuntimeError):
    """The image is in the account's ECR, but the engine could not pull it from the registry."""


def split_uri(uri: str) -> tuple[str, str, str] | None:
    """(host, repository, tag or digest) of ``host/repo:tag`` or ``host/repo@sha256:...``."""
    host, slash, rest = uri.partition("/")
    if not slash or not rest:
        return None
    if "@" in rest:
        repository, _, reference = rest.partition("@")
    else:
        repository, colon, reference = rest.rpartition(":")
        if not colon or "/" in reference:
            repository, reference = rest, "latest"
    return (host, repository, reference) if repository and reference else None


def _in_this_account(host: str, registry: RegistryService) -> bool:
    if host == registry.host:
        return True
    match = _ECR_HOST.match(host)
    return bool(
        match
        and match.group("account") == registry.account_id
        and match.group("region") == registry.region
    )


def registry_image(uri: str) -> str | None:
    """The local reference of ``uri``'s image, pulled from the account's registry if needed;
    None when ``uri`` is not an image in the running account's ECR."""
    registry = active_registry()
    parts = split_uri(uri)
    if registry is None or parts is None or not _in_this_account(parts[0], registry):
        return None
    _, repository, reference = parts
    try:
        digest = registry.store.manifest(repository, reference).digest
    except RegistryError:
        return None
    local = f"{registry.host}/{repository}@{digest}"
    config_dir = registry.work_dir / "docker-config"
    config_dir.mkdir(mode=0o700, exist_ok=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env["DOCKER_CONFIG"] = str(config_dir)
    if docker(["image", "inspect", local], env=env).returncode == 0:
        return local
    password, _ = registry.mint.mint(ROOT_ACCESS_KEY_ID, PULL_TOKEN_LIFETIME_S)
    auth = base64.b64encode(f"AWS:{password}".encode()).decode()
    config = config_dir / "config.json"
    config.touch(mode=0o600)
    config.write_text(json.dumps({"auths": {registry.host: {"auth": auth}}}))
    try:
        done = docker(["pull", "--quiet", local], PULL_TIMEOUT_S, env=env)
    except subprocess.TimeoutExpired:
        raise RegistryPullFailed(
            f"Pulling {uri} from the mock account's registry took more than {PULL_TIMEOUT_S} s."
        ) from None
    if done.returncode:
        detail = (done.stderr.strip().splitlines() or ["no detail"])[-1]
        raise RegistryPullFailed(
            f"{uri} is in the mock account's ECR, but the Docker engine could not pull it from "
            f"the account's registry ({registry.url}): {detail}"
        )
    return local
