"""Every change the mock account makes to moto, in one place, each filling one named gap.

``install()`` patches moto's classes once per process; each patch does its work only while a
mock account is active (``activate``/``deactivate``) and otherwise calls moto's original, so
other uses of moto in the same process (``mock_aws`` in someone else's test) are unaffected.

Gaps filled (moto 5.2.x, measured):

1. Bodiless REST requests (``GET /2015-03-31/functions``…) fail moto's signature check under IAM
   enforcement: it re-signs them with a form-encoded copy of the headers as the body.
2. There is no unrestricted identity once enforcement is on; the mock account's root key is one
   (see identity.py): authenticated, never limited by policies.
3. Lambda Invoke is authorized as ``lambda:Invoke``; AWS's action is ``lambda:InvokeFunction``.
4. Non-S3 requests are authorized against resource ``*`` only; Lambda requests about one function
   are authorized against that function's ARN (qualified when a Qualifier is given), as on AWS.
5. A role whose trust policy has only a ``Service`` principal crashes moto's AssumeRole check
   (``TypeError``, HTTP 500); such a role simply does not trust an IAM principal.
6. ``GetCallerIdentity`` for the root key answers with the account root's ARN, as AWS does.
7. Invoke never runs code without Docker; here it goes to the Lambda service emulator, with AWS's
   status codes (200/202/204/429) and headers (FunctionError, LogResult, ExecutedVersion).
8. CreateFunction/UpdateFunctionConfiguration/UpdateFunctionCode accept what Lambda rejects
   (timeouts, memory sizes, runtimes, packages, roles Lambda cannot assume); updates and deletes
   must retire the function's execution environments.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import botocore.session
from botocore.awsrequest import AWSRequest
from moto.awslambda import models as lambda_models
from moto.awslambda.exceptions import InvalidRoleFormat
from moto.awslambda.responses import LambdaResponse
from moto.core.exceptions import AccessDeniedError
from moto.iam import access_control
from moto.s3.models import s3_backends
from moto.sts.models import STSBackend

from . import code as code_checks
from .errors import AccessDenied, InvalidParameterValue
from .identity import RootAccessKey, is_root_key, root_arn
from .roles import check_lambda_can_assume
from .validation import check_configuration

if TYPE_CHECKING:
    from .service import LambdaService

_lock = threading.Lock()
_installed = False
_service: LambdaService | None = None
_originals: dict[str, Callable[..., Any]] = {}

ACTION_ALIASES = {"lambda:Invoke": "lambda:InvokeFunction"}
_FUNCTION_PATH = re.compile(r"^/\d{4}-\d{2}-\d{2}/functions/([^/]+)(/.*)?$")


def active_service() -> LambdaService | None:
    return _service


def activate(service: LambdaService) -> None:
    """Route moto's Lambda through ``service`` and turn the other patches on."""
    global _service
    install()
    if _service is not None and _service is not service:
        raise RuntimeError(
            "Another mock account is already active in this process; stop it first "
            "(helpers.mock.current_mock_account().stop())."
        )
    _service = service


def deactivate() -> None:
    global _service
    _service = None


# -- 1. signature of bodiless requests ------------------------------------------------------------
def _create_aws_request(self: access_control.IAMRequestBase) -> AWSRequest:
    """Gap 1: re-sign a bodiless request with an empty body, as the client signed it."""
    content_type = self._headers.get("Content-Type", "") or ""
    if (
        _service is None
        or self._body
        or content_type.startswith("application/x-www-form-urlencoded")
    ):
        return _originals["create_aws_request"](self)
    signed = self._get_string_between("SignedHeaders=", ",", self._headers["Authorization"]).split(
        ";"
    )
    headers = self._create_headers_for_aws_request(signed, self._headers)
    request = AWSRequest(method=self._method, url=self._path, data=b"", headers=headers)
    request.context["timestamp"] = headers["X-Amz-Date"]
    return request


# -- 2. root identity -------------------------------------------------------------------------------
def _create_access_key(
    account_id: str, partition: str, access_key_id: str, headers: dict[str, str]
) -> Any:
    """Gap 2: the root key authenticates as the account root."""
    if _service is not None and is_root_key(access_key_id):
        return RootAccessKey(account_id, partition)
    return _originals["create_access_key"](account_id, partition, access_key_id, headers)


def _check_action_permitted(self: access_control.IAMRequestBase, resource: str) -> None:
    """Gap 2: the root is not limited by identity policies. Gap 2b: denials from JSON-protocol
    services (Lambda, Logs, EventBridge) come as JSON AccessDeniedException, not IAM's XML."""
    if _service is None:
        return _originals["check_action_permitted"](self, resource)
    if isinstance(self._access_key, RootAccessKey):
        return None
    try:
        return _originals["check_action_permitted"](self, resource)
    except AccessDeniedError:
        if _json_protocol(self._service):
            raise AccessDenied(self._access_key.arn, self._action, resource) from None
        raise


