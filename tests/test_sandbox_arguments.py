"""The sandbox's bubblewrap arguments (no bubblewrap needed): what is hidden, exposed, writable."""

from __future__ import annotations

import sys
from pathlib import Path

from helpers.mock.awslambda import sandbox


def _pairs(arguments: list[str], flag: str) -> list[str]:
    return [arguments[i + 1] for i, word in enumerate(arguments) if word == flag]


def test_exposed_folders_under_a_hidden_one_are_reachable_by_another_uid(monkeypatch):
    # e.g. a checkout in /tmp: its .venv sits under the hidden /tmp
    monkeypatch.setattr(sys, "prefix", "/tmp/checkout/.venv")
    monkeypatch.setattr(sandbox.Path, "exists", lambda self: True)
    work = Path("/tmp/mock-aws-1-x")
    arguments = sandbox.wrap(
        ["python", "-m", "awslambdaric", "handler.lambda_handler"],
        environment_dir=work / "environments" / "e1",
        task_root=work / "code" / "abc",
        work_dir=work,
    )
    hidden = _pairs(arguments, "--tmpfs")
    assert "/tmp" in hidden and str(work) in hidden
    made = _pairs(arguments, "--dir")
    for target in ("/tmp/checkout/.venv", f"{work}/environments/e1", f"{work}/code/abc"):
        for parent in Path(target).parents:
            if str(parent) not in ("/", "/tmp", str(work)):
                assert str(parent) in made, parent  # created 0755, not bubblewrap's 0700
    assert all(
        arguments[i - 2 : i] == ["--perms", "0755"] for i, w in enumerate(arguments) if w == "--dir"
    )
    assert "/tmp/checkout/.venv" in _pairs(arguments, "--ro-bind")
    assert _pairs(arguments, "--bind") == [f"{work}/environments/e1"]  # the only writable place
    assert arguments[-4:] == ["python", "-m", "awslambdaric", "handler.lambda_handler"]
