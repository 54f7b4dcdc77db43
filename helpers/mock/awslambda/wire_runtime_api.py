"""The Lambda Runtime API (wire layer), one small HTTP server per execution environment.

awslambdaric, AWS's runtime interface client, long-polls ``GET …/invocation/next`` and posts the
handler's result or error back. One server per environment keeps the protocol exactly as on AWS
(the address in ``AWS_LAMBDA_RUNTIME_API`` is just ``host:port``) and tells us which worker is
talking. Two traps, both measured: ``next`` must carry the trace-id header (awslambdaric's C
extension crashed without it), and Nagle's algorithm must be off (each round trip otherwise costs
~40 ms of delayed ACK).

A result larger than Lambda's response limit is not read at all (only its Content-Length is): the
runtime gets 413, as from Lambda's Runtime API, and the invocation ends as
``Function.ResponseSizeTooLarge``.
"""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol

PREFIX = "/2018-06-01/runtime"
RESPONSE_LIMIT = 6_291_556
"""Lambda's limit on a synchronous response (bytes); larger results are refused unread."""
_TOO_LARGE = (
    f'{{"errorMessage":"Exceeded maximum allowed payload size ({RESPONSE_LIMIT} bytes).",'
    '"errorType":"RequestEntityTooLarge"}'
).encode()
_RESULT_PATH = re.compile(rf"^{PREFIX}/invocation/([^/]+)/(response|error)$")


class PendingInvocation(Protocol):
    request_id: str
    payload: bytes
    function_arn: str
    deadline_ms: int
    trace_id: str


class RuntimeApiBackend(Protocol):
    """What the server needs from its execution environment."""

    def next_invocation(self) -> PendingInvocation | None: ...

    def complete(self, request_id: str, kind: str, body: bytes, error_type: str | None) -> bool: ...

    def init_failed(self, body: bytes, error_type: str | None) -> None: ...

    def owns_peer(self, client_port: int, server_port: int) -> bool: ...


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """Silence per-request logging; the worker's own output is what goes to the logs."""

    def setup(self) -> None:
        super().setup()
        # Decided once per connection: is the other end this environment's own worker?
        self.trusted = self.server.backend.owns_peer(
            self.client_address[1], self.server.server_address[1]
        )

    def _refuse(self) -> bool:
        if self.trusted:
            return False
        self.close_connection = True
        self._reply(
            403,
            b'{"errorMessage":"This Runtime API serves its own execution environment only.",'
            b'"errorType":"AccessDenied"}',
        )
        return True

    def _reply(
        self, status: int, body: bytes = b'{"status":"OK"}', headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes | None:
        """The request body, or None (and none of it read) when it is over the response limit."""
        length = int(self.headers.get("Content-Length") or 0)
        if length > RESPONSE_LIMIT:
            self.close_connection = True  # the rest of the body is never read
            return None
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        if self._refuse():
            return
        if self.path == f"{PREFIX}/invocation/next":
            invocation = self.server.backend.next_invocation()
            if invocation is None:
                self.close_connection = True
                self._reply(410, b'{"errorMessage":"The execution environment is shutting down."}')
                return
            self._reply(
                200,
                invocation.payload,
                {
                    "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                    "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
                    "Lambda-Runtime-Invoked-Function-Arn": invocation.function_arn,
                    "Lambda-Runtime-Trace-Id": invocation.trace_id,
                },
            )
        elif self.path == f"{PREFIX}/restore/next":
            self._reply(200)
        else:
            self._reply(404, b'{"errorMessage":"Unknown Runtime API path."}')

    def do_POST(self) -> None:
        if self._refuse():
            return
        body = self._body()
        error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
        match = _RESULT_PATH.match(self.path)
        if match:
            kind = match.group(2) if body is not None else "too_large"
            known = self.server.backend.complete(match.group(1), kind, body or b"", error_type)
            if body is None:
                self._reply(413, _TOO_LARGE)
            elif known:
                self._reply(202)
            else:
                self._reply(
                    400, b'{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}'
                )
        elif self.path == f"{PREFIX}/init/error":
            if body is None:
                self.server.backend.init_failed(_TOO_LARGE, "Runtime.ExitError")
                self._reply(413, _TOO_LARGE)
            else:
                self.server.backend.init_failed(body, error_type)
                self._reply(202)
        else:
            self._reply(404, b'{"errorMessage":"Unknown Runtime API path."}')


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    backend: RuntimeApiBackend

    def handle_error(self, request: object, client_address: object) -> None:
        """A worker killed mid-request (timeout, retirement) is expected; do not print tracebacks."""


class RuntimeApiServer:
    """Binds 127.0.0.1 on a free port; ``address`` is what goes into AWS_LAMBDA_RUNTIME_API."""

    def __init__(self, backend: RuntimeApiBackend) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.backend = backend
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()
