"""The wire layer of API stages: WSGI requests to ``/restapis/{api_id}/{stage}/_user_request_/…``.

The front door (front_door.py) hands these requests here before it asks for a signature: a
stage's URL is public on AWS too (``https://{api_id}.execute-api.{region}.amazonaws.com/{stage}/
…``); what protects a method there is its API key, usage plan and the function's resource
policy, checked by the backend (backend.py). Nothing else of the account is reachable this way.

Header names reach a WSGI application upper-cased (``HTTP_X_API_KEY``), so the mock passes them
on capitalised (``X-Api-Key``) where API Gateway keeps the caller's spelling.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from .backend import ApiStages
from .exchange import StageRequest, gateway_error, missing_authentication_token

STAGE_PATH = re.compile(
    r"^/restapis/(?P<api_id>[^/]+)/(?P<stage>[^/]+)/_user_request_(?P<path>/.*)?$"
)
MAX_BODY = 10 * 1024 * 1024
"""API Gateway's payload limit for REST APIs (10 MB)."""


def is_stage_request(path: str) -> bool:
    """True for the public path of a stage (the only unsigned requests the mock serves)."""
    return STAGE_PATH.match(path) is not None


def _headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
    headers = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            name = key
        else:
            continue
        headers.append(("-".join(part.capitalize() for part in name.split("_")), str(value)))
    return headers


def _body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0:
        return b""
    return environ["wsgi.input"].read(min(length, MAX_BODY + 1))


class StageWire:
    """A WSGI application serving ``ApiStages``."""

    def __init__(self, stages: ApiStages) -> None:
        self.stages = stages

    def request(self, environ: dict[str, Any]) -> StageRequest | None:
        """The stage request in a WSGI environ (None if the path is not a stage's)."""
        match = STAGE_PATH.match(environ.get("PATH_INFO", "") or "")
        if match is None:
            return None
        return StageRequest(
            method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
            api_id=match.group("api_id"),
            stage=match.group("stage"),
            path=match.group("path") or "/",
            query=parse_qsl(environ.get("QUERY_STRING", "") or "", keep_blank_values=True),
            headers=_headers(environ),
            body=_body(environ),
            source_ip=str(environ.get("REMOTE_ADDR") or "127.0.0.1"),
        )

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = self.request(environ)
        if request is None:  # the front door sends only stage paths; answer as for no route
            response = missing_authentication_token()
        elif len(request.body) > MAX_BODY:
            response = gateway_error(
                413, "RequestEntityTooLargeException", '{"message":"Request Too Long"}'
            )
        else:
            response = self.stages.handle(request)
        headers = [(k, v) for k, v in response.headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(response.body))))
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = "Status"
        start_response(f"{response.status} {reason}", headers)
        return [response.body]
