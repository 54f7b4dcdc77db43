"""The registry's state: blobs on disk, manifests in moto's ECR backend, one truth for both APIs.

Blobs (layers and image configs) are content-addressed files in the account's private work
directory (``blobs/sha256/<hex>``), written once, after their digest was checked. Which blobs a
repository holds is moto's own ``Repository.layers`` (digest -> size), the table ECR's
``BatchCheckLayerAvailability`` reads, so a blob pushed to one repository is not readable through
another, and deleting the repository forgets them. Manifests are ECR images: a manifest PUT is
moto's ``put_image`` with the manifest and its media type, so ``DescribeImages``,
``BatchGetImage``, ``BatchDeleteImage`` and ``DeleteRepository(force=True)`` see every pushed
image. Upload sessions stream to ``uploads/<id>`` and hash as they go, so a layer is never held
in memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from moto.ecr.exceptions import ImageAlreadyExistsException
from moto.ecr.models import ecr_backends

from .errors import RegistryError

DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
"""Registries refuse manifests past 4 MiB (the OCI distribution spec's suggested limit)."""
MAX_OPEN_UPLOADS = 256
CHUNK = 1024 * 1024
IMAGE_MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
)
INDEX_TYPES = (
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
)


@dataclass
class Upload:
    """A blob upload in progress: the bytes so far, on disk, and their running hash."""

    id: str
    repository: str
    path: Path
    size: int = 0
    hasher: Any = field(default_factory=hashlib.sha256)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class StoredManifest:
    body: bytes
    media_type: str
    digest: str


class RegistryStore:
    """Blobs and upload sessions of one account's registry; manifests through moto's ECR."""

    def __init__(self, root: Path, account_id: str, region: str) -> None:
        self.account_id = account_id
        self.region = region
        self._blobs = root / "blobs" / "sha256"
        self._uploads_dir = root / "uploads"
        self._blobs.mkdir(parents=True, exist_ok=True)
        self._uploads_dir.mkdir(parents=True, exist_ok=True)
        self._uploads: dict[str, Upload] = {}
        self._lock = threading.RLock()

    # -- repositories (moto's) ------------------------------------------------------------------
    def _ecr(self) -> Any:
        return ecr_backends[self.account_id][self.region]

    def repository(self, name: str) -> Any:
        """moto's repository, or NAME_UNKNOWN (ECR refuses pushes to a repository it lacks)."""
        found = self._ecr().repositories.get(name)
        if found is None:
            raise RegistryError(
                404,
                "NAME_UNKNOWN",
                f"The repository with name '{name}' does not exist in the registry with id "
                f"'{self.account_id}'. Create it first (ecr create-repository), then push again.",
            )
        return found

    # -- blobs ------------------------------------------------------------------------------------
    def _blob_path(self, digest: str) -> Path:
        return self._blobs / digest.removeprefix("sha256:")

    def blob_size(self, name: str, digest: str) -> int:
        """The size of a blob the repository holds; BLOB_UNKNOWN otherwise."""
        repository = self.repository(name)
        path = self._blob_path(digest) if DIGEST.match(digest) else None
        if digest not in repository.layers or path is None or not path.exists():
            raise RegistryError(
                404, "BLOB_UNKNOWN", f"blob {digest} is not in repository {name}", digest
            )
        return path.stat().st_size

    def open_blob(self, name: str, digest: str) -> tuple[int, IO[bytes]]:
        size = self.blob_size(name, digest)
        return size, self._blob_path(digest).open("rb")

    def mount(self, name: str, digest: str, source: str) -> bool:
        """Link a blob ``source`` holds into ``name``; False if it cannot (then upload it)."""
        target = self.repository(name)
        try:
            size = self.blob_size(source, digest)
        except RegistryError:
            return False
        target.layers[digest] = size
        return True

    # -- uploads ----------------------------------------------------------------------------------
    def start_upload(self, name: str) -> Upload:
        self.repository(name)
        with self._lock:
            if len(self._uploads) >= MAX_OPEN_UPLOADS:
                raise RegistryError(
                    429,
                    "TOOMANYREQUESTS",
                    f"{MAX_OPEN_UPLOADS} uploads are open; finish or cancel some, then retry.",
                )
            upload_id = str(uuid.uuid4())
            upload = Upload(upload_id, name, self._uploads_dir / upload_id)
            upload.path.touch()
            self._uploads[upload_id] = upload
        return upload

    def upload(self, name: str, upload_id: str) -> Upload:
        with self._lock:
            upload = self._uploads.get(upload_id)
        if upload is None or upload.repository != name:
            raise RegistryError(
                404,
                "BLOB_UPLOAD_UNKNOWN",
                f"upload {upload_id[:64]!r} is not open for repository {name}; start a new one.",
            )
        return upload

    def append(self, upload: Upload, chunks: Iterator[bytes], start: int | None = None) -> int:
        """Add bytes to an upload (``start``: the Content-Range start the client claims)."""
        with upload.lock:
            if start is not None and start != upload.size:
                raise RegistryError(
                    416,
                    "BLOB_UPLOAD_INVALID",
                    f"this chunk starts at byte {start}, but the upload has {upload.size} bytes",
                )
            with upload.path.open("ab") as sink:
                for chunk in chunks:
                    sink.write(chunk)
                    upload.hasher.update(chunk)
                    upload.size += len(chunk)
            return upload.size

    def cancel(self, upload: Upload) -> None:
        with self._lock:
            self._uploads.pop(upload.id, None)
        upload.path.unlink(missing_ok=True)

    def finish(self, upload: Upload, digest: str) -> int:
        """Check the digest, move the bytes into the store and link them to the repository."""
        if not DIGEST.match(digest):
            self.cancel(upload)
            raise RegistryError(
                400, "DIGEST_INVALID", f"{digest[:80]!r} is not a sha256:<64 hex> digest"
            )
        with upload.lock:
            actual = "sha256:" + upload.hasher.hexdigest()
            if actual != digest:
                self.cancel(upload)
                raise RegistryError(
                    400,
                    "DIGEST_INVALID",
                    f"the uploaded content's digest is {actual}, not {digest}; the upload was "
                    "discarded, push it again.",
                    digest,
                )
            try:
                repository = self.repository(upload.repository)
            except RegistryError:  # deleted while the upload was open
                self.cancel(upload)
                raise
            os.replace(upload.path, self._blob_path(digest))
            repository.layers[digest] = upload.size
        with self._lock:
            self._uploads.pop(upload.id, None)
        return upload.size

    # -- manifests (moto's ECR images) ------------------------------------------------------------
    def _image(self, name: str, reference: str) -> Any:
        repository = self.repository(name)
        by_digest = reference.startswith("sha256:")
        for image in repository.images:
            if (by_digest and self.digest_of(image) == reference) or (
                not by_digest and reference in image.image_tags
            ):
                return image
        raise RegistryError(
            404,
            "MANIFEST_UNKNOWN",
            f"manifest {reference[:128]} is not in repository {name}",
            reference[:128],
        )

    @staticmethod
    def digest_of(image: Any) -> str:
        return "sha256:" + hashlib.sha256(image.image_manifest.encode()).hexdigest()

    def manifest(self, name: str, reference: str) -> StoredManifest:
        image = self._image(name, reference)
        body = image.image_manifest.encode()
        media_type = image.image_manifest_media_type or _declared_type(body) or ""
        return StoredManifest(body, media_type, self.digest_of(image))

    def put_manifest(self, name: str, reference: str, body: bytes, content_type: str) -> str:
        """Store a manifest as an ECR image (tag or digest reference); returns its digest."""
        repository = self.repository(name)
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        if reference.startswith("sha256:") and reference != digest:
            raise RegistryError(
                400, "DIGEST_INVALID", f"the manifest's digest is {digest}, not {reference}"
            )
        media_type = _check_manifest(body, content_type)
        self._check_references(name, repository, body, media_type)
        tag = None if reference.startswith("sha256:") else reference
        for image in repository.images:
            if self.digest_of(image) == digest and (tag is None or tag in image.image_tags):
                return digest  # already there: a repeated push is no change
        try:
            self._ecr().put_image(name, body.decode(), tag, media_type, digest)
        except ImageAlreadyExistsException as error:
            raise RegistryError(400, "TAG_INVALID", error.message) from None
        return digest

    def _check_references(self, name: str, repository: Any, body: bytes, media_type: str) -> None:
        document = json.loads(body)
        if media_type in INDEX_TYPES:
            for child in document.get("manifests") or []:
                digest = child.get("digest") if isinstance(child, dict) else None
                try:
                    self._image(name, str(digest))
                except RegistryError:
                    raise RegistryError(
                        400,
                        "MANIFEST_BLOB_UNKNOWN",
                        f"the index references manifest {str(digest)[:80]}, which is not in "
                        f"repository {name}; push it first.",
                    ) from None
            return
        wanted = [document.get("config") or {}, *(document.get("layers") or [])]
        for item in wanted:
            item = item if isinstance(item, dict) else {}
            digest = item.get("digest")
            if item.get("urls"):
                continue  # a foreign layer, fetched from its own URLs
            if not isinstance(digest, str) or digest not in repository.layers:
                raise RegistryError(
                    400,
                    "MANIFEST_BLOB_UNKNOWN",
                    f"the manifest references blob {str(digest)[:80]}, which was never pushed "
                    f"to repository {name}; push the blob first.",
                    digest if isinstance(digest, str) else None,
                )


