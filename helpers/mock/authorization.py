"""Which resource AWS authorizes a request against, and whether a role's trust lets a caller in.

moto authorizes most requests against resource ``*`` (IAM only knows a role's ARN once the role
exists), so a policy scoped to names (``iam:CreateRole`` on ``role/Ann*``) is denied where AWS
allows it. AWS authorizes each action against the resource types listed for it in the Service
Authorization Reference ("Actions, resources, and condition keys for <service>"); this module
maps a request (service, operation, parameters) to that ARN, for the services the series uses:

- IAM: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html
- STS: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecuritytokenservice.html
- CloudWatch Logs: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html
- EventBridge: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoneventbridge.html
- ECR: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html
- Lambda: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html
- S3: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html

API Gateway (the HTTP verb on the path's ARN, with tag conditions) is in apigateway/authorization.py.

It is backend logic: it reads the parameters as a plain mapping (the patches take them off the
wire) and the IAM backend for the paths of existing principals. It is written from the reference,
not from ``helpers.participant_policy``, so the participant policy's proof on the mock is not
judged by the mapper it was generated with.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

ANY = "*"

# -- IAM ----------------------------------------------------------------------------------------------
# Actions whose resource is the instance profile even though they also name a role.
_INSTANCE_PROFILE_ACTIONS = frozenset(
    {
        "CreateInstanceProfile",
        "DeleteInstanceProfile",
        "GetInstanceProfile",
        "AddRoleToInstanceProfile",
        "RemoveRoleFromInstanceProfile",
        "TagInstanceProfile",
        "UntagInstanceProfile",
        "ListInstanceProfileTags",
    }
)
# Actions on a group that also name a user (the reference lists only ``group`` for them).
_GROUP_ACTIONS = frozenset({"AddUserToGroup", "RemoveUserFromGroup"})
# Actions on "the calling user" when UserName is left out (the reference: ``user``).
_SELF_USER_ACTIONS = frozenset(
    {
        "CreateAccessKey",
        "DeleteAccessKey",
        "ListAccessKeys",
        "UpdateAccessKey",
        "GetUser",
        "ChangePassword",
        "ListSigningCertificates",
        "ListSSHPublicKeys",
        "ListMFADevices",
        "ListServiceSpecificCredentials",
    }
)


def _iam_backend(account_id: str) -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[account_id]["aws"]


def _existing_arn(account_id: str, kind: str, name: str) -> str | None:
    """The stored ARN (with its path) of an existing role, user, group or instance profile."""
    backend = _iam_backend(account_id)
    getter = {
        "role": backend.get_role,
        "user": backend.get_user,
        "group": backend.get_group,
        "instance-profile": backend.get_instance_profile,
    }[kind]
    try:
        return getter(name).arn
    except Exception:  # moto's NotFound types: the resource does not exist (yet)
        return None


def _iam_named(account_id: str, kind: str, name: str, path: str | None) -> str:
    """``arn:aws:iam::ACCOUNT:KIND/PATH/NAME``: the stored one, else from the request's Path."""
    existing = _existing_arn(account_id, kind, name)
    if existing is not None:
        return existing
    path = path if path and path.startswith("/") and path.endswith("/") else "/"
    return f"arn:aws:iam::{account_id}:{kind}{path}{name}"


def _caller_user(caller_arn: str | None) -> str:
    """The calling IAM user's ARN (a role session or the root is not a user: ``*``)."""
    if caller_arn and ":user/" in caller_arn:
        return caller_arn
    return ANY


def iam_resource(
    operation: str, parameters: Mapping[str, str], account_id: str, caller_arn: str | None = None
) -> str:
    """IAM: the role, user, group, instance profile or policy an operation acts on.

    The reference's ARN formats include the path (``role/${RoleNameWithPath}``); a new resource's
    path is the request's ``Path``, an existing one's is stored. Operations that name nothing
    (``ListRoles``, ``ListPolicies``, ``GetAccountSummary`` …) are authorized against ``*``.
    """
    path = parameters.get("Path")
    if operation in _INSTANCE_PROFILE_ACTIONS and "InstanceProfileName" in parameters:
        return _iam_named(account_id, "instance-profile", parameters["InstanceProfileName"], path)
    if operation in _GROUP_ACTIONS and "GroupName" in parameters:
        return _iam_named(account_id, "group", parameters["GroupName"], None)
    for key, kind in (("RoleName", "role"), ("UserName", "user"), ("GroupName", "group")):
        if key in parameters:
            return _iam_named(account_id, kind, parameters[key], path)
    if "PolicyArn" in parameters:  # GetPolicy, CreatePolicyVersion, DeletePolicy, …
        return parameters["PolicyArn"]
    if operation == "CreatePolicy" and "PolicyName" in parameters:
        path = path if path and path.startswith("/") and path.endswith("/") else "/"
        return f"arn:aws:iam::{account_id}:policy{path}{parameters['PolicyName']}"
    if operation in _SELF_USER_ACTIONS:
        return _caller_user(caller_arn)
    return ANY


