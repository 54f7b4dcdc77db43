"""The workshop sweep: every resource of the series in the account, whoever made it, by its tags.

Notebook 11 deletes one participant's resources. At the end of a workshop the instructor needs
the other view: everything in the account (one region) that the series made, for every
participant, grouped by the ``owner`` tag, and proof that nothing is left.

    python -m helpers.sweep                      # list (read-only); exit 1 while anything is left
    python -m helpers.sweep --owner ann --owner bob
    python -m helpers.sweep --delete             # each owner's resources, as notebook 11 deletes them

What counts as the series': a resource tagged ``project=serverless-poc``, or whose name has the
series' stem (``ServerlessPOC`` in IAM, Lambda, EventBridge, log group and API Gateway names,
``serverless-poc`` in bucket and ECR repository names, notebook 10's site bucket included) — so a
resource that lost or never got its tags still shows, marked ``untagged``. API Gateway names need
not be unique, so its REST APIs, API keys and usage plans are listed with their ids too. The
Resource Groups Tagging API cannot do this alone: it does not cover IAM, and a function's log
group is created by Lambda without tags. So every service is listed with its own read calls
(IAM's are global; the others are per region).

``--delete`` runs, for each owner found (or each ``--owner``), the series' own cleanup
(``helpers.cleanup.delete_everything``) with that owner's names: only what carries
``project=serverless-poc`` and ``owner=<that owner>`` is deleted, in reverse order, each with its
outcome — the site bucket emptied first, usage plans detached from their stages and deleted
before the API keys and the REST API, a function's statements for API Gateway before the API.
Nothing untagged is deleted; the final listing shows it, with the command to remove it by hand.
The sweep creates nothing and changes nothing but what a deletion needs (a usage plan detached
from its stages), so it needs no ``SERIES_LIVE_CREATE``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from typing import Any

import boto3
import botocore.exceptions
import pandas as pd

from helpers.service_models import boto3_session

PROJECT = "serverless-poc"
NAME_STEMS = ("ServerlessPOC", "serverless-poc")
COLUMNS = ["kind", "name", "id", "owner", "project", "note"]


def _pairs(items: Iterable[dict[str, str]] | None) -> dict[str, str]:
    return {item["Key"]: item["Value"] for item in items or []}


def _series_name(name: str) -> bool:
    return any(stem in name for stem in NAME_STEMS)


def _safe_tags(read: Callable[[], dict[str, str]]) -> dict[str, str] | None:
    """Tags, or None when the resource vanished or its tags cannot be read."""
    try:
        return read()
    except botocore.exceptions.ClientError:
        return None


def _row(
    kind: str, name: str, tags: dict[str, str] | None, note: str = "", item_id: str = ""
) -> dict[str, str]:
    tags = tags or {}
    if not note and tags.get("project") != PROJECT:
        note = "untagged: found by its name"
    elif not note and "owner" not in tags:
        note = "no owner tag"
    return {
        "kind": kind,
        "name": name,
        "id": item_id,
        "owner": tags.get("owner", ""),
        "project": tags.get("project", ""),
        "note": note,
    }


def _keep(name: str, tags: dict[str, str] | None) -> bool:
    return (tags or {}).get("project") == PROJECT or _series_name(name)


def _iam(session: boto3.Session) -> list[dict[str, str]]:
    iam = session.client("iam")
    rows = []
    for page in iam.get_paginator("list_roles").paginate():
        for role in page["Roles"]:
            name = role["RoleName"]
            tags = _safe_tags(lambda name=name: _pairs(iam.list_role_tags(RoleName=name)["Tags"]))
            if _keep(name, tags):
                rows.append(_row("IAM role", name, tags))
    for page in iam.get_paginator("list_users").paginate():
        for user in page["Users"]:
            name = user["UserName"]
            tags = _safe_tags(lambda name=name: _pairs(iam.list_user_tags(UserName=name)["Tags"]))
            if _keep(name, tags):
                rows.append(_row("IAM user", name, tags))
    for page in iam.get_paginator("list_policies").paginate(Scope="Local"):
        for policy in page["Policies"]:
            name, arn = policy["PolicyName"], policy["Arn"]
            tags = _safe_tags(lambda arn=arn: _pairs(iam.list_policy_tags(PolicyArn=arn)["Tags"]))
            if _keep(name, tags):
                rows.append(_row("IAM policy", name, tags))
    return rows


def _bucket_tags(s3: Any, bucket: str) -> dict[str, str] | None:
    try:
        return _pairs(s3.get_bucket_tagging(Bucket=bucket)["TagSet"])
    except botocore.exceptions.ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchTagSet":
            return {}
        return None


def _regional(session: boto3.Session, region: str) -> list[dict[str, str]]:
    rows = []
    s3 = session.client("s3", region_name=region)
    for bucket in s3.list_buckets().get("Buckets", []):
        name = bucket["Name"]
        tags = _bucket_tags(s3, name)
        if _keep(name, tags):
            rows.append(_row("S3 bucket", name, tags))

    lam = session.client("lambda", region_name=region)
    function_owner: dict[str, dict[str, str] | None] = {}
    for page in lam.get_paginator("list_functions").paginate():
        for function in page["Functions"]:
            name, arn = function["FunctionName"], function["FunctionArn"]
            tags = _safe_tags(lambda arn=arn: dict(lam.list_tags(Resource=arn).get("Tags") or {}))
            if _keep(name, tags):
                function_owner[name] = tags
                rows.append(_row("Lambda function", name, tags))

    logs = session.client("logs", region_name=region)
    for page in logs.get_paginator("describe_log_groups").paginate(
        logGroupNamePrefix="/aws/lambda/"
    ):
        for group in page["logGroups"]:
            name = group["logGroupName"]
            function = name.removeprefix("/aws/lambda/")
            if not _series_name(function):
                continue
            if function in function_owner:  # Lambda makes the group untagged: its function's tags
                rows.append(
                    _row("log group", name, function_owner[function], "its function's tags")
                )
            else:
                rows.append(_row("log group", name, {}, "untagged (Lambda made it); function gone"))

    events = session.client("events", region_name=region)
    for page in events.get_paginator("list_rules").paginate():
        for rule in page["Rules"]:
            name, arn = rule["Name"], rule["Arn"]
            tags = _safe_tags(
                lambda arn=arn: _pairs(events.list_tags_for_resource(ResourceARN=arn)["Tags"])
            )
            if _keep(name, tags):
                rows.append(_row("EventBridge rule", name, tags))

    ecr = session.client("ecr", region_name=region)
    for page in ecr.get_paginator("describe_repositories").paginate():
        for repository in page["repositories"]:
            name, arn = repository["repositoryName"], repository["repositoryArn"]
            tags = _safe_tags(
                lambda arn=arn: _pairs(ecr.list_tags_for_resource(resourceArn=arn)["tags"])
            )
            if _keep(name, tags):
                rows.append(_row("ECR repository", name, tags))
    return rows + _api_gateway(session, region)


API_GATEWAY_LISTS = (
    # kind, paginated read call, its arguments; in the order cleanup deletes them
    ("usage plan", "get_usage_plans", {}),
    ("API key", "get_api_keys", {"includeValues": False}),
    ("REST API", "get_rest_apis", {}),
)
"""Notebook 9's API Gateway items. Their tags come with the listing (no call per item)."""


