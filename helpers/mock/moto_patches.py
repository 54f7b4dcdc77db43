"""Every change the mock account makes to moto, listed here, each filling one named gap.

This module holds the account's own patches (IAM and STS enforcement, S3's actions, resources as
AWS authorizes them); each service's live in its package (``awslambda/moto_patches.py``,
``apigateway/moto_patches.py``, ``ecr/moto_patches.py``). ``install()`` applies them all once per
process through ``patching``; each does its work only while a mock account is active
(``activate``/``deactivate``) and otherwise calls moto's original, so other uses of moto in the
same process (``mock_aws`` in someone else's test) are unaffected. Gap 17's two are the exception: they give
moto's own answers for less CPU, so they work for every use of moto in the process. Nothing of
moto's API Gateway is patched at install: it is imported on first use (apigateway/moto_api.py).

Gaps filled (moto 5.2.x, measured):

1. Bodiless REST requests (``GET /2015-03-31/functions``…) fail moto's signature check under IAM
   enforcement: it re-signs them with a form-encoded copy of the headers as the body.
2. There is no unrestricted identity once enforcement is on; the mock account's root key is one
   (see identity.py): authenticated, never limited by policies.
3. Lambda Invoke is authorized as ``lambda:Invoke``; AWS's action is ``lambda:InvokeFunction``.
4. Non-S3 requests are authorized against resource ``*`` only; Lambda requests about one function
   are authorized against that function's ARN (awslambda/wire_requests.py).
5. A role whose trust policy has only a ``Service`` principal crashes moto's AssumeRole check
   (``TypeError``, HTTP 500); such a role simply does not trust an IAM principal.
6. ``GetCallerIdentity`` for the root key answers with the account root's ARN, as AWS does.
7. Invoke never runs code without Docker; here it goes to the Lambda service emulator, with AWS's
   status codes and headers (awslambda/wire_requests.py).
8. CreateFunction/UpdateFunctionConfiguration/UpdateFunctionCode accept what Lambda rejects
   (timeouts, memory sizes, runtimes, names, environment variables, damaged packages, roles Lambda
   cannot assume); updates and deletes must retire the function's execution environments
   (awslambda/moto_patches.py).
9. The server answers what AWS does not have (``/moto-api/``) and crashes (HTTP 500) on unsigned,
   malformed or undecodable requests: front_door.py, which account.py serves through.
10. Lambda requests are not checked as the Lambda API checks them: function names (moto crashes
    on a partial ARN such as ``123456789012:function:x``), JSON bodies against the API model,
    Invoke's InvocationType/LogType/Qualifier (``Bogus`` ran synchronously), payloads nested too
    deeply (awslambda/wire_requests.py).
11. moto never asks for ``iam:PassRole``: passing a role to a function (CreateFunction, or an
    UpdateFunctionConfiguration that sets Role) needs it on that role, as on AWS (awslambda/passrole.py).
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
    ``aws:RequestTag``: judged so by the series' evaluator (apigateway/authorization.py, called
    from the account's ``check_action_permitted`` through apigateway/moto_patches.py).

16. ECR has no registry: GetAuthorizationToken hands out one fixed password and a
    ``proxyEndpoint`` that does not exist here; the account serves a registry and mints its
    tokens (ecr/).
17. Finding the account of a request's access key creates an IAM backend in each of the six
    partitions of every account it looks in, and each new IAM backend parses and builds moto's
    1,582 AWS managed policies again (about 0.1 s of CPU each): the lookup reads only the backends
    that exist (a key can only be in one of those), and the policies' JSON is parsed (and each
    document and date converted as moto does) once per process. Same answers, for less CPU at
    every account start (a kernel's, a test module's; benchmarks/bench_account_start.py) and in
    every ``mock_aws`` of the process, account or not.
18. moto's server asks, for every request, whether the request's host names one of moto's service
    folders, by listing moto's package directory and testing each entry with ``isdir``: about
    0.7 ms of CPU per request, a fifth of what a call to the mock account costs. The folders are
    listed once per process (they are the installed package's).

Gaps 4, 7, 8 and 10 live in awslambda/, gap 15 in apigateway/, gap 16 in ecr/ and gap 9 in
front_door.py; the others are below.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.awsrequest import AWSRequest
from moto import backends as moto_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.exceptions import AccessDeniedError
from moto.ecr.responses import ECRResponse
from moto.events.responses import EventsHandler
from moto.iam import access_control
from moto.iam import models as iam_models
from moto.iam.responses import IamResponse
from moto.logs.responses import LogsResponse
from moto.s3.responses import S3Response
from moto.settings import load_iam_aws_managed_policies
from moto.sts.models import STSBackend
from moto.sts.responses import TokenResponse

from helpers.service_models import service_model

from . import authorization, patching
from .apigateway import authorization as apigateway_authorization
from .apigateway import moto_patches as apigateway_patches
from .awslambda import moto_patches as lambda_patches
from .awslambda.errors import AccessDenied
from .awslambda.passrole import check_pass_role
from .ecr import moto_patches as ecr_patches
from .identity import RootAccessKey, is_root_key, root_arn

if TYPE_CHECKING:
    from .awslambda.service import LambdaService

ACTION_ALIASES = {"lambda:Invoke": "lambda:InvokeFunction"}


def activate(service: LambdaService, root_secret: str) -> None:
    """Route moto's Lambda through ``service`` and turn the patches on; the account root signs
    with ``root_secret`` (drawn by the MockAccount at each start, see identity.py)."""
    install()
    patching.activate(service, root_secret)


def deactivate() -> None:
    patching.deactivate()


# -- 1. signature of bodiless requests ------------------------------------------------------------
def _create_aws_request(self: access_control.IAMRequestBase) -> AWSRequest:
    """Gap 1: re-sign a bodiless request with an empty body, as the client signed it."""
    content_type = self._headers.get("Content-Type", "") or ""
    if (
        patching.active_service() is None
        or self._body
        or content_type.startswith("application/x-www-form-urlencoded")
    ):
        return patching.original("create_aws_request")(self)
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
    if patching.active_service() is not None and is_root_key(access_key_id):
        return RootAccessKey(account_id, partition, patching.root_secret())
    return patching.original("create_access_key")(account_id, partition, access_key_id, headers)


def _check_action_permitted(self: access_control.IAMRequestBase, resource: str) -> None:
    """Gap 2: the root is not limited by identity policies. Gap 2b: denials from JSON-protocol
    services (Lambda, Logs, EventBridge) come as JSON AccessDeniedException, not IAM's XML."""
    if patching.active_service() is None:
        return patching.original("check_action_permitted")(self, resource)
    if isinstance(self._access_key, RootAccessKey):
        return None
    if self._service == apigateway_authorization.SERVICE:
        return apigateway_patches.authorize(self)
    try:
        patching.original("check_action_permitted")(self, resource)
    except AccessDeniedError:
        if _json_protocol(self._service):
            raise AccessDenied(self._access_key.arn, self._action, resource) from None
        raise QueryAccessDenied(self._access_key.arn, self._action, resource) from None
    # Gap 11: giving a function a role needs iam:PassRole on it.
    check_pass_role(self, lambda role: patching.original("check_action_permitted")(self, role))


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
        model = service_model(signing_name)
    except Exception:
        return False
    return model.protocol in ("json", "rest-json")