# -- STS ----------------------------------------------------------------------------------------------
def sts_resource(operation: str, parameters: Mapping[str, str], account_id: str) -> str:
    """STS: AssumeRole* act on ``RoleArn``; GetFederationToken on ``federated-user/Name``;
    GetCallerIdentity and GetSessionToken on ``*``."""
    if operation.startswith("AssumeRole") and parameters.get("RoleArn"):
        return parameters["RoleArn"]
    if operation == "GetFederationToken" and parameters.get("Name"):
        return f"arn:aws:sts::{account_id}:federated-user/{parameters['Name']}"
    return ANY


# -- CloudWatch Logs ----------------------------------------------------------------------------------
# Operations on one stream (reference: resource type ``log-stream``). CreateLogStream is listed
# under ``log-group`` there, but AWS names the stream in its denials and Lambda's documented
# policies grant it on ``log-group:NAME:*``; the mock's own log delivery checks it on the stream
# (provision.log_permissions), so requests do too.
_LOG_STREAM_ACTIONS = frozenset(
    {"PutLogEvents", "GetLogEvents", "DeleteLogStream", "CreateLogStream"}
)


def _log_group_name(parameters: Mapping[str, str]) -> str | None:
    name = parameters.get("logGroupName") or parameters.get("logGroupIdentifier")
    if name and name.startswith("arn:"):  # an identifier may be the group's ARN (maybe ``:*``)
        name = name.split(":log-group:", 1)[-1].removesuffix(":*")
    return name or None


def logs_resource(
    operation: str, parameters: Mapping[str, str], account_id: str, region: str
) -> str:
    """Logs: ``log-group:NAME``, or ``log-group:NAME:log-stream:STREAM`` for stream operations;
    ``DescribeLogGroups`` and other account-wide operations on ``*``."""
    if parameters.get("resourceArn"):  # TagResource, ListTagsForResource, …
        return parameters["resourceArn"]
    group = _log_group_name(parameters)
    if group is None:
        return ANY
    arn = f"arn:aws:logs:{region}:{account_id}:log-group:{group}"
    if operation in _LOG_STREAM_ACTIONS and parameters.get("logStreamName"):
        return f"{arn}:log-stream:{parameters['logStreamName']}"
    return arn


# -- EventBridge --------------------------------------------------------------------------------------
def events_resource(
    operation: str, parameters: Mapping[str, str], account_id: str, region: str
) -> str:
    """EventBridge: ``rule/NAME`` on the default bus, ``rule/BUS/NAME`` on another (``Name`` for
    PutRule/DescribeRule/…, ``Rule`` for PutTargets/RemoveTargets/ListTargetsByRule)."""
    if parameters.get("ResourceARN"):
        return parameters["ResourceARN"]
    rule = parameters.get("Name") if operation.endswith("Rule") else None
    rule = rule or parameters.get("Rule")
    if not rule:
        return ANY
    bus = parameters.get("EventBusName")
    if bus and bus.startswith("arn:"):
        bus = bus.rsplit("/", 1)[-1]
    path = f"{bus}/{rule}" if bus and bus != "default" else rule
    return f"arn:aws:events:{region}:{account_id}:rule/{path}"


# -- ECR ----------------------------------------------------------------------------------------------
def ecr_resource(
    operation: str, parameters: Mapping[str, Any], account_id: str, region: str
) -> str:
    """ECR: ``repository/NAME`` (in ``registryId``'s account); GetAuthorizationToken and a
    DescribeRepositories of several or all repositories on ``*``."""
    if parameters.get("resourceArn"):
        return str(parameters["resourceArn"])
    name = parameters.get("repositoryName")
    names = parameters.get("repositoryNames")
    if not name and isinstance(names, list) and len(names) == 1:
        name = names[0]
    if not name or not isinstance(name, str):
        return ANY
    registry = parameters.get("registryId") or account_id
    return f"arn:aws:ecr:{region}:{registry}:repository/{name}"


# -- Lambda -------------------------------------------------------------------------------------------
def lambda_create_resource(parameters: Mapping[str, Any], account_id: str, region: str) -> str:
    """Lambda CreateFunction acts on the function it creates: ``function:NAME``."""
    name = parameters.get("FunctionName")
    if not isinstance(name, str) or not name:
        return ANY
    if name.startswith("arn:"):
        return name
    parts = name.split(":")
    if len(parts) >= 3 and parts[1] == "function":  # partial ARN ACCOUNT:function:NAME
        return f"arn:aws:lambda:{region}:{parts[0]}:function:{parts[2]}"
    return f"arn:aws:lambda:{region}:{account_id}:function:{name}"


