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
   are authorized against that function's ARN (in lambda_requests.py).
5. A role whose trust policy has only a ``Service`` principal crashes moto's AssumeRole check
   (``TypeError``, HTTP 500); such a role simply does not trust an IAM principal.
6. ``GetCallerIdentity`` for the root key answers with the account root's ARN, as AWS does.
7. Invoke never runs code without Docker; here it goes to the Lambda service emulator, with AWS's
   status codes and headers (in lambda_requests.py).
8. CreateFunction/UpdateFunctionConfiguration/UpdateFunctionCode accept what Lambda rejects
   (timeouts, memory sizes, runtimes, names, environment variables, damaged packages, roles Lambda
   cannot assume); updates and deletes must retire the function's execution environments.
9. The server answers what AWS does not have (``/moto-api/``) and crashes (HTTP 500) on unsigned,
   malformed or undecodable requests: front_door.py, which account.py serves through.
10. Lambda requests are not checked as the Lambda API checks them: function names (moto crashes
    on a partial ARN such as ``123456789012:function:x``), JSON bodies against the API model,
    Invoke's InvocationType/LogType/Qualifier (``Bogus`` ran synchronously), payloads nested too
    deeply (in lambda_requests.py).
11. moto never asks for ``iam:PassRole``: passing a role to a function (CreateFunction, or an
    UpdateFunctionConfiguration that sets Role) needs it on that role, as on AWS (passrole.py).
12. IAM, STS, Logs, EventBridge and ECR requests and Lambda's CreateFunction are authorized
    against ``*`` (IAM: a role's ARN once it exists), so a policy scoped to names denies what AWS
    allows; they are authorized against the ARN the Service Authorization Reference gives
    (authorization.py), and IAM/STS denials name the action and resource as AWS's do.
13. S3 HeadBucket is checked as ``s3:HeadBucket``, which IAM does not have (AWS: ``s3:ListBucket``);
    DeleteObjects is checked as ``s3:DeleteObject`` on the bucket (AWS: on each object); a bucket's
    ``?publicAccessBlock`` as ``s3:CreateBucket``/``ListBucket``/``DeleteBucket`` (moto looks for
    ``public_access_block``; AWS: ``s3:Put|Get|DeleteBucketPublicAccessBlock``).
14. AssumeRole's trust check denies when any statement names another principal, and does not know
    that naming ``arn:aws:iam::ACCOUNT:root`` trusts the account's users and roles (their policies
    decide); the trust policy is judged by the series' evaluator instead (authorization.py).
15. API Gateway is checked as ``apigateway:<Operation>`` on ``*``, with identity policies read
    without condition values; AWS checks the HTTP verb (``apigateway:GET``…) on the ARN of the
    request's path, with the item's tags as ``aws:ResourceTag`` and a create's as
    ``aws:RequestTag``: judged so by the series' evaluator (apigateway/authorization.py).

Gaps 4, 7 and 10 live in lambda_requests.py and gap 9 in front_door.py; their patches are
registered in ``_PATCHES`` below like the others.
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
from urllib.parse import urlsplit

import botocore.session
from botocore.awsrequest import AWSRequest
from moto.apigateway.models import apigateway_backends
from moto.apigateway.responses import APIGatewayResponse
from moto.awslambda import models as lambda_models
from moto.awslambda.exceptions import InvalidRoleFormat
from moto.awslambda.responses import LambdaResponse
from moto.core.exceptions import AccessDeniedError
from moto.ecr.responses import ECRResponse
from moto.events.responses import EventsHandler
from moto.iam import access_control
from moto.iam.responses import IamResponse
from moto.logs.responses import LogsResponse
from moto.s3.models import s3_backends
from moto.s3.responses import S3Response
from moto.sts.models import STSBackend
from moto.sts.responses import TokenResponse

from . import authorization
from .apigateway import authorization as apigateway_authorization
from .awslambda import code as code_checks
from .awslambda import wire_requests as lambda_requests
from .awslambda.errors import AccessDenied, InvalidParameterValue, LambdaApiError
from .awslambda.passrole import check_pass_role
from .awslambda.roles import check_lambda_can_assume
from .awslambda.validation import (
    check_code_source,
    check_configuration,
    check_process_strings,
    parse_function_name,
)
from .identity import RootAccessKey, is_root_key, root_arn

