"""What a recorded request acts on: the resource ARN AWS authorizes it against."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from helpers import calls
from helpers.participant.actions import (
    ACCOUNT_WIDE,
    LAMBDA_SERVICE,
    api_gateway_path,
    iam_actions,
)

# -- what a request acts on ------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One IAM authorization the series needs: an action on a resource (an ARN or ``*``)."""

    action: str
    resource: str
    call: str  # service.Operation it came from
    context: tuple[tuple[str, str], ...] = ()


OBJECT_ACTIONS = {
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:AbortMultipartUpload",
    "s3:GetObjectTagging",
}


def _resource(action: str, parameters: dict[str, str], account_id: str, region: str) -> str:
    """The ARN ``action`` is authorized against, from the call's parameters (``*`` if none)."""
    service = action.partition(":")[0]
    if action in ACCOUNT_WIDE:
        return "*"
    if service == "iam":
        if action == "iam:PassRole":
            return parameters.get("Role", "*")
        for key, kind in (("RoleName", "role"), ("UserName", "user")):
            if key in parameters:
                return f"arn:aws:iam::{account_id}:{kind}/{parameters[key]}"
        if "PolicyArn" in parameters:
            return parameters["PolicyArn"]
        if "PolicyName" in parameters:  # CreatePolicy names the policy it makes
            return f"arn:aws:iam::{account_id}:policy/{parameters['PolicyName']}"
        return "*"
    if service == "sts":
        return parameters.get("RoleArn", "*")
    if service == "s3":
        bucket = parameters.get("Bucket")
        if not bucket:
            return "*"
        if action in OBJECT_ACTIONS:
            return f"arn:aws:s3:::{bucket}/{parameters.get('Key', '*')}"
        return f"arn:aws:s3:::{bucket}"
    if service == "lambda":
        function = parameters.get("FunctionName")
        return f"arn:aws:lambda:{region}:{account_id}:function:{function}" if function else "*"
    if service == "logs":
        group = parameters.get("logGroupName")
        return f"arn:aws:logs:{region}:{account_id}:log-group:{group}:*" if group else "*"
    if service == "events":
        if "ResourceARN" in parameters:
            return parameters["ResourceARN"]
        rule = parameters.get("Name") or parameters.get("Rule")
        return f"arn:aws:events:{region}:{account_id}:rule/{rule}" if rule else "*"
    if service == "apigateway":
        return f"arn:aws:apigateway:{region}::{_api_gateway_path_of(parameters)}"
    if service == "ecr":
        if "resourceArn" in parameters:
            return parameters["resourceArn"]
        repository = parameters.get("repositoryName") or parameters.get("repositoryNames")
        return f"arn:aws:ecr:{region}:{account_id}:repository/{repository or '*'}"
    return "*"


REQUEST_TAG = "aws:RequestTag/"
RESOURCE_TAG = "aws:ResourceTag/"
API_GATEWAY_PATH = "apigateway:path"
"""The (internal) parameter carrying an API Gateway call's path, filled in by requests_of."""


def _api_gateway_path_of(parameters: dict[str, str]) -> str:
    return parameters.get(API_GATEWAY_PATH, "*")


def request_tags(parameters: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """The tags a creating call passes, as ``aws:RequestTag/<key>`` context (recording.py's
    record keeps a ``tags``/``Tags`` mapping under those names)."""
    return tuple(sorted((k, v) for k, v in parameters.items() if k.startswith(REQUEST_TAG)))


def _is_collection(path: str) -> bool:
    """``/restapis``, ``/apikeys``, ``/usageplans``: creating and listing, no item to tag."""
    return path.count("/") == 1


def requests_of(recorded: Iterable[calls.Call], account_id: str, region: str) -> list[Request]:
    """Every (action, resource) the recorded calls need, in order, each once.

    API Gateway requests carry the tag conditions AWS evaluates: a create (POST on a
    collection) its request tags, any call on an existing item the tags of what it acts on.
    The series touches only API Gateway items it finds with its own tags
    (``helpers.ownership.owned_api_gateway_items``), which it created with the tags its creating
    calls pass, so those are the item's tags (child resources of a REST API or usage plan
    inherit its tags for access control, API Gateway's documentation says).
    """
    found: dict[tuple[str, str, tuple[tuple[str, str], ...]], Request] = {}
    owned_tags: tuple[tuple[str, str], ...] = ()
    for call in recorded:
        parameters = dict(call.parameters)
        if call.service == "apigateway":
            parameters[API_GATEWAY_PATH] = api_gateway_path(call.operation, parameters)
            owned_tags = owned_tags or request_tags(parameters)
        for action in iam_actions(call.service, call.operation, parameters):
            context: tuple[tuple[str, str], ...] = ()
            if action == "iam:PassRole":
                context = (("iam:PassedToService", LAMBDA_SERVICE),)
            elif action in ("iam:AttachRolePolicy", "iam:AttachUserPolicy"):
                context = (("iam:PolicyARN", parameters.get("PolicyArn", "")),)
            elif action == "lambda:AddPermission":
                context = (("lambda:Principal", parameters.get("Principal", "")),)
            elif call.service == "apigateway":
                path = parameters[API_GATEWAY_PATH]
                if not _is_collection(path):
                    context = tuple(
                        (RESOURCE_TAG + key[len(REQUEST_TAG) :], value) for key, value in owned_tags
                    )
                elif action == "apigateway:POST":
                    context = request_tags(parameters)
            resource = _resource(action, parameters, account_id, region)
            if action.startswith("ecr:") and call.service == "lambda":
                resource = _image_repository(parameters, account_id, region)
            request = Request(action, resource, call.name, context)
            found.setdefault((action, resource, context), request)
    return list(found.values())


def _image_repository(parameters: dict[str, str], account_id: str, region: str) -> str:
    """The repository an ``ImageUri`` names (``ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME:TAG``)."""
    uri = parameters.get("ImageUri", "")
    host, _, path = uri.partition("/")
    name = path.split("@")[0].rsplit(":", 1)[0] if path else "*"
    parts = host.split(".")
    if len(parts) > 3 and parts[1:3] == ["dkr", "ecr"]:
        account_id, region = parts[0], parts[3]
    return f"arn:aws:ecr:{region}:{account_id}:repository/{name}"
