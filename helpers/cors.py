"""CORS on the REST API, as the console's "Enable CORS" sets it up today, and taken away again.

A page may call an API of another origin only if the API says so. For a call with a custom
header (``x-api-key``) the browser first sends a *preflight*: ``OPTIONS`` with
``Origin``, ``Access-Control-Request-Method: GET`` and ``Access-Control-Request-Headers:
x-api-key``. The API must answer it with ``Access-Control-Allow-Origin``, ``-Methods`` and
``-Headers``; then the real call's answer must carry ``Access-Control-Allow-Origin`` too, or
the browser hides it from the page. So:

- ``OPTIONS`` on the resource: no authorization and no API key (a preflight never carries
  custom headers), answered by API Gateway itself with a MOCK integration whose 200 integration
  response maps the three headers as static values (quoted: ``'*'``).
- A non-proxy (``AWS``) integration: ``Access-Control-Allow-Origin`` declared on each method
  response of GET and mapped to ``'*'`` on each integration response, the error responses
  (400, 500) included. 2017 enabled it for 200 only, so every 400 reached the browser without
  the header and the page saw a blocked call instead of the message.
- A proxy (``AWS_PROXY``) integration: API Gateway passes the function's headers through, so
  the function returns the header itself (the handler does, on errors too); nothing to map.
- Gateway responses ``DEFAULT_4XX``/``DEFAULT_5XX`` (a wrong key's 403, the usage plan's 429):
  API Gateway answers those without calling anything, so they get the header there.
- A new deployment of the stage: until then callers see the old snapshot.

The console edits responses with UpdateMethodResponse/UpdateIntegrationResponse; moto (the
mock's control plane) does not implement those, so a response is *replaced* here instead
(integration response deleted, method response deleted, both put back with the header), which
AWS accepts just the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from helpers.session import Account

ALLOW_ORIGIN = "*"
ALLOW_METHODS = ("GET", "OPTIONS")
ALLOW_HEADERS = ("content-type", "x-api-key")
HEADER_PARAMETER = "method.response.header.{}"
GATEWAY_HEADER = "gatewayresponse.header.{}"
GATEWAY_RESPONSES = ("DEFAULT_4XX", "DEFAULT_5XX")
MOCK_TEMPLATE = '{"statusCode": 200}'
JSON = "application/json"
ORIGIN_HEADER = "Access-Control-Allow-Origin"


def _quoted(value: str) -> str:
    """A static value in a response parameter mapping is a quoted string: ``'*'``."""
    return f"'{value}'"


def preflight_headers(origin: str = ALLOW_ORIGIN) -> dict[str, str]:
    """The headers the OPTIONS answer carries, as header name -> value."""
    return {
        "Access-Control-Allow-Headers": ",".join(ALLOW_HEADERS),
        "Access-Control-Allow-Methods": ",".join(ALLOW_METHODS),
        ORIGIN_HEADER: origin,
    }


@dataclass
class CorsChange:
    """What one call changed on the API (each line one API Gateway change), and the deployment."""

    api_id: str
    path: str
    changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    deployment_id: str = ""

    def table(self) -> Any:
        import pandas as pd

        rows = [*(self.changes or ["(nothing to change)"]), *self.notes]
        if self.deployment_id:
            rows.append("new deployment of the stage")
        return pd.DataFrame({"change": rows})


class _Api:
    """One resource of one REST API, read once, changed through the account's client."""

    def __init__(self, account: Account, api_id: str, path: str) -> None:
        self.client = account.client("apigateway")
        self.api_id = api_id
        self.path = path if path.startswith("/") else f"/{path}"
        pages = self.client.get_paginator("get_resources").paginate(restApiId=api_id)
        resources = [item for page in pages for item in page["items"]]
        found = next((item for item in resources if item["path"] == self.path), None)
        if found is None:
            known = ", ".join(sorted(item["path"] for item in resources))
            raise LookupError(
                f"The REST API {api_id} has no resource {self.path} (it has: {known}). Build the "
                "API first (notebook 9, or helpers.api.ensure_admission_api)."
            )
        self.resource_id = found["id"]
        self.verbs = sorted(found.get("resourceMethods") or {})
        self.report = CorsChange(api_id, self.path)

    def where(self, verb: str) -> dict[str, str]:
        return {"restApiId": self.api_id, "resourceId": self.resource_id, "httpMethod": verb}

    def method(self, verb: str) -> dict[str, Any]:
        return dict(self.client.get_method(**self.where(verb)))

    def replace_response(
        self,
        verb: str,
        status: str,
        method_response: dict[str, Any],
        integration_response: dict[str, Any] | None,
        header: str,
        value: str | None,
    ) -> None:
        """Put ``status`` back with ``header`` declared and mapped to ``value`` (None: removed)."""
        parameter = HEADER_PARAMETER.format(header)
        declared = dict(method_response.get("responseParameters") or {})
        mapped = dict((integration_response or {}).get("responseParameters") or {})
        if value is None:
            declared.pop(parameter, None)
            mapped.pop(parameter, None)
        else:
            declared[parameter] = False
            mapped[parameter] = _quoted(value)
        where = self.where(verb)
        if integration_response is not None:
            self.client.delete_integration_response(**where, statusCode=status)
        self.client.delete_method_response(**where, statusCode=status)
        self.client.put_method_response(
            **where,
            statusCode=status,
            responseParameters=declared,
            responseModels=method_response.get("responseModels") or {JSON: "Empty"},
        )
        if integration_response is not None:
            kept = {
                key: integration_response[key]
                for key in ("selectionPattern", "responseTemplates", "contentHandling")
                if integration_response.get(key)
            }
            self.client.put_integration_response(
                **where, statusCode=status, responseParameters=mapped, **kept
            )
        action = "mapped" if value is not None else "removed"
        self.report.changes.append(f"{verb} {status}: {header} {action}")

    def deploy(self, stage: str) -> None:
        if self.report.changes:
            created = self.client.create_deployment(
                restApiId=self.api_id,
                stageName=stage,
                description=f"CORS on {self.path}: {len(self.report.changes)} change(s)",
            )
            self.report.deployment_id = created["id"]


