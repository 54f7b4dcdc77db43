"""For make doctor: the cached record of requests, and asking IAM's simulator about them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from helpers.config import (
    _clean_prefix,
    names_for,
)
from helpers.participant.actions import LAMBDA_SERVICE, RECORDING_PREFIX
from helpers.participant.policy import STATEMENT_IDS, ParticipantPolicy, Scope
from helpers.participant.requests import Request


# -- for make doctor: the cached record, and the simulator -----------------------------------------
def save_requests(requests: Sequence[Request], path: Path) -> None:
    """Keep the recorded requests (prefix-independent) so ``make doctor`` needs no recording."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        {"action": r.action, "resource": r.resource, "call": r.call, "context": list(r.context)}
        for r in requests
    ]
    path.write_text(json.dumps({"recorded_with": RECORDING_PREFIX, "requests": rows}, indent=1))


def cached_requests(path: Path) -> list[Request] | None:
    """The requests :func:`save_requests` kept, or None when there are none (or unreadable)."""
    try:
        rows = json.loads(path.read_text())["requests"]
        return [
            Request(
                row["action"],
                row["resource"],
                row["call"],
                tuple((key, value) for key, value in row["context"]),
            )
            for row in rows
        ]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _example_resources(scope: Scope) -> dict[str, str]:
    """A concrete ARN of each kind for the prefix (the simulator takes ARNs, not patterns)."""
    from helpers.web_page import site_bucket_name

    names = names_for("live", scope.prefix, scope.account_id)
    a, r = scope.account_id, scope.region
    function = f"arn:aws:lambda:{r}:{a}:function:{names.function_name}"
    return {
        "role": f"arn:aws:iam::{a}:role/{names.role_name}",
        "user": f"arn:aws:iam::{a}:user/{names.user_name}",
        "policy": f"arn:aws:iam::{a}:policy/{names.policy_name}",
        "aws-managed-policy": "arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess",
        "object": f"arn:aws:s3:::{names.models_bucket}/{names.model_key}",
        "bucket": f"arn:aws:s3:::{names.models_bucket}",
        "site-bucket": f"arn:aws:s3:::{site_bucket_name(names)}",
        "function": function,
        "lambda-permission": function,
        "api-create": f"arn:aws:apigateway:{r}::/restapis",
        "api-list": f"arn:aws:apigateway:{r}::/restapis",
        "api-item": f"arn:aws:apigateway:{r}::/restapis/{EXAMPLE_API_ID}",
        "log-group": f"arn:aws:logs:{r}:{a}:log-group:{names.log_group}:*",
        "rule": f"arn:aws:events:{r}:{a}:rule/{names.schedule_rule}",
        "repository": f"arn:aws:ecr:{r}:{a}:repository/{names.ecr_repository}",
        "any": "*",
    }


EXAMPLE_API_ID = "a1b2c3d4e5"
"""An API Gateway id for the simulator (ids are made by AWS; the statements match any)."""


def _first_values(condition: dict[str, dict[str, Any]]) -> dict[str, str]:
    """A context satisfying a StringEquals condition: each key's (first) allowed value."""
    return {
        key: value if isinstance(value, str) else value[0]
        for key, value in condition.get("StringEquals", {}).items()
    }


def simulate_for(
    iam: Any,
    principal_arn: str,
    policy: ParticipantPolicy,
    prefix: str,
    account_id: str,
    region: str,
) -> list[str]:
    """The policy's actions the simulator says ``principal_arn`` may not do (on an example
    resource of the prefix, with the conditions the policy sets); empty when all are allowed."""
    from helpers.iam.simulate import context_entries

    examples = _example_resources(Scope(_clean_prefix(prefix), account_id, region))
    own_policy = examples["policy"]
    kinds = {sid: kind for kind, sid in STATEMENT_IDS.items()}
    denied: list[str] = []
    for statement in policy.document["Statement"]:
        actions = statement["Action"]
        actions = [actions] if isinstance(actions, str) else list(actions)
        sid = statement["Sid"]
        context: dict[str, str] = {}
        if sid == "PassSeriesRolesToLambdaOnly":
            kind, context = "role", {"iam:PassedToService": LAMBDA_SERVICE}
        elif sid.startswith("AttachTo"):
            kind = "role" if "Roles" in sid else "user"
            context = {"iam:PolicyARN": own_policy}
        else:
            kind = kinds[sid]
            context = _first_values(statement.get("Condition", {}))
        arguments: dict[str, Any] = {
            "PolicySourceArn": principal_arn,
            "ActionNames": actions,
            "ResourceArns": [examples[kind]],
        }
        if context:
            arguments["ContextEntries"] = context_entries(context)
        for page in iam.get_paginator("simulate_principal_policy").paginate(**arguments):
            denied.extend(
                result["EvalActionName"]
                for result in page["EvaluationResults"]
                if result["EvalDecision"] != "allowed"
            )
    return sorted(set(denied))
