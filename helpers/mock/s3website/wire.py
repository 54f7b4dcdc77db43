"""The website endpoint on the wire: which requests are for it, and the HTTP answer.

A request is for the website endpoint when its Host is ``{bucket}.s3-website-{region}.localhost``
or ``{bucket}.s3-website.{region}.localhost`` (any port): AWS's two website host forms with
``amazonaws.com`` replaced by ``localhost``. Such requests carry no credentials; the front door
hands them here before it asks for a signature, and nothing here reaches any other service.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from . import pages
from .backend import answer

WEBSITE_HOST = re.compile(
    r"^(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\.s3-website[-.](?P<region>[a-z0-9-]+)"
    r"\.localhost(?::\d+)?$"
)


def website_bucket(environ: dict[str, Any]) -> str | None:
    """The bucket a request's Host names on the website endpoint, or None if it is not one."""
    host = (environ.get("HTTP_HOST") or "").strip().lower()
    found = WEBSITE_HOST.match(host)
    return found.group("bucket") if found else None


def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """WSGI: answer one website request (the front door calls this for website hosts)."""
    bucket = website_bucket(environ) or ""
    method = (environ.get("REQUEST_METHOD") or "GET").upper()
    reply = answer(
        bucket,
        method,
        environ.get("PATH_INFO") or "/",
        environ.get("HTTP_IF_NONE_MATCH") or "",
    )
    body = b"" if method == "HEAD" or reply.status == 304 else reply.body
    headers = dict(reply.headers)
    if reply.status != 304:
        headers["Content-Length"] = str(len(reply.body))
    start_response(f"{reply.status} {pages.REASONS.get(reply.status, 'OK')}", list(headers.items()))
    return [body]
