"""Each notebook passes alone: a fresh kernel, an empty mock account and an empty build folder.

nbval (``make nbval``) runs the notebooks in order, each in its own kernel, sharing ``build/``.
Here each runs in reverse order with a build folder of its own, so a notebook that silently
relied on an earlier one's files or state would fail.
"""

from __future__ import annotations

import pytest

from helpers.series import notebooks, run_notebook

NOTEBOOKS = list(reversed(notebooks()))


def test_the_series_has_its_eleven_notebooks_in_order():
    names = [path.stem for path in notebooks()]
    assert [name[:2] for name in names] == [f"{n:02d}" for n in range(1, 12)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_passes_alone_in_a_fresh_kernel(path, tmp_path, monkeypatch):
    monkeypatch.setenv("SERIES_MODE", "mock")
    monkeypatch.setenv("SERIES_BUILD_DIR", str(tmp_path / "build"))
    result = run_notebook(path, store_to=tmp_path / "executed")
    assert result.status == "passed", f"{path.name}: {result.error}"