# -- 3. IAM action names ----------------------------------------------------------------------------
def _iam_request_init(self: access_control.IAMRequestBase, *args: Any, **kwargs: Any) -> None:
    """Gap 3: authorize Invoke as lambda:InvokeFunction. Gap 15: API Gateway as the HTTP verb."""
    patching.original("iam_request_init")(self, *args, **kwargs)
    if patching.active_service() is not None:
        self._action = ACTION_ALIASES.get(self._action, self._action)
        if self._service == apigateway_authorization.SERVICE:
            self._action = apigateway_authorization.action(self._method)


# -- 5. Service principals in trust policies --------------------------------------------------------
def _check_principal(self: access_control.IAMPolicyStatement, principal: str) -> bool:
    """Gap 5: a statement without an AWS principal does not match an IAM caller."""
    expected = self._statement.get("Principal")
    if patching.active_service() is None or not expected or expected == "*":
        return patching.original("check_principal")(self, principal)
    aws = expected.get("AWS") if isinstance(expected, dict) else None
    if aws is None:
        return False
    return aws == "*" or principal == aws or (isinstance(aws, list) and principal in aws)


# -- 6. caller identity of the root ------------------------------------------------------------------
def _get_caller_identity(self: STSBackend, access_key_id: str, region: str) -> tuple[str, str, str]:
    """Gap 6: the root key is the account root."""
    if patching.active_service() is not None and is_root_key(access_key_id):
        return self.account_id, root_arn(self.account_id), self.account_id
    return patching.original("get_caller_identity")(self, access_key_id, region)


