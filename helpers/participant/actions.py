"""botocore operation -> the IAM action(s) AWS checks, with the source of every exception."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

from helpers.service_models import service_model

RECORDING_PREFIX = "recording"
"""The placeholder prefix the series' steps run under while their calls are recorded."""
LAMBDA_SERVICE = "lambda.amazonaws.com"

# -- botocore operation -> IAM action --------------------------------------------------------------


@dataclass(frozen=True)
class ActionRule:
    """The IAM actions AWS checks for one API operation, where it is not ``service:Operation``.

    ``when`` names a request parameter that must be present for the rule to apply (``Tags``:
    tag-on-create permissions, ``Role``: passing a role); ``source`` is where AWS says so.
    """

    actions: tuple[str, ...]
    source: str
    when: str = ""
    replaces: bool = True  # False: the actions come in addition to service:Operation


S3_API = "https://docs.aws.amazon.com/AmazonS3/latest/API/API_{}.html (Permissions)"
TAG_ON_CREATE = "tag-on-create: creating with Tags also needs the service's tagging action ({})"
ACTION_TABLE: dict[tuple[str, str], tuple[ActionRule, ...]] = {
    ("s3", "ListObjectsV2"): (ActionRule(("s3:ListBucket",), S3_API.format("ListObjectsV2")),),
    ("s3", "ListObjectVersions"): (
        ActionRule(("s3:ListBucketVersions",), S3_API.format("ListObjectVersions")),
    ),
    ("s3", "HeadObject"): (ActionRule(("s3:GetObject",), S3_API.format("HeadObject")),),
    ("s3", "HeadBucket"): (ActionRule(("s3:ListBucket",), S3_API.format("HeadBucket")),),
    ("s3", "ListBuckets"): (ActionRule(("s3:ListAllMyBuckets",), S3_API.format("ListBuckets")),),
    ("s3", "DeleteObjects"): (
        # cleanup deletes by VersionId, which needs DeleteObjectVersion as well
        ActionRule(("s3:DeleteObject", "s3:DeleteObjectVersion"), S3_API.format("DeleteObjects")),
    ),
    ("s3", "CreateMultipartUpload"): (
        ActionRule(("s3:PutObject",), S3_API.format("CreateMultipartUpload")),
    ),
    ("s3", "UploadPart"): (ActionRule(("s3:PutObject",), S3_API.format("UploadPart")),),
    ("s3", "CompleteMultipartUpload"): (
        ActionRule(("s3:PutObject",), S3_API.format("CompleteMultipartUpload")),
    ),
    ("s3", "AbortMultipartUpload"): (
        ActionRule(("s3:AbortMultipartUpload",), S3_API.format("AbortMultipartUpload")),
    ),
    ("s3", "PutPublicAccessBlock"): (
        ActionRule(("s3:PutBucketPublicAccessBlock",), S3_API.format("PutPublicAccessBlock")),
    ),
    ("s3control", "GetPublicAccessBlock"): (
        ActionRule(
            ("s3:GetAccountPublicAccessBlock",),
            S3_API.format("control_GetPublicAccessBlock"),
        ),
    ),
    ("lambda", "Invoke"): (
        ActionRule(
            ("lambda:InvokeFunction",),
            "https://docs.aws.amazon.com/lambda/latest/dg/lambda-api-permissions-ref.html",
        ),
    ),
    ("lambda", "CreateFunction"): (
        ActionRule(
            ("iam:PassRole",),
            "https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html "
            "(the caller needs iam:PassRole on the execution role)",
            when="Role",
            replaces=False,
        ),
        ActionRule(
            ("lambda:TagResource",),
            TAG_ON_CREATE.format(
                "https://docs.aws.amazon.com/lambda/latest/dg/configuration-tags.html"
            ),
            when="Tags",
            replaces=False,
        ),
        ActionRule(
            ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"),
            "https://docs.aws.amazon.com/lambda/latest/dg/images-create.html"
            "#configuration-images-permissions (Amazon ECR "
            "permissions: the caller of CreateFunction must be able to read the image)",
            when="ImageUri",
            replaces=False,
        ),
    ),
    ("lambda", "GetFunction"): (
        ActionRule(
            ("lambda:ListTags",),
            "https://docs.aws.amazon.com/lambda/latest/dg/configuration-tags.html (for a tagged "
            "function, GetFunction also needs lambda:ListTags; the series tags every function)",
            replaces=False,
        ),
    ),
    ("lambda", "UpdateFunctionConfiguration"): (
        ActionRule(
            ("iam:PassRole",),
            "https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html",
            when="Role",
            replaces=False,
        ),
    ),
    ("lambda", "UpdateFunctionCode"): (
        ActionRule(
            ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"),
            "https://docs.aws.amazon.com/lambda/latest/dg/images-create.html",
            when="ImageUri",
            replaces=False,
        ),
    ),
    ("iam", "CreateRole"): (
        ActionRule(
            ("iam:TagRole",),
            TAG_ON_CREATE.format("https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html"),
            when="Tags",
            replaces=False,
        ),
    ),
    ("iam", "CreateUser"): (
        ActionRule(
            ("iam:TagUser",),
            TAG_ON_CREATE.format("https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html"),
            when="Tags",
            replaces=False,
        ),
    ),
    ("iam", "CreatePolicy"): (
        ActionRule(
            ("iam:TagPolicy",),
            TAG_ON_CREATE.format("https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html"),
            when="Tags",
            replaces=False,
        ),
    ),
    ("ecr", "CreateRepository"): (
        ActionRule(
            ("ecr:TagResource",),
            TAG_ON_CREATE.format(
                "https://docs.aws.amazon.com/AmazonECR/latest/userguide/"
                "ecr-supported-iam-actions-tagging.html"
            ),
            when="tags",
            replaces=False,
        ),
    ),
    ("events", "PutRule"): (
        ActionRule(
            ("events:TagResource",),
            "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_TagResource.html "
            "(PutRule's own page does not say it; included on the tag-on-create rule the other "
            "services document, and limited to the prefix's rules)",
            when="Tags",
            replaces=False,
        ),
    ),
}
"""Operations whose IAM actions differ from ``service:Operation`` or come with more actions."""

