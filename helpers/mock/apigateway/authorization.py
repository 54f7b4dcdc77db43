"""API Gateway management calls, authorized as AWS authorizes them.

moto checks ``apigateway:<Operation>`` (``apigateway:GetRestApi``, an action IAM does not have)
on ``*`` and reads identity policies without condition values. AWS's API Gateway management
API authorizes a call as its HTTP verb (``apigateway:GET``, ``POST``, ``PUT``, ``PATCH``,
``DELETE``) on the ARN of the path it requests, ``arn:aws:apigateway:REGION::/restapis/ID/...``
(``/apikeys/ID``, ``/usageplans/ID/keys``, ``/tags/ARN`` …), with these condition keys:

- ``aws:ResourceTag/KEY``: the tags of the REST API, API key or usage plan the path is under. A
  REST API's children (resources, methods, integrations, deployments …) have the API's tags and
  a stage also its own (the stage's value wins); a usage plan's keys have the plan's. TagResource
  and friends (``/tags/ARN``) have the tagged item's.
- ``aws:RequestTag/KEY`` and ``aws:TagKeys``: the tags a create (``POST``) or a TagResource
  (``PUT /tags/ARN``) sends.
- ``aws:PrincipalArn``, ``aws:PrincipalAccount``, ``aws:RequestedRegion``.

Sources: the Service Authorization Reference, "Actions, resources, and condition keys for Amazon
API Gateway Management" (REFERENCE) and the API Gateway Developer Guide, "Using tags to control
access to API Gateway REST API resources" (TAGS_REFERENCE).

The caller's identity policies are judged with the series' evaluator (``helpers.iam``), as
trust policies are (helpers/mock/authorization.py): it evaluates conditions (moto ignores
them, or, given values, takes a statement whose condition fails for an explicit deny) and only
after the action and resource matched. This module is backend logic: plain values in, a
decision out; moto_patches.py (this package's) hooks it into moto's enforcement.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

REFERENCE = (
    "https://docs.aws.amazon.com/service-authorization/latest/reference/"
    "list_amazonapigatewaymanagement.html"
)
TAGS_REFERENCE = (
    "https://docs.aws.amazon.com/apigateway/latest/developerguide/"
    "apigateway-tagging-iam-policy.html"
)
SERVICE = "apigateway"
"""The signing name of API Gateway's management API (REST APIs v1 and HTTP/WebSocket APIs v2)."""

# The collections whose items carry tags, and where moto's backend keeps them.
_TAGGED_COLLECTIONS = {"restapis": "apis", "apikeys": "keys", "usageplans": "usage_plans"}


def action(method: str) -> str:
    """The IAM action of an API Gateway management request: its HTTP verb."""
    return f"{SERVICE}:{method.upper()}"


def resource_arn(region: str, path: str) -> str:
    """``arn:aws:apigateway:REGION::PATH`` for the request path (as sent, without the query)."""
    path = "/" + path.strip("/") if path.strip("/") else "/"
    return f"arn:aws:apigateway:{region}::{path}"


def _path_of(arn: str) -> str:
    """The path an API Gateway ARN names (``arn:aws:apigateway:REGION::/restapis/ID`` → path)."""
    return arn.split("::", 1)[1] if "::" in arn else ""


def _segments(path: str) -> list[str]:
    return [unquote(part) for part in path.strip("/").split("/") if part]


def _string_tags(tags: Any) -> dict[str, str]:
    if not isinstance(tags, Mapping):
        return {}
    return {
        key: value for key, value in tags.items() if isinstance(key, str) and isinstance(value, str)
    }


