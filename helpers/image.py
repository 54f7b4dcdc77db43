"""The function's container image: one artefact, built here, run by the mock account, deployed live.

``lambda_package/Dockerfile`` builds as written wherever Docker Hub is reachable. ``make image``
(``python -m helpers.image``) builds it without any container registry, the route an air-gapped
workshop can use too:

1. **Base from Debian packages.** ``mmdebstrap`` makes a Debian bookworm root file system with
   the OS packages the Dockerfile installs (read from the Dockerfile itself), and ``docker
   import`` turns it into a local base image. The Debian mirror is the one apt on this machine
   already uses (or ``DEBIAN_MIRROR``); nothing about it is stored in the repository.
2. **Python packages from a wheelhouse.** The host's pip (with whatever index it is configured
   for) downloads every pinned package for the image's Python and platform into a wheelhouse,
   beside the Dockerfile in a staged build context. The wheelhouse is kept in the user's cache
   (``~/.cache/serverless-poc/wheelhouse``, by a hash of the pins), so a rebuild needs no
   network and Docker's layer cache sees the same files.
3. **A build without network.** ``docker build --network none`` with ``BASE_IMAGE`` and
   ``PIP_OFFLINE=1``: single platform (``linux/amd64``), no attestations (Lambda rejects an
   OCI image index).

The tag is a hash of the image's inputs *and* the build settings (base, platform, route), so an
unchanged package is never rebuilt. ``SERIES_IMAGE_BASE=debian:bookworm-slim`` takes the
registry route instead (the Dockerfile's own apt and pip steps, ``--network host``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from helpers.config import BUILD_DIR, LAMBDA_PACKAGE_DIR
from helpers.mock.awslambda.container import engine_problem

IMAGE_INPUTS = ("Dockerfile", "requirements.txt", "build-requirements.txt", "handler.py")
LOCAL_REPOSITORY = "serverless-poc-admission"
PLATFORM = "linux/amd64"
DEBIAN_SUITE = "bookworm"
IMAGE_PYTHON = "3.11"
"""The Python of Debian bookworm's python3: the wheelhouse is downloaded for it."""
WHEEL_PLATFORMS = ("manylinux_2_36_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")
BASE_VARIABLE = "SERIES_IMAGE_BASE"
MIRROR_VARIABLE = "DEBIAN_MIRROR"
DEFAULT_MIRROR = "http://deb.debian.org/debian"


class ImageBuildError(RuntimeError):
    """The image could not be built; the message says which step failed and what to do."""


@dataclass(frozen=True)
class BuildSettings:
    """How the image is built; part of its tag, since the same inputs built otherwise differ."""

    base_image: str
    offline: bool
    platform: str = PLATFORM

    def as_dict(self) -> dict[str, object]:
        return {"base_image": self.base_image, "offline": self.offline, "platform": self.platform}


def os_packages() -> list[str]:
    """The OS packages the Dockerfile installs (its ``apt-get install`` line)."""
    from helpers.packaging import dockerfile_summary

    return dockerfile_summary(LAMBDA_PACKAGE_DIR / "Dockerfile")["apt_packages"]


def offline_base_reference() -> str:
    """The local base image's name: Debian suite plus a hash of its package list."""
    digest = hashlib.sha256(" ".join(sorted(os_packages())).encode()).hexdigest()[:12]
    return f"serverless-poc-base:{DEBIAN_SUITE}-{digest}"


def build_settings() -> BuildSettings:
    """The registry route if ``SERIES_IMAGE_BASE`` names a base, else the offline route."""
    given = os.environ.get(BASE_VARIABLE, "").strip()
    if given:
        return BuildSettings(base_image=given, offline=False)
    return BuildSettings(base_image=offline_base_reference(), offline=True)


def content_tag(settings: BuildSettings | None = None) -> str:
    """A tag from the bytes of the image's inputs and the build settings: same inputs, same tag."""
    settings = settings or build_settings()
    digest = hashlib.sha256(json.dumps(settings.as_dict(), sort_keys=True).encode())
    for name in IMAGE_INPUTS:
        digest.update(name.encode() + b"\0" + (LAMBDA_PACKAGE_DIR / name).read_bytes())
    return digest.hexdigest()[:16]


