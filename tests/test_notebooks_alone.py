"""Each notebook passes alone: a fresh kernel, an empty mock account and an empty build folder.

``make test`` runs every notebook under nbval that way (``_NbvalEnvironment`` in conftest.py):
its kernel starts its own mock account, and its build folder is new and empty, so a notebook
that silently relied on an earlier one's files or state fails its comparison. These tests check
that the isolation holds; ``make nbval`` and ``make series`` run them in order, sharing build/.
"""

from __future__ import annotations

import configparser
import os
import re
from pathlib import Path
from types import SimpleNamespace

from conftest import _NbvalEnvironment

from helpers.config import PROJECT_ROOT
from helpers.series import notebooks


def test_the_series_has_its_eleven_notebooks_in_order():
    names = [path.stem for path in notebooks()]
    assert [name[:2] for name in names] == [f"{n:02d}" for n in range(1, 12)]


def _cell(notebook: str, number: int) -> SimpleNamespace:
    return SimpleNamespace(nodeid=f"notebooks/{notebook}.ipynb::Cell {number}")


def test_each_notebook_gets_an_empty_build_folder_of_its_own_and_mock_mode(monkeypatch):
    monkeypatch.setenv("SERIES_MODE", "live")
    monkeypatch.setenv("SERIES_BUILD_DIR", "/elsewhere")
    plugin = _NbvalEnvironment()
    first, second = _cell("02_model_in_r", 0), _cell("06_packaging", 0)
    seen = []
    for item, nextitem in ((first, second), (second, None)):
        plugin.pytest_runtest_setup(item)
        folder = Path(os.environ["SERIES_BUILD_DIR"])
        assert os.environ["SERIES_MODE"] == "mock"
        assert folder.is_dir() and not any(folder.iterdir())
        assert folder.parent.name == "nbval"
        (folder / "admission.rds").write_text("left behind")
        seen.append(folder)
        plugin.pytest_runtest_teardown(item, nextitem)
        assert os.environ["SERIES_MODE"] == "live"  # restored after each cell
        assert os.environ["SERIES_BUILD_DIR"] == "/elsewhere"
        assert not folder.exists()  # removed after the notebook's last cell
    assert seen[0] != seen[1]


def test_a_notebooks_cells_share_its_folder_until_its_last_cell():
    plugin = _NbvalEnvironment()
    cells = [_cell("07_invoking", 0), _cell("07_invoking", 1)]
    plugin.pytest_runtest_setup(cells[0])
    folder = Path(os.environ["SERIES_BUILD_DIR"])
    plugin.pytest_runtest_teardown(cells[0], cells[1])
    assert folder.is_dir()
    plugin.pytest_runtest_setup(cells[1])
    assert Path(os.environ["SERIES_BUILD_DIR"]) == folder
    plugin.pytest_runtest_teardown(cells[1], None)
    assert not folder.exists()


def test_the_sanitizer_shows_a_private_build_folder_as_build():
    config = configparser.ConfigParser()
    config.read(PROJECT_ROOT / "notebooks" / "sanitize.cfg")
    rule = config["regex_nbval_private_build_folder"]
    shown = "aws s3api put-object --body build/nbval/06_packaging-41873/function.zip"
    assert re.sub(rule["regex"], rule["replace"], shown) == (
        "aws s3api put-object --body build/function.zip"
    )
    assert re.sub(rule["regex"], rule["replace"], "build/function.zip") == "build/function.zip"


def test_every_sanitizer_rule_in_its_order_leaves_a_private_folder_shown_as_build():
    """nbval applies the rules in file order: none may rewrite part of the folder's name first
    (a random name ending in "3s" became "DURATION", and the folder no longer matched)."""
    config = configparser.ConfigParser()
    config.read(PROJECT_ROOT / "notebooks" / "sanitize.cfg")
    plugin = _NbvalEnvironment()
    item = _cell("10_page_and_cors", 0)
    plugin.pytest_runtest_setup(item)
    folder = os.path.relpath(os.environ["SERIES_BUILD_DIR"], PROJECT_ROOT)
    plugin.pytest_runtest_teardown(item, None)
    assert re.fullmatch(r"10_page_and_cors-\d+", Path(folder).name), folder
    shown = f"--body {folder}/admission.rds"
    for section in config.sections():
        shown = re.sub(config[section]["regex"], config[section]["replace"], shown)
    assert shown == "--body build/admission.rds"


def test_every_sanitizer_rule_in_its_order_shows_an_api_gateway_id_ending_in_a_duration_as_its_id():
    """A random API Gateway id ending in a digit and "s" ("lg3uz51o4s") was read as a duration
    ("lg3uz51oDURATION") before the id rules ran, so notebook 10's comparison failed now and then.
    """
    config = configparser.ConfigParser()
    config.read(PROJECT_ROOT / "notebooks" / "sanitize.cfg")
    shown_as = {
        "resourceId=lg3uz51o4s, httpMethod=GET": "resourceId=APIGW_ID, httpMethod=GET",
        "--rest-api-id q8w2e4r1ms --http-method GET": "--rest-api-id APIGW_ID --http-method GET",
        "http://127.0.0.1:5000/restapis/abcdefgh9s/prod": "http://127.0.0.1:PORT/restapis/API_ID/prod",
        '{"apiId":"abcdefg12s"}': '{"apiId":"API_ID"}',
        "a word ending in 7s, like abc7s, is no duration": "a word ending in DURATION, like abc7s, is no duration",
        "answered in 12 ms (3.5 s in all)": "answered in DURATION (DURATION in all)",
    }
    for text, expected in shown_as.items():
        shown = text
        for section in config.sections():
            shown = re.sub(config[section]["regex"], config[section]["replace"], shown)
        assert shown == expected, text