if TYPE_CHECKING:
    from .awslambda.service import LambdaService

_lock = threading.Lock()
_installed = False
_service: LambdaService | None = None
_root_secret = ""
_originals: dict[str, Callable[..., Any]] = {}

ACTION_ALIASES = {"lambda:Invoke": "lambda:InvokeFunction"}


def active_service() -> LambdaService | None:
    return _service


def original(key: str) -> Callable[..., Any]:
    """moto's own implementation that the patch registered as ``key`` replaced."""
    return _originals[key]


def activate(service: LambdaService, root_secret: str) -> None:
    """Route moto's Lambda through ``service`` and turn the other patches on; the account root
    signs with ``root_secret`` (drawn by the MockAccount at each start, see identity.py)."""
    global _service, _root_secret
    if not root_secret:
        raise ValueError("The mock account's root needs a secret (identity.new_root_secret()).")
    install()
    if _service is not None and _service is not service:
        raise RuntimeError(
            "Another mock account is already active in this process; stop it first "
            "(helpers.mock.current_mock_account().stop())."
        )
    _service = service
    _root_secret = root_secret


def deactivate() -> None:
    global _service, _root_secret
    _service = None
    _root_secret = ""


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
        return RootAccessKey(account_id, partition, _root_secret)
    return _originals["create_access_key"](account_id, partition, access_key_id, headers)


def _check_action_permitted(self: access_control.IAMRequestBase, resource: str) -> None:
    """Gap 2: the root is not limited by identity policies. Gap 2b: denials from JSON-protocol
    services (Lambda, Logs, EventBridge) come as JSON AccessDeniedException, not IAM's XML."""
    if _service is None:
        return _originals["check_action_permitted"](self, resource)
    if isinstance(self._access_key, RootAccessKey):
        return None
    if self._service == apigateway_authorization.SERVICE:
        return _authorize_api_gateway(self, resource)
    try:
        _originals["check_action_permitted"](self, resource)
    except AccessDeniedError:
        if _json_protocol(self._service):
            raise AccessDenied(self._access_key.arn, self._action, resource) from None
        raise QueryAccessDenied(self._access_key.arn, self._action, resource) from None
    # Gap 11: giving a function a role needs iam:PassRole on it.
    check_pass_role(self, lambda role: _originals["check_action_permitted"](self, role))


class QueryAccessDenied(AccessDeniedError):
    """Gap 12: IAM's and STS's XML AccessDenied, naming the resource as AWS's message does."""

    def __init__(self, principal_arn: str, action: str, resource: str) -> None:
        super(AccessDeniedError, self).__init__(  # moto's message has no resource: its base's
            "AccessDenied",
            f"User: {principal_arn} is not authorized to perform: {action} on resource: {resource} "
            f"because no identity-based policy allows the {action} action",
        )


@functools.cache
def _json_protocol(signing_name: str) -> bool:
    try:
        model = botocore.session.get_session().get_service_model(signing_name)
    except Exception:
        return False
    return model.protocol in ("json", "rest-json")


# -- 3. IAM action names ----------------------------------------------------------------------------
def _iam_request_init(self: access_control.IAMRequestBase, *args: Any, **kwargs: Any) -> None:
    """Gap 3: authorize Invoke as lambda:InvokeFunction. Gap 15: API Gateway as the HTTP verb."""
    _originals["iam_request_init"](self, *args, **kwargs)
    if _service is not None:
        self._action = ACTION_ALIASES.get(self._action, self._action)
        if self._service == apigateway_authorization.SERVICE:
            self._action = apigateway_authorization.action(self._method)


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
    lambda_requests.check_own_arn(backend.account_id, backend.region_name, ref)
    if ref.qualifier:
        raise InvalidParameterValue(
            f"Cannot provide qualifier: CreateFunction takes the function's name ({ref.name}), "
            "without a version or alias."
        )
    return {**spec, "FunctionName": ref.name}


