"""Live mode: ask AWS itself. The policy simulator and IAM Access Analyzer, in our shapes.

Neither exists in moto, so these run only against a real account (a notebook calls them in live
mode and the local ``evaluate``/``lint`` in mock mode). They return the same ``Decision`` and
``Finding`` shapes as the local tools, so a notebook can show both side by side.
The simulator makes no real calls: it evaluates the policies, it does not try the action.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from helpers.iam.documents import PolicyKind, policy_json
from helpers.iam.evaluate import ContextValue, Decision, DecisionWord, MatchedStatement
from helpers.iam.findings import Finding

_DECISIONS: tuple[str, ...] = ("allowed", "explicitDeny", "implicitDeny")
_POLICY_TYPES = {
    "identity": "IDENTITY_POLICY",
    "resource": "RESOURCE_POLICY",
    "trust": "RESOURCE_POLICY",
}
TRUST_POLICY_RESOURCE_TYPE = "AWS::IAM::AssumeRolePolicyDocument"


def _context_type(values: list[Any]) -> str:
    sample = values[0] if values else ""
    if isinstance(sample, bool):
        kind = "boolean"
    elif isinstance(sample, dt.date):
        kind = "date"
    elif isinstance(sample, int | float):
        kind = "numeric"
    else:
        try:
            ipaddress.ip_network(str(sample), strict=False)
            kind = "ip"
        except ValueError:
            kind = "string"
    return kind + ("List" if len(values) > 1 else "")


def _context_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def context_entries(context: Mapping[str, ContextValue] | None) -> list[dict[str, Any]]:
    """``{"aws:SourceIp": "203.0.113.7"}`` -> the simulator's ContextEntries.

    Types are inferred: bool -> boolean, int/float -> numeric, date/datetime -> date, an IP
    address or CIDR -> ip, anything else -> string; a list of several values -> the List type.
    """
    entries = []
    for key, value in (context or {}).items():
        values = list(value) if isinstance(value, list | tuple) else [value]
        entries.append(
            {
                "ContextKeyName": key,
                "ContextKeyValues": [_context_text(v) for v in values],
                "ContextKeyType": _context_type(values),
            }
        )
    return entries


def _decision_from_result(result: Mapping[str, Any]) -> Decision:
    word = result["EvalDecision"]
    if word not in _DECISIONS:
        raise ValueError(
            f"The simulator answered EvalDecision={word!r}, which is not one of {_DECISIONS}; "
            "this helper may predate a new AWS answer. Inspect the raw response."
        )
    decision: DecisionWord = word
    matched = []
    for statement in result.get("MatchedStatements", []):
        start, end = statement.get("StartPosition", {}), statement.get("EndPosition", {})
        where = f"lines {start.get('Line')}-{end.get('Line')}" if start else "(position not given)"
        matched.append(
            MatchedStatement(
                policy=statement.get("SourcePolicyId", "?"),
                statement=where,
                effect="Deny" if decision == "explicitDeny" else "Allow",
            )
        )
    missing = tuple(result.get("MissingContextValues", []))
    request = f"{result['EvalActionName']} on {result.get('EvalResourceName', '*')}"
    labels = ", ".join(map(str, matched))
    if decision == "explicitDeny":
        text = f"explicitDeny (simulator): {request} is denied by {labels}; an explicit Deny beats any Allow."
    elif decision == "allowed":
        text = f"allowed (simulator): {request} is allowed by {labels}."
    else:
        text = f"implicitDeny (simulator): nothing allows {request}, so IAM denies it by default."
        if missing:
            text += f" (Missing context keys: {', '.join(missing)}.)"
    return Decision(
        decision,
        result["EvalActionName"],
        result.get("EvalResourceName", "*"),
        tuple(matched),
        text,
        missing,
    )


def _results(paginator: Any, **kwargs: Any) -> list[Decision]:
    return [
        _decision_from_result(result)
        for page in paginator.paginate(**kwargs)
        for result in page["EvaluationResults"]
    ]


def simulate_principal(
    iam_client: Any,
    principal_arn: str,
    action: str,
    resource: str = "*",
    *,
    context: Mapping[str, ContextValue] | None = None,
) -> Decision:
    """The simulator's decision for a real user or role (all its attached policies) — live only."""
    kwargs: dict[str, Any] = {
        "PolicySourceArn": principal_arn,
        "ActionNames": [action],
        "ResourceArns": [resource],
    }
    if context:
        kwargs["ContextEntries"] = context_entries(context)
    return _results(iam_client.get_paginator("simulate_principal_policy"), **kwargs)[0]


def simulate_custom(
    iam_client: Any,
    policies: Sequence[Mapping[str, Any]],
    action: str,
    resource: str = "*",
    *,
    resource_policy: Mapping[str, Any] | None = None,
    caller_arn: str | None = None,
    context: Mapping[str, ContextValue] | None = None,
) -> Decision:
    """The simulator's decision for policy documents that need not exist in IAM — live only.

    With ``resource_policy``, AWS requires ``caller_arn`` (the principal making the request).
    """
    kwargs: dict[str, Any] = {
        "PolicyInputList": [policy_json(p) for p in policies],
        "ActionNames": [action],
        "ResourceArns": [resource],
    }
    if resource_policy is not None:
        kwargs["ResourcePolicy"] = policy_json(resource_policy)
    if caller_arn:
        kwargs["CallerArn"] = caller_arn
    if context:
        kwargs["ContextEntries"] = context_entries(context)
    return _results(iam_client.get_paginator("simulate_custom_policy"), **kwargs)[0]


def _path(path: Sequence[Mapping[str, Any]]) -> str:
    text = ""
    for element in path:
        if "index" in element:
            text += f"[{element['index']}]"
        elif "substring" in element:
            sub = element["substring"]
            text += f"[{sub['start']}:{sub['start'] + sub['length']}]"
        else:
            text += f".{element.get('value', element.get('key'))}"
    return text.lstrip(".") or "(document)"


def validate_policy(
    accessanalyzer_client: Any,
    document: Mapping[str, Any],
    kind: PolicyKind = "identity",
) -> list[Finding]:
    """IAM Access Analyzer's ValidatePolicy findings as ``Finding`` rows — live only.

    Severity is Access Analyzer's finding type (ERROR, SECURITY_WARNING, WARNING, SUGGESTION).
    """
    kwargs: dict[str, Any] = {
        "policyDocument": policy_json(document),
        "policyType": _POLICY_TYPES[kind],
    }
    if kind == "trust":
        kwargs["validatePolicyResourceType"] = TRUST_POLICY_RESOURCE_TYPE
    rows = []
    for page in accessanalyzer_client.get_paginator("validate_policy").paginate(**kwargs):
        for finding in page["findings"]:
            locations = [_path(loc.get("path", [])) for loc in finding.get("locations", [])]
            detail = finding.get("findingDetails", "")
            if finding.get("learnMoreLink"):
                detail += f" (more: {finding['learnMoreLink']})"
            rows.append(
                Finding(
                    "access-analyzer",
                    finding["issueCode"],
                    finding["findingType"],
                    "; ".join(locations) or "(document)",
                    detail,
                )
            )
    return rows
