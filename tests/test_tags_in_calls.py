"""Every resource the notebooks create carries the series' two tags, as their printed calls show.

The tags (``project``, ``owner``) are how cleanup, the sweep and shared live accounts tell whose a
resource is; a resource created without ``owner`` is skipped by notebook 11 as "not yours".
"""

from __future__ import annotations

import re

import nbformat
import pytest

from helpers.config import PROJECT_ROOT

CREATING = re.compile(
    r"^aws (iam create-(role|user|policy) |s3api put-bucket-tagging |lambda create-function "
    r"|events put-rule |ecr create-repository )"
)


def created_by_notebooks() -> list[tuple[str, str]]:
    found = []
    for path in sorted((PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for output in cell.get("outputs", []):
                for line in output.get("data", {}).get("text/plain", "").splitlines():
                    command = line.strip().removeprefix("$ ")
                    if CREATING.match(command):
                        found.append((path.name, command))
    return found


def test_the_notebooks_print_their_creating_calls():
    kinds = {command.split()[2] for _, command in created_by_notebooks()}
    assert {"create-role", "create-policy", "create-function", "put-bucket-tagging"} <= kinds


@pytest.mark.parametrize(
    ("notebook", "command"),
    created_by_notebooks(),
    ids=[f"{n[:2]}-{c.split()[2]}-{i}" for i, (n, c) in enumerate(created_by_notebooks())],
)
def test_each_created_resource_is_tagged_with_project_and_owner(notebook, command):
    assert '"project"' in command and '"owner"' in command, f"{notebook}: {command}"
