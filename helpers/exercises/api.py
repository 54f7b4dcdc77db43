"""Exercise of notebook 9: scope API Gateway's permission on the function to one method."""

from __future__ import annotations

import re
import time
from typing import Any

from helpers.exercises.core import LIVE_SETTLE_S, ExerciseNotDone, _a, _problems, require_attempt

_EXECUTE_API_ARN = re.compile(
    r"^arn:aws:execute-api:(?P<region>[^:]*):(?P<account>[^:]*):"
    r"(?P<api>[^/]*)/(?P<stage>[^/]*)/(?P<verb>[^/]*)/(?P<path>.*)$"
)


def check_proxy_permission(
    account: Any, api_id: str, my_source_arn: object, api_key: str, url: str
) -> str:
    """Notebook 9: the learner wrote the SourceArn letting API Gateway call the function for
    GET /admit-proxy of this API (any stage or prod), and nothing wider.

    Why: ``lambda add-permission`` without a SourceArn, or with wildcards in the wrong places,
    lets any API in any account that knows the function's ARN invoke it. The check judges the
    ARN part by part, then adds the permission with it and calls /admit-proxy: it must answer.
    """
    from helpers.api import calling, permission
    from helpers.api.proxy import PROXY_PATH

    require_attempt(my_source_arn, "my_source_arn", "write the execute-api ARN as a string")
    if not isinstance(my_source_arn, str):
        raise ExerciseNotDone(
            f"`my_source_arn` is {_a(my_source_arn)}; write the ARN as a string, "
            "arn:aws:execute-api:<region>:<account>:<api id>/<stage>/<verb>/<path>."
        )
    found = _EXECUTE_API_ARN.match(my_source_arn.strip())
    if found is None:
        raise ExerciseNotDone(
            f"{my_source_arn!r} is not an execute-api ARN: its form is "
            "arn:aws:execute-api:<region>:<account>:<api id>/<stage>/<verb>/<path>."
        )
    parts = found.groupdict()
    problems = []
    if parts["region"] != account.region:
        problems.append(f"region: yours is {parts['region']!r}, the API's is {account.region!r}")
    if parts["account"] != account.account_id:
        problems.append(
            f"account: yours is {parts['account']!r}, this account is {account.account_id!r}"
        )
    if parts["api"] in ("*", ""):
        problems.append(
            "API id: a wildcard lets every API Gateway API in the account invoke the function; "
            "name this API's id"
        )
    elif parts["api"] != api_id:
        problems.append(f"API id: {parts['api']!r} is not this API's id")
    if parts["stage"] not in ("*", "prod"):
        problems.append(f"stage: {parts['stage']!r}; use * (any stage) or prod")
    if parts["verb"] != "GET":
        problems.append(
            f"method: {parts['verb']!r}; the resource has GET only, so allow exactly GET"
        )
    if parts["path"] != PROXY_PATH:
        problems.append(
            f"path: {parts['path']!r}; the proxy resource is {PROXY_PATH} (no leading slash)"
        )
    _problems(problems, "Not scoped right yet")
    permission.allow_api_gateway(
        account, api_id, PROXY_PATH, permission.PROXY_STATEMENT_ID, stage=parts["stage"]
    )
    deadline = time.monotonic() + (0 if account.settings.is_mock else LIVE_SETTLE_S)
    while True:
        answer = calling.call(url, {"gre": 800, "gpa": 4, "rank": 1}, api_key)
        if answer.status == 200 or time.monotonic() >= deadline:
            break
        time.sleep(3)
    if answer.status != 200:
        raise ExerciseNotDone(
            f"the permission is in place but GET /{PROXY_PATH} answered {answer!r}; "
            "was the API deployed (the previous cells)?"
        )
    return f"Done: API Gateway may invoke the function for GET /{PROXY_PATH} of this API only, and it answers 200."
