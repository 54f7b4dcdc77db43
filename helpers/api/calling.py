"""Calling the API as any HTTP client would: with ``requests``, and the same call as ``curl``.

Nothing here signs requests: an API stage is public, guarded only by what the method requires
(here the API key in ``x-api-key``). The key's value is sent, never shown; the printed ``curl``
line reads it from the ``API_KEY`` environment variable instead.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests

KEY_HEADER = "x-api-key"
SHOWN_HEADERS = ("Content-Type", "Access-Control-Allow-Origin")
"""Response headers worth showing (request ids and dates change on every call)."""


@dataclass
class Answer:
    """What came back: status, the headers worth showing, the body (parsed when JSON)."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        body = json.dumps(self.body) if not isinstance(self.body, str) else self.body
        return f"HTTP {self.status} {body}"


def call(
    url: str, params: dict[str, Any] | None = None, api_key: str | None = None, timeout: float = 30
) -> Answer:
    """GET ``url`` with the query strings, sending the key (if any) as ``x-api-key``."""
    headers = {KEY_HEADER: api_key} if api_key else {}
    response = requests.get(url, params=params, headers=headers, timeout=timeout)
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    shown = {name: response.headers[name] for name in SHOWN_HEADERS if name in response.headers}
    return Answer(response.status_code, body, shown)


def full_url(url: str, params: dict[str, Any] | None = None) -> str:
    return f"{url}?{urlencode(params)}" if params else url


def curl_command(url: str, params: dict[str, Any] | None = None, with_key: bool = True) -> str:
    """The same call as a shell command; the key comes from ``$API_KEY``, never written out."""
    words = ["curl", "-s", "-w", "'\\nHTTP %{http_code}\\n'"]
    if with_key:
        words += ["-H", f'"{KEY_HEADER}: $API_KEY"']
    return " ".join([*words, shlex.quote(full_url(url, params))])


def curl_available() -> bool:
    return shutil.which("curl") is not None


def run_curl(
    url: str, params: dict[str, Any] | None = None, api_key: str | None = None, timeout: float = 30
) -> str:
    """Run :func:`curl_command` (the key passed in the environment, as the line says).

    Returns curl's output: the body, then ``HTTP <status>``.
    """
    if not curl_available():
        raise FileNotFoundError("curl is not installed here; the requests call above is the same")
    environment = {**os.environ, "API_KEY": api_key or ""}
    done = subprocess.run(
        ["sh", "-c", curl_command(url, params, with_key=api_key is not None)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        check=False,
    )
    return done.stdout.strip()


def call_until(
    url: str,
    params: dict[str, Any] | None,
    api_key: str | None,
    want: int = 200,
    timeout_s: float = 0.0,
    pause_s: float = 3.0,
) -> Answer:
    """Call until the answer has status ``want`` or ``timeout_s`` has passed; the last answer.

    On AWS a new permission, deployment or key takes some seconds to apply everywhere
    (the mock account applies them at once, so there ``timeout_s=0``: one call).
    """
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        answer = call(url, params, api_key)
        if answer.status == want or time.monotonic() >= deadline:
            return answer
        time.sleep(pause_s)
