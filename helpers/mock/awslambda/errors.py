"""Lambda API errors with AWS's codes, HTTP statuses and wording.

They subclass moto's ``JsonRESTError`` so that moto's wire layer turns them into the JSON error
bodies (``__type`` + ``message``) that boto3 and the AWS CLI parse. Where the mock's behaviour has
no AWS counterpart the message says so and what to do instead.
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.exceptions import JsonRESTError

RESERVED_CONCURRENCY_REASON = "ReservedFunctionConcurrentInvocationLimitExceeded"
ACCOUNT_CONCURRENCY_REASON = "ConcurrentInvocationLimitExceeded"


class LambdaApiError(JsonRESTError):
    """Base class: a 400 with AWS's error type and message."""

    code = 400

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(error_type, message)


class ValidationError(LambdaApiError):
    """A parameter outside its allowed range (AWS phrases these as constraint failures).

    ``sensitive`` leaves the value out, as AWS does for members it treats as secret (environment
    variables): "Value at 'environment.variables' failed to satisfy constraint: …".
    """

    def __init__(self, value: Any, field: str, constraint: str, *, sensitive: bool = False) -> None:
        shown = "Value" if sensitive else "Value null" if value is None else f"Value '{value}'"
        super().__init__(
            "ValidationException",
            f"1 validation error detected: {shown} at '{field}' failed to satisfy "
            f"constraint: {constraint}",
        )


class InvalidParameterValue(LambdaApiError):
    def __init__(self, message: str) -> None:
        super().__init__("InvalidParameterValueException", message)


class RequestEntityTooLarge(LambdaApiError):
    """A direct upload above 50 MB (AWS counts the base64 request: 69905067 bytes)."""

    code = 413

    def __init__(self, operation: str) -> None:
        super().__init__(
            "RequestEntityTooLargeException",
            f"Request must be smaller than 69905067 bytes for the {operation} operation",
        )


class RequestTooLarge(LambdaApiError):
    """An invoke payload above the synchronous (6 MB) or asynchronous (1 MB) limit."""

    code = 413

    def __init__(self, limit: int) -> None:
        super().__init__(
            "RequestTooLargeException",
            f"Request must be smaller than {limit} bytes for the InvokeFunction operation",
        )


class InvalidRequestContent(LambdaApiError):
    """A request body (``payload=False``) or an Invoke payload that is not the JSON it must be."""

    def __init__(self, detail: str, *, payload: bool = True) -> None:
        what = "Could not parse payload into json: " if payload else ""
        super().__init__(
            "InvalidRequestContentException",
            f"Could not parse request body into json: {what}{detail}",
        )


class ResourceNotFound(LambdaApiError):
    code = 404

    def __init__(self, message: str) -> None:
        super().__init__("ResourceNotFoundException", message)


class InvalidZipFile(LambdaApiError):
    """The function's package cannot be unpacked when an environment starts (502, as on AWS)."""

    code = 502

    def __init__(self, detail: str) -> None:
        super().__init__(
            "InvalidZipFileException",
            f"Lambda was unable to unzip the function's deployment package: {detail}. Upload a "
            "package that unzips cleanly (update_function_code), then invoke again.",
        )


class InvalidRuntime(LambdaApiError):
    """The mock runs Python functions only; AWS uses this error for runtimes it cannot start."""

    code = 502

    def __init__(self, runtime: str | None) -> None:
        super().__init__(
            "InvalidRuntimeException",
            f"The mock account cannot run functions with runtime {runtime!r}: it runs Python "
            "runtimes (python3.x) only, with the interpreter of the notebook. Create the function "
            "with a python3.x runtime, or invoke it on a live AWS account.",
        )


class ContainerEngineUnavailable(LambdaApiError):
    """An image function, and no Docker engine to run it in (AWS has no such case: it says how)."""

    code = 502

    def __init__(self, message: str) -> None:
        super().__init__("ServiceException", message)


class ImageUnusable(InvalidParameterValue):
    """The function's image cannot be started: missing, or no room for it (AWS's error type)."""


class TooManyRequests(LambdaApiError):
    """429 past a concurrency limit; the body carries AWS's ``Reason`` and ``Type``."""

    code = 429

    def __init__(self, reason: str) -> None:
        super().__init__("TooManyRequestsException", "Rate Exceeded.")
        self.reason = reason
        self.description = json.dumps(
            {
                "__type": "TooManyRequestsException",
                "message": "Rate Exceeded.",
                "Reason": reason,
                "Type": "User",
            }
        )


class AccessDenied(LambdaApiError):
    """403 in the JSON form JSON-protocol services (Lambda, Logs, EventBridge) use on AWS."""

    code = 403

    def __init__(self, principal_arn: str, action: str, resource: str) -> None:
        super().__init__(
            "AccessDeniedException",
            f"User: {principal_arn} is not authorized to perform: {action} on resource: {resource} "
            f"because no identity-based policy allows the {action} action",
        )


class ServiceShuttingDown(LambdaApiError):
    code = 503

    def __init__(self) -> None:
        super().__init__(
            "ServiceException",
            "The mock account is shutting down, so the function was not run. Start the mock "
            "account again (helpers.mock.start_mock_account()) and retry.",
        )
