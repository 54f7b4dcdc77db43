"""The website endpoint on the wire: which requests are for it, and the HTTP answer.

A request is for the website endpoint when its Host is ``{bucket}.s3-website-{region}.localhost``
or ``{bucket}.s3-website.{region}.localhost`` (any port): AWS's two website host forms with
``amazonaws.com`` replaced by ``localhost``. Such requests carry no credentials; the front door
hands them here before it asks for a signature, and nothing here reaches any other service.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from . import pages
from .backend import WebsiteAnswer, answer

log = logging.getLogger("helpers.mock.s3website")

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
    try:
        reply = answer(
            bucket,
            method,
            environ.get("PATH_INFO") or "/",
            environ.get("HTTP_IF_NONE_MATCH") or "",
        )
    except Exception:  # a gap in the mock: say so in AWS's shape, keep serving
        log.exception("The mock's S3 website endpoint failed on %s %s", method, bucket)
        request_id, host_id = pages.request_ids()
        error = pages.WebsiteError(
            500,
            "InternalError",
            "The mock account failed on this website request. This is a gap in the mock, not "
            "an answer AWS would give; the traceback is in logger helpers.mock.s3website.",
        )
        reply = WebsiteAnswer(
            500,
            {"Content-Type": "text/html; charset=utf-8", "x-amz-request-id": request_id},
            pages.error_page(error, request_id, host_id),
        )
    body = b"" if method == "HEAD" or reply.status == 304 else reply.body
    headers = dict(reply.headers)
    if reply.status != 304:
        headers["Content-Length"] = str(len(reply.body))
    start_response(f"{reply.status} {pages.REASONS.get(reply.status, 'OK')}", list(headers.items()))
    return [body]
