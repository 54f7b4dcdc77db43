"""What a recorded request acts on: the resource ARN AWS authorizes it against."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from helpers import calls
from helpers.participant.actions import ACCOUNT_WIDE, LAMBDA_SERVICE, iam_actions

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
    if service == "ecr":
        if "resourceArn" in parameters:
            return parameters["resourceArn"]
        repository = parameters.get("repositoryName") or parameters.get("repositoryNames")
        return f"arn:aws:ecr:{region}:{account_id}:repository/{repository or '*'}"
    return "*"


def requests_of(recorded: Iterable[calls.Call], account_id: str, region: str) -> list[Request]:
    """Every (action, resource) the recorded calls need, in order, each once."""
    found: dict[tuple[str, str, tuple[tuple[str, str], ...]], Request] = {}
    for call in recorded:
        parameters = dict(call.parameters)
        for action in iam_actions(call.service, call.operation, parameters):
            context: tuple[tuple[str, str], ...] = ()
            if action == "iam:PassRole":
                context = (("iam:PassedToService", LAMBDA_SERVICE),)
            elif action in ("iam:AttachRolePolicy", "iam:AttachUserPolicy"):
                context = (("iam:PolicyARN", parameters.get("PolicyArn", "")),)
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
