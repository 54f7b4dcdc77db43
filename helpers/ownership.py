"""Whose is it? The series changes or deletes only what carries its own tags.

In a shared live account two learners, or a learner and a colleague, can have resources with
the names the series uses. Everything the series creates is tagged ``project=serverless-poc``
and ``owner=<SERIES_PREFIX>`` (``Account.tags``), and in live mode nothing is updated or deleted
unless it carries both. A function's log group is created by Lambda, untagged: it counts as ours
when its function is ours, or when the function is gone (its name carries the prefix).

Mock mode's account belongs to the learner alone, so there every resource of the series is theirs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import botocore.exceptions

from helpers.session import Account

MISSING_CODES = (
    "ResourceNotFoundException",
    "NoSuchEntity",
    "NoSuchBucket",
    "RepositoryNotFoundException",
    "404",
    "NotFound",
    "NotFoundException",  # API Gateway
)


class NotOwned(RuntimeError):
    """A resource with one of the series' names exists but is not this learner's."""


@dataclass(frozen=True)
class Verdict:
    """Is the resource there, and is it ours (with the reason when it is not)?"""

    exists: bool
    owned: bool
    reason: str = ""


def is_missing(error: botocore.exceptions.ClientError) -> bool:
    return str(error.response["Error"]["Code"]) in MISSING_CODES


def _pairs(items: list[dict[str, str]] | None) -> dict[str, str]:
    return {item["Key"]: item["Value"] for item in items or []}


def _tag_reader(account: Account, kind: str, name: str) -> Callable[[], dict[str, str]]:
    """A function returning the resource's tags (raising the service's not-found error)."""
    iam, names = account.client("iam"), account.names
    if kind == "IAM role":
        return lambda: _pairs(iam.list_role_tags(RoleName=name)["Tags"])
    if kind == "IAM user":
        return lambda: _pairs(iam.list_user_tags(UserName=name)["Tags"])
    if kind == "IAM policy":
        arn = f"arn:aws:iam::{account.account_id}:policy/{name}"
        return lambda: _pairs(iam.list_policy_tags(PolicyArn=arn)["Tags"])
    if kind == "S3 bucket":
        return lambda: _bucket_tags(account, name)
    if kind == "Lambda function":
        lam = account.client("lambda")
        return lambda: dict(lam.get_function(FunctionName=name).get("Tags") or {})
    if kind == "EventBridge rule":
        events = account.client("events")

        def rule_tags() -> dict[str, str]:
            arn = events.describe_rule(Name=name)["Arn"]
            return _pairs(events.list_tags_for_resource(ResourceARN=arn)["Tags"])

        return rule_tags
    if kind == "ECR repository":
        ecr = account.client("ecr")

        def repository_tags() -> dict[str, str]:
            found = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
            return _pairs(ecr.list_tags_for_resource(resourceArn=found["repositoryArn"])["tags"])

        return repository_tags
    if kind in API_GATEWAY_KINDS:
        return lambda: api_gateway_tags(account, kind, name)
    raise ValueError(f"no tag reader for {kind} (names: {names})")


def _bucket_tags(account: Account, bucket: str) -> dict[str, str]:
    s3 = account.client("s3")
    try:
        return _pairs(s3.get_bucket_tagging(Bucket=bucket)["TagSet"])
    except botocore.exceptions.ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchTagSet":
            s3.head_bucket(Bucket=bucket)  # exists, untagged (or raises 404)
            return {}
        raise


def verdict(account: Account, kind: str, name: str) -> Verdict:
    """Does ``name`` exist, and does it carry this learner's tags?"""
    if kind == "log group":
        return _log_group_verdict(account, name)
    if kind == "Lambda permission":
        return _permission_verdict(account, name)
    try:
        tags = _tag_reader(account, kind, name)()
    except botocore.exceptions.ClientError as error:
        if is_missing(error):
            return Verdict(False, False)
        if error.response["Error"]["Code"] in ("AccessDenied", "403", "AccessDeniedException"):
            return Verdict(True, False, "exists, but its tags cannot be read (another account's?)")
        raise
    return judge(account, tags)


