"""Every notebook has the parts a lesson of this kind promises (tutorial-style: Pythia cookbooks,
Carpentries lessons, AWS workshops): up front an overview, objectives, prerequisites, the time,
the cost and the mode; at the end what changed since 2017, a summary and what comes next."""

from __future__ import annotations

import json

import pytest

from helpers.series import notebooks

UP_FRONT = (
    "## Overview",
    "## Objectives",
    "## Prerequisites",
    "**Time to learn**",
    "**Cost**",
    "**Mode**",
)
AT_THE_END = ("## What changed since 2017", "## Summary", "## What's next")


def _markdown(path) -> list[str]:
    cells = json.loads(path.read_text())["cells"]
    return ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown"]


@pytest.mark.parametrize("path", notebooks(), ids=lambda path: path.stem)
def test_a_notebook_opens_with_overview_objectives_prerequisites_time_cost_and_mode(path):
    first = _markdown(path)[0]
    missing = [part for part in UP_FRONT if part not in first]
    assert not missing, f"{path.name}: its first cell lacks {missing}"
    positions = [first.index(part) for part in UP_FRONT[:3]]
    assert positions == sorted(positions), (
        f"{path.name}: overview, objectives, prerequisites, in that order"
    )


@pytest.mark.parametrize("path", notebooks(), ids=lambda path: path.stem)
def test_a_notebook_ends_with_what_changed_a_summary_and_what_is_next(path):
    text = "\n".join(_markdown(path))
    missing = [part for part in AT_THE_END if part not in text]
    assert not missing, f"{path.name}: lacks {missing}"
