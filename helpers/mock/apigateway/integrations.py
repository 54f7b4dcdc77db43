"""A method's integration: Lambda (``AWS``, with mapping templates), ``AWS_PROXY`` and ``MOCK``.

``AWS`` (the 2017 series' non-proxy integration): the request template for the body's content
type (``application/json`` when there is none) renders the event; without one the body passes
through as ``passthroughBehavior`` allows (``WHEN_NO_MATCH``, the default; ``WHEN_NO_TEMPLATES``;
``NEVER``: 415). The function's reply selects an integration response: on a function error the
first whose ``selectionPattern`` matches the whole ``errorMessage`` (Java regex semantics: the
pattern must match all of it), otherwise, and when none matches, the default (no pattern). Its
response template renders the body (none: the reply passes through), its
``responseParameters`` set headers (``'literal'``, ``integration.response.body[.path]``).
No integration response to select is a 500.

``AWS_PROXY``: see proxy.py. ``MOCK``: the request template's ``statusCode`` selects the
integration response (its pattern against the status as text), e.g. the OPTIONS method that
"Enable CORS" makes, whose response parameters carry the ``Access-Control-Allow-*`` headers.

Every Lambda call goes through the mock's Lambda service, as the Invoke API's do, after the
function's resource policy allowed API Gateway (permissions.py).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from moto.awslambda.utils import get_backend as lambda_backend

from .exchange import StageRequest, StageResponse, internal_server_error, unsupported_media_type
from .permissions import apigateway_may_invoke
from .templates import TemplateVariables, VelocityInput, render

log = logging.getLogger(__name__)

_FUNCTION_IN_URI = re.compile(r":lambda:path/[^/]+/functions/(?P<arn>.+?)/invocations/?$")
_STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.([A-Za-z0-9_]+)\}")
DEFAULT_CONTENT_TYPE = "application/json"


class IntegrationFailure(Exception):
    """API Gateway could not complete the integration; carries its answer (500 or 502)."""

    def __init__(self, reason: str, response: StageResponse | None = None) -> None:
        super().__init__(reason)
        self.response = response or internal_server_error()


@dataclass(frozen=True)
class Call:
    """What an integration needs besides the request: the template variables, the source
    ARN for the permission check, the Lambda service and where the function lives."""

    request: StageRequest
    path_parameters: dict[str, str]
    variables: TemplateVariables
    source_arn: str
    account_id: str
    region: str
    service: Any

    def template_input(self, body: str) -> VelocityInput:
        return VelocityInput(
            body, self.path_parameters, self.request.single_query(), self.request.single_headers()
        )


# -- Lambda ----------------------------------------------------------------------------------------
def lambda_function(integration: Any, call: Call) -> Any:
    """The moto function (version) the integration URI names, allowed to be invoked by API
    Gateway from this method, or ``IntegrationFailure``."""
    uri = _STAGE_VARIABLE.sub(
        lambda m: call.variables.stage_variables.get(m.group(1), ""), str(integration.uri or "")
    )
    match = _FUNCTION_IN_URI.search(uri)
    if match is None:
        raise IntegrationFailure(f"integration URI {uri!r} names no Lambda function")
    parts = match.group("arn").split(":")
    name = parts[6] if len(parts) >= 7 else match.group("arn")
    qualifier = parts[7] if len(parts) >= 8 else None
    region = parts[3] if len(parts) >= 7 else call.region
    try:
        fn = lambda_backend(call.account_id, region).get_function(name, qualifier)
    except Exception as error:
        raise IntegrationFailure(f"function {name} not found ({error})") from error
    if not apigateway_may_invoke(fn, call.source_arn, call.account_id):
        raise IntegrationFailure(
            f"Invalid permissions on Lambda function {name}: its resource policy does not allow "
            f"apigateway.amazonaws.com to invoke it from {call.source_arn}"
        )
    return fn


def invoke(fn: Any, payload: bytes, call: Call) -> Any:
    """Invoke synchronously through the Lambda service (roles, logs, limits apply)."""
    try:
        return call.service.invoke(fn, payload, "RequestResponse")
    except Exception as error:  # throttled, bad payload, service stopping: API Gateway's 500
        raise IntegrationFailure(f"Lambda invocation failed: {error}") from error


# -- templates and responses -----------------------------------------------------------------------
def _content_type(request: StageRequest) -> str:
    value = request.header("Content-Type") or DEFAULT_CONTENT_TYPE
    return value.split(";", 1)[0].strip().lower() or DEFAULT_CONTENT_TYPE


def request_body(integration: Any, call: Call) -> str:
    """The integration request's body: the matching template rendered, or the passthrough."""
    templates = dict(integration.request_templates or {})
    wanted = _content_type(call.request)
    template = next((t for ct, t in templates.items() if ct.lower() == wanted), None)
    body = call.request.body.decode("utf-8", "replace")
    if template is not None:
        return render(template, call.template_input(body), call.variables) if template else body
    behaviour = str(integration.passthrough_behaviour or "WHEN_NO_MATCH").upper()
    if behaviour == "NEVER" or (behaviour == "WHEN_NO_TEMPLATES" and templates):
        raise IntegrationFailure("no template for the content type", unsupported_media_type())
    return body


