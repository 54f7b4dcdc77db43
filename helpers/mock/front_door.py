"""The mock account's front door: what moto's server answers before moto sees a request.

Split from moto_patches (gap 9). moto's server (``ThreadedMotoServer``) serves more than AWS does
and trusts what it is sent; measured on moto 5.2.x:

- ``/moto-api/…`` answers anyone, unsigned: ``data.json`` is the whole state (every IAM user's
  secret key, every function's environment), ``reset`` deletes everything, ``reset-auth`` turns
  IAM enforcement off, ``seed``/``config``/``recorder``/``state-manager`` change behaviour. AWS has
  no such endpoint. Here every ``/moto-api`` path, and any request moto would route to that
  backend, is a 404 ``UnknownOperationException``, for every caller: the series needs none of it
  (the account sets moto's settings in-process, see account.py).
- An unsigned request (no ``Authorization`` header) crashes moto's IAM enforcement
  (``KeyError: 'HTTP_AUTHORIZATION'``, HTTP 500). AWS answers 403: ``MissingAuthenticationToken``
  ("Missing Authentication Token") for JSON and query APIs, ``AccessDenied`` for S3.
- A malformed ``Authorization`` header, one without ``X-Amz-Date``, a signature scoped to a
  service moto does not have, or a presigned URL (query-string authentication, which moto's
  enforcement cannot check) also crash it; here they get AWS's 400/403 answers instead.
- A request body that is not UTF-8, for a service whose bodies are text (all but S3), crashes
  moto's request parsing; here it is a 400 (Lambda: ``InvalidRequestContentException``).
- Anything that still escapes moto becomes an AWS-shaped error: 400 for input it cannot parse
  (too deeply nested, not UTF-8), otherwise a 500 ``InternalFailure`` that says it is a gap in
  the mock; never a traceback page. The traceback goes to this module's logger.
"""

from __future__ import annotations

import io
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

import botocore.session
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from .apigateway import is_stage_request
from .awslambda.validation import MAX_JSON_DEPTH, deeper_than_allowed
from .s3website import serve as serve_website
from .s3website import website_bucket

log = logging.getLogger(__name__)

MOTO_API_BACKENDS = frozenset({"moto_api", "moto_api._internal"})

_SIGV4 = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/,\s]+)/"
    r"(?P<service>[^/,\s]+)/aws4_request\s*,\s*SignedHeaders=(?P<signed>[^,\s]+)\s*,\s*"
    r"Signature=(?P<signature>[0-9a-fA-F]+)\s*"
)
_DATED_PATH = re.compile(r"^/\d{4}-\d{2}-\d{2}/")
_LAMBDA_PAYLOAD_PATH = re.compile(r"/functions/[^/]+/(invocations|invoke-async)/?$")
_PRESIGN_PARAMETERS = ("X-Amz-Signature", "X-Amz-Credential", "X-Amz-Algorithm")
_XML_PROTOCOLS = ("s3", "rest-xml")
_QUERY_PROTOCOLS = ("query", "ec2")


@cache
def _protocol_of(service: str) -> str:
    """The wire protocol of a service by its signing name (json for names botocore lacks)."""
    if service == "s3":
        return "s3"
    try:
        return str(botocore.session.get_session().get_service_model(service).protocol)
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
        if self.protocol in _XML_PROTOCOLS:
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>\n<Error>'
                f"<Code>{escape(self.code)}</Code><Message>{escape(self.message)}</Message>"
                f"<RequestId>{request_id}</RequestId></Error>"
            )
            headers.append(("Content-Type", "application/xml"))
        elif self.protocol in _QUERY_PROTOCOLS:
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
def _moto_api(request: Request) -> Answer:
    return Answer(
        404,
        "UnknownOperationException",
        f"No AWS API serves {request.path}: the mock account does not expose moto's internal "
        "/moto-api/ endpoint (its state dump, reset and auth switches would let any local process "
        "read or change the account). Use the AWS APIs with the account's credentials; to start "
        "afresh, stop and start the mock account.",
        request.protocol,
    )


def _missing_authentication(request: Request) -> Answer:
    if request.protocol in _XML_PROTOCOLS:
        return Answer(403, "AccessDenied", "Access Denied", request.protocol)
    if request.protocol in _QUERY_PROTOCOLS:
        return Answer(
            403,
            "MissingAuthenticationToken",
            "Request is missing Authentication Token",
            request.protocol,
        )
    return Answer(
        403, "MissingAuthenticationTokenException", "Missing Authentication Token", request.protocol
    )


def _presigned(request: Request) -> Answer:
    code = (
        "AccessDenied"
        if request.protocol in (*_XML_PROTOCOLS, *_QUERY_PROTOCOLS)
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


def _malformed_authorization(request: Request, environ: dict[str, Any]) -> Answer | None:
    """AWS's answer to an Authorization header it cannot read, or None if it reads."""
    header = request.authorization or ""
    s3 = request.protocol in _XML_PROTOCOLS
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
        if request.protocol in _QUERY_PROTOCOLS
        else "IncompleteSignatureException"
    )
    return Answer(403, code, message, request.protocol)


