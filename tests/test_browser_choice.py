"""Which Chromium ``helpers.browser`` drives: the headless shell first, chromium where it is missing.

No browser is started here; the page tests (test_page_in_browser.py) drive the one chosen.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import browser


def _executable(path: Path) -> Path:
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def installed(monkeypatch, tmp_path):
    """Debian's two packages, as files in tmp_path, and an empty PATH."""
    monkeypatch.delenv(browser.CHROMIUM_VARIABLE, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    shell = _executable(tmp_path / "chromium-headless-shell")
    full = _executable(tmp_path / "chromium")
    monkeypatch.setattr(browser, "HEADLESS_SHELL", str(shell))
    monkeypatch.setattr(browser, "DEFAULT_CHROMIUM", str(full))
    return shell, full


def test_the_headless_shell_is_preferred_and_chromium_is_the_fallback(installed):
    shell, full = installed
    assert browser.chromium_path() == str(shell)
    shell.unlink()
    assert browser.chromium_path() == str(full)
    full.unlink()
    with pytest.raises(browser.BrowserMissing, match="apt-get install chromium-headless-shell"):
        browser.chromium_path()


def test_series_chromium_wins_and_is_the_only_place_looked_at(installed, monkeypatch, tmp_path):
    chosen = _executable(tmp_path / "my-chrome")
    monkeypatch.setenv(browser.CHROMIUM_VARIABLE, str(chosen))
    assert browser.chromium_path() == str(chosen)
    chosen.unlink()
    with pytest.raises(browser.BrowserMissing, match=f"No Chromium at {chosen}"):
        browser.chromium_path()


def test_a_file_that_is_not_executable_is_passed_over(installed):
    shell, full = installed
    shell.chmod(0o644)
    assert browser.chromium_path() == str(full)
