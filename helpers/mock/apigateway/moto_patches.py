"""API Gateway's change to moto's enforcement (gap 15 of helpers/mock/moto_patches.py).

moto checks API Gateway as ``apigateway:<Operation>`` on ``*``, with identity policies read
without condition values. AWS checks the HTTP verb (``apigateway:GET``…) on the ARN of the
request's path, with the item's tags as ``aws:ResourceTag`` and a create's as ``aws:RequestTag``:
the account's ``check_action_permitted`` hands API Gateway requests to ``authorize`` here, which
works out that ARN from the request's path and judges the request with the series' evaluator
(authorization.py). Nothing of moto's API Gateway is patched, so it is imported only when a
request needs it (moto_api.py).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from moto.core.exceptions import JsonRESTError
from moto.iam import access_control

from .. import authorization as account_authorization
from . import authorization, moto_api


class ApiGatewayAccessDenied(JsonRESTError):
    """API Gateway's 403 AccessDeniedException, in AWS's words (why: no allow, or a deny)."""

    code = 403

    def __init__(self, principal_arn: str, action: str, resource: str, reason: str) -> None:
        super().__init__(
            "AccessDeniedException",
            f"User: {principal_arn} is not authorized to perform: {action} on resource: "
            f"{resource} {reason}",
        )


def resource_of(request: access_control.IAMRequestBase) -> str:
    """Gap 15: the ARN of the request's path (``arn:aws:apigateway:REGION::/restapis/ID…``)."""
    return authorization.resource_arn(request._region, urlsplit(request._path).path)


def authorize(request: access_control.IAMRequestBase) -> None:
    """Gap 15: the caller's identity policies, judged on the path's ARN with the request's
    condition keys."""
    key = request._access_key
    documents = [access_control.IAMPolicy(policy)._policy_json for policy in key.collect_policies()]
    region = request._region
    resource = resource_of(request)
    try:
        backend = moto_api.backend(request.account_id, region)
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
