"""The URL a learner calls: the stage's invoke URL, in the mock account or on AWS.

On AWS a REST API stage answers at ``https://{api_id}.execute-api.{region}.amazonaws.com/{stage}``
(a regional endpoint; a custom domain, as in 2017, is optional). The mock account serves the
same stage under its own endpoint, in the path form other AWS emulators use:
``{AWS_ENDPOINT_URL}/restapis/{api_id}/{stage}/_user_request_/{path}``. What decides is where
the account's API Gateway client points, not the mode: live mode against the mock account (as
``make live-check`` runs in CI) calls the mock's stage too.
"""

from __future__ import annotations

from helpers.live_only import is_aws_endpoint
from helpers.session import Account


def live_url(api_id: str, region: str, stage: str = "prod", path: str = "admit") -> str:
    return f"https://{api_id}.execute-api.{region}.amazonaws.com/{stage}/{path}"


def mock_url(endpoint_url: str, api_id: str, stage: str = "prod", path: str = "admit") -> str:
    return f"{endpoint_url.rstrip('/')}/restapis/{api_id}/{stage}/_user_request_/{path}"


def invoke_url(account: Account, api_id: str, stage: str = "prod", path: str = "admit") -> str:
    """Where GET ``/path`` of the stage answers: on AWS, or under the endpoint that stands in for it."""
    client = account.client("apigateway")
    if account.settings.is_mock or not is_aws_endpoint(client):
        return mock_url(client.meta.endpoint_url, api_id, stage, path)
    return live_url(api_id, account.region, stage, path)
