"""The registry's HTTP layer: Docker Registry HTTP API v2 (OCI distribution) for push and pull.

Every request needs Basic auth ``AWS:<password>`` with a password from GetAuthorizationToken
(tokens.py); without one it is a 401 with ``WWW-Authenticate: Basic realm=...``, as ECR answers,
which is what makes ``docker login`` and ``docker push`` send it. Each operation is then
authorized as the ECR action it stands for (access.py) on the repository's ARN. Errors are the
registry's JSON (``{"errors": [{"code", "message", "detail"}]}``); a failed request changes
nothing and the next one is served.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from werkzeug.wrappers import Request, Response
from werkzeug.wsgi import wrap_file

from .access import Holder, repository_arn
from .errors import RegistryError
from .store import CHUNK, MAX_MANIFEST_BYTES, RegistryStore
from .tokens import TokenMint

log = logging.getLogger(__name__)

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_NAME = rf"(?P<name>{_COMPONENT}(?:/{_COMPONENT})*)"
_REFERENCE = r"(?P<reference>sha256:[a-f0-9]{64}|[A-Za-z0-9_][A-Za-z0-9._-]{0,127})"
_ROUTES: list[tuple[str, re.Pattern[str]]] = [
    ("base", re.compile(r"^/v2/?$")),
    ("uploads", re.compile(rf"^/v2/{_NAME}/blobs/uploads/(?P<upload>[^/]*)$")),
    ("blob", re.compile(rf"^/v2/{_NAME}/blobs/(?P<digest>[^/]+)$")),
    ("manifest", re.compile(rf"^/v2/{_NAME}/manifests/{_REFERENCE}$")),
    ("tags", re.compile(rf"^/v2/{_NAME}/tags/list$")),
]
API_VERSION = {"Docker-Distribution-API-Version": "registry/2.0"}


def _read_all(request: Request, limit: int) -> bytes:
    """The whole body (a chunked one arrives in pieces), refused once it passes ``limit``."""
    body = bytearray()
    for chunk in _chunks(request):
        body += chunk
        if len(body) > limit:
            raise RegistryError(
                400,
                "SIZE_INVALID",
                f"the request body is larger than {limit} bytes; the registry refuses manifests "
                "that large.",
            )
    return bytes(body)


def _chunks(request: Request) -> Iterator[bytes]:
    while True:
        chunk = request.stream.read(CHUNK)
        if not chunk:
            return
        yield chunk


def _content_range_start(request: Request) -> int | None:
    given = request.headers.get("Content-Range")
    if not given:
        return None
    match = re.fullmatch(r"(?:bytes )?(\d+)-(\d+)(?:/\d+|/\*)?", given.strip())
    if match is None:
        raise RegistryError(
            416, "BLOB_UPLOAD_INVALID", f"Content-Range {given[:80]!r} is not <start>-<end>"
        )
    return int(match.group(1))


class RegistryWire:
    """The WSGI application serving one account's registry."""

    def __init__(self, store: RegistryStore, mint: TokenMint, realm: str) -> None:
        self.store = store
        self.mint = mint
        self.realm = realm

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self._dispatch(request)
        except RegistryError as error:
            response = self._error(error)
        except Exception:  # never a traceback page: a registry error, and the next request served
            log.exception("mock ECR registry: %s %s failed", request.method, request.path)
            response = self._error(
                RegistryError(
                    500,
                    "UNKNOWN",
                    "the mock registry failed on this request (a gap "
                    "in the mock; the details are in its log)",
                )
            )
        response.headers.update(API_VERSION)
        return response(environ, start_response)

    def _error(self, error: RegistryError) -> Response:
        response = Response(error.body(), status=error.status, content_type="application/json")
        if error.status == 401:
            response.headers["WWW-Authenticate"] = (
                f'Basic realm="{self.realm}",service="ecr.amazonaws.com"'
            )
        return response

    # -- authentication and authorization ---------------------------------------------------------
    def _holder(self, request: Request) -> Holder:
        auth = request.authorization
        grant = None
        if auth is not None and auth.type == "basic":
            grant = self.mint.check(auth.username, auth.password)
        if grant is None:
            raise RegistryError(
                401,
                "UNAUTHORIZED",
                "authentication required: log in with the password from ecr "
                "get-authorization-token (docker login --username AWS --password-stdin <proxyEndpoint>)",
            )
        holder = Holder(self.store.account_id, grant.access_key_id)
        if not holder.exists:
            raise RegistryError(
                401, "UNAUTHORIZED", "the access key this token was issued to no longer exists"
            )
        return holder

    def _authorize(self, holder: Holder, action: str, name: str) -> None:
        resource = repository_arn(self.store.account_id, self.store.region, name)
        if not holder.allowed(f"ecr:{action}", resource):
            raise RegistryError(403, "DENIED", holder.denial(f"ecr:{action}", resource))

    # -- routing ------------------------------------------------------------------------------------
    def _dispatch(self, request: Request) -> Response:
        holder = self._holder(request)
        for kind, pattern in _ROUTES:
            match = pattern.match(request.path)
            if match is not None:
                handler = getattr(self, f"_{kind}_{request.method.lower()}", None)
                if handler is None:
                    raise RegistryError(
                        405, "UNSUPPORTED", f"{request.method} is not supported on {kind} paths"
                    )
                return handler(request, holder, **match.groupdict())
        raise RegistryError(404, "UNSUPPORTED", f"{request.path[:200]} is not a registry API path")

    def _base_get(self, request: Request, holder: Holder) -> Response:
        return Response(b"{}", content_type="application/json")

    _base_head = _base_get

    # -- blobs ----------------------------------------------------------------------------------------
    def _blob_head(self, request: Request, holder: Holder, name: str, digest: str) -> Response:
        self._authorize(holder, "BatchCheckLayerAvailability", name)
        size = self.store.blob_size(name, digest)
        response = Response(status=200, content_type="application/octet-stream")
        response.headers.update({"Content-Length": str(size), "Docker-Content-Digest": digest})
        return response

    def _blob_get(self, request: Request, holder: Holder, name: str, digest: str) -> Response:
        self._authorize(holder, "GetDownloadUrlForLayer", name)
        size, handle = self.store.open_blob(name, digest)
        response = Response(
            wrap_file(request.environ, handle, CHUNK),
            content_type="application/octet-stream",
            direct_passthrough=True,
        )
        response.headers.update({"Content-Length": str(size), "Docker-Content-Digest": digest})
        return response

    def _blob_delete(self, request: Request, holder: Holder, name: str, digest: str) -> Response:
        raise RegistryError(405, "UNSUPPORTED", "ECR does not delete blobs; delete images instead")

    # -- uploads --------------------------------------------------------------------------------------
    def _upload_answer(self, status: int, name: str, upload_id: str, size: int) -> Response:
        response = Response(status=status)
        response.headers.update(
            {
                "Location": f"/v2/{name}/blobs/uploads/{upload_id}",
                "Range": f"0-{max(size - 1, 0)}",
                "Docker-Upload-UUID": upload_id,
                "Content-Length": "0",
            }
        )
        return response

    def _blob_created(self, name: str, digest: str) -> Response:
        return _created(f"/v2/{name}/blobs/{digest}", digest)

    def _uploads_post(self, request: Request, holder: Holder, name: str, upload: str) -> Response:
        if upload:
            raise RegistryError(405, "UNSUPPORTED", "POST starts an upload at .../blobs/uploads/")
        self._authorize(holder, "InitiateLayerUpload", name)
        mount, source = request.args.get("mount"), request.args.get("from")
        if mount and source:
            resource = repository_arn(self.store.account_id, self.store.region, source)
            readable = holder.allowed("ecr:GetDownloadUrlForLayer", resource)
            if readable and self.store.mount(name, mount, source):
                return self._blob_created(name, mount)
        session = self.store.start_upload(name)
        digest = request.args.get("digest")
        if digest:  # a monolithic upload in one POST
            self._authorize(holder, "CompleteLayerUpload", name)
            self.store.append(session, _chunks(request))
            self.store.finish(session, digest)
            return self._blob_created(name, digest)
        return self._upload_answer(202, name, session.id, 0)

    def _uploads_patch(self, request: Request, holder: Holder, name: str, upload: str) -> Response:
        self._authorize(holder, "UploadLayerPart", name)
        session = self.store.upload(name, upload)
        size = self.store.append(session, _chunks(request), _content_range_start(request))
        return self._upload_answer(202, name, session.id, size)

    def _uploads_put(self, request: Request, holder: Holder, name: str, upload: str) -> Response:
        self._authorize(holder, "CompleteLayerUpload", name)
        session = self.store.upload(name, upload)
        digest = request.args.get("digest")
        if not digest:
            raise RegistryError(
                400, "DIGEST_INVALID", "finishing an upload needs ?digest=sha256:<hex>"
            )
        self.store.append(session, _chunks(request))
        self.store.finish(session, digest)
        return self._blob_created(name, digest)

    def _uploads_get(self, request: Request, holder: Holder, name: str, upload: str) -> Response:
        self._authorize(holder, "UploadLayerPart", name)
        session = self.store.upload(name, upload)
        return self._upload_answer(204, name, session.id, session.size)

    def _uploads_delete(self, request: Request, holder: Holder, name: str, upload: str) -> Response:
        self._authorize(holder, "UploadLayerPart", name)
        self.store.cancel(self.store.upload(name, upload))
        return Response(status=204)

    # -- manifests -------------------------------------------------------------------------------------
    def _manifest_put(
        self, request: Request, holder: Holder, name: str, reference: str
    ) -> Response:
        self._authorize(holder, "PutImage", name)
        body = _read_all(request, MAX_MANIFEST_BYTES)
        digest = self.store.put_manifest(
            name, reference, body, request.headers.get("Content-Type", "")
        )
        return _created(f"/v2/{name}/manifests/{digest}", digest)

    def _manifest_get(
        self, request: Request, holder: Holder, name: str, reference: str
    ) -> Response:
        self._authorize(holder, "BatchGetImage", name)
        stored = self.store.manifest(name, reference)
        response = Response(stored.body, content_type=stored.media_type)
        response.headers["Docker-Content-Digest"] = stored.digest
        return response

    _manifest_head = _manifest_get  # werkzeug answers HEAD with GET's headers, no body

    def _manifest_delete(
        self, request: Request, holder: Holder, name: str, reference: str
    ) -> Response:
        raise RegistryError(
            405, "UNSUPPORTED", "delete images with ecr batch-delete-image, as on ECR"
        )

    def _tags_get(self, request: Request, holder: Holder, name: str) -> Response:
        self._authorize(holder, "ListImages", name)
        repository = self.store.repository(name)
        tags = sorted({tag for image in repository.images for tag in image.image_tags})
        return Response(json.dumps({"name": name, "tags": tags}), content_type="application/json")


def _created(location: str, digest: str) -> Response:
    """201 for a stored blob or manifest: where it is now, and its digest."""
    response = Response(status=201)
    response.headers.update(
        {"Location": location, "Docker-Content-Digest": digest, "Content-Length": "0"}
    )
    return response
