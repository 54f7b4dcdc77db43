"""The mock account's front door: what moto's server answers before moto sees a request.

Gap 9 of moto_patches.py. moto's server (``ThreadedMotoServer``) serves more than AWS does
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

The checks and the answers they give are in door_checks.py; this module is the dispatcher that
makes them in order, hands public data-plane requests (S3 websites, API stages) to their service
and everything else to moto.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from .apigateway import is_stage_request
from .door_checks import (
    MAX_JSON_DEPTH,
    PRESIGN_PARAMETERS,
    QUERY_PROTOCOLS,
    XML_PROTOCOLS,
    Answer,
    Request,
    deeper_than_allowed,
    malformed_authorization,
    missing_authentication,
    moto_api,
    presigned,
    query_problem,
    text_body,
    undecodable,
    unknown_service,
)
from .s3website import serve as serve_website
from .s3website import website_bucket

log = logging.getLogger(__name__)

MOTO_API_BACKENDS = frozenset({"moto_api", "moto_api._internal"})


def _failure(request: Request, error: BaseException) -> Answer:
    if isinstance(error, UnicodeDecodeError):
        return undecodable(request, f"Invalid UTF-8 in the request: {error.reason}")
    if isinstance(error, RecursionError):
        return undecodable(request, "The request nests JSON or XML too deeply to be parsed.")
    log.error(
        "The mock account failed on %s %s", request.service or "?", request.path, exc_info=error
    )
    if request.service == "lambda":
        code = "ServiceException"
    elif request.protocol in XML_PROTOCOLS:
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
            return moto_api(request)(start_response)
        if request.authorization is None:
            if any(name in request.query for name in PRESIGN_PARAMETERS) or (
                "Signature" in request.query and "AWSAccessKeyId" in request.query
            ):
                return presigned(request)(start_response)
            return missing_authentication(request)(start_response)
        malformed = malformed_authorization(request, environ)
        if malformed is not None:
            return malformed(start_response)
        if request.protocol not in XML_PROTOCOLS:
            body = text_body(environ)
            if isinstance(body, Answer):
                return body(start_response)
            if request.protocol in QUERY_PROTOCOLS and body is not None:
                problem = query_problem(request, body)
                if problem is not None:
                    return problem(start_response)
            elif body and request.service != "lambda" and deeper_than_allowed(body):
                # Lambda answers its own way (InvalidRequestContentException with the depth)
                return undecodable(
                    request,
                    f"The request nests JSON deeper than {MAX_JSON_DEPTH} levels, which AWS "
                    "does not parse.",
                )(start_response)
        try:
            app = self.get_application(environ)
        except Exception:
            return unknown_service(request)(start_response)
        if getattr(app, "service", None) in MOTO_API_BACKENDS:
            return moto_api(request)(start_response)

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
        # Polled every 50 ms rather than socketserver's 500: stopping an account waits for the
        # next poll, and every test module, kernel and CLI run stops one.
        self._server.serve_forever(poll_interval=0.05)
