"""The 2017 REST API, piece by piece: API, resource, method, integration, responses, stage.

API Gateway's REST API is a tree of *resources* (paths) with *methods* (GET …); each method has
an *integration* (what answers: here the Lambda function), *method responses* (the status codes
the API may answer with) and *integration responses* (which backend answer becomes which status
code, chosen by a regex on the Lambda error message). Nothing is callable until a *deployment*
is made and published as a *stage* (``prod``).

Each ``ensure_*`` function finds the piece first and creates or changes it only when it is
missing or differs, so a notebook cell can run twice (and a live account is never given
duplicates). In live mode every creating call passes the session's opt-in hook.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from helpers.ownership import owned_api_gateway_items, require_owned
from helpers.session import Account

STAGE = "prod"
RESOURCE_PATH = "admit"
QUERY_STRINGS = ("gre", "gpa", "rank")

REQUEST_TEMPLATE = """{
  "gre": "$input.params('gre')",
  "gpa": "$input.params('gpa')",
  "rank": "$input.params('rank')"
}"""
"""The request mapping template: the query strings become the event the function knows.

2017 quoted ``rank`` (a bare 1 reaches R as a number and breaks the factor). Here all three are
quoted: the handler checks strings itself, and a bare ``gre=abc`` would make the template's
output invalid JSON, which Lambda refuses (API Gateway then answers 500, not a helpful 400)."""

ERROR_TEMPLATE = "$input.path('$.errorMessage')"
"""The 400/500 response template: the handler's JSON error message, unpacked as the body."""

BAD_REQUEST_PATTERN = '.*"httpStatus":400.*'
"""2017's selection regex: a Lambda error whose message says httpStatus 400 becomes a 400."""
FAULT_PATTERN = '.*"httpStatus":500.*'
"""Not in 2017: without it a fault (model missing …) matched the default response, a 200."""

JSON = "application/json"


@dataclass
class RestApi:
    """Where the API is, and what this run had to change (a change needs a new deployment)."""

    api_id: str
    name: str
    root_id: str
    resource_id: str = ""
    stage: str = STAGE
    changes: list[str] = field(default_factory=list)
    paths: dict[str, str] = field(default_factory=dict)  # resource id -> path, for messages

    def path(self, resource_id: str) -> str:
        return self.paths.get(resource_id, resource_id)


def lambda_uri(account: Account, function_arn: str) -> str:
    """The integration URI API Gateway uses to call a function (Lambda's Invoke API path)."""
    return (
        f"arn:aws:apigateway:{account.region}:lambda:path/2015-03-31/functions/"
        f"{function_arn}/invocations"
    )


def function_arn(account: Account) -> str:
    lam = account.client("lambda")
    return lam.get_function_configuration(FunctionName=account.names.function_name)["FunctionArn"]


def find_rest_api(account: Account, name: str | None = None) -> dict[str, Any] | None:
    """The REST API called ``name`` that carries this learner's tags (mock: the first)."""
    found = owned_api_gateway_items(account, "REST API", name or account.names.api_name)
    return found[0] if found else None


def ensure_rest_api(account: Account) -> RestApi:
    """The REST API (2017: ``ServerlessPOC``), created with the series' tags if missing."""
    name = account.names.api_name
    require_owned(account, "REST API", name)
    api = find_rest_api(account, name)
    changes = []
    if api is None:
        api = account.client("apigateway").create_rest_api(
            name=name,
            description="Would this applicant be admitted? (the 2017 series API)",
            endpointConfiguration={"types": ["REGIONAL"]},
            tags=account.tags,
        )
        changes.append("created the REST API")
    root = api.get("rootResourceId") or _resource_id(account, api["id"], "/")
    return RestApi(api["id"], name, root, changes=changes)


def _resources(account: Account, api_id: str) -> list[dict[str, Any]]:
    pages = account.client("apigateway").get_paginator("get_resources").paginate(restApiId=api_id)
    return [item for page in pages for item in page["items"]]


def _resource_id(account: Account, api_id: str, path: str) -> str:
    return next((item["id"] for item in _resources(account, api_id) if item["path"] == path), "")


def ensure_resource(account: Account, api: RestApi, path_part: str = RESOURCE_PATH) -> str:
    """The resource ``/admit`` under the root (a path: it holds methods)."""
    found = _resource_id(account, api.api_id, f"/{path_part}")
    if not found:
        found = account.client("apigateway").create_resource(
            restApiId=api.api_id, parentId=api.root_id, pathPart=path_part
        )["id"]
        api.changes.append(f"created /{path_part}")
    api.paths[found] = f"/{path_part}"
    return found


def ensure_method(account: Account, api: RestApi, resource_id: str) -> dict[str, Any]:
    """GET on the resource: no IAM authorization, the API key required, the query strings named."""
    apigateway = account.client("apigateway")
    wanted = {f"method.request.querystring.{name}": False for name in QUERY_STRINGS}
    try:
        method = apigateway.get_method(
            restApiId=api.api_id, resourceId=resource_id, httpMethod="GET"
        )
    except apigateway.exceptions.NotFoundException:
        method = apigateway.put_method(
            restApiId=api.api_id,
            resourceId=resource_id,
            httpMethod="GET",
            authorizationType="NONE",
            apiKeyRequired=True,
            requestParameters=wanted,
        )
        api.changes.append(f"put GET on {api.path(resource_id)}")
        return method
    if not method.get("apiKeyRequired"):
        method = apigateway.update_method(
            restApiId=api.api_id,
            resourceId=resource_id,
            httpMethod="GET",
            patchOperations=[{"op": "replace", "path": "/apiKeyRequired", "value": "true"}],
        )
        api.changes.append(f"required the API key on {api.path(resource_id)}")
    return method


