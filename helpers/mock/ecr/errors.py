"""The registry's errors, in the Docker Registry HTTP API v2 / OCI distribution error format."""

from __future__ import annotations

import json


class RegistryError(Exception):
    """An answer ``{"errors": [{"code", "message", "detail"}]}`` with its HTTP status."""

    def __init__(self, status: int, code: str, message: str, detail: object = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail

    def body(self) -> bytes:
        error: dict[str, object] = {"code": self.code, "message": self.message}
        if self.detail is not None:
            error["detail"] = self.detail
        return json.dumps({"errors": [error]}).encode()
