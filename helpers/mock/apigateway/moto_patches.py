"""API Gateway's change to moto's enforcement (gap 15 of helpers/mock/moto_patches.py).

moto checks API Gateway as ``apigateway:<Operation>`` on ``*``, with identity policies read
without condition values. AWS checks the HTTP verb (``apigateway:GET``…) on the ARN of the
request's path, with the item's tags as ``aws:ResourceTag`` and a create's as ``aws:RequestTag``:
``PATCHES`` gives moto that resource, and the account's ``check_action_permitted`` hands API
Gateway requests to ``authorize`` here, judged by the series' evaluator (authorization.py).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from moto.apigateway.models import apigateway_backends
from moto.apigateway.responses import APIGatewayResponse
from moto.core.exceptions import JsonRESTError
from moto.iam import access_control

from .. import authorization as account_authorization
from .. import patching
from . import authorization


class ApiGatewayAccessDenied(JsonRESTError):
    """API Gateway's 403 AccessDeniedException, in AWS's words (why: no allow, or a deny)."""

    code = 403

    def __init__(self, principal_arn: str, action: str, resource: str, reason: str) -> None:
        super().__init__(
            "AccessDeniedException",
            f"User: {principal_arn} is not authorized to perform: {action} on resource: "
            f"{resource} {reason}",
        )


def _apigateway_resource(self: APIGatewayResponse) -> str:
    """Gap 15: the ARN of the request's path (``arn:aws:apigateway:REGION::/restapis/ID…``)."""
    if patching.active_service() is None:
        return "*"
    return authorization.resource_arn(self.region, urlsplit(self.uri).path)


def authorize(request: access_control.IAMRequestBase, resource: str) -> None:
    """Gap 15: the caller's identity policies, judged with the request's condition keys."""
    key = request._access_key
    documents = [access_control.IAMPolicy(policy)._policy_json for policy in key.collect_policies()]
    region = request._region
    try:
        backend = apigateway_backends[request.account_id][region]
    except KeyError:  # a region API Gateway does not have: nothing there has tags
        backend = None
    context = authorization.condition_context(
        backend,
        request._method,
        resource,
        request._body,
        account_authorization.trusting_principal(request.account_id, key.arn),
        request.account_id,
        region,
    )
    verdict = authorization.judge(documents, request._action, resource, context)
    if not verdict.allowed:
        raise ApiGatewayAccessDenied(key.arn, request._action, resource, verdict.reason)


PATCHES: list[patching.Patch] = [
    ("apigateway_resource", APIGatewayResponse, "_determine_resource", _apigateway_resource),
]