def item_tags(backend: Any, path: str) -> dict[str, str]:
    """The tags a request on ``path`` is judged by (``aws:ResourceTag``): those of the REST API,
    API key or usage plan the path is under, a stage's own over its API's; for ``/tags/ARN``,
    those of the item the ARN names. ``backend`` is moto's API Gateway backend of the region."""
    parts = _segments(path)
    if len(parts) >= 2 and parts[0] == "tags":
        return item_tags(backend, _path_of("/".join(parts[1:])))
    if len(parts) < 2 or parts[0] not in _TAGGED_COLLECTIONS:
        return {}
    items = getattr(backend, _TAGGED_COLLECTIONS[parts[0]], None) or {}
    item = items.get(parts[1])
    tags = _string_tags(getattr(item, "tags", None))
    if parts[0] == "restapis" and len(parts) >= 4 and parts[2] == "stages" and item is not None:
        stage = (getattr(item, "stages", None) or {}).get(parts[3])
        tags |= _string_tags(getattr(stage, "tags", None))
    return tags


def request_tags(method: str, path: str, body: bytes | str | None) -> dict[str, str]:
    """The tags a create (``POST``) or a TagResource (``PUT /tags/ARN``) sends in its body."""
    tagging = method.upper() == "PUT" and _segments(path)[:1] == ["tags"]
    if method.upper() != "POST" and not tagging:
        return {}
    try:
        document = json.loads(body or "{}")
    except (TypeError, ValueError, RecursionError):
        return {}
    return _string_tags(document.get("tags")) if isinstance(document, dict) else {}


def condition_context(
    backend: Any,
    method: str,
    resource: str,
    body: bytes | str | None,
    principal_arn: str,
    account_id: str,
    region: str,
) -> dict[str, str | list[str]]:
    """The condition keys AWS supplies for this request (see the module docstring)."""
    path = _path_of(resource)
    context: dict[str, str | list[str]] = {
        "aws:PrincipalArn": principal_arn,
        "aws:PrincipalAccount": account_id,
        "aws:RequestedRegion": region,
    }
    for key, value in item_tags(backend, path).items():
        context[f"aws:ResourceTag/{key}"] = value
    sent = request_tags(method, path, body)
    for key, value in sent.items():
        context[f"aws:RequestTag/{key}"] = value
    if sent:
        context["aws:TagKeys"] = list(sent)
    return context


@dataclass(frozen=True)
class Verdict:
    """Whether the caller's identity policies allow the request, and if not, why (AWS's words)."""

    allowed: bool
    reason: str


def _concerning(document: Mapping[str, Any], wanted: str) -> dict[str, Any] | None:
    """The document with only the statements whose Action (or NotAction) covers ``wanted``:
    the others cannot change the decision, and a quirk in them should not spoil it."""
    from helpers.iam.documents import as_list, statements
    from helpers.iam.evaluate import action_matches

    kept = [
        statement
        for statement in statements(document)
        if (
            any(action_matches(pattern, wanted) for pattern in as_list(statement["Action"]))
            if "Action" in statement
            else not any(
                action_matches(pattern, wanted) for pattern in as_list(statement.get("NotAction"))
            )
        )
    ]
    return {**document, "Statement": kept} if kept else None


def judge(
    documents: Sequence[Mapping[str, Any]],
    wanted: str,
    resource: str,
    context: Mapping[str, str | list[str]],
) -> Verdict:
    """The identity policies' decision on ``wanted`` (``apigateway:GET``) on ``resource``.

    A policy the evaluator cannot judge (a condition operator it does not know) denies, saying
    so: the mock is a security boundary and does not guess.
    """
    from helpers.iam import IamHelperError, evaluate

    relevant = [kept for document in documents if (kept := _concerning(document, wanted))]
    if not relevant:
        return Verdict(False, f"because no identity-based policy allows the {wanted} action")
    try:
        decision = evaluate(wanted, resource, relevant, context=context)
    except (IamHelperError, ValueError, TypeError, KeyError) as error:
        return Verdict(
            False,
            f"because the mock account could not evaluate the caller's policies ({error}); "
            "rewrite the condition with an operator the series' evaluator supports "
            "(helpers.iam.evaluate), or try the policy on AWS",
        )
    if decision.allowed:
        return Verdict(True, "")
    if decision.decision == "explicitDeny":
        return Verdict(False, "with an explicit deny in an identity-based policy")
    return Verdict(False, f"because no identity-based policy allows the {wanted} action")