def local_reference(settings: BuildSettings | None = None) -> str:
    """The image's name in the local engine, e.g. ``serverless-poc-admission:0123abcd…``."""
    return f"{LOCAL_REPOSITORY}:{content_tag(settings)}"


def image_present(reference: str) -> bool:
    return _docker(["image", "inspect", reference], check=False).returncode == 0


def require_engine() -> None:
    problem = engine_problem()
    if problem:
        raise ImageBuildError(problem)


# -- the offline route -----------------------------------------------------------------------------
def debian_mirror() -> str:
    """``DEBIAN_MIRROR``, else the Debian mirror this machine's apt uses, else deb.debian.org."""
    given = os.environ.get(MIRROR_VARIABLE, "").strip()
    if given:
        return given
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in sources:
        try:
            text = path.read_text()
        except OSError:
            continue
        for match in re.finditer(r"(?:^deb\s+(?:\[[^\]]*\]\s+)?|^URIs:\s*)(\S+)", text, re.M):
            uri = match.group(1).rstrip("/")
            if uri.endswith("/debian"):
                return uri
    return DEFAULT_MIRROR


def ensure_base(settings: BuildSettings, log=print) -> None:
    """The offline route's base image, made from Debian packages when missing (about 40 s)."""
    if not settings.offline or image_present(settings.base_image):
        return
    if shutil.which("mmdebstrap") is None:
        raise ImageBuildError(
            "Building the base image from Debian packages needs mmdebstrap, which is not "
            "installed. Install it (`apt-get install mmdebstrap`, which `make engine` does), or "
            f"set {BASE_VARIABLE}=debian:bookworm-slim where Docker Hub is reachable."
        )
    mirror = debian_mirror()
    log(f"[image] base {settings.base_image}: Debian {DEBIAN_SUITE} + {' '.join(os_packages())}")
    tarball = BUILD_DIR / "image" / "base.tar"
    tarball.parent.mkdir(parents=True, exist_ok=True)
    excludes = [f"--dpkgopt=path-exclude=/usr/share/{d}/*" for d in ("man", "info", "doc")]
    _run(
        [
            "mmdebstrap",
            "--variant=minbase",
            f"--include={','.join(os_packages())}",
            *excludes,
            "--dpkgopt=path-include=/usr/share/doc/*/copyright",
            DEBIAN_SUITE,
            str(tarball),
            mirror,
        ],
        "mmdebstrap (base from Debian packages)",
    )
    try:
        _run(["docker", "import", str(tarball), settings.base_image], "docker import")
    finally:
        tarball.unlink(missing_ok=True)


WHEELHOUSE_COMPLETE = ".complete"
"""Written last into a cached wheelhouse: a folder without it was cut short and is not used."""


def wheelhouse_cache() -> Path:
    """Where downloaded wheelhouses are kept: ``$XDG_CACHE_HOME`` (else ``~/.cache``)/serverless-poc."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "serverless-poc" / "wheelhouse"


def _wheelhouse_key() -> str:
    """A hash of what decides the wheelhouse's files: the pins, the image's Python, platforms."""
    digest = hashlib.sha256()
    for name in ("requirements.txt", "build-requirements.txt"):
        digest.update((LAMBDA_PACKAGE_DIR / name).read_bytes())
    digest.update(" ".join((IMAGE_PYTHON, *WHEEL_PLATFORMS)).encode())
    return digest.hexdigest()[:16]


def download_wheelhouse(target: Path) -> list[str]:
    """Every pinned package, for the image's Python and platform, into ``target``; returns names.

    Downloaded once per set of pins into the user's cache (``wheelhouse_cache``), then copied;
    where that cache cannot be written, downloaded straight into ``target``."""
    cached = wheelhouse_cache() / _wheelhouse_key()
    if not (cached / WHEELHOUSE_COMPLETE).is_file():
        scratch = cached.with_name(f".{cached.name}.{os.getpid()}")
        try:
            shutil.rmtree(scratch, ignore_errors=True)
            scratch.mkdir(parents=True)
        except OSError:
            return _pip_download(target)
        try:
            _pip_download(scratch)
            (scratch / WHEELHOUSE_COMPLETE).touch()
            if not (cached / WHEELHOUSE_COMPLETE).is_file():
                shutil.rmtree(cached, ignore_errors=True)  # a download that was cut short
            scratch.rename(cached)
        except OSError:  # another build finished the same download first: that one is used
            pass
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        if not (cached / WHEELHOUSE_COMPLETE).is_file():
            return _pip_download(target)
    target.mkdir(parents=True, exist_ok=True)
    for wheel in cached.iterdir():
        if wheel.name != WHEELHOUSE_COMPLETE:
            shutil.copy2(wheel, target / wheel.name)
    return sorted(path.name for path in target.iterdir())


def _pip_download(target: Path) -> list[str]:
    target.mkdir(parents=True, exist_ok=True)
    platforms = [argument for p in WHEEL_PLATFORMS for argument in ("--platform", p)]
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--dest",
            str(target),
            "--python-version",
            IMAGE_PYTHON,
            "--implementation",
            "cp",
            *platforms,
            "-r",
            str(LAMBDA_PACKAGE_DIR / "requirements.txt"),
            "-r",
            str(LAMBDA_PACKAGE_DIR / "build-requirements.txt"),
        ],
        "pip download (the wheelhouse)",
    )
    return sorted(path.name for path in target.iterdir())


def stage_context(settings: BuildSettings) -> Path:
    """A build context: the package's inputs, plus a wheelhouse on the offline route."""
    context = BUILD_DIR / "image" / "context"
    shutil.rmtree(context, ignore_errors=True)
    context.mkdir(parents=True)
    for name in IMAGE_INPUTS:
        shutil.copy2(LAMBDA_PACKAGE_DIR / name, context / name)
    if settings.offline:
        download_wheelhouse(context / "wheelhouse")
    return context


