"""Keeping the function warm with a schedule (the 2017 suggestion), done as AWS requires today.

An EventBridge (formerly CloudWatch Events) rule with ``rate(5 minutes)`` targets the function.
The rule alone is not enough: the function's *resource-based policy* must allow
``events.amazonaws.com`` to invoke it, for this rule (``SourceArn``). The handler answers a
scheduled ping with ``{"warm": true}`` and logs ``keep-warm ping from <rule ARN>``.
"""

from __future__ import annotations

import json
import time
from typing import Any

from helpers.ownership import require_owned
from helpers.session import Account

KEEP_WARM_RATE = "rate(5 minutes)"
PERMISSION_STATEMENT_ID = "KeepWarmFromEventBridge"
TARGET_ID = "keep-warm"


def ensure_keep_warm_schedule(account: Account, rate: str = KEEP_WARM_RATE) -> dict[str, Any]:
    """The rule, the permission for EventBridge, and the target — each created only if missing."""
    names = account.names
    events, lam = account.client("events"), account.client("lambda")
    function_arn = lam.get_function_configuration(FunctionName=names.function_name)["FunctionArn"]
    require_owned(account, "Lambda function", names.function_name)
    require_owned(account, "EventBridge rule", names.schedule_rule)
    rule = {
        "Name": names.schedule_rule,
        "ScheduleExpression": rate,
        "State": "ENABLED",
        "Description": f"Keep {names.function_name} warm",
    }
    try:
        existing = events.describe_rule(Name=names.schedule_rule)
        rule_arn = existing["Arn"]
        if (existing.get("ScheduleExpression"), existing.get("State")) != (rate, "ENABLED"):
            events.put_rule(**rule)  # tags are set on create only
    except events.exceptions.ResourceNotFoundException:
        tags = [{"Key": key, "Value": value} for key, value in account.tags.items()]
        rule_arn = events.put_rule(**rule, Tags=tags)["RuleArn"]
    permission_added = False
    if not _has_permission(account, rule_arn):
        lam.add_permission(
            FunctionName=names.function_name,
            StatementId=PERMISSION_STATEMENT_ID,
            Action="lambda:InvokeFunction",
            Principal="events.amazonaws.com",
            SourceArn=rule_arn,
        )
        permission_added = True
    targets = events.list_targets_by_rule(Rule=names.schedule_rule)["Targets"]
    if [(t["Id"], t["Arn"]) for t in targets] != [(TARGET_ID, function_arn)]:
        events.put_targets(
            Rule=names.schedule_rule, Targets=[{"Id": TARGET_ID, "Arn": function_arn}]
        )
    return {"rule_arn": rule_arn, "schedule": rate, "permission_added": permission_added}


def resource_policy(account: Account) -> dict[str, Any] | None:
    """The function's resource-based policy (who else may invoke it), or None."""
    lam = account.client("lambda")
    try:
        return json.loads(lam.get_policy(FunctionName=account.names.function_name)["Policy"])
    except lam.exceptions.ResourceNotFoundException:
        return None


def _has_permission(account: Account, rule_arn: str) -> bool:
    policy = resource_policy(account) or {"Statement": []}
    return any(
        statement.get("Sid") == PERMISSION_STATEMENT_ID
        and rule_arn in json.dumps(statement.get("Condition", {}))
        for statement in policy["Statement"]
    )


def keep_warm_pings(account: Account) -> list[str]:
    """The ``keep-warm ping`` lines the function has logged so far."""
    logs = account.client("logs")
    try:
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=account.names.log_group, filterPattern='"keep-warm ping"'
        )
        return [event["message"].strip() for page in pages for event in page["events"]]
    except logs.exceptions.ResourceNotFoundException:
        return []


def wait_for_pings(account: Account, count: int = 1, timeout_s: float = 20) -> list[str]:
    """Wait until the schedule has pinged ``count`` times (mock mode: seconds, on a fast clock)."""
    deadline = time.monotonic() + timeout_s
    while True:
        pings = keep_warm_pings(account)
        if len(pings) >= count or time.monotonic() > deadline:
            return pings
        time.sleep(0.5)