def judge(account: Account, tags: Mapping[str, str]) -> Verdict:
    if account.settings.is_mock:
        return Verdict(True, True)
    wanted = account.tags
    missing = {key: value for key, value in wanted.items() if tags.get(key) != value}
    if not missing:
        return Verdict(True, True)
    found = ", ".join(f"{key}={tags[key]}" for key in wanted if key in tags) or "no series tags"
    need = ", ".join(f"{key}={value}" for key, value in wanted.items())
    return Verdict(True, False, f"not tagged {need} (has {found})")


def _log_group_verdict(account: Account, group: str) -> Verdict:
    logs = account.client("logs")
    present = any(
        found["logGroupName"] == group
        for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=group)
        for found in page["logGroups"]
    )
    if not present:
        return Verdict(False, False)
    function = group.removeprefix("/aws/lambda/")
    owner = verdict(account, "Lambda function", function)
    if owner.exists and not owner.owned:
        return Verdict(True, False, f"its function {function} is not ours ({owner.reason})")
    return Verdict(True, True)


def require_owned(account: Account, kind: str, name: str) -> None:
    """Before changing an existing resource: refuse, with what to do, if it is not ours."""
    found = verdict(account, kind, name)
    if found.exists and not found.owned:
        raise NotOwned(
            f"The {kind} {name} already exists in this account but was not created by this "
            f"series for SERIES_PREFIX={account.settings.prefix!r}: it is {found.reason}. The "
            "series changes nothing it does not own. Choose another SERIES_PREFIX (your own "
            "name), or ask whoever owns it."
        )


# -- API Gateway (notebook 9): REST APIs, API keys and usage plans are found by name -------------
API_GATEWAY_KINDS = ("REST API", "API key", "usage plan")


def api_gateway_items(account: Account, kind: str, name: str) -> list[dict]:
    """Every REST API, API key or usage plan called ``name`` (names need not be unique there)."""
    apigateway = account.client("apigateway")
    if kind == "REST API":
        pages = apigateway.get_paginator("get_rest_apis").paginate()
    elif kind == "API key":
        pages = apigateway.get_paginator("get_api_keys").paginate(
            nameQuery=name, includeValues=False
        )
    else:
        pages = apigateway.get_paginator("get_usage_plans").paginate()
    return [item for page in pages for item in page.get("items", []) if item.get("name") == name]


def owned_api_gateway_items(account: Account, kind: str, name: str) -> list[dict]:
    """The ``name`` items that are this learner's (mock mode: all of them)."""
    items = api_gateway_items(account, kind, name)
    if account.settings.is_mock:
        return items
    wanted = account.tags.items()
    return [item for item in items if wanted <= dict(item.get("tags") or {}).items()]


def api_gateway_tags(account: Account, kind: str, name: str) -> dict[str, str]:
    """The tags of the first ``name`` carrying this learner's tags (else of the first found)."""
    items = api_gateway_items(account, kind, name)
    if not items:
        raise botocore.exceptions.ClientError(
            {"Error": {"Code": "NotFoundException", "Message": f"no {kind} {name}"}}, "Get"
        )
    wanted = account.tags.items()
    for item in items:
        if wanted <= dict(item.get("tags") or {}).items():
            return dict(item["tags"])
    return dict(items[0].get("tags") or {})


def _permission_verdict(account: Account, target: str) -> Verdict:
    """``target`` is ``function:statement-id``: a statement in the function's resource policy.
    It is ours when its function is (the statement carries no tags of its own)."""
    import json

    function, _, statement_id = target.partition(":")
    lam = account.client("lambda")
    try:
        policy = json.loads(lam.get_policy(FunctionName=function)["Policy"])
    except botocore.exceptions.ClientError as error:
        if is_missing(error):
            return Verdict(False, False)
        raise
    if not any(found.get("Sid") == statement_id for found in policy.get("Statement", [])):
        return Verdict(False, False)
    owner = verdict(account, "Lambda function", function)
    if not owner.owned:
        return Verdict(True, False, f"its function {function} is not ours ({owner.reason})")
    return Verdict(True, True)
