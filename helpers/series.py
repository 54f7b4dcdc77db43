"""Run the whole series headless: every notebook in order, each in a fresh kernel.

``python -m helpers.series`` (``make series``) writes an executed copy of each notebook to
``build/executed/`` and an HTML export to ``build/html/``, then prints a summary (notebook,
status, seconds). ``--in-place`` stores the outputs back into ``notebooks/`` instead (``make
notebooks``), which is how the committed outputs that nbval compares against are produced.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from helpers.config import BUILD_DIR, PROJECT_ROOT

NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"


@dataclass
class NotebookRun:
    name: str
    status: str  # "passed" or "failed"
    seconds: float
    error: str = ""


def notebooks(directory: Path = NOTEBOOKS_DIR, only: list[str] | None = None) -> list[Path]:
    """The series' notebooks in teaching order (their file names start with a number)."""
    paths = sorted(directory.glob("[0-9][0-9]_*.ipynb"))
    if only:
        paths = [path for path in paths if any(key in path.name for key in only)]
    return paths


def run_notebook(
    path: Path, in_place: bool = False, timeout: int = 600, store_to: Path | None = None
) -> NotebookRun:
    """Execute one notebook in a fresh kernel (cwd = its folder) and store the result.

    The result goes back into ``path`` (``in_place``), or to ``store_to`` (a folder), or to
    ``build/executed`` with an HTML export in ``build/html``.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        # The kernel listens on 127.0.0.1 only; its warning about unencrypted TCP is noise here.
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )
    started = time.perf_counter()
    status, error = "passed", ""
    try:
        client.execute()
    except CellExecutionError as failure:
        status, error = "failed", _short_error(str(failure))
    except Exception as failure:  # kernel died, timeout: report it and go on with the next one
        status, error = "failed", f"{type(failure).__name__}: {failure}"
    seconds = time.perf_counter() - started
    _store(notebook, path, in_place, store_to)
    return NotebookRun(path.stem, status, seconds, error)


def _store(notebook, path: Path, in_place: bool, store_to: Path | None = None) -> None:
    import nbformat
    from nbconvert import HTMLExporter

    if in_place:
        nbformat.write(notebook, path)
        return
    if store_to is not None:
        store_to.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, store_to / path.name)
        return
    executed = BUILD_DIR / "executed" / path.name
    html = BUILD_DIR / "html" / f"{path.stem}.html"
    executed.parent.mkdir(parents=True, exist_ok=True)
    html.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, executed)
    body, _ = HTMLExporter().from_notebook_node(notebook)
    html.write_text(body, encoding="utf-8")


def _short_error(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "cell failed"


def summary_table(runs: list[NotebookRun]) -> str:
    width = max([len(run.name) for run in runs] + [8])
    lines = [f"{'notebook':<{width}}  {'status':<7} {'seconds':>8}", "-" * (width + 18)]
    for run in runs:
        lines.append(f"{run.name:<{width}}  {run.status:<7} {run.seconds:>8.1f}")
        if run.error:
            lines.append(f"{'':<{width}}    └─ {run.error}")
    total = sum(run.seconds for run in runs)
    passed = sum(run.status == "passed" for run in runs)
    lines.append("-" * (width + 18))
    lines.append(f"{passed} passed, {len(runs) - passed} failed in {total:.1f} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--in-place", action="store_true", help="store outputs in notebooks/")
    parser.add_argument("--only", nargs="*", help="run only notebooks whose name contains these")
    args = parser.parse_args(argv)
    os.environ.setdefault("SERIES_MODE", "mock")
    paths = notebooks(only=args.only)
    if not paths:
        print(f"No notebooks found in {NOTEBOOKS_DIR}", file=sys.stderr)
        return 1
    print(f"Running {len(paths)} notebook(s) in {os.environ['SERIES_MODE']} mode", flush=True)
    runs = []
    for path in paths:
        run = run_notebook(path, in_place=args.in_place)
        print(f"  {run.status:<7} {run.seconds:6.1f} s  {path.name}", flush=True)
        runs.append(run)
    print()
    print(summary_table(runs))
    if not args.in_place:
        print(
            f"\nExecuted notebooks: {BUILD_DIR.relative_to(PROJECT_ROOT)}/executed/, "
            f"HTML: {BUILD_DIR.relative_to(PROJECT_ROOT)}/html/"
        )
    return 0 if all(run.status == "passed" for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