@lru_cache(maxsize=256)
def _pattern(selection_pattern: str) -> re.Pattern[str]:
    return re.compile(selection_pattern)


def select_response(integration: Any, matched_against: str | None) -> Any:
    """The integration response for a reply: by pattern when there is something to match
    (an error message, a MOCK status), else the default."""
    responses = list((integration.integration_responses or {}).values())
    if matched_against is not None:
        for response in responses:
            pattern = response.selection_pattern
            if pattern:
                try:
                    if _pattern(pattern).fullmatch(matched_against):
                        return response
                except re.error:
                    log.info("selectionPattern %r is not a valid regex", pattern)
    for response in responses:
        if not response.selection_pattern:
            return response
    raise IntegrationFailure("No match for output mapping and no default output mapping")


def _parameter_value(expression: str, reply_body: str) -> str | None:
    expression = str(expression)
    if len(expression) >= 2 and expression[0] == expression[-1] == "'":
        return expression[1:-1]
    if expression == "integration.response.body":
        return reply_body
    if expression.startswith("integration.response.body."):
        try:
            document = json.loads(reply_body)
        except ValueError:
            return None
        for part in expression[len("integration.response.body.") :].split("."):
            document = document.get(part) if isinstance(document, dict) else None
        return None if document is None else str(document)
    return None  # integration.response.header.*: a Lambda integration has no headers to map


def integration_response(
    integration_response_model: Any, reply_body: str, call: Call
) -> StageResponse:
    """Render the selected integration response: status, mapped body and headers."""
    templates = dict(integration_response_model.response_templates or {})
    accept = (call.request.header("Accept") or "").split(";", 1)[0].strip().lower()
    content_type = next(
        (ct for ct in templates if ct.lower() == accept),
        DEFAULT_CONTENT_TYPE if DEFAULT_CONTENT_TYPE in templates else next(iter(templates), None),
    )
    template = templates.get(content_type) if content_type else None
    body = (
        render(template, call.template_input(reply_body), call.variables)
        if template
        else reply_body
    )
    response = StageResponse(
        int(integration_response_model.status_code),
        [("Content-Type", content_type or DEFAULT_CONTENT_TYPE)],
        body.encode(),
    )
    for target, expression in (integration_response_model.response_parameters or {}).items():
        prefix = "method.response.header."
        value = _parameter_value(expression, reply_body)
        if str(target).startswith(prefix) and value is not None:
            response.set_header(str(target)[len(prefix) :], value)
    return response


# -- the three integration types -------------------------------------------------------------------
def lambda_integration(integration: Any, call: Call) -> StageResponse:
    """``AWS`` with a Lambda URI: template, invoke, select, map."""
    fn = lambda_function(integration, call)
    payload = request_body(integration, call)
    result = invoke(fn, payload.encode(), call)
    reply = result.payload.decode("utf-8", "replace")
    error_message = None
    if result.function_error:
        try:
            error_message = str(json.loads(reply).get("errorMessage", ""))
        except (ValueError, AttributeError):
            error_message = reply
    selected = select_response(integration, error_message)
    return integration_response(selected, reply, call)


def mock_integration(integration: Any, call: Call) -> StageResponse:
    """``MOCK``: the request template's statusCode picks the integration response."""
    rendered = request_body(integration, call).strip()
    status = "200"
    if rendered:
        try:
            status = str(int(json.loads(rendered).get("statusCode", 200)))
        except (ValueError, AttributeError, TypeError) as error:
            raise IntegrationFailure(
                f"MOCK request template gave no statusCode ({error})"
            ) from error
    selected = select_response(integration, status)
    return integration_response(selected, "", call)