# -- the table ----------------------------------------------------------------------------------------
def resource_for(
    service: str,
    operation: str,
    parameters: Mapping[str, Any],
    account_id: str,
    region: str,
    caller_arn: str | None = None,
) -> str:
    """The ARN AWS authorizes ``service``'s ``operation`` against, or ``*``."""
    if service == "iam":
        return iam_resource(operation, _strings(parameters), account_id, caller_arn)
    if service == "sts":
        return sts_resource(operation, _strings(parameters), account_id)
    if service == "logs":
        return logs_resource(operation, _strings(parameters), account_id, region)
    if service == "events":
        return events_resource(operation, _strings(parameters), account_id, region)
    if service == "ecr":
        return ecr_resource(operation, parameters, account_id, region)
    if service == "lambda" and operation == "CreateFunction":
        return lambda_create_resource(parameters, account_id, region)
    return ANY


def _strings(parameters: Mapping[str, Any]) -> dict[str, str]:
    return {key: value for key, value in parameters.items() if isinstance(value, str)}


# -- S3 -----------------------------------------------------------------------------------------------
S3_ACTION_ALIASES = {"HeadBucket": "ListBucket"}
"""HeadBucket is authorized as ``s3:ListBucket`` (the reference has no ``s3:HeadBucket``)."""


S3_BUCKET_SUBRESOURCE_ACTIONS = {
    ("PUT", "publicAccessBlock"): "PutBucketPublicAccessBlock",
    ("GET", "publicAccessBlock"): "GetBucketPublicAccessBlock",
    ("DELETE", "publicAccessBlock"): "DeleteBucketPublicAccessBlock",
}
"""A bucket's Block Public Access (``?publicAccessBlock``) has its own actions; moto's map looks
for ``public_access_block`` and falls back to ``s3:CreateBucket``/``ListBucket``/``DeleteBucket``."""


def s3_bucket_action(method: str, querystring: Mapping[str, Any]) -> str | None:
    """The action AWS checks for a bucket request naming a subresource moto misses, or None."""
    for (verb, subresource), action in S3_BUCKET_SUBRESOURCE_ACTIONS.items():
        if method.upper() == verb and subresource in querystring:
            return action
    return None


def delete_objects_resources(bucket: str, keys: list[str]) -> list[str]:
    """DeleteObjects needs ``s3:DeleteObject`` on each object it deletes, not on the bucket."""
    return [f"arn:aws:s3:::{bucket}/{key}" for key in keys]


# -- trust --------------------------------------------------------------------------------------------
def trusting_principal(account_id: str, caller_arn: str) -> str:
    """The principal a trust policy names for ``caller_arn``: a role session is its role."""
    if ":assumed-role/" in caller_arn:
        role_name = caller_arn.split(":assumed-role/", 1)[1].split("/", 1)[0]
        return _existing_arn(account_id, "role", role_name) or caller_arn
    return caller_arn


def trust_allows_caller(
    trust_policy: str | Mapping[str, Any],
    caller_arn: str,
    role_arn: str,
    account_id: str,
    parameters: Mapping[str, str] | None = None,
) -> bool:
    """Whether a role's trust policy lets an IAM principal of this account call sts:AssumeRole.

    Judged by the series' evaluator (``helpers.iam.evaluate_trust``), so a statement naming
    another principal does not spoil one naming the caller, and ``arn:aws:iam::ACCOUNT:root``
    (or the bare account ID) names every user and role of the account: the account delegates
    to their identity policies, which moto checks beforehand. Known context: the caller's ARN and
    account, and ``sts:ExternalId``/``sts:RoleSessionName`` from the request; a condition on
    anything else does not hold. A document IAM could not parse lets nobody in.
    """
    from helpers.iam import IamHelperError, evaluate_trust
    from helpers.iam.documents import parse_document

    principal = trusting_principal(account_id, caller_arn)
    parameters = parameters or {}
    context: dict[str, str] = {
        "aws:PrincipalArn": principal,
        "aws:PrincipalAccount": account_id,
    }
    for key, name in (("ExternalId", "sts:ExternalId"), ("RoleSessionName", "sts:RoleSessionName")):
        if parameters.get(key):
            context[name] = parameters[key]
    try:
        document = parse_document(
            trust_policy if isinstance(trust_policy, str) else json.dumps(trust_policy)
        )
        return evaluate_trust(document, principal, role_arn=role_arn, context=context).allowed
    except (IamHelperError, ValueError, TypeError, AttributeError):
        return False
