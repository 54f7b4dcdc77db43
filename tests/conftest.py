"""Fixtures shared by the test modules (the mock AWS account's are all named mock_*)."""

from __future__ import annotations

import io
import itertools
import json
import os
import tempfile
import textwrap
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest

if TYPE_CHECKING:
    from helpers.mock import MockAccount

os.environ.setdefault("RPY2_CFFI_MODE", "ABI")


@pytest.fixture(scope="session")
def admission_model():
    """The admission model, fitted once per test session."""
    from helpers import r_model

    return r_model.train()


@pytest.fixture(scope="session")
def model_file(admission_model, tmp_path_factory) -> Path:
    """``admission.rds`` written once per test session."""
    return admission_model.save(tmp_path_factory.mktemp("model") / "admission.rds")


@pytest.fixture
def aws_test_credentials(monkeypatch):
    """Fake credentials and no endpoint override, so in-process moto never reaches a real account."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def restore_tempdir():
    saved = tempfile.tempdir
    yield
    tempfile.tempdir = saved


MOCK_LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
MOCK_BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"

_names = itertools.count(1)


def _zip(files: dict[str, str | bytes]) -> bytes:
    """A deployment package from {path: source}; sources are dedented."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in files.items():
            archive.writestr(
                path, textwrap.dedent(content) if isinstance(content, str) else content
            )
    return buffer.getvalue()


@pytest.fixture(scope="session")
def mock_zip() -> Callable[[dict[str, str | bytes]], bytes]:
    """Build a deployment package: mock_zip({"handler.py": source}) -> zip bytes."""
    return _zip


@pytest.fixture(scope="module")
def mock_account(request) -> Iterator[MockAccount]:
    """A running mock account per test module (schedules run 60x faster).

    Module scope, not session: moto's settings and backends are process-wide, and other test
    modules use in-process ``mock_aws`` with their own IAM settings. A module whose handlers must
    reach this machine's files (gates and logs in tmp_path) sets ``MOCK_SANDBOX = False``.
    """
    from helpers.mock import MockAccount

    account = MockAccount(time_scale=60, sandbox=getattr(request.module, "MOCK_SANDBOX", True))
    account.start()
    try:
        yield account
    finally:
        account.stop()


@pytest.fixture
def mock_session(mock_account: MockAccount) -> boto3.Session:
    return mock_account.session()


@pytest.fixture
def mock_name() -> Callable[[str], str]:
    """Unique resource names, so tests sharing the session account do not collide."""
    return lambda prefix: f"{prefix}{next(_names)}"


@pytest.fixture
def mock_role(mock_session: boto3.Session, mock_name: Callable[[str], str]) -> Callable[..., str]:
    """Create an execution role: make(policies=[...], inline={...}, trust=...) -> role ARN."""
    iam = mock_session.client("iam")

    def make(
        policies: tuple[str, ...] = (MOCK_BASIC_EXECUTION,),
        inline: dict[str, Any] | None = None,
        trust: dict[str, Any] | None = None,
    ) -> str:
        name = mock_name("role")
        arn = iam.create_role(
            RoleName=name, AssumeRolePolicyDocument=json.dumps(trust or MOCK_LAMBDA_TRUST)
        )["Role"]["Arn"]
        for policy in policies:
            iam.attach_role_policy(RoleName=name, PolicyArn=policy)
        if inline:
            iam.put_role_policy(
                RoleName=name, PolicyName="inline", PolicyDocument=json.dumps(inline)
            )
        return arn

    return make


@pytest.fixture
def mock_function(
    mock_session: boto3.Session, mock_role: Callable[..., str], mock_name: Callable[[str], str]
) -> Callable[..., str]:
    """Create a function from handler source: make(source, **create_function_kwargs) -> name."""
    client = mock_session.client("lambda")

    def make(
        source: str | None = None,
        *,
        files: dict[str, str | bytes] | None = None,
        role: str | None = None,
        **kwargs: Any,
    ) -> str:
        name = mock_name("fn")
        package = _zip(files if files is not None else {"handler.py": source or ""})
        client.create_function(
            FunctionName=name,
            Runtime=kwargs.pop("Runtime", "python3.12"),
            Role=role or mock_role(),
            Handler=kwargs.pop("Handler", "handler.lambda_handler"),
            Code={"ZipFile": package},
            **kwargs,
        )
        return name

    return make


LIVE_PREFIX = "alice"


@pytest.fixture
def live(mock_account, monkeypatch):
    """A live-mode Account whose 'AWS' is the mock endpoint; cleans up whatever it made."""
    from helpers import cleanup, registry, session

    monkeypatch.setenv("SERIES_MODE", "live")
    monkeypatch.setenv("SERIES_PREFIX", LIVE_PREFIX)
    monkeypatch.delenv("SERIES_LIVE_CREATE", raising=False)
    monkeypatch.delenv("SERIES_IMAGE_URI", raising=False)
    monkeypatch.setattr(registry, "engine_problem", lambda: "there is no Docker engine (test).")
    session.disconnect()
    account = session.connect()
    yield account
    monkeypatch.setenv("SERIES_LIVE_CREATE", "yes")
    cleanup.delete_everything(account)
    session.disconnect()
