"""ECR's GetAuthorizationToken, answered by the account's registry instead of moto.

moto (5.2.x, measured) answers every caller with the same password (``<account>-auth-token``),
an ``expiresAt`` in 2015 and a ``proxyEndpoint`` on ``*.dkr.ecr.<region>.amazonaws.com``, which
does not exist here. While a mock account runs, the token is minted by its registry for the
calling access key (tokens.py), expires in 12 hours as ECR's do, and ``proxyEndpoint`` is the
registry's ``http://localhost:<port>``. The caller is already authenticated and authorized
(``ecr:GetAuthorizationToken``) by moto's enforcement when this runs.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from moto.core.responses import ActionResult
from moto.ecr.responses import ECRResponse

from .. import patching

if TYPE_CHECKING:
    from .service import RegistryService

_active: RegistryService | None = None
_CREDENTIAL = re.compile(r"Credential=([A-Z0-9]+)/")


def activate(registry: RegistryService) -> None:
    global _active
    _active = registry


def deactivate() -> None:
    global _active
    _active = None


def active_registry() -> RegistryService | None:
    """The running mock account's registry; None while none runs."""
    return _active


def _get_authorization_token(self: ECRResponse) -> Any:
    registry = _active
    signed = _CREDENTIAL.search(self.headers.get("Authorization", "") or "")
    if registry is None or patching.active_service() is None or signed is None:
        return patching.original("ecr_get_authorization_token")(self)
    token, grant = registry.mint.authorization_token(signed.group(1))
    return ActionResult(
        {
            "authorizationData": [
                {
                    "authorizationToken": token,
                    "expiresAt": datetime.fromtimestamp(grant.expires_at, tz=UTC),
                    "proxyEndpoint": registry.url,
                }
            ]
        }
    )


PATCHES: list[patching.Patch] = [
    (
        "ecr_get_authorization_token",
        ECRResponse,
        "get_authorization_token",
        _get_authorization_token,
    )
]
