"""Lambda requests as the Lambda API handles them: names, resources, checks and Invoke.

Gaps 4, 7 and 10 of the account's list (helpers/mock/moto_patches.py); these functions replace
moto's through this package's ``moto_patches.PATCHES``, work only while a mock account is active
(``patching.active_service``) and call moto's original otherwise.

4. Non-S3 requests are authorized against resource ``*`` only; Lambda requests about one function
   are authorized against that function's ARN (qualified when a Qualifier is given), as on AWS.
7. Invoke never runs code without Docker; here it goes to the Lambda service emulator, with AWS's
   status codes (200/202/204/429) and headers (FunctionError, LogResult, ExecutedVersion).
10. moto does not check Lambda requests as the Lambda API does: a function name must satisfy the
    operation's pattern and lengths (moto accepted ``foo bar``, ``x;rm``, ``..``, 65 characters,
    and crashed on a partial ARN ``123456789012:function:x``, which AWS resolves); a JSON body
    must parse and match the operation's input shape; Invoke's InvocationType, LogType and
    Qualifier must be valid (``Bogus`` ran synchronously); a payload nested deeper than can be
    parsed is a 400, not a crash.
"""

from __future__ import annotations

import base64
import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from moto.awslambda import models as lambda_models
from moto.awslambda.responses import LambdaResponse

from .. import patching
from .errors import ResourceNotFound, ValidationError
from .wire_checks import (
    FunctionRef,
    check_invoke_parameters,
    check_request_body,
    parse_function_name,
    too_deep,
)

if TYPE_CHECKING:
    from .service import LambdaService

FUNCTION_PATH = re.compile(r"^/\d{4}-\d{2}-\d{2}/functions/([^/]+)(/.*)?$")


def _active() -> LambdaService | None:
    return patching.active_service()


def _original(key: str) -> Any:
    return patching.original(key)


# -- 4. Lambda resource ARNs ------------------------------------------------------------------------
def lambda_resource(self: LambdaResponse) -> str:
    """Gap 4: the function's ARN as the resource of per-function Lambda requests."""
    if _active() is None:
        return "*"
    match = FUNCTION_PATH.match(self.path)
    if not match:
        return "*"
    name = unquote(match.group(1))
    if name.startswith("arn:"):
        return name
    try:  # an invalid name is reported after authentication (gap 10); authorize it as given
        ref = parse_function_name(name, self._get_action())
    except ValidationError:
        ref = FunctionRef(name)
    region = ref.region or self.region
    arn = f"arn:aws:lambda:{region}:{ref.account_id or self.current_account}:function:{ref.name}"
    qualifier = ref.qualifier or (self.querystring.get("Qualifier") or [None])[0]
    return f"{arn}:{qualifier}" if qualifier and qualifier != "$LATEST" else arn


# -- 7. Invoke runs the code ------------------------------------------------------------------------
def invoke_response(self: LambdaResponse) -> tuple[int, dict[str, str], bytes | str]:
    """Gap 7: Invoke through the emulator, answering with AWS's status codes and headers."""
    service = _active()
    if service is None:
        return _original("invoke_response")(self)
    name = unquote(self.path.rsplit("/", 2)[-2])
    qualifier = (self.querystring.get("Qualifier") or [None])[0]
    fn = self.backend.get_function(name, qualifier)
    payload = self.raw_body if isinstance(self.raw_body, bytes) else (self.raw_body or "").encode()
    try:
        result = service.invoke(
            fn,
            payload,
            self.headers.get("X-Amz-Invocation-Type") or "RequestResponse",
            log_tail=self.headers.get("X-Amz-Log-Type") == "Tail",
        )
    except RecursionError:
        raise too_deep(payload) from None
    headers = {"content-type": "application/json", "status": str(result.status_code)}
    if result.executed_version:
        headers["x-amz-executed-version"] = result.executed_version
    if result.function_error:
        headers["x-amz-function-error"] = result.function_error
    if result.log_result is not None:
        headers["x-amz-log-result"] = result.log_result
    return result.status_code, headers, result.payload


def invoke_async_response(self: LambdaResponse) -> tuple[int, dict[str, str], bytes | str]:
    """Gap 7 (legacy InvokeAsync API): queue the event, answer 202 {"Status": 202}."""
    service = _active()
    if service is None:
        return _original("invoke_async_response")(self)
    index = -3 if self.path.endswith("/") else -2
    fn = self.backend.get_function(unquote(self.path.rsplit("/", 3)[index]), None)
    payload = self.raw_body if isinstance(self.raw_body, bytes) else b""
    try:
        service.invoke(fn, payload, "Event")
    except RecursionError:
        raise too_deep(payload) from None
    return 202, {"content-type": "application/json", "status": "202"}, json.dumps({"Status": 202})


def invoke_lambda(self: lambda_models.LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    """Gap 7 for moto's own callers (SNS, SQS, Logs subscriptions): run the function for real."""
    service = _active()
    if service is None:
        return _original("invoke_lambda")(self, event)
    payload = json.dumps(event if event is not None else {}).encode()
    result = service.invoke_and_wait(self, payload)
    logs = base64.b64decode(result.log_result or "").decode("utf-8", "replace")
    return result.payload.decode("utf-8", "replace"), result.function_error is not None, logs


# -- 10. Lambda's request checks ------------------------------------------------------------------
def check_own_arn(account_id: str, region: str, ref: FunctionRef) -> None:
    """An ARN naming another account or region names no function here: the mock account has
    only its own functions, each in the region it was created in (moto ignores both parts)."""
    other_account = ref.account_id is not None and ref.account_id != account_id
    other_region = ref.region is not None and ref.region != region
    if other_account or other_region:
        arn = f"arn:aws:lambda:{ref.region or region}:{ref.account_id or account_id}:function:{ref.name}"
        raise ResourceNotFound(f"Function not found: {arn}")


def lambda_authenticate(self: LambdaResponse, resource: str = "*") -> None:
    """Gap 10: once the caller is authenticated and authorized, check the request as Lambda does.

    A FunctionName in the path must satisfy the operation's pattern and lengths; an ARN or partial
    ARN is resolved to the plain ``name[:qualifier]`` moto looks up (the signature was checked on
    the path as sent, so rewriting it now changes nothing the caller signed). A JSON body must
    parse and match the operation's input shape; Invoke's InvocationType, LogType and Qualifier
    must be valid.
    """
    _original("lambda_authenticate")(self, resource)
    if _active() is None:
        return
    operation = self._get_action()
    match = FUNCTION_PATH.match(self.path)
    if match:
        ref = parse_function_name(unquote(match.group(1)), operation)
        check_own_arn(self.current_account, self.region, ref)
        start, end = match.span(1)
        self.path = self.path[:start] + quote(ref.qualified_name, safe="$:") + self.path[end:]
    check_request_body(operation, self.body)
    if operation == "Invoke":
        check_invoke_parameters(
            self.headers.get("X-Amz-Invocation-Type"),
            self.headers.get("X-Amz-Log-Type"),
            (self.querystring.get("Qualifier") or [None])[0],
        )