def _wanted_statuses(method_responses: dict[str, Any], error_responses: bool) -> list[str]:
    return sorted(
        status for status in method_responses if error_responses or status.startswith("2")
    )


def _ensure_options(api: _Api, origin: str) -> None:
    """OPTIONS with a MOCK integration answering the preflight with the three headers."""
    wanted = {HEADER_PARAMETER.format(k): _quoted(v) for k, v in preflight_headers(origin).items()}
    if "OPTIONS" in api.verbs:
        current = api.method("OPTIONS")
        integration = current.get("methodIntegration") or {}
        mapped = ((integration.get("integrationResponses") or {}).get("200") or {}).get(
            "responseParameters"
        ) or {}
        if integration.get("type") == "MOCK" and mapped == wanted:
            return
        api.client.delete_method(**api.where("OPTIONS"))
        api.report.changes.append("OPTIONS replaced (it did not answer the preflight as wanted)")
    where = api.where("OPTIONS")
    api.client.put_method(**where, authorizationType="NONE", apiKeyRequired=False)
    api.client.put_integration(**where, type="MOCK", requestTemplates={JSON: MOCK_TEMPLATE})
    api.client.put_method_response(
        **where,
        statusCode="200",
        responseParameters=dict.fromkeys(wanted, False),
        responseModels={JSON: "Empty"},
    )
    api.client.put_integration_response(
        **where, statusCode="200", responseParameters=wanted, responseTemplates={JSON: ""}
    )
    api.report.changes.append(
        "OPTIONS: MOCK integration answering 200 with Access-Control-Allow-Origin, -Methods, "
        "-Headers (no API key: a preflight carries none)"
    )


