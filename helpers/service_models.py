"""botocore's service models, read from disk once per process rather than once per session.

Every ``boto3.Session()`` gets a botocore session with a loader of its own, and the first client of
a service in it parses that service's model, its endpoint rules and ``endpoints.json`` again: a
few hundred kilobytes of JSON, 20-60 ms of CPU per client. A notebook kernel, the mock account
answering it and the test suite make hundreds of sessions (one per identity: the root, a
participant, a role, a function), so the series' sessions share one loader (botocore's
``data_loader`` component), and the mock account's request checks one parsed model per service.

The data a shared loader hands out is the same dicts botocore already shares between the clients
of one session, and read-only to them. An event handler that rewrites service data in place
(``service-data-loaded``) would now reach the other sessions of the process too; the series
registers none.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

import boto3
import botocore.loaders
import botocore.model
import botocore.session

_lock = threading.Lock()
_loader: botocore.loaders.Loader | None = None


def shared_loader() -> botocore.loaders.Loader:
    """The process's one botocore loader (its default search paths, as a new session's)."""
    global _loader
    with _lock:
        if _loader is None:
            _loader = botocore.loaders.create_loader()
        return _loader


def botocore_session() -> botocore.session.Session:
    """A new botocore session (its own credentials, config and events) on the shared loader."""
    session = botocore.session.get_session()
    session.register_component("data_loader", shared_loader())
    return session


def boto3_session(**kwargs: Any) -> boto3.Session:
    """``boto3.Session(**kwargs)`` on the shared loader."""
    return boto3.Session(botocore_session=botocore_session(), **kwargs)


@cache
def service_model(service: str) -> botocore.model.ServiceModel:
    """A service's API model by its name in botocore (``iam``, ``lambda``…), parsed once.

    Raises botocore's ``UnknownServiceError`` for a name botocore does not have."""
    return botocore_session().get_service_model(service)
