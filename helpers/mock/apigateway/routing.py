"""Which API, stage, resource and method a stage request names, from moto's API Gateway state.

A REST API's resources form a tree of path parts: literal (``admit``), a parameter (``{id}``,
one segment) or greedy (``{proxy+}``, the rest of the path). As API Gateway does, a literal part
wins over a parameter, a parameter over a greedy one; a method the resource lacks falls back to
its ``ANY`` method.

A stage is served from what its deployment captured (deployments.py), as on AWS: a change made
after ``create-deployment`` needs a new deployment. Only if the mock holds no copy of the
stage's deployment (none is known to be missing) does it fall back to the live API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import moto_api
from .deployments import deployed


@dataclass(frozen=True)
class Route:
    """A request matched to a method of a deployed stage."""

    api: Any
    stage: Any
    resource: Any
    method: Any
    resource_path: str
    path_parameters: dict[str, str] = field(default_factory=dict)


class NoSuchStage(Exception):
    """The API id or its stage does not exist here."""


class NoSuchRoute(Exception):
    """The stage exists but no resource and method match the request."""


def find_stage(account_id: str, region: str, api_id: str, stage_name: str) -> tuple[Any, Any]:
    """The API as the stage's deployment captured it (or moto's live RestAPI) and the moto
    Stage, or ``NoSuchStage``."""
    api = moto_api.backend(account_id, region).apis.get(api_id)
    if api is None:
        raise NoSuchStage(f"no REST API {api_id} in {region}")
    stage = api.stages.get(stage_name)
    if stage is None or not stage.deployment_id:
        raise NoSuchStage(f"REST API {api_id} has no stage {stage_name}")
    return deployed(api, stage.deployment_id) or api, stage


def _children(api: Any) -> dict[str | None, list[Any]]:
    tree: dict[str | None, list[Any]] = {}
    for resource in api.resources.values():
        tree.setdefault(resource.parent_id, []).append(resource)
    return tree


def _kind(path_part: str) -> int:
    """Matching precedence: 0 literal, 1 ``{name}``, 2 ``{name+}``."""
    if path_part.startswith("{") and path_part.endswith("+}"):
        return 2
    if path_part.startswith("{") and path_part.endswith("}"):
        return 1
    return 0


def _match(
    tree: dict[str | None, list[Any]], parent: Any, segments: list[str], found: dict[str, str]
) -> tuple[Any, dict[str, str]] | None:
    if not segments:
        return parent, found
    head, rest = segments[0], segments[1:]
    for child in sorted(tree.get(parent.id, []), key=lambda r: _kind(r.path_part)):
        kind = _kind(child.path_part)
        if kind == 0 and child.path_part == head:
            matched = _match(tree, child, rest, found)
        elif kind == 1:
            matched = _match(tree, child, rest, {**found, child.path_part[1:-1]: head})
        elif kind == 2:
            matched = child, {**found, child.path_part[1:-2]: "/".join(segments)}
        else:
            continue
        if matched is not None:
            return matched
    return None


def resource_path(resource: Any) -> str:
    """The resource's path template, ``/admit`` or ``/pets/{id}`` (``/`` for the root)."""
    return str(resource.get_path()) or "/"


def route(api: Any, stage: Any, http_method: str, path: str) -> Route:
    """The resource and method for ``http_method path`` (path after the stage), or
    ``NoSuchRoute``."""
    tree = _children(api)
    root = next((r for r in tree.get(None, [])), None)
    if root is None:
        raise NoSuchRoute(path)
    segments = [segment for segment in path.split("/") if segment]
    matched = _match(tree, root, segments, {})
    if matched is None:
        raise NoSuchRoute(path)
    resource, parameters = matched
    methods = resource.resource_methods
    method = methods.get(http_method.upper()) or methods.get("ANY")
    if method is None:
        raise NoSuchRoute(path)
    return Route(api, stage, resource, method, resource_path(resource), parameters)
