"""The account connection: mode, identity, names, and the tools a notebook's ``!`` cells find."""

from __future__ import annotations

import os
import shutil
import sys

import pytest

from helpers import session
from helpers.config import ConfigurationError, Settings


def test_connecting_puts_the_pinned_aws_cli_first_on_path(monkeypatch):
    monkeypatch.setenv("PATH", os.pathsep.join(["/usr/bin", "/bin"]))
    session.use_interpreter_tools()
    scripts = os.path.dirname(sys.executable)
    assert os.environ["PATH"].split(os.pathsep)[0] == scripts
    assert shutil.which("aws") == os.path.join(scripts, "aws")
    session.use_interpreter_tools()  # idempotent: no second copy
    assert os.environ["PATH"].split(os.pathsep).count(scripts) == 1


def test_an_unknown_mode_says_which_values_exist(monkeypatch):
    monkeypatch.setenv("SERIES_MODE", "production")
    with pytest.raises(ConfigurationError, match="SERIES_MODE=mock"):
        Settings.from_environment()


@pytest.mark.parametrize(
    ("operation", "creating"),
    [
        ("CreateBucket", True),
        ("PutObject", True),
        ("AttachRolePolicy", True),
        ("UpdateFunctionConfiguration", True),
        ("GetObject", False),
        ("ListFunctions", False),
        ("DeleteBucket", False),
        ("Invoke", False),
    ],
)
def test_which_calls_need_the_live_opt_in(operation, creating):
    assert session.is_creating(operation) is creating


def test_the_live_hook_lets_reads_through_and_refuses_creation_without_opt_in(monkeypatch):
    monkeypatch.delenv(session.OPT_IN_VARIABLE, raising=False)
    session.refuse_unconfirmed_changes("s3", "GetObject", {"Bucket": "b", "Key": "k"})
    with pytest.raises(session.LiveModeNotConfirmed, match=r"s3:CreateBucket \(Bucket=b\)"):
        session.refuse_unconfirmed_changes("s3", "CreateBucket", {"Bucket": "b"})
    monkeypatch.setenv(session.OPT_IN_VARIABLE, "yes")
    session.refuse_unconfirmed_changes("s3", "CreateBucket", {"Bucket": "b"})