def _create_function(self: lambda_models.LambdaBackend, spec: dict[str, Any]) -> Any:
    """Gap 8: Lambda's validation and trust check before moto stores the function."""
    if _service is not None:
        check_configuration(spec, creating=True)
        spec = _plain_name(self, spec)
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
        check_code_source(body, None)
        check_process_strings(body)
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


# -- 12. resources as AWS authorizes them ------------------------------------------------------------
def request_parameters(response: Any) -> dict[str, Any]:
    """A request's parameters off the wire: the query string or form (IAM, STS) or the JSON body
    (Logs, EventBridge, ECR, Lambda); strings stay strings, lists of strings stay lists."""
    parameters: dict[str, Any] = {
        key: values[0]
        for key, values in (getattr(response, "querystring", None) or {}).items()
        if isinstance(values, list) and values and isinstance(values[0], str)
    }
    try:
        body = json.loads(response.body or "{}")
    except (TypeError, ValueError, RecursionError):
        body = {}
    if isinstance(body, dict):
        for key, value in body.items():
            if isinstance(value, str) or (
                isinstance(value, list) and all(isinstance(item, str) for item in value)
            ):
                parameters[key] = value
    return parameters


def _resource_hook(key: str, service: str) -> Callable[[Any], str]:
    """A ``_determine_resource`` for ``service``'s responses: the reference's ARN while a mock
    account is active; moto's own (or ``*`` where moto has none) otherwise."""

    def determine_resource(self: Any) -> str:
        if _service is None:
            moto_own = _originals.get(key)
            return moto_own(self) if moto_own is not None else "*"
        return authorization.resource_for(
            service,
            self._get_action(),
            request_parameters(self),
            self.current_account,
            self.region,
        )

    determine_resource.__name__ = determine_resource.__qualname__ = f"_{service}_resource"
    return determine_resource


def _lambda_resource(self: LambdaResponse) -> str:
    """Gaps 4 and 12: a function's ARN; CreateFunction's is the function it creates."""
    found = lambda_requests.lambda_resource(self)
    creating = self.method == "POST" and self.path.split("?")[0].rstrip("/").endswith("/functions")
    if _service is None or found != "*" or not creating:
        return found
    return authorization.lambda_create_resource(
        request_parameters(self), self.current_account, self.region
    )


# -- 13. S3 actions and resources -------------------------------------------------------------------
def _delete_keys(body: Any) -> list[str] | None:
    """The keys of a DeleteObjects body, or None if it is not one moto can read either."""
    import xmltodict

    try:
        objects = xmltodict.parse(body, strip_whitespace=False)["Delete"].get("Object", [])
    except Exception:
        return None
    objects = objects if isinstance(objects, list) else [objects]
    keys = [item.get("Key") for item in objects if isinstance(item, dict)]
    return [key for key in keys if isinstance(key, str)] or None


def _authorize_s3(
    self: S3Response, bucket_name: str | None = None, key_name: str | None = None
) -> None:
    """Gap 13: HeadBucket needs s3:ListBucket; DeleteObjects needs s3:DeleteObject on each key;
    a bucket's Block Public Access needs s3:Put|Get|DeleteBucketPublicAccessBlock.

    A DeleteObjects with any key denied is refused whole (moto then reports every key as
    AccessDenied); AWS deletes the allowed keys and reports only the denied ones.
    """
    authorize = _originals["authorize_s3"]
    if _service is None or key_name is not None:
        return authorize(self, bucket_name=bucket_name, key_name=key_name)
    action = self.data.get("Action")
    bucket_action = authorization.s3_bucket_action(self.method, self.querystring or {})
    if bucket_action is not None and key_name is None:
        self.data["Action"] = bucket_action
    elif action in authorization.S3_ACTION_ALIASES:
        self.data["Action"] = authorization.S3_ACTION_ALIASES[action]
    elif action == "DeleteObject" and bucket_name and self.is_delete_keys():
        keys = _delete_keys(self.body)
        if keys is not None:
            for key in dict.fromkeys(keys):
                authorize(self, bucket_name=bucket_name, key_name=key)
            return None
    return authorize(self, bucket_name=bucket_name, key_name=key_name)


