"""Registry passwords: what GetAuthorizationToken hands out and the registry accepts.

ECR's token is ``base64("AWS:" + password)``, valid for 12 hours, and lets the identity that asked
for it use the registry as its IAM policies allow. Here the password names the caller's access key
and the expiry, signed with HMAC-SHA256 under a key drawn when the account starts and known only
to that account's registry: it cannot be forged, it dies with the account (a token from an earlier
start, or from another account, is refused), and it carries no secret of the caller's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass

TOKEN_LIFETIME_S = 12 * 3600
"""ECR's authorization tokens are valid for 12 hours."""
REGISTRY_USER = "AWS"
_ACCESS_KEY_ID = re.compile(r"^[A-Z0-9]{16,128}$")


@dataclass(frozen=True)
class Grant:
    """Whom a valid password was minted for, and until when (seconds since the epoch)."""

    access_key_id: str
    expires_at: float


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenMint:
    """Mints and checks registry passwords with a key only this object holds."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def _signature(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())

    def mint(self, access_key_id: str, lifetime_s: float = TOKEN_LIFETIME_S) -> tuple[str, Grant]:
        """(password, grant) for the identity that signed with ``access_key_id``."""
        grant = Grant(access_key_id, float(int(time.time() + lifetime_s)))
        payload = _b64(json.dumps({"k": grant.access_key_id, "x": int(grant.expires_at)}).encode())
        return f"{payload}.{self._signature(payload)}", grant

    def authorization_token(self, access_key_id: str) -> tuple[str, Grant]:
        """ECR's ``authorizationToken``: base64 of ``AWS:<password>``, and its grant."""
        password, grant = self.mint(access_key_id)
        return base64.b64encode(f"{REGISTRY_USER}:{password}".encode()).decode(), grant

    def check(self, user: str | None, password: str | None) -> Grant | None:
        """The grant of a genuine, unexpired password (user ``AWS``); None for anything else."""
        if user != REGISTRY_USER or not password or len(password) > 1024:
            return None
        payload, _, signature = password.partition(".")
        if not hmac.compare_digest(signature.encode(), self._signature(payload).encode()):
            return None
        try:
            fields = json.loads(_unb64(payload))
            grant = Grant(str(fields["k"]), float(fields["x"]))
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None
        if not _ACCESS_KEY_ID.match(grant.access_key_id) or grant.expires_at <= time.time():
            return None
        return grant