# -- 12. resources as AWS authorizes them ------------------------------------------------------------
def _resource_hook(key: str, service: str) -> Callable[[Any], str]:
    """A ``_determine_resource`` for ``service``'s responses: the reference's ARN while a mock
    account is active; moto's own (or ``*`` where moto has none) otherwise."""

    def determine_resource(self: Any) -> str:
        if patching.active_service() is None:
            moto_own = patching.original_or_none(key)
            return moto_own(self) if moto_own is not None else "*"
        return authorization.resource_for(
            service,
            self._get_action(),
            patching.request_parameters(self),
            self.current_account,
            self.region,
        )

    determine_resource.__name__ = determine_resource.__qualname__ = f"_{service}_resource"
    return determine_resource


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
    authorize = patching.original("authorize_s3")
    if patching.active_service() is None or key_name is not None:
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
    if patching.active_service() is None:
        return patching.original("check_role_trust")(self, role_arn)
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


# -- 17. the cost of an IAM backend -------------------------------------------------------------------
def _account_of_access_key(access_key: str) -> str:
    """Gap 17: moto's ``get_account_id_from``, looking only in the IAM backends that exist.

    Like ``_init_aws_policies`` below, and unlike every other patch, this one works whether or not
    a mock account is active (in ``mock_aws`` too): it gives moto's own answer, for less work."""
    for account_id, account in list(iam_models.iam_backends.items()):
        for backend in list(dict.values(account)):
            if access_key in backend.access_keys:
                return account_id
    return DEFAULT_ACCOUNT_ID


@functools.cache
def _aws_managed_policy_fields() -> tuple[dict[str, Any], ...]:
    """moto's AWS managed policies as ``AWSManagedPolicy.from_data`` reads them (the document as
    JSON text, the dates parsed), worked out once per process: each backend builds its own
    policy objects from them (they count attachments), at a quarter of from_data's cost."""
    return tuple(
        {
            "name": name,
            "default_version_id": data.get("DefaultVersionId"),
            "path": data.get("Path"),
            "document": json.dumps(data.get("Document")),
            "create_date": datetime.fromisoformat(data["CreateDate"]),
            "update_date": datetime.fromisoformat(data["UpdateDate"]),
        }
        for name, data in json.loads(iam_models.aws_managed_policies_data).items()
    )


def _init_aws_policies(self: iam_models.IAMBackend) -> list[iam_models.ManagedPolicy]:
    """Gap 17: moto's ``_init_aws_policies`` without parsing the JSON for every backend."""
    if not load_iam_aws_managed_policies():
        return []
    return [
        iam_models.AWSManagedPolicy(account_id=self.account_id, region=self.region_name, **fields)
        for fields in _aws_managed_policy_fields()
    ]


# -- 18. moto's service folders, listed per request ----------------------------------------------------
@functools.cache
def _service_folders() -> frozenset[str]:
    return frozenset(patching.original("moto_service_folders")())


def _list_of_moto_modules() -> Iterable[str]:
    """Gap 18: moto's ``list_of_moto_modules``, read from disk once per process."""
    if patching.active_service() is None:
        return patching.original("moto_service_folders")()
    return _service_folders()


# -- installation ---------------------------------------------------------------------------------------
PATCHES: list[patching.Patch] = [
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
    ("authorize_s3", S3Response, "_authenticate_and_authorize_s3_action", _authorize_s3),
    ("account_of_access_key", iam_models, "get_account_id_from", _account_of_access_key),
    ("init_aws_policies", iam_models.IAMBackend, "_init_aws_policies", _init_aws_policies),
    ("moto_service_folders", moto_backends, "list_of_moto_modules", _list_of_moto_modules),
    (
        "check_role_trust",
        access_control.IAMRequestBase,
        "_check_role_trust_relationship",
        _check_role_trust_relationship,
    ),
]


def install() -> None:
    """Apply the account's patches and every service's (once per process); they stay inert until
    ``activate``."""
    patching.install([*PATCHES, *lambda_patches.PATCHES, *ecr_patches.PATCHES])
