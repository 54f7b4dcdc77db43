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


# -- the wheelhouse, kept in the user's cache ---------------------------------------------------
WHEELS = ("boto3-1.44.8-py3-none-any.whl", "rpy2_rinterface-3.6.5.tar.gz")


@pytest.fixture
def fake_pip(monkeypatch, tmp_path):
    """pip download as a stand-in that writes two files into --dest; counts its runs."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    runs: list[Path] = []

    def run(command, step, env=None):
        destination = Path(command[command.index("--dest") + 1])
        runs.append(destination)
        for name in WHEELS:
            (destination / name).write_text(name)

    monkeypatch.setattr(image, "_run", run)
    return runs


def test_the_wheelhouse_is_downloaded_once_per_set_of_pins_then_copied(fake_pip, tmp_path):
    first = image.download_wheelhouse(tmp_path / "one" / "wheelhouse")
    second = image.download_wheelhouse(tmp_path / "two" / "wheelhouse")
    assert first == second == sorted(WHEELS)
    assert len(fake_pip) == 1 and fake_pip[0].parent == image.wheelhouse_cache()
    assert (tmp_path / "two" / "wheelhouse" / WHEELS[0]).read_text() == WHEELS[0]
    assert sorted(p.name for p in image.wheelhouse_cache().iterdir()) == [fake_pip[0].name[1:17]]


def test_a_cached_download_cut_short_is_downloaded_again(fake_pip, tmp_path):
    cut_short = image.wheelhouse_cache() / image._wheelhouse_key()
    cut_short.mkdir(parents=True)
    (cut_short / WHEELS[0]).write_text("half a wheel")
    assert image.download_wheelhouse(tmp_path / "wheelhouse") == sorted(WHEELS)
    assert len(fake_pip) == 1
    assert (tmp_path / "wheelhouse" / WHEELS[0]).read_text() == WHEELS[0]


def test_a_failed_download_leaves_nothing_in_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def failing(command, step, env=None):
        Path(command[command.index("--dest") + 1], WHEELS[0]).write_text("partial")
        raise image.ImageBuildError(f"{step} failed (exit 1):\nno route to the index")

    monkeypatch.setattr(image, "_run", failing)
    with pytest.raises(image.ImageBuildError, match="pip download"):
        image.download_wheelhouse(tmp_path / "wheelhouse")
    assert list(image.wheelhouse_cache().iterdir()) == []


def test_without_a_writable_cache_the_wheelhouse_goes_straight_to_the_build(fake_pip, tmp_path):
    (tmp_path / "cache").write_text("a file where the cache folder would be")
    target = tmp_path / "wheelhouse"
    assert image.download_wheelhouse(target) == sorted(WHEELS)
    assert fake_pip == [target]