# -- 14. trust policies ------------------------------------------------------------------------------
def _check_role_trust_relationship(self: access_control.IAMRequestBase, role_arn: str) -> bool:
    """Gap 14: the series' evaluator judges the trust policy for the calling principal."""
    if _service is None:
        return _originals["check_role_trust"](self, role_arn)
    role = self.backend.get_role_by_arn(role_arn)
    parameters = {
        key: value[0] if isinstance(value, list) else value
        for key, value in (self._data or {}).items()
        if isinstance(value, str) or (isinstance(value, list) and value)
    }
    return authorization.trust_allows_caller(
        role.assume_role_policy_document,
        self._access_key.arn,
        role_arn,
        self.account_id,
        {key: value for key, value in parameters.items() if isinstance(value, str)},
    )


# -- 15. API Gateway ---------------------------------------------------------------------------------
class ApiGatewayAccessDenied(LambdaApiError):
    """API Gateway's 403 AccessDeniedException, in AWS's words (why: no allow, or a deny)."""

    code = 403

    def __init__(self, principal_arn: str, action: str, resource: str, reason: str) -> None:
        super().__init__(
            "AccessDeniedException",
            f"User: {principal_arn} is not authorized to perform: {action} on resource: "
            f"{resource} {reason}",
        )


def _apigateway_resource(self: APIGatewayResponse) -> str:
    """Gap 15: the ARN of the request's path (``arn:aws:apigateway:REGION::/restapis/ID…``)."""
    if _service is None:
        return "*"
    return apigateway_authorization.resource_arn(self.region, urlsplit(self.uri).path)


def _authorize_api_gateway(request: access_control.IAMRequestBase, resource: str) -> None:
    """Gap 15: the caller's identity policies, judged with the request's condition keys."""
    key = request._access_key
    documents = [access_control.IAMPolicy(policy)._policy_json for policy in key.collect_policies()]
    region = request._region
    try:
        backend = apigateway_backends[request.account_id][region]
    except KeyError:  # a region API Gateway does not have: nothing there has tags
        backend = None
    context = apigateway_authorization.condition_context(
        backend,
        request._method,
        resource,
        request._body,
        authorization.trusting_principal(request.account_id, key.arn),
        request.account_id,
        region,
    )
    verdict = apigateway_authorization.judge(documents, request._action, resource, context)
    if not verdict.allowed:
        raise ApiGatewayAccessDenied(key.arn, request._action, resource, verdict.reason)


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
    ("invoke_response", LambdaResponse, "invoke", lambda_requests.invoke_response),
    (
        "invoke_async_response",
        LambdaResponse,
        "invoke_async",
        lambda_requests.invoke_async_response,
    ),
    (
        "invoke_lambda",
        lambda_models.LambdaFunction,
        "_invoke_lambda",
        lambda_requests.invoke_lambda,
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
        lambda_requests.lambda_authenticate,
    ),
    ("lambda_resource", LambdaResponse, "_determine_resource", _lambda_resource),
    ("iam_resource", IamResponse, "_determine_resource", _resource_hook("iam_resource", "iam")),
    ("sts_resource", TokenResponse, "_determine_resource", _resource_hook("sts_resource", "sts")),
    ("logs_resource", LogsResponse, "_determine_resource", _resource_hook("logs_resource", "logs")),
    (
        "events_resource",
        EventsHandler,
        "_determine_resource",
        _resource_hook("events_resource", "events"),
    ),
    ("ecr_resource", ECRResponse, "_determine_resource", _resource_hook("ecr_resource", "ecr")),
    (
        "apigateway_resource",
        APIGatewayResponse,
        "_determine_resource",
        _apigateway_resource,
    ),
    ("authorize_s3", S3Response, "_authenticate_and_authorize_s3_action", _authorize_s3),
    (
        "check_role_trust",
        access_control.IAMRequestBase,
        "_check_role_trust_relationship",
        _check_role_trust_relationship,
    ),
]


def install() -> None:
    """Apply the patches (once per process); they stay inert until ``activate``."""
    global _installed
    with _lock:
        if _installed:
            return
        for key, owner, attribute, replacement in _PATCHES:
            # moto's Logs, EventBridge, ECR and Lambda responses have no _determine_resource: None
            _originals[key] = getattr(owner, attribute, None)  # type: ignore[assignment]
            setattr(owner, attribute, replacement)
        _installed = True