def _api_gateway(session: boto3.Session, region: str) -> list[dict[str, str]]:
    """REST APIs, API keys and usage plans (a key's value is never read). A function's
    statements allowing API Gateway are part of its policy: they go with the function."""
    apigateway = session.client("apigateway", region_name=region)
    rows = []
    for kind, operation, arguments in API_GATEWAY_LISTS:
        for page in apigateway.get_paginator(operation).paginate(**arguments):
            for item in page.get("items", []):
                name, tags = item.get("name", ""), dict(item.get("tags") or {})
                if _keep(name, tags):
                    rows.append(_row(kind, name, tags, item_id=item["id"]))
    return rows


def survey(session: boto3.Session, region: str, owners: Iterable[str] = ()) -> pd.DataFrame:
    """Every series resource in the account (IAM) and the region, with its owner tag.

    ``owners``: only these owners' resources (and the untagged ones, which belong to no owner).
    """
    rows = _iam(session) + _regional(session, region)
    table = pd.DataFrame(rows, columns=COLUMNS)
    wanted = set(owners)
    if wanted:
        table = table[table["owner"].isin(wanted) | (table["owner"] == "")]
    return table.sort_values(["owner", "kind", "name"]).reset_index(drop=True)


def by_owner(table: pd.DataFrame) -> pd.DataFrame:
    """How many resources each owner has left ("" = no owner tag)."""
    if table.empty:
        return pd.DataFrame(columns=["owner", "resources"])
    counts = table.groupby("owner").size().rename("resources").reset_index()
    return counts.sort_values("owner").reset_index(drop=True)


def delete_owner(session: boto3.Session, region: str, owner: str) -> pd.DataFrame:
    """Notebook 11's cleanup for one owner: their resources only, by their tags, in reverse order."""
    from helpers import cleanup
    from helpers.config import Settings, names_for
    from helpers.session import Account

    identity = session.client("sts", region_name=region).get_caller_identity()
    settings = Settings(mode="live", region=region, prefix=owner)
    account = Account(
        settings,
        session,
        identity["Account"],
        identity["Arn"],
        names_for("live", owner, identity["Account"]),
    )
    return cleanup.delete_everything(account)


