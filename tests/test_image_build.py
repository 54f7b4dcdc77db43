"""How the image is built: flags Lambda needs, the offline route's inputs, a tag per content."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import image


@pytest.mark.parametrize("buildx", [True, False])
def test_the_build_is_single_platform_without_attestations_and_offline(monkeypatch, buildx):
    monkeypatch.setattr(image, "_buildx_available", lambda: buildx)
    settings = image.BuildSettings(base_image="serverless-poc-base:bookworm-abc", offline=True)
    command = image.build_command(settings, "serverless-poc-admission:tag", Path("ctx"))
    joined = " ".join(command)
    assert "--platform linux/amd64" in joined and "--network none" in joined
    assert "BASE_IMAGE=serverless-poc-base:bookworm-abc" in joined and "PIP_OFFLINE=1" in joined
    if buildx:
        assert {"--provenance=false", "--sbom=false", "--load"} <= set(command)
    else:
        assert command[:2] == ["docker", "build"]


def test_the_registry_route_uses_the_host_network_and_the_index(monkeypatch):
    monkeypatch.setattr(image, "_buildx_available", lambda: False)
    monkeypatch.setenv(image.BASE_VARIABLE, "debian:bookworm-slim")
    settings = image.build_settings()
    assert settings == image.BuildSettings(base_image="debian:bookworm-slim", offline=False)
    command = image.build_command(settings, "x:y", Path("ctx"))
    assert "--network host" in " ".join(command) and "PIP_OFFLINE=1" not in command


def test_the_offline_base_holds_what_the_dockerfile_installs(monkeypatch):
    monkeypatch.delenv(image.BASE_VARIABLE, raising=False)
    assert {"python3", "python3-venv", "r-base-core", "make"} <= set(image.os_packages())
    assert image.build_settings().offline
    assert image.offline_base_reference().startswith("serverless-poc-base:bookworm-")


def test_the_mirror_comes_from_apt_or_the_variable(monkeypatch):
    monkeypatch.setenv(image.MIRROR_VARIABLE, "http://mirror.example/debian")
    assert image.debian_mirror() == "http://mirror.example/debian"
    monkeypatch.delenv(image.MIRROR_VARIABLE)
    assert image.debian_mirror().endswith("/debian")


def test_the_image_pins_agree_with_the_project_lock():
    from helpers.config import LAMBDA_PACKAGE_DIR, PROJECT_ROOT
    from helpers.packaging import requirement_pins

    image_pins = requirement_pins(LAMBDA_PACKAGE_DIR / "requirements.txt")
    lock = requirement_pins(PROJECT_ROOT / "requirements.lock")
    assert {"rpy2", "rpy2-rinterface", "boto3", "botocore", "awslambdaric", "cffi"} <= set(
        image_pins
    )
    assert {name: pin for name, pin in image_pins.items() if lock.get(name) != pin} == {}
