"""Deployment packages: checking a zip as Lambda does and extracting it to a task root.

Lambda unpacks a function's zip to ``/var/task`` once per code version; environments share it.
Here each distinct package (by SHA-256) is extracted once under the account's work directory.
"""

from __future__ import annotations

import io
import shutil
import threading
import zipfile
from pathlib import Path

from .errors import InvalidParameterValue, RequestEntityTooLarge

MAX_DIRECT_UPLOAD_BYTES = 50 * 1024 * 1024
"""50 MB zipped for ZipFile uploads (AWS counts the base64 request: 69905067 bytes)."""

MAX_UNZIPPED_BYTES = 262_144_000
"""250 MB unzipped, code and layers together."""

UNZIP_FAILED = "Could not unzip uploaded file. Please check your file, then try to upload again."


def check_direct_upload(zip_bytes: bytes, operation: str) -> None:
    """Reject a ZipFile upload above 50 MB, as the Lambda API does before looking inside."""
    if len(zip_bytes) > MAX_DIRECT_UPLOAD_BYTES:
        raise RequestEntityTooLarge(operation)


def unzipped_size(zip_bytes: bytes) -> int:
    """Total uncompressed size of a package; rejects bytes that are not a readable zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
            return sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise InvalidParameterValue(UNZIP_FAILED) from error


def check_package(zip_bytes: bytes) -> None:
    """A package Lambda would accept: a zip whose contents total at most 250 MB."""
    if unzipped_size(zip_bytes) > MAX_UNZIPPED_BYTES:
        raise InvalidParameterValue(
            f"Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes"
        )


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
                with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
                    archive.extractall(staging)
                staging.rename(target)
        return target
