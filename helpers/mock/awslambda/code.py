"""Deployment packages: checking a zip as Lambda does and extracting it to a task root.

Lambda unpacks a function's zip to ``/var/task`` once per code version; environments share it.
Here each distinct package (by SHA-256) is extracted once under the account's work directory.
"""

from __future__ import annotations

import io
import shutil
import threading
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from .errors import InvalidParameterValue, InvalidZipFile, RequestEntityTooLarge

MAX_DIRECT_UPLOAD_BYTES = 50 * 1024 * 1024
"""50 MB zipped for ZipFile uploads (AWS counts the base64 request: 69905067 bytes)."""

MAX_UNZIPPED_BYTES = 262_144_000
"""250 MB unzipped, code and layers together."""

UNZIP_FAILED = "Could not unzip uploaded file. Please check your file, then try to upload again."


def check_direct_upload(zip_bytes: bytes, operation: str) -> None:
    """Reject a ZipFile upload above 50 MB, as the Lambda API does before looking inside."""
    if len(zip_bytes) > MAX_DIRECT_UPLOAD_BYTES:
        raise RequestEntityTooLarge(operation)


_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    ValueError,
    OSError,
    RuntimeError,  # encrypted members
    NotImplementedError,  # compression methods zipfile cannot read
)
"""What reading a damaged, truncated, encrypted or lying archive raises."""

_CHUNK = 1 << 20


def unzipped_size(zip_bytes: bytes) -> int:
    """Total uncompressed size a package declares; rejects bytes that are not a readable zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
            return sum(info.file_size for info in archive.infolist())
    except _ZIP_ERRORS as error:
        raise InvalidParameterValue(UNZIP_FAILED) from error


def _check_layout(names: list[str]) -> None:
    """Every member can be written to a task root: no file where a directory must be, names a
    file system takes (no path component above 255 bytes)."""
    files: set[PurePosixPath] = set()
    parents: set[PurePosixPath] = set()
    for name in names:
        path = PurePosixPath(name.replace("\\", "/"))
        if any(len(part.encode()) > 255 for part in path.parts):
            raise InvalidParameterValue(UNZIP_FAILED)
        parents.update(path.parents)
        if not name.endswith("/"):
            files.add(path)
    if files & parents:
        raise InvalidParameterValue(UNZIP_FAILED)


def check_package(zip_bytes: bytes) -> None:
    """A package Lambda would accept: a zip that unzips cleanly to at most 250 MB.

    Every member is decompressed once, counting the bytes it really yields (not the sizes its
    headers claim) and checking its CRC, so a damaged or lying archive is refused here, at
    create/update, as Lambda does, and never fails later at an invoke.
    """
    if unzipped_size(zip_bytes) > MAX_UNZIPPED_BYTES:
        raise InvalidParameterValue(
            f"Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes"
        )
    total = 0
    try:
        with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
            _check_layout(archive.namelist())
            for info in archive.infolist():
                with archive.open(info) as member:
                    while chunk := member.read(_CHUNK):
                        total += len(chunk)
                        if total > MAX_UNZIPPED_BYTES:
                            raise InvalidParameterValue(
                                f"Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes"
                            )
    except _ZIP_ERRORS as error:
        raise InvalidParameterValue(UNZIP_FAILED) from error


class CodeStore:
    """Extracted packages, one directory per code SHA-256, created on first use."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()

    def task_root(self, zip_bytes: bytes, sha256_hex: str) -> Path:
        """The directory holding the package's files (extracted now if needed)."""
        target = self.root / sha256_hex[:24]
        with self._lock:
            if not target.is_dir():
                staging = self.root / f".{sha256_hex[:24]}.partial"
                shutil.rmtree(staging, ignore_errors=True)
                staging.mkdir(parents=True)
                try:
                    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
                        archive.extractall(staging)
                    staging.rename(target)
                except _ZIP_ERRORS as error:
                    shutil.rmtree(staging, ignore_errors=True)
                    raise InvalidZipFile(f"{type(error).__name__}: {error}") from error
        return target
