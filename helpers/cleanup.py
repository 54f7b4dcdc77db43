"""Cleanup: find what the series made, delete what is yours in reverse order, prove nothing is left.

Cleanup only finds and deletes: it never creates or changes anything, so it works in live mode
without ``SERIES_LIVE_CREATE`` (the opt-in hook lets reads and deletes through). In live mode a
resource is deleted only if it carries this learner's tags (``helpers.ownership``); anything with
a series name that is not theirs is skipped and reported, never touched. Every resource gets its
own outcome, and one failure does not stop the rest: a denied delete of the role cannot leave the
ECR repository or the learner user behind.
"""

from __future__ import annotations

from collections.abc import Callable

import botocore.exceptions
import pandas as pd

from helpers.ownership import Verdict, verdict
from helpers.session import Account, LiveModeNotConfirmed


def series_resources(account: Account) -> list[tuple[str, str]]:
    """(kind, name) of everything the series may create, in the order it is deleted."""
    names = account.names
    functions = (names.function_name, names.no_s3_function, names.image_function)
    return [
        *site_resources(account),
        *api_resources(account),
        ("EventBridge rule", names.schedule_rule),
        *(("Lambda function", name) for name in functions),
        *(("log group", f"/aws/lambda/{name}") for name in functions),
        *(("IAM role", role) for role in (*names.extra_roles, names.role_name)),
        ("IAM policy", names.policy_name),
        ("IAM user", names.user_name),
        ("IAM user", names.scratch_user),
        ("S3 bucket", names.handlers_bucket),
        ("S3 bucket", names.models_bucket),
        ("S3 bucket", names.decoy_bucket),
        ("ECR repository", names.ecr_repository),
    ]


def site_resources(account: Account) -> list[tuple[str, str]]:
    """Notebook 10's web page: the site bucket (its objects go first, like any bucket's)."""
    from helpers.web_page import site_bucket_name

    return [("S3 bucket", site_bucket_name(account.names))]


def api_resources(account: Account) -> list[tuple[str, str]]:
    """Notebook 9's API pieces, in deletion order: usage plans (their stages detached first),
    API keys, the function's permission statements for API Gateway, then the REST API."""
    from helpers.api.permission import PROXY_STATEMENT_ID, STATEMENT_ID

    names = account.names
    return [
        ("usage plan", names.demo_usage_plan_name),
        ("usage plan", names.usage_plan_name),
        ("API key", names.demo_api_key_name),
        ("API key", names.api_key_name),
        ("Lambda permission", f"{names.function_name}:{PROXY_STATEMENT_ID}"),
        ("Lambda permission", f"{names.function_name}:{STATEMENT_ID}"),
        ("REST API", names.api_name),
    ]


def survey(account: Account) -> pd.DataFrame:
    """Every series resource that exists: kind, name, whether it is yours and, if not, why."""
    rows = []
    for kind, name in series_resources(account):
        found = verdict(account, kind, name)
        if found.exists:
            rows.append({"kind": kind, "name": name, "owned": found.owned, "reason": found.reason})
    return pd.DataFrame(rows, columns=["kind", "name", "owned", "reason"])


def inventory(account: Account) -> pd.DataFrame:
    """What of the series' resources exists now and is yours (one row each: kind, name)."""
    found = survey(account)
    return found[found["owned"].astype(bool)][["kind", "name"]].reset_index(drop=True)


def not_ours(account: Account) -> pd.DataFrame:
    """Resources with the series' names that are not yours: never changed or deleted, and why."""
    found = survey(account)
    return found[~found["owned"].astype(bool)][["kind", "name", "reason"]].reset_index(drop=True)