def ensure_integration(
    account: Account, api: RestApi, resource_id: str, *, proxy: bool = False
) -> dict[str, Any]:
    """The Lambda integration: ``AWS`` with the request template (2017), or ``AWS_PROXY``.

    API Gateway always calls Lambda's Invoke API with POST, whatever the method's own verb.
    """
    apigateway = account.client("apigateway")
    wanted: dict[str, Any] = {
        "type": "AWS_PROXY" if proxy else "AWS",
        "integrationHttpMethod": "POST",
        "uri": lambda_uri(account, function_arn(account)),
    }
    if not proxy:
        wanted["requestTemplates"] = {JSON: REQUEST_TEMPLATE}
        wanted["passthroughBehavior"] = "WHEN_NO_TEMPLATES"
    try:
        current = apigateway.get_integration(
            restApiId=api.api_id, resourceId=resource_id, httpMethod="GET"
        )
        # GetIntegration names the integration's verb httpMethod, PutIntegration integrationHttpMethod.
        have = {**current, "integrationHttpMethod": current.get("httpMethod")}
        if all(have.get(key) == value for key, value in wanted.items()):
            return current
    except apigateway.exceptions.NotFoundException:
        pass
    api.changes.append(f"put the {wanted['type']} integration on {api.path(resource_id)}")
    return apigateway.put_integration(
        restApiId=api.api_id, resourceId=resource_id, httpMethod="GET", **wanted
    )


RESPONSES = (
    # (status, selection pattern, response template): the default (no pattern) first.
    ("200", None, None),
    ("400", BAD_REQUEST_PATTERN, ERROR_TEMPLATE),
    ("500", FAULT_PATTERN, ERROR_TEMPLATE),
)


def ensure_responses(account: Account, api: RestApi, resource_id: str) -> list[dict[str, Any]]:
    """Method responses 200/400/500 and the integration responses that select them.

    The integration response without a pattern is the default: every successful call, and
    every error that no pattern matches. A pattern is matched against the Lambda error message.
    """
    apigateway = account.client("apigateway")
    where = {"restApiId": api.api_id, "resourceId": resource_id, "httpMethod": "GET"}
    # One read of the method holds its method responses and integration responses.
    method = apigateway.get_method(**where)
    method_responses = method.get("methodResponses") or {}
    integration_responses = (method.get("methodIntegration") or {}).get(
        "integrationResponses"
    ) or {}
    made = []
    for status, pattern, template in RESPONSES:
        if status not in method_responses:
            apigateway.put_method_response(
                **where, statusCode=status, responseModels={JSON: "Empty"}
            )
            api.changes.append(f"method response {status} on {api.path(resource_id)}")
        wanted: dict[str, Any] = {}
        if pattern:
            wanted["selectionPattern"] = pattern
        if template:
            wanted["responseTemplates"] = {JSON: template}
        current = integration_responses.get(status)
        if current is not None and all(current.get(key) == value for key, value in wanted.items()):
            made.append(current)
            continue
        made.append(apigateway.put_integration_response(**where, statusCode=status, **wanted))
        api.changes.append(f"integration response {status} on {api.path(resource_id)}")
    return made


def ensure_deployed(account: Account, api: RestApi, *, force: bool = False) -> dict[str, Any]:
    """Deploy the API to the stage when the stage is missing or this run changed the API.

    A deployment is a snapshot: changes made after it are invisible to callers until the next.
    """
    apigateway = account.client("apigateway")
    try:
        stage = apigateway.get_stage(restApiId=api.api_id, stageName=api.stage)
        if not (force or api.changes):
            return stage
    except apigateway.exceptions.NotFoundException:
        pass
    apigateway.create_deployment(
        restApiId=api.api_id,
        stageName=api.stage,
        description="; ".join(api.changes)[:250] or "redeployed",
    )
    api.changes.clear()
    return apigateway.get_stage(restApiId=api.api_id, stageName=api.stage)


def build_admission_resource(account: Account, api: RestApi) -> RestApi:
    """``/admit`` with GET, the non-proxy integration and its responses (not yet deployed)."""
    api.resource_id = ensure_resource(account, api)
    ensure_method(account, api, api.resource_id)
    ensure_integration(account, api, api.resource_id)
    ensure_responses(account, api, api.resource_id)
    return api


def describe(account: Account, api: RestApi) -> list[dict[str, Any]]:
    """One row per resource and method: integration type, key required, response codes."""
    apigateway = account.client("apigateway")
    rows = []
    for resource in sorted(_resources(account, api.api_id), key=lambda item: item["path"]):
        for verb in sorted(resource.get("resourceMethods") or {}):
            method = apigateway.get_method(
                restApiId=api.api_id, resourceId=resource["id"], httpMethod=verb
            )
            integration = method.get("methodIntegration") or {}
            rows.append(
                {
                    "path": resource["path"],
                    "method": verb,
                    "API key": method.get("apiKeyRequired", False),
                    "integration": integration.get("type", ""),
                    "responses": ", ".join(sorted(method.get("methodResponses") or {})),
                    "selected by": ", ".join(
                        f"{status}: {response.get('selectionPattern') or '(default)'}"
                        for status, response in sorted(
                            (integration.get("integrationResponses") or {}).items()
                        )
                    ),
                }
            )
    return rows
