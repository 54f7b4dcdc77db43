"""May API Gateway call the function? The function's resource-based policy decides.

An integration only names the function; Lambda still asks whether the caller,
``apigateway.amazonaws.com``, may invoke it. ``lambda add-permission`` adds a statement to the
function's resource-based policy, scoped by ``SourceArn`` to one API (and here one method and
path): ``arn:aws:execute-api:{region}:{account}:{api_id}/{stage}/{verb}/{path}``. Without the
statement Lambda refuses API Gateway, and the caller sees API Gateway's own
``500 {"message": "Internal server error"}`` — the reason is only in API Gateway's logs.
(The console adds this permission silently when you pick a function; the CLI and SDKs don't.)
"""

from __future__ import annotations

import json
from typing import Any

from helpers.session import Account

PRINCIPAL = "apigateway.amazonaws.com"
STATEMENT_ID = "ApiGatewayInvokeAdmit"
PROXY_STATEMENT_ID = "ApiGatewayInvokeAdmitProxy"


def source_arn(
    account: Account, api_id: str, path: str = "admit", verb: str = "GET", stage: str = "*"
) -> str:
    """The execute-api ARN of one method of one API, any stage (``*``)."""
    return (
        f"arn:aws:execute-api:{account.region}:{account.account_id}:{api_id}/{stage}/{verb}/{path}"
    )


def function_policy(account: Account) -> dict[str, Any]:
    """The function's resource-based policy (an empty one when it has none)."""
    lam = account.client("lambda")
    try:
        return json.loads(lam.get_policy(FunctionName=account.names.function_name)["Policy"])
    except lam.exceptions.ResourceNotFoundException:
        return {"Version": "2012-10-17", "Statement": []}


def statement(account: Account, statement_id: str = STATEMENT_ID) -> dict[str, Any] | None:
    return next(
        (
            found
            for found in function_policy(account)["Statement"]
            if found.get("Sid") == statement_id
        ),
        None,
    )


def _scoped_to(found: dict[str, Any] | None, arn: str) -> bool:
    return found is not None and arn in json.dumps(found.get("Condition", {}))


def allow_api_gateway(
    account: Account,
    api_id: str,
    path: str = "admit",
    statement_id: str = STATEMENT_ID,
    stage: str = "*",
) -> bool:
    """Let API Gateway invoke the function for this API's GET /path. True when added now.

    A statement with the same id for another API (an API deleted and made again) is replaced.
    """
    arn = source_arn(account, api_id, path, stage=stage)
    found = statement(account, statement_id)
    if _scoped_to(found, arn):
        return False
    lam = account.client("lambda")
    if found is not None:
        lam.remove_permission(FunctionName=account.names.function_name, StatementId=statement_id)
    lam.add_permission(
        FunctionName=account.names.function_name,
        StatementId=statement_id,
        Action="lambda:InvokeFunction",
        Principal=PRINCIPAL,
        SourceArn=arn,
    )
    return True


def revoke(account: Account, statement_id: str = STATEMENT_ID) -> bool:
    """Remove the statement (Lambda ``RemovePermission``). True when there was one."""
    if statement(account, statement_id) is None:
        return False
    account.client("lambda").remove_permission(
        FunctionName=account.names.function_name, StatementId=statement_id
    )
    return True


def api_gateway_statements(account: Account) -> list[dict[str, Any]]:
    """The statements letting API Gateway in: id, action and the SourceArn they are scoped to."""
    rows = []
    for found in function_policy(account)["Statement"]:
        principal = found.get("Principal")
        service = principal.get("Service") if isinstance(principal, dict) else principal
        if service != PRINCIPAL:
            continue
        condition = found.get("Condition", {})
        arn = next(
            (
                value
                for test in condition.values()
                for key, value in test.items()
                if key.lower() == "aws:sourcearn"
            ),
            "",
        )
        rows.append({"Sid": found.get("Sid"), "Action": found.get("Action"), "SourceArn": arn})
    return rows
