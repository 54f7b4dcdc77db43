"""Shared by the live-mode tests: the prefix, and an image "pushed" to the mock ECR."""

from __future__ import annotations

import json

from helpers import registry

PREFIX = "alice"


def push_fake_image(
    account, media_type: str = "application/vnd.docker.distribution.manifest.v2+json"
) -> str:
    """Put the image this package would build into (mock) ECR, as a finished build would."""
    plan = registry.image_plan(account)
    registry.ensure_repository(account, plan.repository)
    manifest = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": {"digest": "sha256:" + "0" * 64},
        "layers": [],
    }
    account.client("ecr").put_image(
        repositoryName=plan.repository, imageManifest=json.dumps(manifest), imageTag=plan.tag
    )
    return plan.uri
