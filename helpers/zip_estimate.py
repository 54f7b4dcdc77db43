"""How big a zip of some files would be, without writing it: each file deflated as a zip would.

``packaging.r_footprint`` weighs a 2017-style zip of R, its libraries and rpy2 (about 77 MB, 570
files) this way. Deflating them takes about 3 s of CPU, and the files are the installed R's and
rpy2's, which do not change between runs, so each file's result is kept in
``build/cache/deflated-sizes.json`` under its path, size, modification time and inode, and
measured again only when one of those changes. The cache sits in the checkout's own ``build/``
(not ``SERIES_BUILD_DIR``), so that every kernel and test of a checkout shares it.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import zlib
from collections.abc import Sequence
from pathlib import Path

from helpers.config import PROJECT_ROOT

MIB = 1024 * 1024
# Files up to SAMPLE_ABOVE are compressed whole; with sampling, larger ones from evenly spaced
# blocks (deterministic), which keeps an estimate fast on a slow machine.
ESTIMATE_LEVEL = 6
SAMPLE_ABOVE = 2 * MIB
SAMPLE_BLOCKS = 8
SAMPLE_BLOCK_SIZE = 256 * 1024
# Bytes a zip adds per entry besides the name twice: local header (30) + central directory (46).
ZIP_ENTRY_OVERHEAD = 76
CACHE_FILE = PROJECT_ROOT / "build" / "cache" / "deflated-sizes.json"
CACHE_VERSION = 1


def compressed_size(path: Path, sample: bool) -> tuple[int, int]:
    """(estimated deflated size, bytes actually compressed) of one file at ESTIMATE_LEVEL."""
    size = path.stat().st_size
    if not sample or size <= SAMPLE_ABOVE:
        return len(zlib.compress(path.read_bytes(), ESTIMATE_LEVEL)), size
    compressed = 0
    step = (size - SAMPLE_BLOCK_SIZE) // (SAMPLE_BLOCKS - 1)
    with path.open("rb") as stream:
        for block in range(SAMPLE_BLOCKS):
            stream.seek(block * step)
            compressed += len(zlib.compress(stream.read(SAMPLE_BLOCK_SIZE), ESTIMATE_LEVEL))
    sampled = SAMPLE_BLOCKS * SAMPLE_BLOCK_SIZE
    return round(compressed * size / sampled), sampled


def _key(path: Path, sample: bool) -> str:
    facts = path.stat()
    method = "sampled" if sample and facts.st_size > SAMPLE_ABOVE else "whole"
    return f"{path}|{facts.st_size}|{facts.st_mtime_ns}|{facts.st_ino}|{ESTIMATE_LEVEL}|{method}"


def _load(cache_file: Path) -> dict[str, list[int]]:
    try:
        stored = json.loads(cache_file.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(stored, dict) or stored.get("version") != CACHE_VERSION:
        return {}
    sizes = stored.get("sizes")
    return sizes if isinstance(sizes, dict) else {}


def _save(cache_file: Path, sizes: dict[str, list[int]]) -> None:
    """Write the whole map at once (a concurrent reader sees the old file or the new one)."""
    with contextlib.suppress(OSError):  # a read-only checkout measures again next time
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=cache_file.parent, suffix=".tmp")
        try:
            with os.fdopen(handle, "w") as stream:
                json.dump({"version": CACHE_VERSION, "sizes": sizes}, stream)
            os.replace(temporary, cache_file)
        finally:
            Path(temporary).unlink(missing_ok=True)


def zip_estimate(
    files: Sequence[Path], sample: bool, cache_file: Path | None = CACHE_FILE
) -> tuple[int, int]:
    """Estimated zip size of files (deflate plus per-entry headers) and the bytes it rests on
    (all of them, or the sampled blocks of the large files).

    Files measured before and unchanged since are read from ``cache_file`` (None: no cache).
    """
    known = _load(cache_file) if cache_file is not None else {}
    total = compressed_bytes = 0
    measured = 0
    for path in files:
        key = _key(path, sample)
        if key not in known:
            known[key] = list(compressed_size(path, sample))
            measured += 1
        deflated, compressed = known[key]
        total += deflated + ZIP_ENTRY_OVERHEAD + 2 * len(str(path))
        compressed_bytes += compressed
    if cache_file is not None and measured:
        _save(cache_file, known)
    return total, compressed_bytes