@functools.cache
def _json_protocol(signing_name: str) -> bool:
    try:
        model = botocore.session.get_session().get_service_model(signing_name)
    except Exception:
        return False
    return model.protocol in ("json", "rest-json")


# -- 3. IAM action names ----------------------------------------------------------------------------
def _iam_request_init(self: access_control.IAMRequestBase, *args: Any, **kwargs: Any) -> None:
    """Gap 3: authorize Invoke as lambda:InvokeFunction."""
    _originals["iam_request_init"](self, *args, **kwargs)
    if _service is not None:
        self._action = ACTION_ALIASES.get(self._action, self._action)


# -- 4. Lambda resource ARNs ------------------------------------------------------------------------
def _lambda_resource(self: LambdaResponse) -> str:
    """Gap 4: the function's ARN as the resource of per-function Lambda requests."""
    if _service is None:
        return "*"
    match = _FUNCTION_PATH.match(self.path)
    if not match:
        return "*"
    name = unquote(match.group(1))
    if name.startswith("arn:"):
        return name
    qualifier = (self.querystring.get("Qualifier") or [None])[0]
    arn = f"arn:aws:lambda:{self.region}:{self.current_account}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier and qualifier != "$LATEST" else arn


# -- 5. Service principals in trust policies --------------------------------------------------------
def _check_principal(self: access_control.IAMPolicyStatement, principal: str) -> bool:
    """Gap 5: a statement without an AWS principal does not match an IAM caller."""
    expected = self._statement.get("Principal")
    if _service is None or not expected or expected == "*":
        return _originals["check_principal"](self, principal)
    aws = expected.get("AWS") if isinstance(expected, dict) else None
    if aws is None:
        return False
    return aws == "*" or principal == aws or (isinstance(aws, list) and principal in aws)


# -- 6. caller identity of the root ------------------------------------------------------------------
def _get_caller_identity(self: STSBackend, access_key_id: str, region: str) -> tuple[str, str, str]:
    """Gap 6: the root key is the account root."""
    if _service is not None and is_root_key(access_key_id):
        return self.account_id, root_arn(self.account_id), self.account_id
    return _originals["get_caller_identity"](self, access_key_id, region)


# -- 7. Invoke runs the code ------------------------------------------------------------------------
def _invoke_response(self: LambdaResponse) -> tuple[int, dict[str, str], bytes | str]:
    """Gap 7: Invoke through the emulator, answering with AWS's status codes and headers."""
    service = _service
    if service is None:
        return _originals["invoke_response"](self)
    name = unquote(self.path.rsplit("/", 2)[-2])
    qualifier = (self.querystring.get("Qualifier") or [None])[0]
    fn = self.backend.get_function(name, qualifier)
    result = service.invoke(
        fn,
        self.raw_body if isinstance(self.raw_body, bytes) else (self.raw_body or "").encode(),
        self.headers.get("X-Amz-Invocation-Type") or "RequestResponse",
        log_tail=self.headers.get("X-Amz-Log-Type") == "Tail",
    )
    headers = {"content-type": "application/json", "status": str(result.status_code)}
    if result.executed_version:
        headers["x-amz-executed-version"] = result.executed_version
    if result.function_error:
        headers["x-amz-function-error"] = result.function_error
    if result.log_result is not None:
        headers["x-amz-log-result"] = result.log_result
    return result.status_code, headers, result.payload


def _invoke_async_response(self: LambdaResponse) -> tuple[int, dict[str, str], bytes | str]:
    """Gap 7 (legacy InvokeAsync API): queue the event, answer 202 {"Status": 202}."""
    service = _service
    if service is None:
        return _originals["invoke_async_response"](self)
    index = -3 if self.path.endswith("/") else -2
    fn = self.backend.get_function(unquote(self.path.rsplit("/", 3)[index]), None)
    service.invoke(fn, self.raw_body if isinstance(self.raw_body, bytes) else b"", "Event")
    return 202, {"content-type": "application/json", "status": "202"}, json.dumps({"Status": 202})


