"""Deployed REST API stages, answering requests as API Gateway does (the wire layer is wire.py).

In order, as API Gateway checks them:

1. The API id and stage must exist: otherwise 403 ``{"message":"Forbidden"}``
   (``ForbiddenException``). On AWS every API id resolves (``*.execute-api`` is a wildcard
   name) and the default endpoint answers this 403, not a 404, for an API or stage it does not
   serve (a URL missing its stage, whose first segment is then taken for one, gets
   ``{"message":"Forbidden"}``: github.com/OWASP/Serverless-Goat/issues/14). The mock answers
   the same so that a typo looks the same in both; LocalStack's 404 ("does not correspond to a
   deployed API Gateway API") is its own.
2. A resource and method must match: otherwise 403 ``{"message":"Missing Authentication
   Token"}`` (REST APIs answer an unknown path or method this way, not 404).
3. A method with ``apiKeyRequired`` needs a valid key within its usage plan's throttle and quota
   (keys_and_plans.py): 403 ``Forbidden``, 429 ``Too Many Requests`` or ``Limit Exceeded``.
4. The integration runs (integrations.py, proxy.py); API Gateway's own failures (permission,
   template, no mapping, Lambda unreachable) are 500 ``{"message": "Internal server error"}``,
   a proxy integration's malformed reply or function error a 502 with the same message.

Every answer carries ``x-amzn-RequestId``. A failure is logged (logger
``helpers.mock.apigateway``, like API Gateway's execution log) and the stage goes on serving.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from . import deployments
from .exchange import (
    StageRequest,
    StageResponse,
    forbidden,
    internal_server_error,
    limit_exceeded,
    missing_authentication_token,
    too_many_requests,
)
from .gateway_responses import customize
from .integrations import (
    Call,
    IntegrationFailure,
    invoke,
    lambda_function,
    lambda_integration,
    mock_integration,
)
from .keys_and_plans import Admission, KeyRejected, QuotaExceeded, Throttled, UsagePlans
from .permissions import source_arn
from .proxy import MalformedProxyResponse, proxy_event, proxy_response
from .routing import NoSuchRoute, NoSuchStage, Route, find_stage, route
from .templates import TemplateFailure, TemplateVariables

log = logging.getLogger("helpers.mock.apigateway")


class ApiStages:
    """Serves every deployed stage of the account's REST APIs in one region.

    ``service`` is the account's LambdaService (functions run as the Invoke API runs them);
    ``clock`` gives epoch seconds (usage plans' buckets and quota periods; tests inject one).
    """

    def __init__(
        self,
        service: Any,
        account_id: str,
        region: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.service = service
        self.account_id = account_id
        self.region = region
        self.clock = clock
        self.usage_plans = UsagePlans(account_id, lambda: self.clock())
        deployments.install()

    def handle(self, request: StageRequest) -> StageResponse:
        """Answer one request; never raises."""
        request_id = str(uuid.uuid4())
        try:
            response = self._answer(request, request_id)
        except Exception:
            log.exception("API Gateway stage %s/%s failed", request.api_id, request.stage)
            response = internal_server_error()
        response.set_header("x-amzn-RequestId", request_id)
        return response

    def _answer(self, request: StageRequest, request_id: str) -> StageResponse:
        try:
            api, stage = find_stage(self.account_id, self.region, request.api_id, request.stage)
        except NoSuchStage as why:
            log.info("403 Forbidden: %s", why)
            return forbidden()
        response = self._serve(request, request_id, api, stage)
        context = {
            "requestId": request_id,
            "apiId": api.id,
            "stage": stage.name,
            "httpMethod": request.method,
            "path": f"/{stage.name}{request.path}",
            "accountId": self.account_id,
        }
        return customize(response, api, context)

    def _serve(self, request: StageRequest, request_id: str, api: Any, stage: Any) -> StageResponse:
        try:
            matched = route(api, stage, request.method, request.path)
        except NoSuchRoute:
            return missing_authentication_token()
        admission = None
        if matched.method.api_key_required:
            try:
                admission = self.usage_plans.admit(
                    self.region, api.id, stage.name, request.single_headers()
                )
            except KeyRejected:
                return forbidden("INVALID_API_KEY")
            except Throttled:
                return too_many_requests()
            except QuotaExceeded:
                return limit_exceeded()
        return self._integrate(request, request_id, matched, admission)

    def _integrate(
        self, request: StageRequest, request_id: str, matched: Route, admission: Admission | None
    ) -> StageResponse:
        integration = matched.method.method_integration
        if integration is None:
            log.info("%s %s has no integration", request.method, matched.resource_path)
            return internal_server_error()
        context = self.request_context(request, request_id, matched, admission)
        variables = TemplateVariables(context, dict(matched.stage.variables or {}))
        call = Call(
            request,
            matched.path_parameters,
            variables,
            source_arn(
                self.region,
                self.account_id,
                matched.api.id,
                matched.stage.name,
                request.method,
                request.path,
            ),
            self.account_id,
            self.region,
            self.service,
        )
        kind = str(integration.integration_type or "").upper()
        try:
            if kind == "AWS_PROXY":
                return self._proxy(integration, call, matched)
            if kind == "AWS":
                return lambda_integration(integration, call)
            if kind == "MOCK":
                return mock_integration(integration, call)
            log.info("integration type %s is not served by the mock", kind)
            return internal_server_error()
        except IntegrationFailure as failure:
            log.info("Execution failed: %s", failure)
            return failure.response
        except TemplateFailure as failure:
            log.info("Execution failed: mapping template: %s", failure)
            return internal_server_error()

    def _proxy(self, integration: Any, call: Call, matched: Route) -> StageResponse:
        fn = lambda_function(integration, call)
        event = proxy_event(
            call.request,
            matched.resource_path,
            matched.path_parameters,
            call.variables.stage_variables,
            call.variables.context,
        )
        result = invoke(fn, json.dumps(event).encode(), call)
        if result.function_error:
            log.info("Execution failed: the function raised (proxy integration): 502")
            return internal_server_error(502)
        try:
            return proxy_response(result.payload)
        except MalformedProxyResponse as why:
            log.info("Execution failed: Malformed Lambda proxy response: %s", why)
            return internal_server_error(502)

    def request_context(
        self, request: StageRequest, request_id: str, matched: Route, admission: Admission | None
    ) -> dict[str, Any]:
        """``$context`` for templates and ``requestContext`` for proxy events."""
        now = self.clock()
        return {
            "accountId": self.account_id,
            "apiId": matched.api.id,
            "resourceId": matched.resource.id,
            "resourcePath": matched.resource_path,
            "httpMethod": request.method,
            "path": f"/{matched.stage.name}{request.path}",
            "stage": matched.stage.name,
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTime": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now * 1000),
            "domainName": request.header("Host") or "",
            "identity": {
                "apiKey": admission.key_value if admission else None,
                "apiKeyId": admission.key_id if admission else None,
                "sourceIp": request.source_ip,
                "userAgent": request.header("User-Agent"),
                "accountId": None,
                "caller": None,
                "user": None,
                "userArn": None,
                "accessKey": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
            },
        }