SERVICE_PREFIX = {
    "sts": "sts",
    "logs": "logs",
    "events": "events",
    "accessanalyzer": "access-analyzer",
    "s3control": "s3",
}
"""botocore service name -> IAM service prefix, where they differ (most are the same)."""

PUSH_ACTIONS = (
    "ecr:GetAuthorizationToken",
    "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
    "ecr:BatchGetImage",
)
"""``docker login`` + ``docker push`` to the participant's repository (they go past boto3):
https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-push-iam.html"""

LIVE_ONLY_CALLS = (
    ("accessanalyzer", "ValidatePolicy", "notebook 4: IAM Access Analyzer checks the policies"),
    ("iam", "SimulateCustomPolicy", "notebook 4: the policy simulator, next to the evaluator"),
    ("iam", "SimulatePrincipalPolicy", "make doctor: may the caller do what the series does?"),
    (
        "s3control",
        "GetPublicAccessBlock",
        "notebook 10: does the account's Block Public Access keep the site private? "
        "(web_page.publish asks only a real account)",
    ),
)
"""Calls the series makes only against AWS (moto has no such service, or the helper asks only a
real account); they act on no resource."""

ACCOUNT_WIDE = {
    "sts:GetCallerIdentity": "needs no permission, listed for clarity (STS API reference)",
    "ecr:GetAuthorizationToken": "acts on the registry, not a repository (ECR docs)",
    "s3:ListAllMyBuckets": "a list call: no bucket to scope to",
    "lambda:ListFunctions": "a list call: no function to scope to",
    "iam:ListPolicies": "a list call (cleanup finds the policy's ARN by name)",
    "logs:DescribeLogGroups": "a list call; logGroupNamePrefix is no resource",
    "s3:GetAccountPublicAccessBlock": "the account's Block Public Access setting (notebook 10 "
    "checks whether it keeps the site private): the reference lists no resource for it",
    "access-analyzer:ValidatePolicy": "acts on no resource",
    "iam:SimulateCustomPolicy": "acts on no resource",
    "iam:SimulatePrincipalPolicy": "the principal simulated is the caller, whose name the "
    "policy cannot know; it evaluates, it changes nothing",
}
"""Actions that AWS authorizes only against ``*`` here, and why."""


# -- API Gateway: HTTP verbs on resource paths ------------------------------------------------------
API_GATEWAY_SOURCE = (
    "https://docs.aws.amazon.com/service-authorization/latest/reference/"
    "list_amazonapigatewaymanagement.html (API Gateway's management API is authorized as "
    "apigateway:<HTTP verb> on arn:aws:apigateway:<region>::<the request's path>)"
)


def api_gateway_route(operation: str) -> tuple[str, str, dict[str, str]]:
    """``operation``'s HTTP verb, path template and (parameter -> template placeholder), from
    botocore's model of the API: what API Gateway authorizes is the verb on that path."""
    model = service_model("apigateway").operation_model(operation)
    placeholders = {
        name: shape.serialization["name"]
        for name, shape in model.input_shape.members.items()
        if shape.serialization.get("location") == "uri"
    }
    return model.http["method"], model.http["requestUri"].split("?")[0], placeholders


def api_gateway_path(operation: str, parameters: Mapping[str, str]) -> str:
    """The path an API Gateway call requests (``/restapis/a1b2c3/resources``), ids filled in;
    a parameter the record does not hold becomes ``*``."""
    _, template, placeholders = api_gateway_route(operation)
    path = template
    for name, placeholder in placeholders.items():
        value = parameters.get(name)
        path = path.replace(f"{{{placeholder}}}", quote(value, safe="") if value else "*")
    return path


def iam_actions(service: str, operation: str, parameters: Iterable[str] = ()) -> tuple[str, ...]:
    """The IAM actions AWS checks for ``service.Operation`` called with these parameter names."""
    present = set(parameters)
    prefix = SERVICE_PREFIX.get(service, service)
    if service == "apigateway":
        return (f"apigateway:{api_gateway_route(operation)[0]}",)
    actions: list[str] = [f"{prefix}:{operation}"]
    for rule in ACTION_TABLE.get((service, operation), ()):
        if rule.when and rule.when not in present:
            continue
        if rule.replaces:
            actions = list(rule.actions)
        else:
            actions.extend(rule.actions)
    return tuple(dict.fromkeys(actions))
