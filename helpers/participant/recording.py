"""Recording the series: its steps on a private mock account with live names, every call kept."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from helpers import calls
from helpers.config import (
    DEFAULT_REGION,
    Settings,
    _clean_prefix,
    names_for,
)
from helpers.participant.actions import RECORDING_PREFIX
from helpers.participant.policy import ParticipantPolicy, build_policy
from helpers.participant.requests import Request, requests_of
from helpers.participant.steps import series_steps

# -- recording the series --------------------------------------------------------------------------


@dataclass
class StepResult:
    """One step of the series as run: its name, and the error if it failed."""

    name: str
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def run_series(
    account: Any, lambda_writes_logs: Callable[[str], None] | None = None
) -> list[StepResult]:
    """Run :func:`series_steps`; one step's failure is reported and does not stop the rest."""
    results = []
    saved = os.environ.pop("SERIES_IMAGE_URI", None)  # the participant's own image route
    try:
        for name, step in series_steps(account, lambda_writes_logs):
            try:
                step()
            except Exception as error:  # reported per step, as cleanup does
                results.append(StepResult(name, f"{type(error).__name__}: {error}"))
            else:
                results.append(StepResult(name))
    finally:
        if saved is not None:
            os.environ["SERIES_IMAGE_URI"] = saved
    return results


def live_style_account(
    session: Any, prefix: str, region: str = DEFAULT_REGION, mock: Any = None
) -> Any:
    """An Account with live settings and names on a mock account's ``session`` (as plan mode).

    ``mock`` (the MockAccount) tells the helpers that the account is not a real one, so that
    they make no requests to AWS itself (the site's website endpoint, S3 Control).
    """
    from helpers.session import Account

    identity = session.client("sts", region_name=region).get_caller_identity()
    settings = Settings(mode="live", region=region, prefix=_clean_prefix(prefix))
    names = names_for("live", settings.prefix, identity["Account"])
    return Account(settings, session, identity["Account"], identity["Arn"], names, mock)


@dataclass
class Recording:
    """What running the series recorded: the calls, and how each step went."""

    calls: list[calls.Call]  # with every parameter in full
    steps: list[StepResult]
    account_id: str
    region: str
    shown: list[calls.Call] = field(default_factory=list)  # calls.record_calls': errors too

    def refused(self) -> list[calls.Call]:
        """Calls AWS (the mock) answered with an error code, as ``helpers.calls`` saw them."""
        return [call for call in self.shown if call.error and call.error != calls.NOT_SENT]

    def requests(self) -> list[Request]:
        return requests_of(self.calls, self.account_id, self.region)

    def failed_steps(self) -> list[StepResult]:
        return [step for step in self.steps if not step.ok]


def record_parameters(session: Any, sink: list[calls.Call]) -> None:
    """Record each call's string parameters in full (the display's record shortens long values,
    and an ARN cut short cannot be scoped), next to ``calls.record_calls``' record."""

    def before(params: dict[str, Any], model: Any, **_: Any) -> None:
        sink.append(calls.Call(model.service_model.service_name, model.name, _flat(params), ""))

    session.events.register("provide-client-params", before, unique_id="participant-policy")


TAG_MAPPINGS = ("tags", "Tags")
"""Parameters that are a {key: value} map of tags (API Gateway's ``tags``, Lambda's ``Tags``)."""


def _flat(params: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """Parameters as (name, text): strings as they are, a list of strings joined, a structure's
    strings under their own names (``Code.ImageUri`` -> ``ImageUri``), a tag map's as
    ``aws:RequestTag/<key>`` (what a tag condition on a create sees), anything else present
    as ``<…>`` (``Tags``: its presence is what a tag-on-create rule asks about)."""
    flat: list[tuple[str, str]] = []
    for name, value in params.items():
        if isinstance(value, str):
            flat.append((name, value))
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            flat.append((name, ",".join(value)))
        elif isinstance(value, dict) and name in TAG_MAPPINGS:
            flat.append((name, "<structure>"))
            flat.extend(
                (f"aws:RequestTag/{key}", text)
                for key, text in value.items()
                if isinstance(text, str)
            )
        elif isinstance(value, dict):
            flat.append((name, "<structure>"))
            flat.extend((key, text) for key, text in value.items() if isinstance(text, str))
        else:
            flat.append((name, f"<{type(value).__name__}>"))
    return tuple(flat)


def record_series(
    session: Any,
    region: str = DEFAULT_REGION,
    *,
    prefix: str = RECORDING_PREFIX,
    lambda_writes_logs: Callable[[str], None] | None = None,
    mock: Any = None,
) -> Recording:
    """Run the series as ``session``'s identity with live names for ``prefix``; record every
    call (in full, and as ``helpers.calls`` shows it, with AWS's error codes). ``mock``: the
    MockAccount ``session`` reaches (see :func:`live_style_account`)."""
    log = calls.CallLog()
    calls.record_calls(session, log)
    full: list[calls.Call] = []
    record_parameters(session, full)
    account = live_style_account(session, prefix, region, mock)
    steps = run_series(account, lambda_writes_logs)
    return Recording(full, steps, account.account_id, region, log.take())


def log_writer(session: Any, region: str = DEFAULT_REGION) -> Callable[[str], None]:
    """Write one log line to a group with ``session`` (an unrecorded one), as Lambda would."""

    def write(group: str) -> None:
        logs = session.client("logs", region_name=region)
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_group(logGroupName=group)
        stream = "2026/01/01/[$LATEST]participantpolicy"
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_stream(logGroupName=group, logStreamName=stream)

    return write


def generate(
    prefix: str, account_id: str = "*", region: str = "*", session: Any = None
) -> tuple[ParticipantPolicy, Recording]:
    """Record the series (on ``session``, else a private mock account) and build the policy."""
    if session is None:
        from helpers.mock import MockAccount

        with MockAccount(region=DEFAULT_REGION) as mock:
            recording = record_series(
                mock.session(),
                DEFAULT_REGION,
                lambda_writes_logs=log_writer(mock.session(), DEFAULT_REGION),
                mock=mock,
            )
    else:
        recording = record_series(session, DEFAULT_REGION)
    failed = recording.failed_steps()
    if failed:
        listed = "\n".join(f"  - {step.name}: {step.error}" for step in failed)
        raise RuntimeError(
            "Some of the series' steps failed while their calls were recorded, so the policy "
            f"would miss what they call:\n{listed}\nFix the step (run `make test`), then generate "
            "the policy again."
        )
    policy = build_policy(recording.requests(), prefix, account_id=account_id, region=region)
    return policy, recording


def sources_table(policy: ParticipantPolicy) -> str:
    """Each action, the calls it comes from (or why it was added), as plain text."""
    rows: dict[str, list[str]] = {}
    for request in policy.requests:
        rows.setdefault(request.action, [])
        if request.call not in rows[request.action]:
            rows[request.action].append(request.call)
    for action, why in policy.added:
        rows.setdefault(action, []).append(f"({why})")
    width = max(len(action) for action in rows)
    return "\n".join(
        f"{action:<{width}}  {', '.join(sorted(origins))}"
        for action, origins in sorted(rows.items())
    )
