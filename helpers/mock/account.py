"""The mock AWS account: moto's server in this process, the Lambda emulator and the scheduler.

One call starts everything on 127.0.0.1 (a free port unless one is given), points the process
environment at it (so boto3 and the ``aws`` CLI in a notebook's ``!`` cells work unchanged) and
returns an admin session. Stopping (context manager, ``stop()`` or at interpreter exit) kills every
worker, frees the port and restores the environment. One account can run per process: moto's
backends are process-wide.

The admin is the account root, whose secret key is drawn afresh at every start and kept by the
``MockAccount`` (``admin_credentials``, ``environment()``, ``session()``); the server is moto's
behind the front door (front_door.py), which refuses moto's own ``/moto-api/`` and unsigned
requests, so only holders of a key reach the account's state.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

import boto3
from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.base_backend import BackendDict
from moto.core.config import default_user_config
from moto.iam.models import iam_backends

from helpers.service_models import botocore_session

from . import moto_patches
from .apigateway import ApiStages, StageWire
from .awslambda.service import LambdaService
from .ecr import RegistryService
from .ecr import moto_patches as ecr_patches
from .events.scheduler import Scheduler
from .front_door import GuardedMotoServer
from .identity import ACCOUNT_ID, ROOT_ACCESS_KEY_ID, new_root_secret

_ENV_SET = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")
_ENV_REMOVED = ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")

_registry_lock = threading.RLock()
_running: MockAccount | None = None


_WORK_PREFIX = "mock-aws-"


def _sweep_abandoned_work_dirs() -> None:
    """Remove work directories of mock accounts whose process died without stopping (kill -9)."""
    for path in Path(tempfile.gettempdir()).glob(f"{_WORK_PREFIX}*-*"):
        pid_text = path.name[len(_WORK_PREFIX) :].split("-", 1)[0]
        if pid_text.isdigit() and not Path(f"/proc/{pid_text}").exists():
            shutil.rmtree(path, ignore_errors=True)


class MockSession(boto3.Session):
    """A boto3 session whose clients talk to the mock account even if the environment changes."""

    def __init__(self, endpoint_url: str, **kwargs: Any) -> None:
        super().__init__(botocore_session=botocore_session(), **kwargs)
        self.endpoint_url = endpoint_url

    def client(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs.setdefault("endpoint_url", self.endpoint_url)
        return super().client(*args, **kwargs)

    def resource(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs.setdefault("endpoint_url", self.endpoint_url)
        return super().resource(*args, **kwargs)


class MockAccount:
    """A local AWS account (moto + a Lambda service that really runs functions).

    ``time_scale`` speeds up schedules (60 makes ``rate(5 minutes)`` fire every 5 s);
    ``idle_timeout_s`` is how long an idle execution environment is kept warm;
    ``concurrency_limit`` is the account's concurrent-executions quota (10, like a new AWS account);
    ``proportional_cpu`` gives container-image functions MemorySize / 1,769 MB of a vCPU, as
    Lambda does (False: the engine's full CPU, for comparisons); ``sandbox`` runs zip workers in
    a bubblewrap sandbox where one is available (False: as this user, seeing this machine's files,
    for tests whose handlers must reach them).
    """

    account_id = ACCOUNT_ID

    def __init__(
        self,
        time_scale: float = 1.0,
        idle_timeout_s: float = 300,
        region: str = "us-east-1",
        *,
        concurrency_limit: int = 10,
        port: int = 0,
        proportional_cpu: bool = True,
        sandbox: bool = True,
    ) -> None:
        if time_scale <= 0:
            raise ValueError(
                f"time_scale must be positive (got {time_scale}); 1.0 is real time, 60 makes a minute last a second."
            )
        if idle_timeout_s <= 0:
            raise ValueError(
                f"idle_timeout_s must be positive (got {idle_timeout_s}); Lambda keeps idle environments for minutes, 300 is a fair default."
            )
        if concurrency_limit < 1:
            raise ValueError(f"concurrency_limit must be at least 1 (got {concurrency_limit}).")
        self.time_scale = float(time_scale)
        self.idle_timeout_s = float(idle_timeout_s)
        self.region = region
        self.concurrency_limit = concurrency_limit
        self.proportional_cpu = proportional_cpu
        self.sandbox = sandbox
        self._port = port
        self._server: GuardedMotoServer | None = None
        self._service: LambdaService | None = None
        self._scheduler: Scheduler | None = None
        self._registry: RegistryService | None = None
        self._work_dir: str | None = None
        self._saved_env: dict[str, str | None] = {}
        self._saved_settings: tuple[float, int, bool] | None = None
        self._endpoint_url: str | None = None
        self._root_secret: str | None = None
        self.api_stages: ApiStages | None = None
        """The account's API Gateway stages, served at /restapis/{id}/{stage}/_user_request_/."""
        self._atexit_registered = False
        self._lock = threading.RLock()

    # -- public attributes -------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def endpoint_url(self) -> str:
        if self._endpoint_url is None:
            raise RuntimeError("The mock account is not running; call start() first.")
        return self._endpoint_url

    @property
    def admin_credentials(self) -> dict[str, str]:
        """The account root's key: authenticated like any key, never limited by IAM policies.

        The secret is drawn afresh at each start and known only to this object (and so to whoever
        holds it); it stops working when the account stops.
        """
        return {"access_key_id": ROOT_ACCESS_KEY_ID, "secret_access_key": self._secret()}

    def _secret(self) -> str:
        if self._root_secret is None or not self.running:
            raise RuntimeError("The mock account is not running; call start() first.")
        return self._root_secret

    @property
    def lambda_service(self) -> LambdaService:
        if self._service is None:
            raise RuntimeError("The mock account is not running; call start() first.")
        return self._service

    @property
    def registry(self) -> RegistryService:
        """ECR's registry (``docker push``/``pull``), on its own port: ecr/service.py."""
        if self._registry is None:
            raise RuntimeError("The mock account is not running; call start() first.")
        return self._registry

    @property
    def scheduler(self) -> Scheduler:
        if self._scheduler is None:
            raise RuntimeError("The mock account is not running; call start() first.")
        return self._scheduler

    def environment(self) -> dict[str, str]:
        """The variables that point boto3 and the aws CLI at this account."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": ROOT_ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": self._secret(),
            "AWS_DEFAULT_REGION": self.region,
        }

    def session(self) -> boto3.Session:
        """A new admin (root) session on this account."""
        return MockSession(
            self.endpoint_url,
            aws_access_key_id=ROOT_ACCESS_KEY_ID,
            aws_secret_access_key=self._secret(),
            region_name=self.region,
        )

    # -- lifecycle ---------------------------------------------------------------------------------
    def __enter__(self) -> MockAccount:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> boto3.Session:
        """Start the account (idempotent) and return an admin session."""
        global _running
        with _registry_lock, self._lock:
            if self.running:
                return self.session()
            if _running is not None and _running is not self:
                raise RuntimeError(
                    "A mock account is already running in this process at "
                    f"{_running.endpoint_url}; reuse it (helpers.mock.current_mock_account()) or stop it first."
                )
            moto_patches.install()
            BackendDict.reset()
            self._saved_settings = (
                settings.INITIAL_NO_AUTH_ACTION_COUNT,
                ActionAuthenticatorMixin.request_count,
                bool(default_user_config.get("iam", {}).get("load_aws_managed_policies", False)),
            )
            settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")
            default_user_config.setdefault("iam", {})["load_aws_managed_policies"] = True
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
            try:
                self._server = GuardedMotoServer(
                    ip_address="127.0.0.1", port=self._port, verbose=False
                )
                self._server.start()
                host, port = self._server.get_host_and_port()
                self._endpoint_url = f"http://{host}:{port}"
                _sweep_abandoned_work_dirs()
                self._work_dir = tempfile.mkdtemp(prefix=f"{_WORK_PREFIX}{os.getpid()}-")
                self._service = LambdaService(
                    account_id=ACCOUNT_ID,
                    endpoint_url=self._endpoint_url,
                    work_dir=Path(self._work_dir),
                    idle_timeout_s=self.idle_timeout_s,
                    concurrency_limit=self.concurrency_limit,
                    time_scale=self.time_scale,
                    proportional_cpu=self.proportional_cpu,
                    sandbox=self.sandbox,
                )
                self._root_secret = new_root_secret()
                moto_patches.activate(self._service, self._root_secret)
                self._registry = RegistryService(
                    ACCOUNT_ID, self.region, Path(self._work_dir) / "registry"
                )
                self._registry.start()
                ecr_patches.activate(self._registry)
                self.api_stages = ApiStages(self._service, ACCOUNT_ID, self.region)
                if self._server.door is not None:  # public stage URLs (apigateway/wire.py)
                    self._server.door.stage_app = StageWire(self.api_stages)
                iam_backends[ACCOUNT_ID]["aws"]
                self._scheduler = Scheduler(self._service, ACCOUNT_ID, time_scale=self.time_scale)
                self._scheduler.start()
                settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
                ActionAuthenticatorMixin.request_count = 0
            except BaseException:
                self._shutdown()
                raise
            self._export_environment()
            _running = self
            if not self._atexit_registered:
                atexit.register(self.stop)
                self._atexit_registered = True
            return self.session()

    def stop(self) -> None:
        """Stop everything and restore the environment (idempotent)."""
        global _running
        with _registry_lock, self._lock:
            if not self.running:
                return
            self._shutdown()
            self._restore_environment()
            if _running is self:
                _running = None

    def _shutdown(self) -> None:
        if self._scheduler is not None:
            self._scheduler.stop()
            self._scheduler = None
        if self._service is not None:
            self._service.shutdown()
        moto_patches.deactivate()
        ecr_patches.deactivate()
        if self._registry is not None:
            self._registry.stop()
            self._registry = None
        if self._server is not None:
            server = self._server
            self._server = None
            if server._server is not None:
                server.stop()
                server._server.server_close()
        if self._saved_settings is not None:
            count, requests, managed = self._saved_settings
            settings.INITIAL_NO_AUTH_ACTION_COUNT = count
            ActionAuthenticatorMixin.request_count = requests
            default_user_config.setdefault("iam", {})["load_aws_managed_policies"] = managed
            self._saved_settings = None
        BackendDict.reset()
        if self._work_dir is not None:
            shutil.rmtree(self._work_dir, ignore_errors=True)
            self._work_dir = None
        self._service = None
        self.api_stages = None
        self._endpoint_url = None
        self._root_secret = None

    def _export_environment(self) -> None:
        self._saved_env = {key: os.environ.get(key) for key in (*_ENV_SET, *_ENV_REMOVED)}
        os.environ.update(self.environment())
        for key in _ENV_REMOVED:
            os.environ.pop(key, None)

    def _restore_environment(self) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env = {}

    def __repr__(self) -> str:
        where = self._endpoint_url or "stopped"
        return f"MockAccount({where}, region={self.region!r}, time_scale={self.time_scale})"


def current_mock_account() -> MockAccount | None:
    """The mock account running in this process, if any."""
    return _running


def start_mock_account(**kwargs: Any) -> MockAccount:
    """Start the process-wide mock account once and return it (later calls reuse it)."""
    with _registry_lock:
        if _running is not None:
            return _running
        account = MockAccount(**kwargs)
        account.start()
        return account
