"""Notebook 9: the 2017 REST API in front of the function, built the way AWS asks today.

One concern a module: :mod:`~helpers.api.rest_api` (API, resource, method, integration,
responses, deployment and stage), :mod:`~helpers.api.permission` (the function's resource-based
policy for ``apigateway.amazonaws.com``), :mod:`~helpers.api.access` (API key and usage plan),
:mod:`~helpers.api.proxy` (the proxy integration side by side), :mod:`~helpers.api.urls` (the URL
to call) and :mod:`~helpers.api.calling` (``requests`` and ``curl``). :func:`ensure_admission_api`
builds all of it idempotently, for a notebook's catch-up cell.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpers.api import access, calling, permission, proxy, rest_api, urls
from helpers.api.access import Access, UsageLimits
from helpers.api.rest_api import STAGE, RestApi
from helpers.session import Account


@dataclass(frozen=True)
class AdmissionApi:
    """The built API: ids, the URLs of both resources and the key's id (its value is not kept)."""

    api_id: str
    stage: str
    url: str
    proxy_url: str
    access: Access


def ensure_admission_api(account: Account, *, with_proxy: bool = True) -> AdmissionApi:
    """Everything notebook 9 builds, created only where missing: the API with ``/admit``
    (non-proxy) and ``/admit-proxy`` (proxy), both permissions, the ``prod`` stage, the key
    and its usage plan (not the demonstration plan)."""
    api = rest_api.ensure_rest_api(account)
    rest_api.build_admission_resource(account, api)
    permission.allow_api_gateway(account, api.api_id)
    if with_proxy:
        proxy.build_proxy_resource(account, api)
    rest_api.ensure_deployed(account, api)
    granted = access.ensure_access(account, api.api_id, api.stage)
    return AdmissionApi(
        api.api_id,
        api.stage,
        urls.invoke_url(account, api.api_id, api.stage),
        urls.invoke_url(account, api.api_id, api.stage, proxy.PROXY_PATH),
        granted,
    )


__all__ = [
    "STAGE",
    "Access",
    "AdmissionApi",
    "RestApi",
    "UsageLimits",
    "access",
    "calling",
    "ensure_admission_api",
    "permission",
    "proxy",
    "rest_api",
    "urls",
]
