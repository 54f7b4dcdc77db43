"""moto's API Gateway, reached on first use.

Importing ``moto.apigateway`` imports the OpenAPI validator moto checks imported specs with
(pydantic, jsonschema and more): about 0.2 s of CPU in every kernel and process that starts a mock
account, though most of them never call API Gateway. So this package reaches moto's API Gateway
only through ``backend`` (when a request or a stage needs it), and what it wraps in moto is
wrapped when moto's module is first imported, by whoever imports it (``when_imported``).
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING

import wrapt

if TYPE_CHECKING:
    from moto.apigateway.models import APIGatewayBackend

MODELS = "moto.apigateway.models"


def backend(account_id: str, region: str) -> APIGatewayBackend:
    """moto's API Gateway backend of the account in the region (``KeyError``: no such region)."""
    from moto.apigateway.models import apigateway_backends

    return apigateway_backends[account_id][region]


def when_imported(hook: Callable[[ModuleType], None]) -> None:
    """Call ``hook(moto.apigateway.models)`` once that module is imported (now, if it is)."""
    wrapt.register_post_import_hook(hook, MODELS)
