"""iam:PassRole, the permission every new Lambda developer meets.

Whoever gives a function a role lends the role's permissions to the function's code. So AWS asks
the *caller* of CreateFunction, or of an UpdateFunctionConfiguration that sets ``Role``, for
``iam:PassRole`` on that role. This lesson gives a short-lived "deployer" user (notebook 4's
scratch user) the Lambda permissions to reconfigure the function, first without ``iam:PassRole``,
then with it scoped to the function's own role, and shows what Lambda answers each time.
"""

from __future__ import annotations

from typing import Any

import botocore.exceptions
import pandas as pd

from helpers.least_privilege import Probe, scratch_user
from helpers.session import Account


def deployer_policy(function_arn: str, role_arn: str, *, pass_role: bool) -> dict[str, Any]:
    """May read and reconfigure this one function; with ``pass_role``, may pass this one role."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReconfigureTheFunction",
            "Effect": "Allow",
            "Action": ["lambda:GetFunctionConfiguration", "lambda:UpdateFunctionConfiguration"],
            "Resource": function_arn,
        }
    ]
    if pass_role:
        statements.append(
            {
                "Sid": "PassOnlyTheFunctionsRole",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": role_arn,
                "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def _set_role(account: Account, session: Any, role_arn: str) -> str:
    """UpdateFunctionConfiguration(Role=…) as the deployer: "allowed" or AWS's error."""
    lam = session.client("lambda", region_name=account.region)
    try:
        lam.update_function_configuration(FunctionName=account.names.function_name, Role=role_arn)
    except botocore.exceptions.ClientError as error:
        details = error.response["Error"]
        return f"{details['Code']}: {details['Message']}"
    return "allowed"


def pass_role_lesson(account: Account, role_arn: str) -> pd.DataFrame:
    """Set the function's role (to the role it already has) as a deployer, without and with PassRole."""
    from helpers.deploy import wait_until_ready

    function_arn = account.client("lambda").get_function_configuration(
        FunctionName=account.names.function_name
    )["FunctionArn"]
    ready = Probe(
        "read the function's configuration",
        "lambda:GetFunctionConfiguration",
        function_arn,
        lambda session: session.client(
            "lambda", region_name=account.region
        ).get_function_configuration(FunctionName=account.names.function_name),
    )
    rows = []
    for pass_role in (False, True):
        policy = deployer_policy(function_arn, role_arn, pass_role=pass_role)
        with scratch_user(account, policy, ready_when=ready) as session:
            outcome = _set_role(account, session, role_arn)
        wait_until_ready(account, account.names.function_name)
        rows.append(
            {
                "deployer may": "reconfigure the function"
                + (" + iam:PassRole on its role" if pass_role else ""),
                "UpdateFunctionConfiguration(Role=…)": outcome,
            }
        )
    return pd.DataFrame(rows).set_index("deployer may")
