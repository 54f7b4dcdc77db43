"""What a deployment captured: the API's resources, methods and gateway responses at
``create-deployment`` time.

On AWS a stage serves the deployment it points at; a change to a resource, method, integration
or mapping made afterwards does nothing until the next deployment. moto keeps only the live
API and, per stage, a deployment id. So, at each ``CreateDeployment``, the mock copies the
resources and their methods (integrations, integration and method responses included) onto
the API object, keyed by deployment id, and the stage is served from that copy.

Usage plans, keys, stage variables and the function's resource policy are not part of a
deployment, on AWS either: they act at once.

The copy is taken by wrapping moto's ``RestAPI.create_deployment`` (``install()``: once per
process, when moto's API Gateway is imported); it only adds an attribute to the API, so moto
behaves as before.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

from . import moto_api

if TYPE_CHECKING:
    from moto.apigateway.models import RestAPI

SNAPSHOTS = "_mock_deployed_snapshots"
_lock = threading.Lock()
_original: Any = None
_hooked = False


@dataclass
class DeployedResource:
    """A resource as deployed: its place in the tree and a copy of its methods."""

    id: str
    parent_id: str | None
    path_part: str
    path: str
    resource_methods: dict[str, Any] = field(default_factory=dict)

    def get_path(self) -> str:
        return self.path


@dataclass
class DeployedApi:
    """The API as one deployment captured it (routing.py reads ``resources``,
    gateway_responses.py ``gateway_responses``)."""

    id: str
    resources: dict[str, DeployedResource]
    gateway_responses: dict[str, Any] = field(default_factory=dict)


def snapshot(api: Any) -> DeployedApi:
    """Copy the API's resources and methods as they are now."""
    resources = {
        resource_id: DeployedResource(
            resource.id,
            resource.parent_id,
            resource.path_part,
            resource.get_path(),
            copy.deepcopy(resource.resource_methods),
        )
        for resource_id, resource in list(api.resources.items())
    }
    return DeployedApi(api.id, resources, copy.deepcopy(dict(api.gateway_responses)))


def deployed(api: Any, deployment_id: str) -> DeployedApi | None:
    """The deployment's copy of the API, if the mock took one."""
    return getattr(api, SNAPSHOTS, {}).get(deployment_id)


def _create_deployment(self: RestAPI, *args: Any, **kwargs: Any) -> Any:
    deployment = _original(self, *args, **kwargs)
    self.__dict__.setdefault(SNAPSHOTS, {})[deployment.id] = snapshot(self)
    return deployment


def install() -> None:
    """Wrap ``RestAPI.create_deployment`` once per process, as soon as moto's API Gateway is
    imported (at once, if it already is). Every account start calls this; the hook is registered
    by the first call only."""
    global _hooked
    with _lock:
        if _hooked:
            return
        _hooked = True
    moto_api.when_imported(_wrap)


def _wrap(models: ModuleType) -> None:
    global _original
    with _lock:
        if _original is None:
            _original = models.RestAPI.create_deployment
            models.RestAPI.create_deployment = _create_deployment
