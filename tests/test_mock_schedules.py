"""Scheduled EventBridge rules fire Lambda targets (the session account runs at time_scale=60)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from helpers.mock.events.schedule_expressions import Cron, Rate, UnsupportedSchedule, parse

RECORDER = "import os, json\nSEEN = []\n\ndef lambda_handler(event, context):\n    SEEN.append(event)\n    return len(SEEN)\n"


def _wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _rule(mock_session, mock_name, function_name: str, expression: str, **target) -> str:
    events = mock_session.client("events")
    rule = mock_name("rule")
    rule_arn = events.put_rule(Name=rule, ScheduleExpression=expression)["RuleArn"]
    fn_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
    events.put_targets(Rule=rule, Targets=[{"Id": "fn", "Arn": fn_arn, **target}])
    return rule_arn


def test_rate_rule_invokes_a_function_that_allows_events(
    mock_account, mock_session, mock_function, mock_name
):
    name = mock_function(RECORDER)
    client = mock_session.client("lambda")
    rule_arn = _rule(mock_session, mock_name, name, "rate(1 minute)")
    client.add_permission(
        FunctionName=name,
        StatementId="events",
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceArn=rule_arn,
    )
    deliveries = mock_account.scheduler.deliveries
    assert _wait_for(
        lambda: sum(d.rule_arn == rule_arn and d.outcome == "invoked" for d in deliveries) >= 2, 6
    )
    logs = mock_session.client("logs")
    assert _wait_for(
        lambda: any(
            '"detail-type": "Scheduled Event"' in e["message"] or "START" in e["message"]
            for e in logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
        )
    )
    event_text = (
        mock_session.client("lambda")
        .invoke(FunctionName=name, Payload=b'{"probe": 1}')["Payload"]
        .read()
    )
    assert int(event_text) >= 3, (
        "the scheduled events ran in the same warm environment before the probe"
    )


def test_scheduled_event_shape_and_constant_input(
    mock_account, mock_session, mock_function, mock_name, mock_role
):
    bucket = mock_name("sched-bucket")
    mock_session.client("s3").create_bucket(Bucket=bucket)
    write = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
        ],
    }
    source = f"import boto3, json, uuid\n\ndef lambda_handler(event, context):\n    boto3.client('s3').put_object(Bucket='{bucket}', Key=str(uuid.uuid4()), Body=json.dumps(event))\n"
    name = mock_function(source, role=mock_role(inline=write))
    client = mock_session.client("lambda")
    scheduled = _rule(mock_session, mock_name, name, "cron(* * * * ? *)")
    constant = _rule(mock_session, mock_name, name, "rate(1 minute)", Input='{"warm": true}')
    for index, arn in enumerate((scheduled, constant)):
        client.add_permission(
            FunctionName=name,
            StatementId=f"e{index}",
            Action="lambda:InvokeFunction",
            Principal="events.amazonaws.com",
            SourceArn=arn,
        )
    s3 = mock_session.client("s3")

    def bodies() -> list[dict]:
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
        return [json.loads(s3.get_object(Bucket=bucket, Key=k)["Body"].read()) for k in keys]

    assert _wait_for(
        lambda: {"warm": True} in bodies() and any("detail-type" in b for b in bodies()), 8
    )
    event = next(b for b in bodies() if "detail-type" in b)
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["resources"] == [scheduled] and event["account"] == "123456789012"
    assert event["time"].endswith(":00Z"), "cron fires on the minute (of the scaled clock)"


def test_rule_without_permission_does_not_invoke(
    mock_account, mock_session, mock_function, mock_name
):
    name = mock_function(RECORDER)
    rule_arn = _rule(mock_session, mock_name, name, "rate(1 minute)")
    assert _wait_for(
        lambda: any(d.rule_arn == rule_arn for d in mock_account.scheduler.deliveries), 5
    )
    delivery = next(d for d in mock_account.scheduler.deliveries if d.rule_arn == rule_arn)
    assert delivery.outcome == "denied"
    assert mock_account.lambda_service.live_environment_count(name) == 0


def test_permission_for_another_rule_does_not_count(
    mock_account, mock_session, mock_function, mock_name
):
    name = mock_function(RECORDER)
    rule_arn = _rule(mock_session, mock_name, name, "rate(1 minute)")
    mock_session.client("lambda").add_permission(
        FunctionName=name,
        StatementId="other",
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceArn=rule_arn + "-other",
    )
    assert _wait_for(
        lambda: any(d.rule_arn == rule_arn for d in mock_account.scheduler.deliveries), 5
    )
    assert (
        next(d for d in mock_account.scheduler.deliveries if d.rule_arn == rule_arn).outcome
        == "denied"
    )


def test_disabled_rules_do_not_fire(mock_account, mock_session, mock_function, mock_name):
    name = mock_function(RECORDER)
    rule_arn = _rule(mock_session, mock_name, name, "rate(1 minute)")
    mock_session.client("events").disable_rule(Name=rule_arn.split("/")[-1])
    time.sleep(1.5)
    assert not any(d.rule_arn == rule_arn for d in mock_account.scheduler.deliveries)


def test_schedule_expressions():
    assert parse("rate(5 minutes)") == Rate(300)
    assert parse("rate(1 hour)") == Rate(3600)
    at = datetime(2026, 11, 26, 15, 7, 30, tzinfo=UTC)  # a Thursday
    assert parse("cron(0/15 * * * ? *)").next_after(at) == datetime(
        2026, 11, 26, 15, 15, tzinfo=UTC
    )
    assert parse("cron(0 9 ? * MON-FRI *)").next_after(at) == datetime(
        2026, 11, 27, 9, 0, tzinfo=UTC
    )
    assert parse("cron(30 8 1 JAN ? 2027)").next_after(at) == datetime(
        2027, 1, 1, 8, 30, tzinfo=UTC
    )
    assert isinstance(parse("cron(0 12 ? * 1 *)"), Cron)
    assert parse("cron(0 12 ? * 1 *)").next_after(at).weekday() == 6, "1 is Sunday in EventBridge"
    for bad in ("rate(0 minutes)", "cron(0 12 L * ? *)", "every 5 minutes", "cron(* * * *)"):
        with pytest.raises(UnsupportedSchedule):
            parse(bad)
