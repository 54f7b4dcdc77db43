"""A stage request and its response, and API Gateway's own error answers.

API Gateway answers errors it makes itself (not the integration's) with a small JSON body, an
``x-amzn-ErrorType`` header and ``Content-Type: application/json``; the wording and even the
spacing are its own: ``{"message":"Forbidden"}`` but ``{"message": "Internal server error"}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class StageRequest:
    """One HTTP request to ``/restapis/{api_id}/{stage}/_user_request_/{path}``."""

    method: str
    api_id: str
    stage: str
    path: str
    """After the stage, starting with ``/`` (``/admit``)."""
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    source_ip: str = "127.0.0.1"

    def header(self, name: str) -> str | None:
        """The last value of a header (names are case-insensitive)."""
        wanted = name.lower()
        found = None
        for key, value in self.headers:
            if key.lower() == wanted:
                found = value
        return found

    def single_headers(self) -> dict[str, str]:
        """Each header's last value, as API Gateway's ``headers`` (multi-value: last wins)."""
        return dict(self.headers)

    def single_query(self) -> dict[str, str]:
        return dict(self.query)

    def multi(self, pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for key, value in pairs:
            grouped.setdefault(key, []).append(value)
        return grouped


@dataclass
class StageResponse:
    """What the stage answers: a status, headers (a name may repeat) and the body's bytes."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    response_type: str | None = None
    """For API Gateway's own errors, the gateway response type an API may customize
    (gateway_responses.py); None for what the integration answered."""

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in reversed(self.headers) if k.lower() == wanted), None)

    def set_header(self, name: str, value: str) -> None:
        wanted = name.lower()
        self.headers = [(k, v) for k, v in self.headers if k.lower() != wanted]
        self.headers.append((name, value))


def gateway_error(
    status: int, error_type: str, body: str, response_type: str | None = None
) -> StageResponse:
    """One of API Gateway's own answers, with its headers."""
    return StageResponse(
        status,
        [("Content-Type", "application/json"), ("x-amzn-ErrorType", error_type)],
        body.encode(),
        response_type,
    )


def missing_authentication_token() -> StageResponse:
    """403: no resource or method of the stage matches (REST APIs answer this, not 404)."""
    return gateway_error(
        403,
        "MissingAuthenticationTokenException",
        '{"message":"Missing Authentication Token"}',
        "MISSING_AUTHENTICATION_TOKEN",
    )


def forbidden(response_type: str | None = None) -> StageResponse:
    """403: no valid API key where one is required (``INVALID_API_KEY``), or an API id or stage
    that is not there (no API to customize it)."""
    return gateway_error(403, "ForbiddenException", '{"message":"Forbidden"}', response_type)


def too_many_requests() -> StageResponse:
    """429: the usage plan's rate or burst is used up for now."""
    return gateway_error(
        429, "TooManyRequestsException", '{"message":"Too Many Requests"}', "THROTTLED"
    )


def limit_exceeded() -> StageResponse:
    """429: the usage plan's quota for the period is used up."""
    return gateway_error(
        429, "LimitExceededException", '{"message":"Limit Exceeded"}', "QUOTA_EXCEEDED"
    )


def internal_server_error(status: int = 500) -> StageResponse:
    """500 (a failure inside API Gateway: permission, template, no mapping) or 502 (a proxy
    integration's malformed response or function error)."""
    return gateway_error(
        status,
        "InternalServerErrorException",
        '{"message": "Internal server error"}',
        "DEFAULT_5XX",
    )


def unsupported_media_type() -> StageResponse:
    """415: no request template for the body's content type and passthrough refused."""
    return gateway_error(
        415,
        "UnsupportedMediaTypeException",
        '{"message": "Unsupported Media Type"}',
        "UNSUPPORTED_MEDIA_TYPE",
    )