def _invoke_lambda(self: lambda_models.LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    """Gap 7 for moto's own callers (SNS, SQS, Logs subscriptions): run the function for real."""
    service = _service
    if service is None:
        return _originals["invoke_lambda"](self, event)
    payload = json.dumps(event if event is not None else {}).encode()
    result = service.invoke_and_wait(self, payload)
    logs = base64.b64decode(result.log_result or "").decode("utf-8", "replace")
    return result.payload.decode("utf-8", "replace"), result.function_error is not None, logs


# -- 8. validation, trust and retiring ----------------------------------------------------------------
def _zip_from_code(account_id: str, code: dict[str, Any], operation: str) -> bytes | None:
    if code.get("ZipFile"):
        raw = code["ZipFile"]
        try:
            data = base64.b64decode(raw if isinstance(raw, bytes) else raw.encode())
        except (binascii.Error, ValueError) as error:
            raise InvalidParameterValue(code_checks.UNZIP_FAILED) from error
        code_checks.check_direct_upload(data, operation)
        return data
    if code.get("S3Bucket") and code.get("S3Key"):
        try:
            return s3_backends[account_id]["aws"].get_object(code["S3Bucket"], code["S3Key"]).value
        except Exception:
            return None  # moto reports missing buckets/keys with Lambda's own message
    return None


def _check_role(account_id: str, role: Any) -> None:
    if not isinstance(role, str) or not re.match(InvalidRoleFormat.pattern, role):
        raise InvalidRoleFormat(str(role))
    check_lambda_can_assume(account_id, role)


def _create_function(self: lambda_models.LambdaBackend, spec: dict[str, Any]) -> Any:
    """Gap 8: Lambda's validation and trust check before moto stores the function."""
    if _service is not None:
        check_configuration(spec, creating=True)
        data = _zip_from_code(self.account_id, spec.get("Code") or {}, "CreateFunction")
        if data is not None:
            code_checks.check_package(data)
        _check_role(self.account_id, spec.get("Role"))
    return _originals["create_function"](self, spec)


def _update_function_configuration(
    self: lambda_models.LambdaBackend, function_name: str, qualifier: str, body: dict[str, Any]
) -> Any:
    """Gap 8: validate the new configuration, then retire environments running the old one."""
    service = _service
    if service is not None:
        check_configuration(body, creating=False)
        if "Role" in body:
            _check_role(self.account_id, body["Role"])
    result = _originals["update_function_configuration"](self, function_name, qualifier, body)
    if service is not None:
        service.retire(self.get_function(function_name).function_name)
    return result


def _update_function_code(
    self: lambda_models.LambdaBackend, function_name: str, qualifier: str, body: dict[str, Any]
) -> Any:
    """Gap 8: check the new package, then retire environments running the old code."""
    service = _service
    if service is not None:
        data = _zip_from_code(self.account_id, body, "UpdateFunctionCode")
        if data is not None:
            code_checks.check_package(data)
    result = _originals["update_function_code"](self, function_name, qualifier, body)
    if service is not None and not body.get("DryRun"):
        service.retire(self.get_function(function_name).function_name)
    return result


def _delete_function(
    self: lambda_models.LambdaBackend, function_name: str, qualifier: str | None = None
) -> None:
    """Gap 8: a deleted function's environments go with it."""
    service = _service
    name = None
    if service is not None:
        try:
            name = self.get_function(function_name).function_name
        except Exception:
            name = None
    _originals["delete_function"](self, function_name, qualifier)
    if service is not None and name is not None and qualifier is None:
        service.retire(name)


# -- installation ---------------------------------------------------------------------------------------
_PATCHES: list[tuple[str, Any, str, Callable[..., Any]]] = [
    (
        "create_aws_request",
        access_control.IAMRequestBase,
        "_create_aws_request",
        _create_aws_request,
    ),
    ("create_access_key", access_control, "create_access_key", _create_access_key),
    (
        "check_action_permitted",
        access_control.IAMRequestBase,
        "check_action_permitted",
        _check_action_permitted,
    ),
    ("iam_request_init", access_control.IAMRequestBase, "__init__", _iam_request_init),
    ("check_principal", access_control.IAMPolicyStatement, "_check_principal", _check_principal),
    ("get_caller_identity", STSBackend, "get_caller_identity", _get_caller_identity),
    ("invoke_response", LambdaResponse, "invoke", _invoke_response),
    ("invoke_async_response", LambdaResponse, "invoke_async", _invoke_async_response),
    ("invoke_lambda", lambda_models.LambdaFunction, "_invoke_lambda", _invoke_lambda),
    ("create_function", lambda_models.LambdaBackend, "create_function", _create_function),
    (
        "update_function_configuration",
        lambda_models.LambdaBackend,
        "update_function_configuration",
        _update_function_configuration,
    ),
    (
        "update_function_code",
        lambda_models.LambdaBackend,
        "update_function_code",
        _update_function_code,
    ),
    ("delete_function", lambda_models.LambdaBackend, "delete_function", _delete_function),
]


def install() -> None:
    """Apply the patches (once per process); they stay inert until ``activate``."""
    global _installed
    with _lock:
        if _installed:
            return
        for key, owner, attribute, replacement in _PATCHES:
            _originals[key] = getattr(owner, attribute)
            setattr(owner, attribute, replacement)
        LambdaResponse._determine_resource = _lambda_resource  # type: ignore[attr-defined]
        _installed = True
