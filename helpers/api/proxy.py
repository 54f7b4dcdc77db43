"""The proxy integration AWS recommends today, next to 2017's non-proxy one.

With ``AWS_PROXY`` API Gateway maps nothing: the function gets the whole HTTP request as its
event (``queryStringParameters``, ``headers``, ``requestContext`` …) and must return the HTTP
response itself: ``{"statusCode": 200, "headers": {...}, "body": "<string>"}``. There are no
mapping templates and no selection regexes; the function decides status and headers. A return
value of another shape is API Gateway's ``502 {"message": "Internal server error"}``.

In 2017 the handler returned ``{"httpStatus": 200, "headers": {"Access-Control-Allow-Origin":
"*"}, "body": {...}}`` through the *non-proxy* integration: API Gateway passed that dict through
as the response body, so the "headers" were only text in the body and the browser saw no CORS
header at all.
"""

from __future__ import annotations

import pandas as pd

from helpers.api.permission import PROXY_STATEMENT_ID, allow_api_gateway
from helpers.api.rest_api import RestApi, ensure_integration, ensure_method, ensure_resource
from helpers.session import Account

PROXY_PATH = "admit-proxy"


def build_proxy_resource(account: Account, api: RestApi) -> str:
    """``/admit-proxy``: GET with the key required, an ``AWS_PROXY`` integration, its permission.

    Returns the resource id. (No method or integration responses: the function returns them.)
    """
    resource_id = ensure_resource(account, api, PROXY_PATH)
    ensure_method(account, api, resource_id)
    ensure_integration(account, api, resource_id, proxy=True)
    allow_api_gateway(account, api.api_id, PROXY_PATH, PROXY_STATEMENT_ID)
    return resource_id


def side_by_side() -> pd.DataFrame:
    """What each integration asks of API Gateway and of the function."""
    rows = [
        (
            "event the function gets",
            "what the request template builds: {gre, gpa, rank}",
            "the whole request: queryStringParameters, headers, requestContext …",
        ),
        (
            "the function returns",
            "the result; errors are raised",
            '{"statusCode", "headers", "body": "<JSON as a string>"}, errors too',
        ),
        (
            "status code chosen by",
            "API Gateway: a regex on the error message (integration responses)",
            "the function (statusCode)",
        ),
        (
            "response headers set by",
            "API Gateway (method and integration responses)",
            "the function (headers)",
        ),
        (
            "a wrong return shape",
            "passed through as the body (2017's headers inside the body)",
            "502 Internal server error",
        ),
        (
            "set up in API Gateway",
            "template, method responses, integration responses",
            "nothing but the integration",
        ),
    ]
    return pd.DataFrame(
        rows, columns=["", "non-proxy (AWS, 2017)", "proxy (AWS_PROXY, today)"]
    ).set_index("")
