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


def test_versions_table_holds_only_pinned_packages_and_this_machine_says_the_rest():
    import platform

    from helpers import display

    table = display.versions()
    assert list(table.index) == list(display.PINNED)
    line = display.this_machine("R version 4.9.9")
    assert line.startswith("this machine: R version 4.9.9; Python ")
    assert platform.python_version() in line


def test_the_sanitizer_masks_exactly_the_this_machine_line():
    import configparser
    import re

    from helpers.config import PROJECT_ROOT

    config = configparser.ConfigParser()
    config.read(PROJECT_ROOT / "notebooks" / "sanitize.cfg")
    rules = [(config[s]["regex"], config[s]["replace"]) for s in config.sections()]

    def sanitize(text: str) -> str:
        for pattern, replacement in rules:
            text = re.sub(pattern, replacement, text)
        return text

    here = "this machine: R version 4.2.2; Python 3.11.7; Debian 12\nrpy2 3.6.6\n"
    there = "this machine: R version 4.5.0; Python 3.13.5; Debian 13\nrpy2 3.6.6\n"
    assert sanitize(here) == sanitize(there)
    assert sanitize(here) != sanitize(here.replace("rpy2 3.6.6", "rpy2 3.6.9"))
