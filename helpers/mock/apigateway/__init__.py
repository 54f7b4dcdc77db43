"""API Gateway REST API stages served for real by the mock account.

moto keeps the APIs' configuration (resources, methods, integrations, stages, keys, usage
plans); this package answers HTTP at ``{endpoint}/restapis/{api_id}/{stage}/_user_request_/{path}``
as a deployed stage does: routing, API keys and usage plans, mapping templates, Lambda (non-proxy
and proxy) and MOCK integrations, the function's resource policy. ``backend.ApiStages`` is the
behaviour, ``wire.StageWire`` the WSGI layer the front door hands stage requests to;
``moto_patches`` makes moto's enforcement authorize API Gateway's control plane as AWS does.
"""

from .backend import ApiStages
from .wire import STAGE_PATH, StageWire, is_stage_request

__all__ = ["STAGE_PATH", "ApiStages", "StageWire", "is_stage_request"]
