"""Who may call the API, and how much: an API key and a usage plan (2017's, unchanged).

An *API key* is a string the caller sends as the ``x-api-key`` header; a method with
``apiKeyRequired`` answers 403 without a valid one. A *usage plan* names API stages and sets a
rate (requests per second, steady), a burst (the bucket the rate refills) and a quota (requests
per day, week or month); a key counts against a stage only through a plan it is linked to. Past
the rate or the quota API Gateway answers 429. AWS says usage plans are not a security control
(the key travels with every call, e.g. in a web page) but a way to meter and throttle clients.

The key's *value* is a secret: nothing here prints it; :func:`masked` shows how to refer to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from helpers.ownership import owned_api_gateway_items, require_owned
from helpers.session import Account

RATE_PER_SECOND = 10.0
BURST = 20
QUOTA_PER_DAY = 500
DEMO_QUOTA = 3
"""The quota of the demonstration plan: three calls a day, so a 429 shows without 500 calls."""


@dataclass(frozen=True)
class UsageLimits:
    rate: float = RATE_PER_SECOND
    burst: int = BURST
    quota: int = QUOTA_PER_DAY
    period: str = "DAY"


def _owned_item(account: Account, kind: str, name: str) -> dict[str, Any] | None:
    found = owned_api_gateway_items(account, kind, name)
    return found[0] if found else None


def ensure_api_key(account: Account, name: str | None = None) -> dict[str, Any]:
    """The API key called ``name`` (enabled, tagged), created if missing; its value not read."""
    name = name or account.names.api_key_name
    require_owned(account, "API key", name)
    key = _owned_item(account, "API key", name)
    if key is None:
        key = account.client("apigateway").create_api_key(
            name=name,
            description="Sent as x-api-key by callers of the API",
            enabled=True,
            tags=account.tags,
        )
    return {field: key[field] for field in ("id", "name", "enabled")}


def key_value(account: Account, key_id: str) -> str:
    """The key's value, to send in ``x-api-key`` (never print it: it is the credential)."""
    apigateway = account.client("apigateway")
    return apigateway.get_api_key(apiKey=key_id, includeValue=True)["value"]


def masked(value: str) -> str:
    """How a key is shown: its length only (even the last characters would identify it)."""
    return f"<API key, {len(value)} characters>"


def ensure_usage_plan(
    account: Account,
    api_id: str,
    stage: str,
    *,
    name: str | None = None,
    limits: UsageLimits = UsageLimits(),
) -> dict[str, Any]:
    """The usage plan for ``api_id``/``stage`` with these limits, created or brought up to date."""
    name = name or account.names.usage_plan_name
    require_owned(account, "usage plan", name)
    apigateway = account.client("apigateway")
    wanted_throttle = {"rateLimit": limits.rate, "burstLimit": limits.burst}
    wanted_quota = {"limit": limits.quota, "period": limits.period}
    plan = _owned_item(account, "usage plan", name)
    if plan is None:
        return apigateway.create_usage_plan(
            name=name,
            description=(
                f"{limits.rate:g} requests/s, burst {limits.burst}, "
                f"{limits.quota} requests per {limits.period.lower()}"
            ),
            apiStages=[{"apiId": api_id, "stage": stage}],
            throttle=wanted_throttle,
            quota=wanted_quota,
            tags=account.tags,
        )
    patches = []
    throttle = plan.get("throttle") or {}
    if float(throttle.get("rateLimit", -1)) != limits.rate:
        patches.append(
            {"op": "replace", "path": "/throttle/rateLimit", "value": f"{limits.rate:g}"}
        )
    if int(throttle.get("burstLimit", -1)) != limits.burst:
        patches.append(
            {"op": "replace", "path": "/throttle/burstLimit", "value": str(limits.burst)}
        )
    quota = plan.get("quota") or {}
    if int(quota.get("limit", -1)) != limits.quota:
        patches.append({"op": "replace", "path": "/quota/limit", "value": str(limits.quota)})
    if quota.get("period") != limits.period:
        patches.append({"op": "replace", "path": "/quota/period", "value": limits.period})
    stages = {(item["apiId"], item["stage"]) for item in plan.get("apiStages") or []}
    if (api_id, stage) not in stages:
        patches.append({"op": "add", "path": "/apiStages", "value": f"{api_id}:{stage}"})
    if patches:
        plan = apigateway.update_usage_plan(usagePlanId=plan["id"], patchOperations=patches)
    return plan


