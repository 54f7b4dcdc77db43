"""The front door's checks on a request, in AWS's words, before moto sees it (front_door.py).

``Request`` is what the door reads off a request (who signed it for which service, in which wire
protocol); ``Answer`` an error response in that protocol. Each check returns the answer AWS gives
to what moto cannot take: moto's ``/moto-api/`` (no AWS API serves it), a missing, presigned or
malformed signature, a service moto does not have, a body that is not UTF-8 or nests JSON deeper
than AWS parses (``deeper_than_allowed``, which Lambda's Invoke checks use too), a query-protocol
request naming no operation or leaving out a required parameter.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from helpers.service_models import service_model

MAX_JSON_DEPTH = 1000
"""Nesting depth AWS's JSON parsers accept (Lambda's in an Invoke payload, for one)."""

_SIGV4 = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/,\s]+)/"
    r"(?P<service>[^/,\s]+)/aws4_request\s*,\s*SignedHeaders=(?P<signed>[^,\s]+)\s*,\s*"
    r"Signature=(?P<signature>[0-9a-fA-F]+)\s*"
)
_DATED_PATH = re.compile(r"^/\d{4}-\d{2}-\d{2}/")
_LAMBDA_PAYLOAD_PATH = re.compile(r"/functions/[^/]+/(invocations|invoke-async)/?$")
PRESIGN_PARAMETERS = ("X-Amz-Signature", "X-Amz-Credential", "X-Amz-Algorithm")
XML_PROTOCOLS = ("s3", "rest-xml")
QUERY_PROTOCOLS = ("query", "ec2")


@cache
def _protocol_of(service: str) -> str:
    """The wire protocol of a service by its signing name (json for names botocore lacks)."""
    if service == "s3":
        return "s3"
    try:
        return str(service_model(service).protocol)
    except Exception:
        return "json"


@dataclass(frozen=True)
class Request:
    """What the door knows about a request: who signed it for which service, and its protocol."""

    path: str
    query: dict[str, list[str]]
    authorization: str | None
    service: str | None
    protocol: str

    @classmethod
    def of(cls, environ: dict[str, Any]) -> Request:
        path = environ.get("PATH_INFO", "") or ""
        query = parse_qs(environ.get("QUERY_STRING", "") or "", keep_blank_values=True)
        authorization = environ.get("HTTP_AUTHORIZATION")
        service = None
        scope = authorization or (query.get("X-Amz-Credential") or [""])[0]
        parts = scope.split("Credential=", 1)[-1].split(",", 1)[0].split("/")
        if len(parts) == 5:
            service = parts[3].strip().lower() or None
        if service:
            protocol = _protocol_of(service)
        elif environ.get("HTTP_X_AMZ_TARGET"):
            protocol = "json"
        elif "Action" in query or (environ.get("CONTENT_TYPE") or "").startswith(
            "application/x-www-form-urlencoded"
        ):
            protocol = "query"
        elif _DATED_PATH.match(path):
            protocol = "rest-json"
        else:
            protocol = "s3"
        return cls(path, query, authorization, service, protocol)


@dataclass(frozen=True)
class Answer:
    """An error response in the protocol of the service the caller was talking to."""

    status: int
    code: str
    message: str
    protocol: str

    def __call__(self, start_response: Callable[..., Any]) -> Iterable[bytes]:
        request_id = str(uuid.uuid4())
        headers = [("x-amzn-RequestId", request_id)]
        if self.protocol in XML_PROTOCOLS:
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>\n<Error>'
                f"<Code>{escape(self.code)}</Code><Message>{escape(self.message)}</Message>"
                f"<RequestId>{request_id}</RequestId></Error>"
            )
            headers.append(("Content-Type", "application/xml"))
        elif self.protocol in QUERY_PROTOCOLS:
            kind = "Sender" if self.status < 500 else "Receiver"
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error>'
                f"<Type>{kind}</Type><Code>{escape(self.code)}</Code>"
                f"<Message>{escape(self.message)}</Message></Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>"
            )
            headers.append(("Content-Type", "text/xml"))
        else:
            body = json.dumps({"__type": self.code, "message": self.message})
            content_type = (
                "application/x-amz-json-1.1" if self.protocol == "json" else "application/json"
            )
            headers += [("Content-Type", content_type), ("x-amzn-ErrorType", self.code)]
        data = body.encode()
        headers.append(("Content-Length", str(len(data))))
        start_response(f"{self.status} {_REASONS.get(self.status, 'Error')}", headers)
        return [data]


_REASONS = {
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    500: "Internal Server Error",
}


# -- the checks, in the order the door makes them ---------------------------------------------------
def moto_api(request: Request) -> Answer:
    return Answer(
        404,
        "UnknownOperationException",
        f"No AWS API serves {request.path}: the mock account does not expose moto's internal "
        "/moto-api/ endpoint (its state dump, reset and auth switches would let any local process "
        "read or change the account). Use the AWS APIs with the account's credentials; to start "
        "afresh, stop and start the mock account.",
        request.protocol,
    )


def missing_authentication(request: Request) -> Answer:
    if request.protocol in XML_PROTOCOLS:
        return Answer(403, "AccessDenied", "Access Denied", request.protocol)
    if request.protocol in QUERY_PROTOCOLS:
        return Answer(
            403,
            "MissingAuthenticationToken",
            "Request is missing Authentication Token",
            request.protocol,
        )
    return Answer(
        403, "MissingAuthenticationTokenException", "Missing Authentication Token", request.protocol
    )


def presigned(request: Request) -> Answer:
    code = (
        "AccessDenied"
        if request.protocol in (*XML_PROTOCOLS, *QUERY_PROTOCOLS)
        else "AccessDeniedException"
    )
    return Answer(
        403,
        code,
        "The mock account does not accept query-string authentication (presigned URLs): moto's "
        "IAM enforcement can only check a signature in the Authorization header. Send the request "
        "signed as boto3 and the AWS CLI sign it, or use a live AWS account for presigned URLs.",
        request.protocol,
    )


def malformed_authorization(request: Request, environ: dict[str, Any]) -> Answer | None:
    """AWS's answer to an Authorization header it cannot read, or None if it reads."""
    header = request.authorization or ""
    s3 = request.protocol in XML_PROTOCOLS
    if not header.startswith("AWS4-HMAC-SHA256"):
        if s3:
            return Answer(
                400,
                "InvalidRequest",
                "The authorization mechanism you have provided is not supported. Please use "
                "AWS4-HMAC-SHA256.",
                request.protocol,
            )
        return _incomplete(request, f"Unsupported authorization type. Authorization={header}")
    if _SIGV4.fullmatch(header) is None:
        missing = [
            f"Authorization header requires '{name}' parameter."
            for name in ("Credential", "Signature", "SignedHeaders")
            if f"{name}=" not in header
        ]
        detail = " ".join(missing) or (
            "Authorization header must be 'AWS4-HMAC-SHA256 Credential=<key id>/<yyyymmdd>/"
            "<region>/<service>/aws4_request, SignedHeaders=<names>, Signature=<hex>' (in that "
            "order, as boto3 and the AWS CLI write it)."
        )
        if s3:
            return Answer(
                400,
                "AuthorizationHeaderMalformed",
                f"The authorization header is malformed; {detail}",
                request.protocol,
            )
        return _incomplete(request, f"{detail} Authorization={header}")
    if not environ.get("HTTP_X_AMZ_DATE"):
        if s3:
            return Answer(
                403,
                "AccessDenied",
                "AWS authentication requires a valid Date or x-amz-date header (the mock account "
                "needs x-amz-date, which boto3 and the AWS CLI send)",
                request.protocol,
            )
        return _incomplete(
            request,
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header "
            "(the mock account needs 'X-Amz-Date', which boto3 and the AWS CLI send). "
            f"Authorization={header}",
        )
    return None