def _declared_type(body: bytes) -> str | None:
    try:
        declared = json.loads(body).get("mediaType")
    except (ValueError, AttributeError, RecursionError):
        return None
    return declared if isinstance(declared, str) else None


def _check_manifest(body: bytes, content_type: str) -> str:
    """The manifest's media type, after checking it is one ECR stores and well formed."""

    def invalid(why: str) -> RegistryError:
        return RegistryError(400, "MANIFEST_INVALID", f"manifest invalid: {why}")

    if len(body) > MAX_MANIFEST_BYTES:
        raise invalid(f"it is {len(body)} bytes; the limit is {MAX_MANIFEST_BYTES}")
    try:
        document = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):
        raise invalid("it is not JSON in UTF-8") from None
    if not isinstance(document, dict) or document.get("schemaVersion") != 2:
        raise invalid("it is not a schemaVersion 2 manifest (a JSON object)")
    declared = document.get("mediaType")
    media_type = content_type.split(";")[0].strip() or declared
    if media_type not in (*IMAGE_MANIFEST_TYPES, *INDEX_TYPES):
        raise invalid(f"media type {str(media_type)[:100]!r} is not an image manifest or index")
    if declared is not None and declared != media_type:
        raise invalid(f"it declares mediaType {str(declared)[:100]!r} but was sent as {media_type}")
    key = "manifests" if media_type in INDEX_TYPES else "layers"
    if not isinstance(document.get(key), list):
        raise invalid(f"it has no {key} list")
    if key == "layers" and not isinstance(document.get("config"), dict):
        raise invalid("it has no config")
    return media_type
