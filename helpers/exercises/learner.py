"""Learner copies: the notebooks with each solution replaced by a note and outputs cleared."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from helpers.exercises.core import REMOVED_SOLUTION, SOLUTION_TAG

# --------------------------------------------------------------------------- learner copies


def learner_copy(notebook: Any) -> Any:
    """A copy of a notebook for learners: each solution cell replaced by a note, outputs cleared."""
    import copy

    import nbformat

    copied = copy.deepcopy(notebook)
    cells = []
    for cell in copied.cells:
        if SOLUTION_TAG in cell.get("metadata", {}).get("tags", []):
            note = nbformat.v4.new_markdown_cell(REMOVED_SOLUTION)
            note.id = f"{cell.get('id', 'cell')}-removed"[:64]
            cells.append(note)
            continue
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cells.append(cell)
    copied.cells = cells
    return copied


def write_learner_copies(target: Path, only: list[str] | None = None) -> list[Path]:
    """Learner copies of the series' notebooks in ``target``; returns their paths."""
    import nbformat

    from helpers.series import notebooks

    target.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks(only=only):
        copy = learner_copy(nbformat.read(path, as_version=4))
        destination = target / path.name
        nbformat.write(copy, destination)
        written.append(destination)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write learner copies of the notebooks.")
    parser.add_argument(
        "--learner", type=Path, required=True, help="folder for the copies, e.g. build/learner"
    )
    parser.add_argument("--only", nargs="*", help="only notebooks whose name contains these")
    args = parser.parse_args(argv)
    written = write_learner_copies(args.learner, args.only)
    if not written:
        print("No notebooks found.", file=sys.stderr)
        return 1
    for path in written:
        print(f"  {path}")
    print(f"{len(written)} learner copies (solutions removed, outputs cleared) in {args.learner}")
    return 0