def _deleter(account: Account, kind: str, name: str) -> Callable[[], object]:
    from helpers.iam import delete_policy, delete_role, delete_user, find_customer_policy

    iam = account.client("iam")
    if kind == "EventBridge rule":
        events = account.client("events")

        def remove_rule() -> None:
            targets = events.list_targets_by_rule(Rule=name)["Targets"]
            if targets:
                events.remove_targets(Rule=name, Ids=[target["Id"] for target in targets])
            events.delete_rule(Name=name)

        return remove_rule
    if kind == "Lambda function":
        return lambda: account.client("lambda").delete_function(FunctionName=name)
    if kind == "log group":
        return lambda: account.client("logs").delete_log_group(logGroupName=name)
    if kind == "IAM role":
        return lambda: delete_role(iam, name)
    if kind == "IAM policy":
        return lambda: delete_policy(iam, find_customer_policy(iam, name)["Arn"])
    if kind == "IAM user":
        return lambda: delete_user(iam, name)
    if kind == "S3 bucket":
        return lambda: _empty_and_delete_bucket(account, name)
    if kind in ("usage plan", "API key", "REST API", "Lambda permission"):
        return _api_deleter(account, kind, name)
    if kind == "ECR repository":
        # force: the images go with it (they are this learner's: the repository is)
        return lambda: account.client("ecr").delete_repository(repositoryName=name, force=True)
    raise ValueError(f"no deleter for {kind}")


def _api_deleter(account: Account, kind: str, name: str) -> Callable[[], object]:
    """API Gateway names need not be unique: every item of that name that is yours goes."""
    from helpers.api.access import delete_usage_plan
    from helpers.ownership import owned_api_gateway_items

    apigateway = account.client("apigateway")
    if kind == "Lambda permission":
        function, _, statement_id = name.partition(":")
        return lambda: account.client("lambda").remove_permission(
            FunctionName=function, StatementId=statement_id
        )
    delete_one = {
        "usage plan": lambda item: delete_usage_plan(account, item["id"]),
        "API key": lambda item: apigateway.delete_api_key(apiKey=item["id"]),
        "REST API": lambda item: apigateway.delete_rest_api(restApiId=item["id"]),
    }[kind]

    def delete_all() -> None:
        for item in owned_api_gateway_items(account, kind, name):
            delete_one(item)

    return delete_all


def _empty_and_delete_bucket(account: Account, bucket: str) -> None:
    """Every object (and version), then the bucket."""
    s3 = account.client("s3")
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        doomed = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for item in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        if doomed:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})
    s3.delete_bucket(Bucket=bucket)


def _outcome(found: Verdict, delete: Callable[[], object]) -> str:
    if not found.exists:
        return "not found"
    if not found.owned:
        return f"skipped: {found.reason}"
    try:
        delete()
    except botocore.exceptions.ClientError as error:
        details = error.response["Error"]
        return f"failed: {details.get('Code')}: {details.get('Message', '')}"
    except LiveModeNotConfirmed as error:  # a change on the way to a delete, refused: say so
        return f"failed: {error}"
    return "deleted"


def delete_resources(account: Account, resources: list[tuple[str, str]]) -> pd.DataFrame:
    """Delete these (kind, name) in order, each only if it is yours; one row per resource.

    Ownership is decided for all of them first (a log group is yours when its function is, and
    deleting the function first must not change that), then each is deleted. Outcomes: deleted,
    not found, skipped (with why) or failed (with AWS's error); a failure does not stop the rest.
    """
    plan = [(kind, name, verdict(account, kind, name)) for kind, name in resources]
    rows = [
        (f"{kind} {name}", _outcome(found, _deleter(account, kind, name)))
        for kind, name, found in plan
    ]
    return pd.DataFrame(rows, columns=["resource", "result"]).set_index("resource")


def delete_everything(account: Account) -> pd.DataFrame:
    """Every series resource that is yours, in reverse order of creation."""
    return delete_resources(account, series_resources(account))


def delete_function(account: Account, function_name: str | None = None) -> pd.DataFrame:
    """One function and its log group (notebooks delete their counter-examples with this)."""
    name = function_name or account.names.function_name
    return delete_resources(
        account, [("Lambda function", name), ("log group", f"/aws/lambda/{name}")]
    )


def delete_api(account: Account) -> pd.DataFrame:
    """Notebook 9's API, key, usage plans and the function's permissions for API Gateway."""
    return delete_resources(account, api_resources(account))


def delete_site(account: Account) -> pd.DataFrame:
    """Notebook 10's site bucket: the page, its config.js and the bucket."""
    return delete_resources(account, site_resources(account))


def delete_schedule(account: Account) -> pd.DataFrame:
    """The keep-warm rule (its targets first)."""
    return delete_resources(account, [("EventBridge rule", account.names.schedule_rule)])
