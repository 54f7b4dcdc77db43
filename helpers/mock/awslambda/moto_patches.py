"""Lambda's changes to moto: what moto's Lambda accepts, authorizes and runs, made Lambda's.

Gaps (numbered as in the account's list, helpers/mock/moto_patches.py):

4, 12. Lambda requests are authorized against resource ``*``; a function's requests are
   authorized against its ARN (``wire_requests.lambda_resource``), CreateFunction against the
   function it creates (the Service Authorization Reference's, authorization.py).
7, 10. Invoke goes to the Lambda service emulator; names, bodies and Invoke's parameters are
   checked as the Lambda API checks them (in wire_requests.py).
8. CreateFunction/UpdateFunctionConfiguration/UpdateFunctionCode accept what Lambda rejects
   (timeouts, memory sizes, runtimes, names, environment variables, damaged packages, roles Lambda
   cannot assume); updates and deletes must retire the function's execution environments.

``PATCHES`` lists them for ``patching.install``; each works only while a mock account is active.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from moto.awslambda import models as lambda_models
from moto.awslambda.exceptions import InvalidRoleFormat
from moto.awslambda.responses import LambdaResponse
from moto.s3.models import s3_backends

from .. import authorization, patching
from . import code as code_checks
from . import wire_requests
from .configuration_checks import check_code_source, check_configuration, check_process_strings
from .errors import InvalidParameterValue
from .roles import check_lambda_can_assume
from .wire_checks import parse_function_name


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
        except Exception as error:  # Lambda's own message (moto's update path raises ValueError)
            s3_code = getattr(error, "code", None) or type(error).__name__
            s3_message = getattr(error, "message", None) or str(error)
            raise InvalidParameterValue(
                f"Error occurred while GetObject. S3 Error Code: {s3_code}. "
                f"S3 Error Message: {s3_message}"
            ) from None
    return None


def _check_role(account_id: str, role: Any) -> None:
    if not isinstance(role, str) or not re.match(InvalidRoleFormat.pattern, role):
        raise InvalidRoleFormat(str(role))
    check_lambda_can_assume(account_id, role)


def _plain_name(backend: lambda_models.LambdaBackend, spec: dict[str, Any]) -> dict[str, Any]:
    """CreateFunction's FunctionName as moto stores it: the name, from a name or (partial) ARN."""
    ref = parse_function_name(spec.get("FunctionName"), "CreateFunction")
    wire_requests.check_own_arn(backend.account_id, backend.region_name, ref)
    if ref.qualifier:
        raise InvalidParameterValue(
            f"Cannot provide qualifier: CreateFunction takes the function's name ({ref.name}), "
            "without a version or alias."
        )
    return {**spec, "FunctionName": ref.name}


def _create_function(self: lambda_models.LambdaBackend, spec: dict[str, Any]) -> Any:
    """Gap 8: Lambda's validation and trust check before moto stores the function."""
    if patching.active_service() is not None:
        check_configuration(spec, creating=True)
        spec = _plain_name(self, spec)
        data = _zip_from_code(self.account_id, spec.get("Code") or {}, "CreateFunction")
        if data is not None:
            code_checks.check_package(data)
        _check_role(self.account_id, spec.get("Role"))
    return patching.original("create_function")(self, spec)


def _update_function_configuration(
    self: lambda_models.LambdaBackend, function_name: str, qualifier: str, body: dict[str, Any]
) -> Any:
    """Gap 8: validate the new configuration, then retire environments running the old one."""
    service = patching.active_service()
    if service is not None:
        check_configuration(body, creating=False)
        if "Role" in body:
            _check_role(self.account_id, body["Role"])
    result = patching.original("update_function_configuration")(
        self, function_name, qualifier, body
    )
    if service is not None:
        service.retire(self.get_function(function_name).function_name)
    return result


def _update_function_code(
    self: lambda_models.LambdaBackend, function_name: str, qualifier: str, body: dict[str, Any]
) -> Any:
    """Gap 8: check the new package, then retire environments running the old code."""
    service = patching.active_service()
    if service is not None:
        check_code_source(body, None)
        check_process_strings(body)
        data = _zip_from_code(self.account_id, body, "UpdateFunctionCode")
        if data is not None:
            code_checks.check_package(data)
    result = patching.original("update_function_code")(self, function_name, qualifier, body)
    if service is not None and not body.get("DryRun"):
        service.retire(self.get_function(function_name).function_name)
    return result


def _delete_function(
    self: lambda_models.LambdaBackend, function_name: str, qualifier: str | None = None
) -> None:
    """Gap 8: a deleted function's environments go with it."""
    service = patching.active_service()
    name = None
    if service is not None:
        try:
            name = self.get_function(function_name).function_name
        except Exception:
            name = None
    patching.original("delete_function")(self, function_name, qualifier)
    if service is not None and name is not None and qualifier is None:
        service.retire(name)


# -- 4 and 12. resources as AWS authorizes them --------------------------------------------------------
def _lambda_resource(self: LambdaResponse) -> str:
    """Gaps 4 and 12: a function's ARN; CreateFunction's is the function it creates."""
    found = wire_requests.lambda_resource(self)
    creating = self.method == "POST" and self.path.split("?")[0].rstrip("/").endswith("/functions")
    if patching.active_service() is None or found != "*" or not creating:
        return found
    return authorization.lambda_create_resource(
        patching.request_parameters(self), self.current_account, self.region
    )


PATCHES: list[patching.Patch] = [
    ("invoke_response", LambdaResponse, "invoke", wire_requests.invoke_response),
    (
        "invoke_async_response",
        LambdaResponse,
        "invoke_async",
        wire_requests.invoke_async_response,
    ),
    (
        "invoke_lambda",
        lambda_models.LambdaFunction,
        "_invoke_lambda",
        wire_requests.invoke_lambda,
    ),
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
    (
        "lambda_authenticate",
        LambdaResponse,
        "_authenticate_and_authorize_normal_action",
        wire_requests.lambda_authenticate,
    ),
    ("lambda_resource", LambdaResponse, "_determine_resource", _lambda_resource),
]
