"""Fixtures shared by the test modules."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

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
