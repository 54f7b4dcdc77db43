"""Live-only steps (IAM Access Analyzer, the policy simulator): run them, or say plainly why not.

Against AWS these calls answer. Live mode can also point at an endpoint that is not AWS
(``AWS_ENDPOINT_URL``: the mock account run as a live one, which is how ``make live-check`` is
tested); such an endpoint may not offer the service at all. Then the step is not failed and not
faked: :func:`attempt` returns a visible ``skipped: …`` line naming the endpoint and its answer.
On an AWS endpoint every error is raised as it is: a denied or throttled call is a real answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlparse

from botocore.exceptions import ClientError

T = TypeVar("T")

AWS_HOST_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws")
UNOFFERED_CODES = frozenset(
    {
        "InternalFailure",  # the mock: an operation moto does not implement
        "InvalidSignatureException",  # the mock: a service it has no backend for
        "NotImplemented",
        "UnknownOperationException",
        "UnrecognizedClientException",
    }
)
"""What an endpoint that is not AWS answers for a service or operation it does not have."""


def is_aws_endpoint(client: Any) -> bool:
    """Does this boto3 client talk to AWS itself (not an ``AWS_ENDPOINT_URL`` stand-in)?"""
    host = urlparse(client.meta.endpoint_url).hostname or ""
    return host.endswith(AWS_HOST_SUFFIXES)


def unanswered(client: Any, error: ClientError) -> str | None:
    """Why ``client``'s endpoint cannot answer this call, or None when the error is a real answer."""
    if is_aws_endpoint(client):
        return None
    details = error.response.get("Error", {})
    code = details.get("Code", "")
    if code not in UNOFFERED_CODES:
        return None
    message = (details.get("Message") or "").split(". ")[0].rstrip(".")
    return (
        f"{client.meta.endpoint_url} is not AWS and does not answer it ({code}: {message}); "
        "on AWS this step runs"
    )


def attempt(client: Any, step: str, call: Callable[[], T], fallback: T) -> tuple[T, str]:
    """``(call(), "")``, or ``(fallback, "skipped: STEP: why")`` when the endpoint lacks the service."""
    try:
        return call(), ""
    except ClientError as error:
        reason = unanswered(client, error)
        if reason is None:
            raise
        return fallback, f"skipped: {step}: {reason}"
