"""Gateway responses: an API's own settings for the errors API Gateway makes itself.

``aws apigateway put-gateway-response`` sets, per response type, a status, headers
(``gatewayresponse.header.Name: "'value'"``) and a body template. The usual use is CORS on
errors: ``DEFAULT_4XX`` with ``Access-Control-Allow-Origin: '*'``, or a browser hides a 403 for
a missing key or a 429 from the usage plan from the page's script. A specific type
(``MISSING_AUTHENTICATION_TOKEN``, ``INVALID_API_KEY``, ``THROTTLED``, ``QUOTA_EXCEEDED``,
``UNSUPPORTED_MEDIA_TYPE``) wins over ``DEFAULT_4XX``/``DEFAULT_5XX``. They are part of what a
deployment captures (deployments.py), as on AWS. Templates see ``$context`` with
``error.message``, ``error.messageString`` (the message as a quoted JSON string) and
``error.responseType``.

The mock's 5xx answers (permission, template, malformed proxy reply) take ``DEFAULT_5XX`` only:
which specific type AWS assigns each of them is not modelled.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from .exchange import StageResponse
from .templates import TemplateFailure, TemplateVariables, VelocityInput, render

log = logging.getLogger("helpers.mock.apigateway")

HEADER_PREFIX = "gatewayresponse.header."


def _message(response: StageResponse) -> str:
    try:
        return str(json.loads(response.body).get("message", ""))
    except (ValueError, AttributeError):
        return response.body.decode("utf-8", "replace")


def customize(response: StageResponse, api: Any, context: dict[str, Any]) -> StageResponse:
    """Apply the API's gateway response for this error, if it has one."""
    if response.response_type is None or api is None:
        return response
    configured = getattr(api, "gateway_responses", None) or {}
    default = "DEFAULT_4XX" if response.status < 500 else "DEFAULT_5XX"
    chosen = configured.get(response.response_type) or configured.get(default)
    if chosen is None:
        return response
    customized = StageResponse(
        int(chosen.status_code) if chosen.status_code else response.status,
        list(response.headers),
        response.body,
        response.response_type,
    )
    for target, expression in (chosen.response_parameters or {}).items():
        value = str(expression)
        if (
            str(target).startswith(HEADER_PREFIX)
            and len(value) >= 2
            and value[0] == value[-1] == "'"
        ):
            customized.set_header(str(target)[len(HEADER_PREFIX) :], value[1:-1])
    templates = chosen.response_templates or {}
    template = templates.get("application/json") or next(iter(templates.values()), None)
    if template:
        message = _message(response)
        error = {
            "message": message,
            "messageString": json.dumps(message),
            "responseType": response.response_type,
        }
        try:
            body = render(
                template, VelocityInput(""), TemplateVariables({**context, "error": error})
            )
            customized.body = body.encode()
        except TemplateFailure as failure:
            log.info("gateway response template for %s failed: %s", response.response_type, failure)
    return customized
