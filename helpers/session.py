"""The account connection: one boto3 session, whether the account is the mock or a live one.

Notebooks call :func:`connect` and never build clients themselves, so the same cells run in
both modes. In mock mode the kernel attaches to the account of its ``make lab`` session, if one
is advertised (``helpers.lab``), or else starts an embedded account of its own that lives as long
as the kernel; in live mode the standard AWS configuration (profile, region, credentials) is used.
Every session records its API calls, and a notebook shows them under each cell (``helpers.calls``).

Live mode is safe by construction: every client of a live session carries a hook that refuses
any creating or changing API call (``Create*``, ``Put*``, ``Attach*``, ``Update*`` …) until the
learner opts in with ``SERIES_LIVE_CREATE=yes``. Reading and deleting are always allowed, so the
first notebook can show who you are and the cleanup notebook can always clean up.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from helpers import calls
from helpers.config import Names, Settings, names_for
from helpers.service_models import boto3_session

OPT_IN_VARIABLE = "SERIES_LIVE_CREATE"
"""Live mode creates nothing unless this is set to ``yes``."""
TIME_SCALE_VARIABLE = "SERIES_MOCK_TIME_SCALE"
DEFAULT_TIME_SCALE = 300.0
"""Mock mode's clock for schedules: 300 times real time, so ``rate(5 minutes)`` fires every second."""

CREATING_PREFIXES = (
    "Create",
    "Put",
    "Attach",
    "Add",
    "Upload",
    "Update",
    "Tag",
    "Publish",
    "Copy",
    "CompleteMultipartUpload",
    "Enable",
    "Set",
    "Associate",
    "Register",
)
"""API operations that create or change something (deletes are not among them, on purpose)."""


class LiveModeNotConfirmed(RuntimeError):
    """Live mode would create or change a resource, and the learner has not opted in."""


def is_creating(operation: str) -> bool:
    return operation.startswith(CREATING_PREFIXES)


def _named_parameters(params: dict[str, Any]) -> str:
    shown = {
        key: value
        for key, value in params.items()
        if isinstance(value, str)
        and (key.endswith(("Name", "Bucket", "Key", "Id")) or key == "Rule")
    }
    return ", ".join(f"{key}={value}" for key, value in shown.items())


def install_hook(session: boto3.Session, hook: Callable[..., Any]) -> None:
    """Call ``hook(service, operation, params)`` before every API call made through ``session``."""

    def before_call(model: Any, params: dict[str, Any], **_: Any) -> None:
        hook(model.service_model.service_name, model.name, params)

    session.events.register("before-parameter-build", before_call)


@dataclass
class Account:
    """A connected account: its session, identity and the names the series uses in it."""

    settings: Settings
    session: boto3.Session
    account_id: str
    caller_arn: str
    names: Names
    mock: Any = None  # helpers.mock.MockAccount in mock mode
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def mode(self) -> str:
        return self.settings.mode

    @property
    def region(self) -> str:
        return self.settings.region

    def client(self, service: str) -> Any:
        """A boto3 client of this account's session (cached per service)."""
        if service not in self._clients:
            self._clients[service] = self.session.client(service, region_name=self.region)
        return self._clients[service]

    @property
    def tags(self) -> dict[str, str]:
        """Tags on every taggable resource: which project made it and for whom."""
        owner = self.settings.prefix or self.caller_arn.rsplit("/", 1)[-1]
        return {"project": "serverless-poc", "owner": owner}


def tags_for(account: Account) -> dict[str, str]:
    """The account's tags (``Account.tags``), for callers that take a function."""
    return account.tags


def only_detaches_stages(service: str, operation: str, params: dict[str, Any]) -> bool:
    """Is this call the one change a cleanup needs: detaching a usage plan from its stages?

    AWS refuses to delete a usage plan that still names a stage, so deleting one is
    ``UpdateUsagePlan`` (remove ``/apiStages``) then ``DeleteUsagePlan``. Any other change to a
    plan (its limits, adding a stage) is a change like any other."""
    operations = params.get("patchOperations") or []
    return (
        (service, operation) == ("apigateway", "UpdateUsagePlan")
        and bool(operations)
        and all(op.get("op") == "remove" and op.get("path") == "/apiStages" for op in operations)
    )


