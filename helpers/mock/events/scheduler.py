"""Scheduled EventBridge (CloudWatch Events) rules that fire, on a clock that can run fast.

moto stores rules and targets but nothing fires. The scheduler looks at every enabled rule with a
``rate(...)``/``cron(...)`` expression on the default bus and, when the rule is due, invokes its
Lambda targets asynchronously with EventBridge's "Scheduled Event" (or the target's constant
``Input``) — provided the function's resource policy lets ``events.amazonaws.com`` invoke it, as
on AWS; otherwise the delivery fails silently there and is recorded here as ``denied``.

Time: the scheduler keeps a virtual clock that starts at the real time and runs ``time_scale``
times faster, so with ``time_scale=60`` ``rate(5 minutes)`` fires every 5 real seconds. A rate
rule first fires one period after the scheduler first sees it; missed periods are not replayed.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from moto.awslambda.utils import get_backend as lambda_backend
from moto.events.models import events_backends

from ..awslambda.async_events import EventQueueFull
from ..awslambda.service import LambdaService
from .schedule_expressions import Schedule, UnsupportedSchedule, parse, utc

log = logging.getLogger(__name__)
EVENTS_PRINCIPAL = "events.amazonaws.com"


@dataclass(frozen=True)
class Delivery:
    """One attempt to deliver a scheduled event to one target."""

    rule_arn: str
    target_id: str
    target_arn: str
    event_time: str
    outcome: str  # invoked | denied | no-such-function | unsupported | queue-full
    request_id: str | None = None
    detail: str = ""


def resource_policy_allows(
    fn: Any, principal_service: str, source_arn: str, account_id: str
) -> bool:
    """Whether the function's resource policy lets a service invoke it for ``source_arn``.

    The series' policy evaluator decides (``helpers.iam.evaluate``), as for trust policies.
    """
    from helpers.iam import IamHelperError, evaluate

    statements = list(getattr(fn.policy, "statements", []))
    if not statements:
        return False
    function_arn = fn.function_arn.split(":function:")[0] + ":function:" + fn.function_name
    try:
        return evaluate(
            "lambda:InvokeFunction",
            function_arn,
            resource_policies={"Version": "2012-10-17", "Statement": statements},
            principal=principal_service,
            context={"aws:SourceArn": source_arn, "aws:SourceAccount": account_id},
        ).allowed
    except IamHelperError:
        return False


def _input_path(document: dict[str, Any], path: str) -> Any:
    if path in ("$", ""):
        return document
    value: Any = document
    for part in path.removeprefix("$.").split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


class Scheduler:
    """Fires scheduled rules' Lambda targets on a virtual clock ``time_scale`` times real time."""

    def __init__(
        self,
        service: LambdaService,
        account_id: str,
        *,
        time_scale: float = 1.0,
        tick_s: float = 0.05,
    ) -> None:
        self.service = service
        self.account_id = account_id
        self.time_scale = time_scale
        self._tick_s = tick_s
        self._real_start = time.time()
        self._due: dict[str, tuple[str, Schedule | None, datetime | None]] = {}
        self.deliveries: deque[Delivery] = deque(maxlen=10_000)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="mock-events-scheduler")

    def now(self) -> datetime:
        """The scheduler's virtual time (UTC)."""
        real = time.time()
        return utc(self._real_start + (real - self._real_start) * self.time_scale)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def _run(self) -> None:
        while not self._stop.wait(self._tick_s):
            try:
                self.tick()
            except Exception:  # keep firing other rules; the reason goes to the log
                log.exception("mock scheduler: a tick failed")

    def _rules(self) -> list[tuple[str, Any]]:
        rules = []
        account = events_backends.get(self.account_id) or {}
        for region, backend in list(account.items()):
            bus = backend.event_buses.get("default")
            if bus is not None:
                rules.extend((region, rule) for rule in list(bus.rules.values()))
        return rules

    def tick(self) -> None:
        """Fire every rule that is due at the current virtual time."""
        now = self.now()
        seen: set[str] = set()
        for region, rule in self._rules():
            if not rule.scheduled_expression or rule.state != "ENABLED":
                continue
            seen.add(rule.arn)
            expression, schedule, due = self._due.get(rule.arn, (None, None, None))
            if expression != rule.scheduled_expression:
                try:
                    schedule = parse(rule.scheduled_expression)
                    due = schedule.next_after(now)
                except UnsupportedSchedule as error:
                    schedule, due = None, None
                    self._record(
                        rule, {"Id": "*", "Arn": ""}, now, "unsupported", detail=str(error)
                    )
                self._due[rule.arn] = (rule.scheduled_expression, schedule, due)
            if schedule is None or due is None or now < due:
                continue
            following = schedule.next_after(due)
            while following <= now:
                following = schedule.next_after(following)
            self._due[rule.arn] = (rule.scheduled_expression, schedule, following)
            for target in list(rule.targets):
                self._deliver(region, rule, target, due)
        for arn in set(self._due) - seen:
            del self._due[arn]

    def _record(
        self,
        rule: Any,
        target: dict[str, Any],
        when: datetime,
        outcome: str,
        request_id: str | None = None,
        detail: str = "",
    ) -> None:
        delivery = Delivery(
            rule.arn,
            target.get("Id", ""),
            target.get("Arn", ""),
            when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            outcome,
            request_id,
            detail,
        )
        self.deliveries.append(delivery)
        if outcome != "invoked":
            log.info("mock scheduler: %s", delivery)

    def _deliver(self, region: str, rule: Any, target: dict[str, Any], when: datetime) -> None:
        arn = target.get("Arn", "")
        if ":lambda:" not in arn or ":function:" not in arn:
            self._record(
                rule,
                target,
                when,
                "unsupported",
                detail="only Lambda targets are delivered by the mock account",
            )
            return
        name, _, qualifier = arn.split(":function:", 1)[1].partition(":")
        try:
            fn = lambda_backend(self.account_id, region).get_function(name, qualifier or None)
        except Exception:
            self._record(rule, target, when, "no-such-function", detail=f"no function {arn}")
            return
        if not resource_policy_allows(fn, EVENTS_PRINCIPAL, rule.arn, self.account_id):
            self._record(
                rule,
                target,
                when,
                "denied",
                detail="the function's resource policy does not allow events.amazonaws.com to invoke it "
                "(aws lambda add-permission --principal events.amazonaws.com --source-arn <rule arn>)",
            )
            return
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": self.account_id,
            "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": region,
            "resources": [rule.arn],
            "detail": {},
        }
        if target.get("InputTransformer"):
            self._record(
                rule,
                target,
                when,
                "unsupported",
                detail="InputTransformer is not supported by the mock account",
            )
            return
        if target.get("Input") is not None:
            payload = str(target["Input"]).encode()
        elif target.get("InputPath"):
            payload = json.dumps(_input_path(event, target["InputPath"])).encode()
        else:
            payload = json.dumps(event).encode()
        try:
            request_id = self.service.submit_event(fn, payload)
        except EventQueueFull as error:  # the mock's bound on held events (EventBridge would retry)
            self._record(rule, target, when, "queue-full", detail=error.message)
            return
        except Exception as error:
            self._record(rule, target, when, "unsupported", detail=str(error))
            return
        self._record(rule, target, when, "invoked", request_id)
