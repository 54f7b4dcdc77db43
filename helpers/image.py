"""The container image route (live mode): build ``lambda_package/`` with Docker, push it to ECR.

A Debian R cannot run from a zip on today's Amazon Linux 2023 runtimes (see notebook 6), so in a
live account the function is created with ``PackageType=Image``. The image is tagged with a hash
of what goes into it, so an unchanged package is neither rebuilt nor pushed again.

Workshops: an instructor can build and push the image once and give participants its URI in
``SERIES_IMAGE_URI``; then nobody else needs Docker.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass

from helpers.config import LAMBDA_PACKAGE_DIR
from helpers.session import Account

IMAGE_URI_VARIABLE = "SERIES_IMAGE_URI"
IMAGE_INPUTS = ("Dockerfile", "requirements.txt", "handler.py")


class ImageUnavailable(RuntimeError):
    """No image URI was given and Docker cannot build one here."""


@dataclass(frozen=True)
class ImagePlan:
    """Where the image goes and what it takes to get it there."""

    uri: str
    repository: str
    tag: str
    provided: bool  # True when SERIES_IMAGE_URI named a ready-made image


def content_tag() -> str:
    """A tag from the bytes of the image's inputs: same package, same tag."""
    digest = hashlib.sha256()
    for name in IMAGE_INPUTS:
        digest.update(name.encode() + b"\0" + (LAMBDA_PACKAGE_DIR / name).read_bytes())
    return digest.hexdigest()[:16]


def image_plan(account: Account) -> ImagePlan:
    """The image URI this account's function should run."""
    given = os.environ.get(IMAGE_URI_VARIABLE, "").strip()
    if given:
        repository = given.split("/", 1)[-1].split(":")[0].split("@")[0]
        tag = given.rsplit(":", 1)[-1] if ":" in given.split("/")[-1] else "latest"
        return ImagePlan(given, repository, tag, provided=True)
    tag = content_tag()
    registry = f"{account.account_id}.dkr.ecr.{account.region}.amazonaws.com"
    repository = account.names.ecr_repository
    return ImagePlan(f"{registry}/{repository}:{tag}", repository, tag, provided=False)


def docker_available() -> bool:
    """Is there a Docker engine to talk to (not only the client)?"""
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "info"], capture_output=True, text=True, check=False)
    return probe.returncode == 0


def ensure_repository(account: Account, repository: str) -> str:
    """The ECR repository (created, tagged and scanned on push, if missing); returns its URI."""
    from helpers.deploy import tags_for

    ecr = account.client("ecr")
    try:
        found = ecr.describe_repositories(repositoryNames=[repository])["repositories"][0]
        return found["repositoryUri"]
    except ecr.exceptions.RepositoryNotFoundException:
        created = ecr.create_repository(
            repositoryName=repository,
            imageScanningConfiguration={"scanOnPush": True},
            tags=[{"Key": key, "Value": value} for key, value in tags_for(account).items()],
        )
        return created["repository"]["repositoryUri"]


def image_exists(account: Account, plan: ImagePlan) -> bool:
    ecr = account.client("ecr")
    try:
        ecr.describe_images(repositoryName=plan.repository, imageIds=[{"imageTag": plan.tag}])
        return True
    except (ecr.exceptions.ImageNotFoundException, ecr.exceptions.RepositoryNotFoundException):
        return False


def ensure_image(account: Account) -> str:
    """The image URI, built and pushed first if ECR does not have this package's tag yet."""
    plan = image_plan(account)
    if plan.provided:
        return plan.uri
    ensure_repository(account, plan.repository)
    if image_exists(account, plan):
        return plan.uri
    if not docker_available():
        raise ImageUnavailable(
            "The function's container image is not in ECR yet and there is no Docker engine here "
            f"to build it. Either run the series once where Docker runs (it builds and pushes "
            f"{plan.uri}), or build lambda_package/Dockerfile elsewhere, push it, and set "
            f"{IMAGE_URI_VARIABLE} to its URI before starting Jupyter."
        )
    _docker_login(account, plan.uri.split("/")[0])
    _run(["docker", "build", "--platform", "linux/amd64", "-t", plan.uri, str(LAMBDA_PACKAGE_DIR)])
    _run(["docker", "push", plan.uri])
    return plan.uri


def _docker_login(account: Account, registry: str) -> None:
    token = account.client("ecr").get_authorization_token()["authorizationData"][0]
    user, password = base64.b64decode(token["authorizationToken"]).decode().split(":", 1)
    subprocess.run(
        ["docker", "login", "--username", user, "--password-stdin", registry],
        input=password,
        capture_output=True,
        text=True,
        check=True,
    )


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise ImageUnavailable(f"`{' '.join(command[:2])}` failed:\n{tail}")
