"""The registry every patch of moto goes through: which account is active, and moto's originals.

Each service's patches (``moto_patches`` for the account's IAM/STS/S3 enforcement,
``awslambda/moto_patches.py``, ``ecr/moto_patches.py``) are lists of ``Patch`` entries;
``moto_patches.install()`` applies them all once per process. A patch does its work only while a
mock account is active (``activate``/``deactivate``) and otherwise calls moto's original, so other
uses of moto in the same process (``mock_aws`` in someone else's test) are unaffected. The patch
modules import this one and never each other's registry, so no import runs in a circle.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .awslambda.service import LambdaService

# (key for ``original``, the class or module patched, its attribute, the replacement)
Patch = tuple[str, Any, str, Callable[..., Any]]

_lock = threading.Lock()
_installed = False
_service: LambdaService | None = None
_root_secret = ""
_originals: dict[str, Callable[..., Any]] = {}


def active_service() -> LambdaService | None:
    """The active mock account's Lambda service; None while no mock account is active."""
    return _service


def root_secret() -> str:
    """The active mock account root's secret key ("" while none is active)."""
    return _root_secret


def original(key: str) -> Callable[..., Any]:
    """moto's own implementation that the patch registered as ``key`` replaced."""
    return _originals[key]


def original_or_none(key: str) -> Callable[..., Any] | None:
    """Like ``original``, for attributes moto may not have (then None)."""
    return _originals.get(key)


def activate(service: LambdaService, secret: str) -> None:
    """Route moto's Lambda through ``service`` and turn the patches on; the account root signs
    with ``secret`` (drawn by the MockAccount at each start, see identity.py)."""
    global _service, _root_secret
    if not secret:
        raise ValueError("The mock account's root needs a secret (identity.new_root_secret()).")
    if _service is not None and _service is not service:
        raise RuntimeError(
            "Another mock account is already active in this process; stop it first "
            "(helpers.mock.current_mock_account().stop())."
        )
    _service = service
    _root_secret = secret


def deactivate() -> None:
    global _service, _root_secret
    _service = None
    _root_secret = ""


def install(patches: Iterable[Patch]) -> None:
    """Apply the patches (once per process); they stay inert until ``activate``."""
    global _installed
    with _lock:
        if _installed:
            return
        for key, owner, attribute, replacement in patches:
            # moto's Logs, EventBridge, ECR and Lambda responses have no _determine_resource: None
            _originals[key] = getattr(owner, attribute, None)  # type: ignore[assignment]
            setattr(owner, attribute, replacement)
        _installed = True


def request_parameters(response: Any) -> dict[str, Any]:
    """A request's parameters off the wire: the query string or form (IAM, STS) or the JSON body
    (Logs, EventBridge, ECR, Lambda); strings stay strings, lists of strings stay lists."""
    parameters: dict[str, Any] = {
        key: values[0]
        for key, values in (getattr(response, "querystring", None) or {}).items()
        if isinstance(values, list) and values and isinstance(values[0], str)
    }
    try:
        body = json.loads(response.body or "{}")
    except (TypeError, ValueError, RecursionError):
        body = {}
    if isinstance(body, dict):
        for key, value in body.items():
            if isinstance(value, str) or (
                isinstance(value, list) and all(isinstance(item, str) for item in value)
            ):
                parameters[key] = value
    return parameters