def _session(region: str) -> boto3.Session:
    """The standard AWS configuration (profile, environment, or a mock account's variables).

    It carries the series' opt-in hook, so nothing can be created or changed (but a usage plan
    detached from its stages, to be deleted).
    """
    from helpers.session import install_hook, refuse_unconfirmed_changes

    session = boto3_session(region_name=region)
    if session.get_credentials() is None:
        raise SystemExit(
            "[sweep] no AWS credentials: configure them the standard way (AWS_PROFILE, "
            "`aws configure`, or environment variables) for the workshop account."
        )
    install_hook(session, refuse_unconfirmed_changes)
    return session


HAND_ORDER = ("usage plan", "API key", "REST API")
"""Kinds removed by hand first, in cleanup's order: a plan that still names a stage cannot be
deleted, so it is detached and deleted before its keys and its API. Every other kind follows,
in the listing's order."""


def _hand_command(kind: str, name: str, item_id: str) -> str:
    if kind == "log group":
        return f"aws logs delete-log-group --log-group-name {name}"
    if kind == "IAM role":
        return (
            f"# detach its policies first: aws iam list-attached-role-policies --role-name {name}\n"
            f"aws iam delete-role --role-name {name}"
        )
    if kind == "S3 bucket":
        return f"aws s3 rb s3://{name} --force  # its objects first, then the bucket"
    if kind == "usage plan":
        return (
            f"# detach its stages first: aws apigateway get-usage-plan --usage-plan-id {item_id}, then "
            "for each apiStages entry\n"
            f"#   aws apigateway update-usage-plan --usage-plan-id {item_id} "
            "--patch-operations op=remove,path=/apiStages,value=API_ID:STAGE\n"
            f"aws apigateway delete-usage-plan --usage-plan-id {item_id}  # {name}"
        )
    if kind == "API key":
        return f"aws apigateway delete-api-key --api-key {item_id}  # {name}"
    if kind == "REST API":
        return f"aws apigateway delete-rest-api --rest-api-id {item_id}  # {name}"
    return f"# {kind} {name}: delete it in the console or with the aws CLI"


def _hand_commands(table: pd.DataFrame) -> list[str]:
    """CLI commands that remove what the tag-based cleanup leaves (untagged, or no owner),
    API Gateway's first, in the order AWS accepts them."""
    unowned = [row for row in table.itertuples() if not row.owner]
    rank = {kind: place for place, kind in enumerate(HAND_ORDER)}
    unowned.sort(key=lambda row: rank.get(row.kind, len(HAND_ORDER)))
    return [_hand_command(row.kind, row.name, row.id) for row in unowned]


def main(argv: list[str] | None = None) -> int:
    from helpers.config import configured_region

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--owner", action="append", default=[], help="only this owner (repeat)")
    parser.add_argument("--region", default=None, help="default: the configured region")
    parser.add_argument(
        "--delete",
        action="store_true",
        help="delete each owner's tagged resources (notebook 11's cleanup), then list again",
    )
    args = parser.parse_args(argv)
    region = args.region or configured_region("live")
    session = _session(region)
    identity = session.client("sts", region_name=region).get_caller_identity()
    print(f"[sweep] account {identity['Account']}, region {region}, as {identity['Arn']}")
    found = survey(session, region, args.owner)
    if args.delete:
        owners = args.owner or sorted(owner for owner in set(found["owner"]) if owner)
        for owner in owners:
            print(f"\n[sweep] deleting what is tagged owner={owner}, project={PROJECT}")
            print(delete_owner(session, region, owner).to_string())
        found = survey(session, region, args.owner)
    print()
    if found.empty:
        scope = f" of {', '.join(args.owner)}" if args.owner else ""
        print(
            f"[sweep] nothing of the series{scope} is left in {identity['Account']} ({region}, and IAM)."
        )
        return 0
    print(found.to_string(index=False))
    print()
    print(by_owner(found).to_string(index=False))
    commands = _hand_commands(found)
    if commands:
        print(
            "\n[sweep] no owner tag: the tag-based cleanup cannot tell whose these are. Check "
            "them, then remove them by hand (a log group of a deleted function also goes with "
            "`--delete --owner PREFIX` for the prefix its name carries):"
        )
        print("\n".join(commands))
    if not args.delete:
        print("\n[sweep] to delete each owner's tagged resources: python -m helpers.sweep --delete")
    return 1


if __name__ == "__main__":
    sys.exit(main())