def link_key(account: Account, plan_id: str, key_id: str) -> bool:
    """Put the key in the plan (once). Returns True when it was linked now."""
    apigateway = account.client("apigateway")
    pages = apigateway.get_paginator("get_usage_plan_keys").paginate(usagePlanId=plan_id)
    if any(item["id"] == key_id for page in pages for item in page.get("items", [])):
        return False
    apigateway.create_usage_plan_key(usagePlanId=plan_id, keyId=key_id, keyType="API_KEY")
    return True


@dataclass(frozen=True)
class Access:
    """A key linked to a plan on the API's stage (ids only; the value is read when calling)."""

    key_id: str
    key_name: str
    plan_id: str
    plan_name: str
    limits: UsageLimits


def ensure_access(
    account: Account,
    api_id: str,
    stage: str,
    *,
    key_name: str | None = None,
    plan_name: str | None = None,
    limits: UsageLimits = UsageLimits(),
) -> Access:
    """Key, plan and the link between them: 2017's 10 requests/s, burst 20, 500 a day."""
    key = ensure_api_key(account, key_name)
    plan = ensure_usage_plan(account, api_id, stage, name=plan_name, limits=limits)
    link_key(account, plan["id"], key["id"])
    return Access(key["id"], key["name"], plan["id"], plan["name"], limits)


def ensure_demo_access(account: Account, api_id: str, stage: str) -> Access:
    """A second key on a plan with a quota of :data:`DEMO_QUOTA` calls a day (to show 429)."""
    names = account.names
    return ensure_access(
        account,
        api_id,
        stage,
        key_name=names.demo_api_key_name,
        plan_name=names.demo_usage_plan_name,
        limits=UsageLimits(quota=DEMO_QUOTA),
    )


def plan_table(account: Account, *plan_names: str) -> list[dict[str, Any]]:
    """The plans as AWS stores them: limits, stages (by stage name) and how many keys."""
    apigateway = account.client("apigateway")
    rows = []
    for name in plan_names:
        plan = _owned_item(account, "usage plan", name)
        if plan is None:
            continue
        keys = apigateway.get_usage_plan_keys(usagePlanId=plan["id"]).get("items", [])
        rows.append(
            {
                "plan": plan["name"],
                "rate/s": (plan.get("throttle") or {}).get("rateLimit"),
                "burst": (plan.get("throttle") or {}).get("burstLimit"),
                "quota": (plan.get("quota") or {}).get("limit"),
                "per": (plan.get("quota") or {}).get("period"),
                "stages": ", ".join(item["stage"] for item in plan.get("apiStages") or []),
                "keys": ", ".join(item["name"] for item in keys),
            }
        )
    return rows


def delete_usage_plan(account: Account, plan_id: str) -> None:
    """Detach the plan's stages (AWS refuses to delete a plan that still has some), then delete."""
    apigateway = account.client("apigateway")
    plan = apigateway.get_usage_plan(usagePlanId=plan_id)
    removals = [
        {"op": "remove", "path": "/apiStages", "value": f"{item['apiId']}:{item['stage']}"}
        for item in plan.get("apiStages") or []
    ]
    if removals:
        apigateway.update_usage_plan(usagePlanId=plan_id, patchOperations=removals)
    apigateway.delete_usage_plan(usagePlanId=plan_id)
