"""Cleanup: delete everything the series made, in reverse order, and show that nothing is left.

Deletion is by name (``helpers.config.Names``), so it removes exactly what the series created —
with a prefix in a shared live account, only that participant's resources.
"""

from __future__ import annotations

import botocore.exceptions
import pandas as pd

from helpers.session import Account


def _missing(error: botocore.exceptions.ClientError) -> bool:
    code = error.response["Error"]["Code"]
    return code in (
        "ResourceNotFoundException",
        "NoSuchEntity",
        "NoSuchBucket",
        "RepositoryNotFoundException",
        "404",
    )


def _attempt(results: list[tuple[str, str]], what: str, call) -> None:
    try:
        call()
        results.append((what, "deleted"))
    except botocore.exceptions.ClientError as error:
        if not _missing(error):
            raise
        results.append((what, "not found"))


def delete_schedule(account: Account) -> list[tuple[str, str]]:
    """The keep-warm rule: its targets first, then the rule."""
    events = account.client("events")
    rule = account.names.schedule_rule
    results: list[tuple[str, str]] = []

    def remove() -> None:
        targets = events.list_targets_by_rule(Rule=rule)["Targets"]
        if targets:
            events.remove_targets(Rule=rule, Ids=[target["Id"] for target in targets])
        events.delete_rule(Name=rule)

    _attempt(results, f"EventBridge rule {rule}", remove)
    return results


def delete_function(account: Account, function_name: str | None = None) -> list[tuple[str, str]]:
    """The function (with its resource policy) and its log group."""
    name = function_name or account.names.function_name
    results: list[tuple[str, str]] = []
    lam, logs = account.client("lambda"), account.client("logs")
    _attempt(results, f"Lambda function {name}", lambda: lam.delete_function(FunctionName=name))
    group = f"/aws/lambda/{name}"
    _attempt(results, f"log group {group}", lambda: logs.delete_log_group(logGroupName=group))
    return results


def delete_bucket(account: Account, bucket: str) -> list[tuple[str, str]]:
    """Every object (and version), then the bucket."""
    s3 = account.client("s3")
    results: list[tuple[str, str]] = []

    def remove() -> None:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            doomed = [
                {"Key": item["Key"], "VersionId": item["VersionId"]}
                for item in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            if doomed:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})
        s3.delete_bucket(Bucket=bucket)

    _attempt(results, f"S3 bucket {bucket}", remove)
    return results


def delete_everything(account: Account) -> pd.DataFrame:
    """Reverse order of creation: schedule, function, role and policy, user, buckets, images."""
    from helpers.iam import delete_user, teardown_lambda_role

    names = account.names
    from helpers.iam import delete_role

    results = delete_schedule(account)
    results += delete_function(account)
    results += delete_function(account, names.no_s3_function)
    for role in names.extra_roles:
        gone = delete_role(account.client("iam"), role)
        results.append((f"IAM role {role}", "deleted" if gone else "not found"))
    torn = teardown_lambda_role(account.client("iam"), names)
    results.append((f"IAM role {names.role_name}", "deleted" if torn["role"] else "not found"))
    results.append(
        (f"IAM policy {names.policy_name}", "deleted" if torn["policy"] else "not found")
    )
    user_gone = delete_user(account.client("iam"), names.user_name)
    results.append((f"IAM user {names.user_name}", "deleted" if user_gone else "not found"))
    results += delete_bucket(account, names.handlers_bucket)
    results += delete_bucket(account, names.models_bucket)
    if not account.settings.is_mock:
        ecr = account.client("ecr")
        _attempt(
            results,
            f"ECR repository {names.ecr_repository}",
            lambda: ecr.delete_repository(repositoryName=names.ecr_repository, force=True),
        )
    return pd.DataFrame(results, columns=["resource", "result"]).set_index("resource")


def inventory(account: Account) -> pd.DataFrame:
    """What of the series' resources exists now (one row per resource found)."""
    names = account.names
    found: list[tuple[str, str]] = []

    def probe(kind: str, name: str, call) -> None:
        try:
            call()
            found.append((kind, name))
        except botocore.exceptions.ClientError as error:
            if not _missing(error):
                raise

    iam, lam, s3 = account.client("iam"), account.client("lambda"), account.client("s3")
    probe(
        "Lambda function",
        names.function_name,
        lambda: lam.get_function(FunctionName=names.function_name),
    )
    groups = account.client("logs").describe_log_groups(logGroupNamePrefix=names.log_group)
    found += [("log group", group["logGroupName"]) for group in groups["logGroups"]]
    rules = account.client("events").list_rules(NamePrefix=names.schedule_rule)["Rules"]
    found += [("EventBridge rule", rule["Name"]) for rule in rules]
    for role in (names.role_name, *names.extra_roles):
        probe("IAM role", role, lambda role=role: iam.get_role(RoleName=role))
    policies = iam.list_policies(Scope="Local")["Policies"]
    found += [
        ("IAM policy", p["PolicyName"]) for p in policies if p["PolicyName"] == names.policy_name
    ]
    probe("IAM user", names.user_name, lambda: iam.get_user(UserName=names.user_name))
    for bucket in (names.models_bucket, names.handlers_bucket):
        probe("S3 bucket", bucket, lambda bucket=bucket: s3.head_bucket(Bucket=bucket))
    if not account.settings.is_mock:
        ecr = account.client("ecr")
        probe(
            "ECR repository",
            names.ecr_repository,
            lambda: ecr.describe_repositories(repositoryNames=[names.ecr_repository]),
        )
    return pd.DataFrame(found, columns=["kind", "name"])
