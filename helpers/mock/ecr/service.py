"""The account's registry listener: its own port on 127.0.0.1, started and stopped with the account.

It cannot share the account's main port: registry paths (``/v2/<name>/...``) are also path-style
S3 requests there (a bucket may be called ``v2``). The registry's URL is
``http://localhost:<port>``: Docker treats registries on 127.0.0.0/8 as insecure by default
(``Insecure Registries: 127.0.0.0/8`` in ``docker info``), so ``docker login``/``push``/``pull``
speak plain HTTP to it without any daemon configuration.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .store import RegistryStore
from .tokens import TokenMint
from .wire import RegistryWire

log = logging.getLogger(__name__)


class _QuietHandler(WSGIRequestHandler):
    """Docker first tries HTTPS on an insecure registry, then falls back to HTTP: the TLS hello it
    sends is a "bad request" here every time, expected, so not worth a line on the console."""

    def log_error(self, format: str, *args: Any) -> None:
        log.debug("mock ECR registry: " + format, *args)

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class RegistryService:
    """One account's registry: tokens, store and listener (``start``/``stop``)."""

    def __init__(self, account_id: str, region: str, work_dir: Path, port: int = 0) -> None:
        self.account_id = account_id
        self.region = region
        self.mint = TokenMint()
        self.store = RegistryStore(work_dir, account_id, region)
        self.work_dir = work_dir
        self._port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("The mock account's registry is not running.")
        return self._server.server_port

    @property
    def host(self) -> str:
        """``localhost:<port>``: the name ``docker login``/``push`` use for this registry."""
        return f"localhost:{self.port}"

    @property
    def url(self) -> str:
        """ECR's ``proxyEndpoint`` for this account."""
        return f"http://{self.host}"

    def start(self) -> None:
        if self._server is not None:
            return
        wire = RegistryWire(self.store, self.mint, realm="")
        self._server = make_server(
            "127.0.0.1", self._port, wire, threaded=True, request_handler=_QuietHandler
        )
        wire.realm = f"{self.url}/"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # stop() waits for the next poll (front_door.py)
            daemon=True,
            name="mock-ecr-registry",
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and free the port."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
