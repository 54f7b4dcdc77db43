"""The image in ECR: repository, push, and the checks Lambda makes of what it is given.

The image itself is built by :mod:`helpers.image`. Live mode pushes it to the account's ECR
repository under its content tag (an unchanged package is neither rebuilt nor pushed again) and
refuses a tag whose manifest is an image index: Lambda accepts a single-platform image manifest
only. The push goes to the registry GetAuthorizationToken names (its ``proxyEndpoint``): on AWS
the repository's own host; against a running mock account (live mode pointed at
``python -m helpers.mock``) the account's registry on ``localhost:<port>``. Either way the
function's ImageUri is the repository's URI and tag, as DescribeRepositories gives it. In mock
mode the engine that runs the functions is this machine's, so "pushing" is a ``docker tag`` to
the mock ECR repository's URI.

Workshops: an instructor can push the image once and give participants its URI in
``SERIES_IMAGE_URI``; then nobody else needs Docker.
"""

from __future__ import annotations

import base64
import os
import subprocess
from dataclasses import dataclass
from urllib.parse import urlparse

from helpers.image import ImageBuildError, build_image, content_tag
from helpers.mock.awslambda.container import engine_problem
from helpers.ownership import require_owned
from helpers.session import Account, refuse_unconfirmed_changes, tags_for

IMAGE_URI_VARIABLE = "SERIES_IMAGE_URI"
INDEX_MEDIA_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
MANIFEST_MEDIA_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
)


class ImageUnavailable(RuntimeError):
    """No image URI was given and Docker cannot build or push one here."""


class ImageIsAnIndex(RuntimeError):
    """The tag names a multi-platform image index, which Lambda refuses."""


@dataclass(frozen=True)
class ImagePlan:
    """Where the image goes and what it takes to get it there."""

    uri: str
    repository: str
    tag: str
    provided: bool  # True when SERIES_IMAGE_URI named a ready-made image


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


def ensure_repository(account: Account, repository: str) -> str:
    """The ECR repository (created, tagged and scanned on push, if missing); returns its URI."""
    ecr = account.client("ecr")
    try:
        found = ecr.describe_repositories(repositoryNames=[repository])["repositories"][0]
        require_owned(account, "ECR repository", repository)
        return found["repositoryUri"]
    except ecr.exceptions.RepositoryNotFoundException:
        created = ecr.create_repository(
            repositoryName=repository,
            imageScanningConfiguration={"scanOnPush": True},
            tags=[{"Key": key, "Value": value} for key, value in tags_for(account).items()],
        )
        return created["repository"]["repositoryUri"]


def manifest_media_type(account: Account, plan: ImagePlan) -> str | None:
    """The media type of the tag's manifest in ECR, or None when the tag is not there."""
    ecr = account.client("ecr")
    try:
        found = ecr.batch_get_image(
            repositoryName=plan.repository,
            imageIds=[{"imageTag": plan.tag}],
            acceptedMediaTypes=[*MANIFEST_MEDIA_TYPES, *INDEX_MEDIA_TYPES],
        )
    except ecr.exceptions.RepositoryNotFoundException:
        return None
    images = found.get("images") or []
    if not images:
        return None
    return images[0].get("imageManifestMediaType") or MANIFEST_MEDIA_TYPES[0]


def check_single_platform(plan: ImagePlan, media_type: str) -> None:
    """Lambda takes an image manifest, never an index: refuse before CreateFunction does."""
    if media_type in INDEX_MEDIA_TYPES:
        raise ImageIsAnIndex(
            f"{plan.uri} is an image index ({media_type}), and Lambda accepts a single-platform "
            "image manifest only. Rebuild it for one platform without attestations: `make image` "
            "does (or `docker buildx build --platform linux/amd64 --provenance=false "
            "--sbom=false`), then push it again."
        )


def ensure_image(account: Account) -> str:
    """The image URI the function runs, built and pushed (or tagged, in mock mode) if needed."""
    plan = image_plan(account)
    if plan.provided:
        media_type = manifest_media_type(account, plan)
        if media_type is not None:
            check_single_platform(plan, media_type)
        return plan.uri
    repository_uri = ensure_repository(account, plan.repository)
    if account.settings.is_mock:
        _docker(["tag", _built_image(plan), plan.uri])
        return plan.uri
    media_type = manifest_media_type(account, plan)
    if media_type is None:
        # `docker push` goes past the boto3 hook; it ends in ECR PutImage, so ask the same.
        refuse_unconfirmed_changes("ecr", "PutImage", {"repositoryName": plan.repository})
        local = _built_image(plan)
        pushed = f"{_docker_login(account)}/{plan.repository}:{plan.tag}"
        _docker(["tag", local, pushed])
        try:
            _docker(["push", pushed])
        finally:
            # The registry's name for the image is only needed for the push: against a mock
            # account it names a port that is gone once the account stops. The build's own tag
            # stays, so nothing is rebuilt.
            subprocess.run(["docker", "image", "rm", pushed], capture_output=True, check=False)
        media_type = manifest_media_type(account, plan) or MANIFEST_MEDIA_TYPES[0]
    check_single_platform(plan, media_type)
    return f"{repository_uri}:{plan.tag}"


def _built_image(plan: ImagePlan) -> str:
    problem = engine_problem()
    if problem:
        raise ImageUnavailable(
            f"The function's container image {plan.uri} is not there yet and it cannot be built "
            f"here: {problem} Either run the series where Docker runs, or build and push "
            f"lambda_package/Dockerfile elsewhere and set {IMAGE_URI_VARIABLE} to its URI before "
            "starting Jupyter."
        )
    try:
        return build_image(log=lambda line: None)
    except ImageBuildError as error:
        raise ImageUnavailable(str(error)) from error


def registry_host(proxy_endpoint: str) -> str:
    """``host[:port]`` of GetAuthorizationToken's proxyEndpoint (``https://...`` on AWS,
    ``http://localhost:<port>`` on a mock account): what ``docker login``/``push`` name."""
    host = urlparse(proxy_endpoint).netloc
    if not host:
        raise ImageUnavailable(
            f"ECR's GetAuthorizationToken gave proxyEndpoint {proxy_endpoint!r}, which names no "
            "registry host; check AWS_ENDPOINT_URL points at ECR (or a running mock account)."
        )
    return host


def _docker_login(account: Account) -> str:
    """Log the engine in to the account's registry; returns its host for the push."""
    token = account.client("ecr").get_authorization_token()["authorizationData"][0]
    user, password = base64.b64decode(token["authorizationToken"]).decode().split(":", 1)
    host = registry_host(token["proxyEndpoint"])
    done = subprocess.run(
        ["docker", "login", "--username", user, "--password-stdin", host],
        input=password,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise ImageUnavailable(f"`docker login {host}` failed:\n{tail}")
    return host


def _docker(arguments: list[str]) -> None:
    done = subprocess.run(["docker", *arguments], capture_output=True, text=True, check=False)
    if done.returncode:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise ImageUnavailable(f"`docker {arguments[0]}` failed:\n{tail}")