def _set_origin_on_method(api: _Api, verb: str, value: str | None, error_responses: bool) -> None:
    method = api.method(verb)
    integration = method.get("methodIntegration") or {}
    if integration.get("type") in ("AWS_PROXY", "HTTP_PROXY"):
        if value is not None:
            api.report.notes.append(
                f"{verb}: proxy integration, nothing to map (the function returns "
                f"{ORIGIN_HEADER} itself)"
            )
        return
    method_responses = method.get("methodResponses") or {}
    integration_responses = integration.get("integrationResponses") or {}
    parameter = HEADER_PARAMETER.format(ORIGIN_HEADER)
    statuses = _wanted_statuses(method_responses, error_responses)
    for status in sorted(method_responses):
        target = value if status in statuses else None
        current = integration_responses.get(status)
        declared = parameter in (method_responses[status].get("responseParameters") or {})
        mapped = ((current or {}).get("responseParameters") or {}).get(parameter)
        if target is None and not declared and mapped is None:
            continue
        if target is not None and declared and (current is None or mapped == _quoted(target)):
            continue
        api.replace_response(verb, status, method_responses[status], current, ORIGIN_HEADER, target)


def _set_gateway_responses(api: _Api, value: str | None) -> None:
    parameter = GATEWAY_HEADER.format(ORIGIN_HEADER)
    for response_type in GATEWAY_RESPONSES:
        try:
            current = api.client.get_gateway_response(
                restApiId=api.api_id, responseType=response_type
            )
        except api.client.exceptions.NotFoundException:
            current = {}
        mapped = (current.get("responseParameters") or {}).get(parameter)
        if value is None:
            if mapped is not None:
                api.client.delete_gateway_response(restApiId=api.api_id, responseType=response_type)
                api.report.changes.append(f"gateway response {response_type}: reset to default")
            continue
        if mapped == _quoted(value):
            continue
        api.client.put_gateway_response(
            restApiId=api.api_id,
            responseType=response_type,
            responseParameters={parameter: _quoted(value)},
        )
        api.report.changes.append(f"gateway response {response_type}: {ORIGIN_HEADER} mapped")


def enable_cors(
    account: Account,
    api_id: str,
    path: str = "/admit",
    *,
    stage: str = "prod",
    origin: str = ALLOW_ORIGIN,
    error_responses: bool = True,
    gateway_responses: bool = True,
) -> CorsChange:
    """Let pages of ``origin`` call ``path``: preflight, headers on every answer, redeployed.

    ``error_responses=False`` reproduces 2017: the header on the 200 only (errors lose it).
    Changes only what differs, and deploys only when something changed.
    """
    api = _Api(account, api_id, path)
    _ensure_options(api, origin)
    for verb in api.verbs:
        if verb != "OPTIONS":
            _set_origin_on_method(api, verb, origin, error_responses)
    _set_gateway_responses(api, origin if gateway_responses else None)
    api.deploy(stage)
    return api.report


def disable_cors(
    account: Account, api_id: str, path: str = "/admit", *, stage: str = "prod"
) -> CorsChange:
    """Take CORS away again: no OPTIONS method, no header mapped, default gateway responses."""
    api = _Api(account, api_id, path)
    if "OPTIONS" in api.verbs:
        api.client.delete_method(**api.where("OPTIONS"))
        api.report.changes.append("OPTIONS deleted")
    for verb in api.verbs:
        if verb != "OPTIONS":
            _set_origin_on_method(api, verb, None, error_responses=True)
    _set_gateway_responses(api, None)
    api.deploy(stage)
    return api.report


def cors_summary(account: Account, api_id: str, path: str = "/admit") -> Any:
    """One row per method and status: is Access-Control-Allow-Origin declared and mapped?"""
    import pandas as pd

    api = _Api(account, api_id, path)
    parameter = HEADER_PARAMETER.format(ORIGIN_HEADER)
    rows = []
    for verb in api.verbs:
        method = api.method(verb)
        integration = method.get("methodIntegration") or {}
        responses = integration.get("integrationResponses") or {}
        for status in sorted(method.get("methodResponses") or {}):
            mapped = ((responses.get(status) or {}).get("responseParameters") or {}).get(parameter)
            rows.append(
                {
                    "method": verb,
                    "integration": integration.get("type", ""),
                    "status": status,
                    f"{ORIGIN_HEADER} mapped to": mapped
                    or (
                        "(the function's own header)"
                        if integration.get("type") == "AWS_PROXY"
                        else "—"
                    ),
                }
            )
    return pd.DataFrame(rows)