def refuse_unconfirmed_changes(service: str, operation: str, params: dict[str, Any]) -> None:
    """The live-mode hook: refuse creating calls unless ``SERIES_LIVE_CREATE=yes``.

    Cleanup (notebook 11, the sweep) runs without the opt-in; the one change it makes on the way
    to a delete, detaching a usage plan from its stages, is let through."""
    if not is_creating(operation) or os.environ.get(OPT_IN_VARIABLE, "").lower() == "yes":
        return
    if only_detaches_stages(service, operation, params):
        return
    target = _named_parameters(params)
    raise LiveModeNotConfirmed(
        f"Live mode would now call {service}:{operation}"
        f"{f' ({target})' if target else ''} in your AWS account. Nothing was created. "
        f"To let the series create its resources, set {OPT_IN_VARIABLE}=yes before starting "
        "Jupyter (see notebook 1 for the list and the cost); notebook 11 deletes them again."
    )


def live_session(region: str) -> boto3.Session:
    """A session from the standard AWS configuration, with the opt-in hook installed."""
    session = boto3_session(region_name=region)
    if session.get_credentials() is None:
        raise RuntimeError(
            "Live mode found no AWS credentials. Configure them the standard way "
            "(`aws configure`, AWS_PROFILE, or environment variables), or run with "
            "SERIES_MODE=mock to use the embedded account."
        )
    install_hook(session, refuse_unconfirmed_changes)
    return session


_current: Account | None = None


def use_interpreter_tools() -> None:
    """Put this interpreter's scripts folder first on PATH (the .venv's ``bin``).

    A notebook's ``!aws …`` then runs the AWS CLI pinned with the series, even when Jupyter was
    started without activating the virtual environment (``make lab`` does not activate it).
    """
    scripts = os.path.dirname(sys.executable)
    parts = [part for part in os.environ.get("PATH", "").split(os.pathsep) if part]
    if parts[:1] != [scripts]:
        os.environ["PATH"] = os.pathsep.join(
            [scripts, *(part for part in parts if part != scripts)]
        )


def connect(settings: Settings | None = None) -> Account:
    """The account for the current mode, connected once per process (kernel)."""
    global _current
    settings = settings or Settings.from_environment()
    if _current is not None and _current.settings == settings:
        return _current
    use_interpreter_tools()
    if settings.is_mock:
        from helpers.lab import lab_account_session
        from helpers.mock import start_mock_account

        mock = None
        session = lab_account_session(settings.region)  # `make lab`: the session's one account
        if session is None:  # otherwise this kernel's own, started empty
            time_scale = float(os.environ.get(TIME_SCALE_VARIABLE) or DEFAULT_TIME_SCALE)
            mock = start_mock_account(region=settings.region, time_scale=time_scale)
            session = mock.session()
    else:
        mock = None
        session = live_session(settings.region)
    if calls.switched_on():
        calls.record_calls(session)
        calls.show_after_each_cell()
    identity = session.client("sts", region_name=settings.region).get_caller_identity()
    account_id = identity["Account"]
    names = names_for(settings.mode, settings.prefix, account_id if not settings.is_mock else "")
    _current = Account(settings, session, account_id, identity["Arn"], names, mock)
    return _current


def derived_session(**kwargs: Any) -> boto3.Session:
    """A boto3 session for other credentials (a learner's key, an assumed role) in this account.

    Its calls are recorded and shown like the account's own, and in mock mode it reaches the
    mock account the same way (``AWS_ENDPOINT_URL``).
    """
    session = boto3_session(**kwargs)
    if calls.switched_on():
        calls.record_calls(session)
    return session


def current() -> Account | None:
    """The connected account, if any."""
    return _current


def disconnect() -> None:
    """Forget the connected account (the mock account itself keeps running until stopped)."""
    global _current
    _current = None
