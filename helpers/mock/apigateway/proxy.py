"""Lambda proxy integration (``AWS_PROXY``): the event API Gateway sends and the reply it expects.

The event is payload format 1.0, what REST APIs send: ``resource``, ``path``, ``httpMethod``,
``headers``/``multiValueHeaders``, ``queryStringParameters``/``multiValueQueryStringParameters``
(``null`` when there are none), ``pathParameters``, ``stageVariables``, ``requestContext``,
``body`` (``null`` when empty; base64 with ``isBase64Encoded`` when it is not UTF-8 text).

The function must answer a JSON object with ``statusCode`` and optionally ``headers``,
``multiValueHeaders``, ``body`` (a string) and ``isBase64Encoded``; anything else (another key, a
body that is an object, no statusCode) is "Malformed Lambda proxy response", a 502 ``Internal
server error``, as is a function error.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from .exchange import StageRequest, StageResponse

_PROXY_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})


class MalformedProxyResponse(Exception):
    """The function's reply is not what a proxy integration must return (API Gateway: 502)."""


def proxy_event(
    request: StageRequest,
    resource_path: str,
    path_parameters: dict[str, str],
    stage_variables: dict[str, str],
    request_context: dict[str, Any],
) -> dict[str, Any]:
    """The REST API proxy event (payload format 1.0) for one request."""
    try:
        body: str | None = request.body.decode("utf-8") if request.body else None
        encoded = False
    except UnicodeDecodeError:
        body = base64.b64encode(request.body).decode()
        encoded = True
    return {
        "resource": resource_path,
        "path": request.path,
        "httpMethod": request.method,
        "headers": request.single_headers() or None,
        "multiValueHeaders": request.multi(request.headers) or None,
        "queryStringParameters": request.single_query() or None,
        "multiValueQueryStringParameters": request.multi(request.query) or None,
        "pathParameters": path_parameters or None,
        "stageVariables": stage_variables or None,
        "requestContext": request_context,
        "body": body,
        "isBase64Encoded": encoded,
    }


def _header_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise MalformedProxyResponse(f"a header value is {type(value).__name__}, not a string")


def proxy_response(payload: bytes) -> StageResponse:
    """Unwrap the function's proxy reply into the HTTP response, or ``MalformedProxyResponse``."""
    try:
        reply = json.loads(payload or b"null")
    except ValueError as error:
        raise MalformedProxyResponse(f"not JSON ({error})") from error
    if not isinstance(reply, dict):
        raise MalformedProxyResponse(f"a JSON {type(reply).__name__}, not an object")
    unknown = set(reply) - _PROXY_KEYS
    if unknown:
        raise MalformedProxyResponse(f"unexpected keys {sorted(unknown)}")
    status = reply.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise MalformedProxyResponse(f"statusCode {status!r} is not an HTTP status")
    body = reply.get("body")
    if body is not None and not isinstance(body, str):
        raise MalformedProxyResponse(f"body is a JSON {type(body).__name__}, not a string")
    headers: list[tuple[str, str]] = []
    single = reply.get("headers") or {}
    multiple = reply.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multiple, dict):
        raise MalformedProxyResponse("headers and multiValueHeaders must be objects")
    for name, values in multiple.items():
        if not isinstance(values, list):
            raise MalformedProxyResponse(f"multiValueHeaders[{name!r}] is not a list")
        headers += [(str(name), _header_text(v)) for v in values]
    for name, value in single.items():  # headers wins over multiValueHeaders for a name
        headers = [(k, v) for k, v in headers if k.lower() != str(name).lower()]
        headers.append((str(name), _header_text(value)))
    data = (body or "").encode()
    if reply.get("isBase64Encoded") and body:
        try:
            data = base64.b64decode(body, validate=True)
        except ValueError as error:
            raise MalformedProxyResponse(
                f"isBase64Encoded but body is not base64 ({error})"
            ) from error
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return StageResponse(status, headers, data)