def _incomplete(request: Request, message: str) -> Answer:
    code = (
        "IncompleteSignature"
        if request.protocol in QUERY_PROTOCOLS
        else "IncompleteSignatureException"
    )
    return Answer(403, code, message, request.protocol)


def unknown_service(request: Request) -> Answer:
    code = (
        "SignatureDoesNotMatch"
        if request.protocol in (*XML_PROTOCOLS, *QUERY_PROTOCOLS)
        else "InvalidSignatureException"
    )
    return Answer(
        403,
        code,
        f"Credential should be scoped to correct service: the mock account has no service "
        f"{request.service!r}.",
        request.protocol,
    )


def undecodable(request: Request, detail: str) -> Answer:
    """A body a text protocol cannot read (not UTF-8, nested too deeply)."""
    if request.service == "lambda":
        what = (
            "Could not parse payload into json: "
            if _LAMBDA_PAYLOAD_PATH.search(request.path)
            else ""
        )
        return Answer(
            400,
            "InvalidRequestContentException",
            f"Could not parse request body into json: {what}{detail}",
            request.protocol,
        )
    if request.protocol in XML_PROTOCOLS:
        return Answer(400, "InvalidRequest", detail, request.protocol)
    if request.protocol in QUERY_PROTOCOLS:
        return Answer(400, "MalformedQueryString", detail, request.protocol)
    return Answer(400, "SerializationException", detail, request.protocol)


def text_body(environ: dict[str, Any]) -> str | Answer | None:
    """Read a text protocol's body (put back for moto): its text, or why it is not UTF-8."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if length <= 0:
        return ""
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        return undecodable(
            Request.of(environ),
            f"Invalid UTF-8 byte 0x{body[error.start]:02x} at offset {error.start}",
        )


def query_problem(request: Request, body: str) -> Answer | None:
    """A query-protocol request (IAM, STS) naming no operation of its service, or leaving out a
    required parameter, which moto answers with a crash: AWS's 400s instead."""
    params = dict(request.query)
    params.update(parse_qs(body, keep_blank_values=True))
    action = (params.get("Action") or [""])[0]
    try:
        model = service_model(request.service or "")
    except Exception:
        return None
    if action not in model.operation_names:
        return Answer(
            400,
            "InvalidAction",
            f"The action {action or '(none)'} is not valid for this web service.",
            request.protocol,
        )
    shape = model.operation_model(action).input_shape
    if shape is None or request.protocol != "query":  # ec2's wire names differ from the model's
        return None
    for name in shape.required_members:
        wire = shape.members[name].serialization.get("name", name)
        if not any(key == wire or key.startswith(f"{wire}.") for key in params):
            field = name[:1].lower() + name[1:]
            return Answer(
                400,
                "ValidationError",
                f"1 validation error detected: Value null at '{field}' failed to satisfy "
                "constraint: Member must not be null",
                request.protocol,
            )
    return None


# -- JSON nesting --------------------------------------------------------------------------------
def json_depth(text: str) -> int:
    """How deeply arrays and objects nest in a JSON text (brackets inside strings not counted)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def deeper_than_allowed(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a JSON text nests deeper than ``limit`` (AWS's 1,000).

    Checked before parsing, not left to the parser: Python 3.11's ``json`` gives up near 1,000
    levels, Python 3.13's only near 20,000, and AWS's answer must not depend on which one runs.
    Counting brackets first (fast) keeps the character walk off ordinary documents.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    return json_depth(text) > limit