def _unknown_service(request: Request) -> Answer:
    code = (
        "SignatureDoesNotMatch"
        if request.protocol in (*_XML_PROTOCOLS, *_QUERY_PROTOCOLS)
        else "InvalidSignatureException"
    )
    return Answer(
        403,
        code,
        f"Credential should be scoped to correct service: the mock account has no service "
        f"{request.service!r}.",
        request.protocol,
    )


def _undecodable(request: Request, detail: str) -> Answer:
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
    if request.protocol in _XML_PROTOCOLS:
        return Answer(400, "InvalidRequest", detail, request.protocol)
    if request.protocol in _QUERY_PROTOCOLS:
        return Answer(400, "MalformedQueryString", detail, request.protocol)
    return Answer(400, "SerializationException", detail, request.protocol)


def _failure(request: Request, error: BaseException) -> Answer:
    if isinstance(error, UnicodeDecodeError):
        return _undecodable(request, f"Invalid UTF-8 in the request: {error.reason}")
    if isinstance(error, RecursionError):
        return _undecodable(request, "The request nests JSON or XML too deeply to be parsed.")
    log.error(
        "The mock account failed on %s %s", request.service or "?", request.path, exc_info=error
    )
    if request.service == "lambda":
        code = "ServiceException"
    elif request.protocol in _XML_PROTOCOLS:
        code = "InternalError"
    else:
        code = "InternalFailure"
    return Answer(
        500,
        code,
        f"The mock account failed on this request ({type(error).__name__}). This is a gap in "
        "the mock, not an answer AWS would give; the traceback is in the mock account's log "
        "(logger helpers.mock.front_door).",
        request.protocol,
    )


def _text_body(environ: dict[str, Any]) -> str | Answer | None:
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
        return _undecodable(
            Request.of(environ),
            f"Invalid UTF-8 byte 0x{body[error.start]:02x} at offset {error.start}",
        )


def _query_problem(request: Request, body: str) -> Answer | None:
    """A query-protocol request (IAM, STS) naming no operation of its service, or leaving out a
    required parameter, which moto answers with a crash: AWS's 400s instead."""
    params = dict(request.query)
    params.update(parse_qs(body, keep_blank_values=True))
    action = (params.get("Action") or [""])[0]
    try:
        model = botocore.session.get_session().get_service_model(request.service or "")
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


class FrontDoor(DomainDispatcherApplication):
    """moto's dispatcher with the door's checks before it and AWS-shaped errors after it.

    ``stage_app`` (set by the account) serves API Gateway stages' public URLs,
    ``/restapis/{api_id}/{stage}/_user_request_/…``, unsigned as on AWS; it exposes only what a
    deployed stage exposes (apigateway/wire.py).
    """

    stage_app: Callable[..., Any] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if website_bucket(environ) is not None:  # S3 website endpoint: public, unsigned, by Host
            return serve_website(environ, start_response)
        if self.stage_app is not None and is_stage_request(environ.get("PATH_INFO", "") or ""):
            return self.stage_app(environ, start_response)
        request = Request.of(environ)
        if request.path.startswith("/moto-api") or request.path == "/favicon.ico":
            return _moto_api(request)(start_response)
        if request.authorization is None:
            if any(name in request.query for name in _PRESIGN_PARAMETERS) or (
                "Signature" in request.query and "AWSAccessKeyId" in request.query
            ):
                return _presigned(request)(start_response)
            return _missing_authentication(request)(start_response)
        malformed = _malformed_authorization(request, environ)
        if malformed is not None:
            return malformed(start_response)
        if request.protocol not in _XML_PROTOCOLS:
            body = _text_body(environ)
            if isinstance(body, Answer):
                return body(start_response)
            if request.protocol in _QUERY_PROTOCOLS and body is not None:
                problem = _query_problem(request, body)
                if problem is not None:
                    return problem(start_response)
            elif body and request.service != "lambda" and deeper_than_allowed(body):
                # Lambda answers its own way (InvalidRequestContentException with the depth)
                return _undecodable(
                    request,
                    f"The request nests JSON deeper than {MAX_JSON_DEPTH} levels, which AWS "
                    "does not parse.",
                )(start_response)
        try:
            app = self.get_application(environ)
        except Exception:
            return _unknown_service(request)(start_response)
        if getattr(app, "service", None) in MOTO_API_BACKENDS:
            return _moto_api(request)(start_response)

        started = False

        def tracked(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            nonlocal started
            started = True
            return start_response(status, headers, exc_info)

        try:
            return app(environ, tracked)
        except Exception as error:
            if started:
                raise
            return _failure(request, error)(start_response)


class GuardedMotoServer(ThreadedMotoServer):
    """``ThreadedMotoServer`` serving through the FrontDoor (its ``_server_entry``, door added)."""

    door: FrontDoor | None = None

    def _server_entry(self) -> None:
        self.door = FrontDoor(create_backend_app)
        self._server = make_server(
            self._ip_address,
            self._port,
            self.door,
            True,
            request_handler=MotoRequestHandler,
        )
        self._server_ready_event.set()
        self._server.serve_forever()
