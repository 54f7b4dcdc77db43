"""The account connection: one boto3 session, whether the account is the mock or a live one.

Notebooks call :func:`connect` and never build clients themselves, so the same cells run in
both modes. In mock mode the first call starts the embedded account (it lives as long as the
kernel); in live mode the standard AWS configuration (profile, region, credentials) is used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import boto3

from helpers.config import Names, Settings, names_for

OPT_IN_VARIABLE = "SERIES_LIVE_CREATE"
"""Live mode creates nothing unless this is set to ``yes``."""
TIME_SCALE_VARIABLE = "SERIES_MOCK_TIME_SCALE"
DEFAULT_TIME_SCALE = 300.0
"""Mock mode's clock for schedules: 300 times real time, so ``rate(5 minutes)`` fires every second."""


class LiveModeNotConfirmed(RuntimeError):
    """Live mode would create a resource, and the learner has not opted in."""


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

    def require_create_permission(self, what: str) -> None:
        """Refuse to create ``what`` in a live account unless the learner opted in."""
        if self.settings.is_mock:
            return
        if os.environ.get(OPT_IN_VARIABLE, "").lower() != "yes":
            raise LiveModeNotConfirmed(
                f"Live mode would now create {what} in AWS account {self.account_id} "
                f"({self.region}). Nothing was created. To allow the series to create resources, "
                f"restart the kernel with {OPT_IN_VARIABLE}=yes set; the cleanup notebook removes "
                "them again."
            )


_current: Account | None = None


def connect(settings: Settings | None = None) -> Account:
    """The account for the current mode, connected once per process (kernel)."""
    global _current
    settings = settings or Settings.from_environment()
    if _current is not None and _current.settings == settings:
        return _current
    if settings.is_mock:
        from helpers.mock import start_mock_account

        time_scale = float(os.environ.get(TIME_SCALE_VARIABLE) or DEFAULT_TIME_SCALE)
        mock = start_mock_account(region=settings.region, time_scale=time_scale)
        session = mock.session()
    else:
        mock = None
        session = boto3.Session(region_name=settings.region)
        if session.get_credentials() is None:
            raise RuntimeError(
                "Live mode found no AWS credentials. Configure them the standard way "
                "(`aws configure`, AWS_PROFILE, or environment variables), or run with "
                "SERIES_MODE=mock to use the embedded account."
            )
    identity = session.client("sts", region_name=settings.region).get_caller_identity()
    account_id = identity["Account"]
    names = names_for(settings.mode, settings.prefix, account_id if not settings.is_mock else "")
    _current = Account(settings, session, account_id, identity["Arn"], names, mock)
    return _current


def current() -> Account | None:
    """The connected account, if any."""
    return _current
