"""The zip-size estimate and its cache: the same numbers from the cache as from measuring, files
that changed measured again, and a damaged cache file ignored and replaced."""

from __future__ import annotations

import json
import os
import random
import zipfile
from pathlib import Path

import pytest

from helpers import zip_estimate


@pytest.fixture
def files(tmp_path) -> list[Path]:
    """Four files, the largest above SAMPLE_ABOVE (sampled when asked): text with some noise."""
    noise = random.Random(7).randbytes(4_096)
    made = []
    for index, size in enumerate((10, 5_000, 300_000, 3 * zip_estimate.MIB)):
        path = tmp_path / "files" / f"f{index}.bin"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(((b"rpy2 glm lambda admit " * 200 + noise) * (size // 8_000 + 1))[:size])
        made.append(path)
    return made


@pytest.fixture
def compressions(monkeypatch) -> list[int]:
    """How many times zlib.compress runs (one per file, or per block when sampling)."""
    calls: list[int] = []
    real = zip_estimate.zlib.compress

    def counting(data, *args):
        calls.append(len(data))
        return real(data, *args)

    monkeypatch.setattr(zip_estimate.zlib, "compress", counting)
    return calls


@pytest.mark.parametrize("sample", [False, True])
def test_the_cache_gives_the_numbers_measuring_gives_and_compresses_nothing(
    files, compressions, tmp_path, sample
):
    cache = tmp_path / "cache" / "sizes.json"
    measured = zip_estimate.zip_estimate(files, sample, cache_file=None)
    assert compressions
    first = zip_estimate.zip_estimate(files, sample, cache_file=cache)
    compressions.clear()
    again = zip_estimate.zip_estimate(files, sample, cache_file=cache)
    assert measured == first == again
    assert compressions == []
    assert json.loads(cache.read_text())["version"] == zip_estimate.CACHE_VERSION


def test_the_estimate_is_close_to_a_real_zip(files, tmp_path):
    estimated, compressed = zip_estimate.zip_estimate(files, False, cache_file=None)
    assert compressed == sum(path.stat().st_size for path in files)
    archive = tmp_path / "real.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as real:
        for path in files:
            real.write(path, str(path))
    assert abs(estimated - archive.stat().st_size) < 0.01 * archive.stat().st_size


def test_a_changed_file_is_measured_again(files, compressions, tmp_path):
    cache = tmp_path / "sizes.json"
    before = zip_estimate.zip_estimate(files, False, cache_file=cache)
    files[1].write_bytes(os.urandom(5_000))  # same size, new bytes, new modification time
    os.utime(files[1], ns=(1, 1))
    compressions.clear()
    after = zip_estimate.zip_estimate(files, False, cache_file=cache)
    assert compressions == [5_000]
    assert after[0] > before[0]  # random bytes do not deflate
    assert after == zip_estimate.zip_estimate(files, False, cache_file=None)


@pytest.mark.parametrize("damage", ["{not json", '{"version": 99, "sizes": {}}', '["a list"]', ""])
def test_a_damaged_cache_is_ignored_and_replaced(files, compressions, tmp_path, damage):
    cache = tmp_path / "sizes.json"
    cache.write_text(damage)
    assert zip_estimate.zip_estimate(files, False, cache_file=cache) == zip_estimate.zip_estimate(
        files, False, cache_file=None
    )
    assert json.loads(cache.read_text())["version"] == zip_estimate.CACHE_VERSION


def test_an_unwritable_cache_measures_and_does_not_fail(files, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache's folder would be")
    cache = blocker / "sizes.json"
    assert zip_estimate.zip_estimate(files, False, cache_file=cache) == zip_estimate.zip_estimate(
        files, False, cache_file=None
    )
    assert not cache.exists()