# -- building ----------------------------------------------------------------------------------------
def build_command(settings: BuildSettings, reference: str, context: Path) -> list[str]:
    """``docker build`` with the flags Lambda needs: one platform, a plain manifest, no index."""
    arguments = [
        "--platform",
        settings.platform,
        "--network",
        "none" if settings.offline else "host",
        "--build-arg",
        f"BASE_IMAGE={settings.base_image}",
        "--tag",
        reference,
    ]
    if settings.offline:
        arguments += ["--build-arg", "PIP_OFFLINE=1"]
    if _buildx_available():
        # BuildKit would otherwise add provenance attestations, making the tag an OCI index.
        return [
            "docker",
            "buildx",
            "build",
            "--load",
            "--provenance=false",
            "--sbom=false",
            *arguments,
            str(context),
        ]
    return ["docker", "build", *arguments, str(context)]


def build_image(*, force: bool = False, log=print) -> str:
    """Build the image unless the engine already has this tag; returns its local reference."""
    require_engine()
    settings = build_settings()
    reference = local_reference(settings)
    if image_present(reference) and not force:
        log(f"[image] {reference} is up to date")
        return reference
    started = time.monotonic()
    ensure_base(settings, log)
    context = stage_context(settings)
    log(f"[image] building {reference} ({'offline' if settings.offline else 'registry'} route)")
    env = dict(os.environ)
    if not _buildx_available():
        env["DOCKER_BUILDKIT"] = "0"  # the classic builder: a plain single-platform image
    _run(build_command(settings, reference, context), "docker build", env=env)
    log(f"[image] built in {time.monotonic() - started:.0f} s, {image_size_mb(reference):.0f} MB")
    return reference


def image_size_mb(reference: str) -> float:
    done = _docker(["image", "inspect", "--format", "{{.Size}}", reference], check=False)
    return int(done.stdout.strip() or 0) / 1e6


def _buildx_available() -> bool:
    return _docker(["buildx", "version"], check=False).returncode == 0


def _docker(arguments: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *arguments], capture_output=True, text=True, check=check)


def _run(command: list[str], step: str, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if done.returncode:
        lines = [
            line
            for line in (done.stderr + done.stdout).strip().splitlines()
            if "is ignored" not in line and "DEPRECATED" not in line
        ]
        tail = "\n".join(lines[-15:])
        raise ImageBuildError(f"{step} failed (exit {done.returncode}):\n{tail}")


def main(argv: list[str] | None = None) -> int:
    """``make image``: build (or find) the image; the last line printed is its reference."""
    arguments = argv if argv is not None else sys.argv[1:]
    try:
        reference = build_image(force="--force" in arguments)
    except ImageBuildError as error:
        print(f"[image] {error}", file=sys.stderr)
        return 1
    print(reference)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
