"""Tables for notebooks: a policy's statements, a set of decisions, a role's permissions.

A learner reads a policy faster as rows (effect, actions, resources) than as nested JSON, and a
least-privilege claim is clearest as a grid of requests and decisions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from helpers.iam.documents import as_list, parse_document, statement_label, statements
from helpers.iam.evaluate import Decision, named_policies
from helpers.iam.roles import attached_policy_arns

if TYPE_CHECKING:
    import pandas as pd

STATEMENT_COLUMNS = (
    "policy",
    "statement",
    "effect",
    "principal",
    "actions",
    "resources",
    "condition",
)
DECISION_COLUMNS = ("action", "resource", "decision", "matched", "explanation")


def _joined(statement: Mapping[str, Any], element: str) -> str:
    if element in statement:
        return ", ".join(map(str, as_list(statement[element])))
    negated = f"Not{element}"
    if negated in statement:
        return "everything except " + ", ".join(map(str, as_list(statement[negated])))
    return ""


def _principal(statement: Mapping[str, Any]) -> str:
    for element, prefix in (("Principal", ""), ("NotPrincipal", "everyone except ")):
        if element in statement:
            value = statement[element]
            if isinstance(value, Mapping):
                return prefix + "; ".join(
                    f"{k}: {', '.join(map(str, as_list(v)))}" for k, v in value.items()
                )
            return prefix + str(value)
    return ""


def statements_table(policies: Any) -> pd.DataFrame:
    """One row per statement: policy, statement (Sid or index), effect, principal, actions,
    resources, condition. Accepts what ``evaluate`` accepts (a document, a mapping, a list)."""
    import pandas as pd

    rows = []
    for name, document in named_policies(policies, "policy"):
        for index, statement in enumerate(statements(document)):
            rows.append(
                {
                    "policy": name,
                    "statement": statement_label(statement, index),
                    "effect": statement.get("Effect", ""),
                    "principal": _principal(statement),
                    "actions": _joined(statement, "Action"),
                    "resources": _joined(statement, "Resource"),
                    "condition": json.dumps(statement["Condition"])
                    if "Condition" in statement
                    else "",
                }
            )
    return pd.DataFrame(rows, columns=list(STATEMENT_COLUMNS))


def decisions_table(decisions: Iterable[Decision]) -> pd.DataFrame:
    """One row per decision: action, resource, decision, matched statements, explanation."""
    import pandas as pd

    rows = [
        {
            "action": d.action,
            "resource": d.resource,
            "decision": d.decision,
            "matched": "; ".join(map(str, d.matched)),
            "explanation": d.explanation,
        }
        for d in decisions
    ]
    return pd.DataFrame(rows, columns=list(DECISION_COLUMNS))


def role_policies(iam: Any, role_name: str) -> dict[str, dict[str, Any]]:
    """{policy name: default-version document} for every managed and inline policy of the role."""
    result: dict[str, dict[str, Any]] = {}
    for arn in attached_policy_arns(iam, role_name):
        policy = iam.get_policy(PolicyArn=arn)["Policy"]
        version = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])
        result[policy["PolicyName"]] = parse_document(version["PolicyVersion"]["Document"])
    for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        result[name] = parse_document(
            iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
        )
    return result


def role_permissions_table(iam: Any, role_name: str) -> pd.DataFrame:
    """``statements_table`` of everything attached to the role: what the function may do."""
    return statements_table(role_policies(iam, role_name))
