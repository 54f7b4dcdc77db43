"""The deployment package: a reproducible zip, its size against Lambda's limits, and why R needs an image.

The 2017 series zipped R, its shared libraries, 8 base packages, rpy2 and the handler into one
~27 MB file. Today a Debian-built R needs a newer glibc than Amazon Linux 2023 offers, so R and rpy2
come from a container image (``lambda_package/Dockerfile``) and the zip holds only our own code.
The functions here measure both worlds on the local machine, so the notebooks show numbers, not claims.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import tempfile
import time
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from helpers.config import BUILD_DIR, LAMBDA_PACKAGE_DIR
from helpers.zip_estimate import (
    CACHE_FILE,
    ESTIMATE_LEVEL,
    SAMPLE_ABOVE,
    SAMPLE_BLOCK_SIZE,
    SAMPLE_BLOCKS,
    zip_estimate,
)

# Lambda's size limits (aws-facts.md, "Lambda limits"). AWS's "MB" here is 2**20 bytes: the
# unzipped-size error message quotes 262144000 bytes for "250 MB".
MIB = 1024 * 1024
LIMITS: dict[str, int] = {
    "zip_direct_upload": 50 * MIB,  # 52,428,800 bytes zipped, uploaded directly (larger via S3)
    "unzipped": 250 * MIB,  # 262,144,000 bytes: code + layers, unzipped
    "container_image": 10 * 1024 * MIB,  # 10,737,418,240 bytes (images since Dec 2020)
}

# Fixed zip settings: the same input files always give the same bytes.
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip header can hold
ZIP_PERMISSIONS = 0o644
ZIP_COMPRESSION = zipfile.ZIP_DEFLATED
ZIP_COMPRESSLEVEL = 9

# The 8 base packages the 2017 zip kept (original-series.md, Part I).
BASE_PACKAGES_2017 = (
    "stats",
    "graphics",
    "grDevices",
    "utils",
    "datasets",
    "methods",
    "base",
    "tools",
)
# rpy2 and what it pulls in at run time (markupsafe is jinja2's own dependency).
RPY2_DISTRIBUTIONS = ("rpy2", "rpy2-rinterface", "rpy2-robjects")
RPY2_DEPENDENCIES = ("cffi", "pycparser", "jinja2", "markupsafe", "tzlocal")
# glibc itself always comes from the runtime; shipping it in a zip is not possible.
GLIBC_LIBRARIES = (
    *("linux-vdso", "ld-linux", "libc.so", "libm.so"),
    *("libdl.so", "libpthread.so", "librt.so", "libresolv.so"),
)
AL2023_GLIBC = "2.34"  # Amazon Linux 2023, the OS of python3.12+ and provided.al2023 (aws-facts.md)
DEFAULT_R_HOME = Path("/usr/lib/R")


class PackagingError(RuntimeError):
    """Building or measuring a package failed; the message says what to do."""


# --- the function zip -----------------------------------------------------------------------------


def build_function_zip(
    output: Path = BUILD_DIR / "function.zip",
    source_dir: Path = LAMBDA_PACKAGE_DIR,
    files: Sequence[str] = ("handler.py",),
) -> Path:
    """Zip the handler reproducibly: the same sources give the same bytes (and sha256) on every build.

    The zip holds only what Lambda needs beside R and rpy2, which come from the runtime image
    (``lambda_package/Dockerfile``); a Debian R cannot ride in a zip on today's runtimes
    (see ``glibc_report``). Entries are sorted, stamped 1980-01-01 00:00:00 with permissions 0644,
    deflated at level 9, with no directory entries or extra fields; the file appears atomically, so
    a reader never sees half a zip. (Identical bytes assume the same zlib; zlib-ng may differ.)
    """
    source_dir = Path(source_dir)
    output = Path(output)
    if not files:
        raise PackagingError(
            "build_function_zip got no files to package; pass e.g. files=('handler.py',)."
        )
    names = sorted({_archive_name(name) for name in files})
    if len(names) != len(files):
        raise PackagingError(
            f"build_function_zip got the same file twice in {list(files)}; list each file once."
        )
    missing = [name for name in names if not (source_dir / name).is_file()]
    if missing:
        raise PackagingError(
            f"cannot package {missing}: not found (or not a file) in {source_dir}. "
            "Check source_dir and the names in files; they are relative to source_dir."
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
    try:
        with os.fdopen(handle, "wb") as stream, zipfile.ZipFile(stream, "w") as archive:
            for name in names:
                info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
                info.create_system = 3  # Unix, whatever OS builds it, so the bytes match
                info.external_attr = (stat.S_IFREG | ZIP_PERMISSIONS) << 16
                info.compress_type = ZIP_COMPRESSION
                archive.writestr(
                    info,
                    (source_dir / name).read_bytes(),
                    compress_type=ZIP_COMPRESSION,
                    compresslevel=ZIP_COMPRESSLEVEL,
                )
        os.chmod(temporary, 0o644)
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return output


def _archive_name(name: str) -> str:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or not path.parts or str(path) == ".":
        raise PackagingError(
            f"{name!r} cannot be a zip entry: names must be relative paths inside source_dir "
            "(no leading '/', no '..')."
        )
    return str(path)


def zip_report(path: Path) -> dict[str, Any]:
    """Sizes and checksum of a zip, to compare two builds and to check it against ``LIMITS``."""
    path = Path(path)
    if not path.is_file():
        raise PackagingError(f"no zip at {path}; build it first with build_function_zip().")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as error:
        raise PackagingError(f"{path} is not a readable zip ({error}); rebuild it.") from error
    data = path.read_bytes()
    return {
        "path": str(path),
        "zipped_bytes": len(data),
        "unzipped_bytes": sum(info.file_size for info in infos),
        "entries": len(infos),
        "names": [info.filename for info in infos],
        "sha256": hashlib.sha256(data).hexdigest(),
    }


# --- sizes against the limits ---------------------------------------------------------------------


def limits_table(rows: Mapping[str, tuple[int | None, int]]) -> pd.DataFrame:
    """One row per package: its sizes in MB and as a share of the 50 MB zip and 250 MB unzipped limits.

    ``rows`` maps a name to ``(zipped bytes or None, unzipped bytes)``; ``r_footprint()["rows"]``
    has that shape. ``fits as zip`` needs both limits met; an unknown zipped size is judged by
    the unzipped limit alone, the one that binds even when the zip is uploaded through S3.
    """
    records = []
    for item, sizes in rows.items():
        if not (isinstance(sizes, tuple | list) and len(sizes) == 2):
            raise PackagingError(
                f"limits_table: row {item!r} is {sizes!r}, not (zipped bytes or None, unzipped "
                "bytes). Pass a mapping such as r_footprint()['rows'], not the whole result."
            )
        zipped, unzipped = sizes
        if unzipped is None or unzipped < 0 or (zipped is not None and zipped < 0):
            raise PackagingError(
                f"limits_table: row {item!r} has sizes {sizes!r}; sizes are byte counts >= 0 "
                "and the unzipped size is required."
            )
        fits_zipped = zipped is None or zipped <= LIMITS["zip_direct_upload"]
        records.append(
            {
                "item": item,
                "zipped MB": None if zipped is None else zipped / MIB,
                "unzipped MB": unzipped / MIB,
                "% of the 50 MB limit": (
                    None if zipped is None else 100 * zipped / LIMITS["zip_direct_upload"]
                ),
                "% of the 250 MB limit": 100 * unzipped / LIMITS["unzipped"],
                "fits as zip": bool(fits_zipped and unzipped <= LIMITS["unzipped"]),
            }
        )
    columns = [
        "item",
        "zipped MB",
        "unzipped MB",
        "% of the 50 MB limit",
        "% of the 250 MB limit",
        "fits as zip",
    ]
    table = pd.DataFrame.from_records(records, columns=columns)
    for column in columns[1:5]:
        table[column] = table[column].astype("float64")
    return table.astype({"fits as zip": "bool"})


# --- what a 2017-style zip of R would hold, measured locally --------------------------------------


def find_r_home() -> Path:
    """R_HOME as R itself reports it (``R RHOME``), else Debian's /usr/lib/R."""
    executable = shutil.which("R")
    if executable:
        try:
            result = subprocess.run(
                [executable, "RHOME"], capture_output=True, text=True, timeout=30, check=True
            )
            candidate = Path(result.stdout.strip())
            if candidate.is_dir():
                return candidate
        except (subprocess.SubprocessError, OSError):
            pass
    if DEFAULT_R_HOME.is_dir():
        return DEFAULT_R_HOME
    raise PackagingError(
        "no R installation found: `R RHOME` did not answer and /usr/lib/R does not exist. "
        "Install R (Debian: apt-get install r-base-core) or pass r_home= explicitly."
    )


def _files_under(root: Path) -> list[Path]:
    """Regular files under root (symlinks to files count as the file they point to), sorted."""
    found = []
    for directory, _subdirectories, names in os.walk(root):
        for name in names:
            path = Path(directory, name)
            if path.is_file():
                found.append(path)
    return sorted(found)


def _size(paths: Iterable[Path]) -> int:
    return sum(path.stat().st_size for path in paths)


def linked_libraries(binaries: Iterable[Path], r_home: Path) -> list[Path]:
    """Shared libraries (resolved) that ``ldd`` says the binaries load from outside R_HOME, minus glibc."""
    ldd = shutil.which("ldd")
    if ldd is None:
        raise PackagingError(
            "ldd is not installed, so the libraries R links to cannot be listed. "
            "Install it (Debian: apt-get install libc-bin) or skip r_footprint."
        )
    r_home = r_home.resolve()
    found: set[Path] = set()
    for binary in binaries:
        result = subprocess.run([ldd, str(binary)], capture_output=True, text=True, timeout=30)
        if result.returncode != 0:
            raise PackagingError(
                f"ldd {binary} failed ({result.stderr.strip() or result.stdout.strip()}); "
                "is it a shared library built for this machine?"
            )
        for line in result.stdout.splitlines():
            match = re.match(r"\s*(\S+)\s+=>\s+(/\S+)", line)
            if not match or match.group(1).startswith(GLIBC_LIBRARIES):
                continue
            path = Path(match.group(2)).resolve()
            if r_home not in path.parents:
                found.add(path)
    return sorted(found)


def _python_distribution_files(names: Iterable[str]) -> tuple[list[Path], list[str]]:
    """Installed files of the named distributions (no bytecode) and which were found."""
    files: set[Path] = set()
    present = []
    for name in names:
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        present.append(f"{name} {distribution.version}")
        for entry in distribution.files or ():
            if entry.suffix == ".pyc":  # regenerated at import; not part of a minimal zip
                continue
            path = Path(str(distribution.locate_file(entry))).resolve()
            if path.is_file():
                files.add(path)
    return sorted(files), present


def r_footprint(
    r_home: Path | None = None, exact: bool = True, cache_file: Path | None = CACHE_FILE
) -> dict[str, Any]:
    """Measure what a 2017-style zip (R + 8 base packages + libraries + rpy2 + handler) would weigh now.

    Sizes are the local install's. Zipped sizes are estimates: every file deflated with zlib level 6
    plus zip headers (about 3 s for ~77 MB on a 2-core machine the first time; each file's result
    is kept in ``cache_file`` until the file changes, see helpers/zip_estimate.py; None measures
    everything again). On a slower machine pass
    ``exact=False``: files above 2 MiB are then estimated from 8 evenly spaced 256 KiB blocks,
    deterministic and about twice as fast, a few percent low; the result's ``estimate`` says which
    method ran and ``seconds`` how long the call took. Libraries are those ``ldd`` lists for ``lib/libR.so`` and R's
    LAPACK module (the 2017 zip's libRlapack), minus glibc, which the runtime must provide.
    ``result["rows"]`` feeds ``limits_table``.
    """
    started = time.perf_counter()
    r_home = Path(r_home) if r_home is not None else find_r_home()
    libr = r_home / "lib" / "libR.so"
    if not libr.is_file():
        raise PackagingError(
            f"{libr} does not exist: {r_home} is not an R installation built as a shared library. "
            "Pass the directory `R RHOME` prints (R must be configured with --enable-R-shlib)."
        )
    all_files = _files_under(r_home)
    lib_files = _files_under(r_home / "lib")
    package_dirs = {name: r_home / "library" / name for name in BASE_PACKAGES_2017}
    missing = [name for name, directory in package_dirs.items() if not directory.is_dir()]
    if missing:
        raise PackagingError(
            f"base package(s) {missing} are missing from {r_home / 'library'}; "
            "this R installation is incomplete (Debian: reinstall r-base-core)."
        )
    package_files = {name: _files_under(directory) for name, directory in package_dirs.items()}
    base_files = [path for files in package_files.values() for path in files]
    lapack_module = r_home / "modules" / "lapack.so"
    binaries = [libr] + ([lapack_module] if lapack_module.is_file() else [])
    lapack_files = [lapack_module] if lapack_module.is_file() else []
    linked = linked_libraries(binaries, r_home)
    rpy2_files, rpy2_present = _python_distribution_files(RPY2_DISTRIBUTIONS + RPY2_DEPENDENCIES)
    if not any(name.startswith("rpy2 ") for name in rpy2_present):
        raise PackagingError(
            "rpy2 is not installed in this Python, so its size cannot be measured. "
            "Run this from the project's .venv (scripts/setup.sh installs rpy2)."
        )

    with tempfile.TemporaryDirectory() as scratch:
        handler = zip_report(build_function_zip(Path(scratch) / "function.zip"))

    r_part = lib_files + lapack_files + base_files + linked
    r_zipped, r_compressed = zip_estimate(r_part, sample=not exact, cache_file=cache_file)
    rpy2_zipped, rpy2_compressed = zip_estimate(rpy2_files, sample=not exact, cache_file=cache_file)
    r_unzipped = _size(r_part)
    rpy2_unzipped = _size(rpy2_files)
    lib_bytes = _size(lib_files)
    base_bytes = _size(base_files)
    compressed = r_compressed + rpy2_compressed
    measured = r_unzipped + rpy2_unzipped
    if exact or compressed == measured:
        method = f"zlib level {ESTIMATE_LEVEL} on every file, plus zip headers"
    else:
        method = (
            f"zlib level {ESTIMATE_LEVEL} on every file up to {SAMPLE_ABOVE // MIB} MiB; larger "
            f"files estimated from {SAMPLE_BLOCKS} evenly spaced {SAMPLE_BLOCK_SIZE // 1024} KiB "
            f"blocks ({100 * compressed / measured:.0f}% of the bytes compressed); "
            "r_footprint(exact=True) compresses everything"
        )
    rows: dict[str, tuple[int | None, int]] = {
        "handler zip": (handler["zipped_bytes"], handler["unzipped_bytes"]),
        "R base (8 packages) + libR + linked libs": (r_zipped, r_unzipped),
        "rpy2 + deps": (rpy2_zipped, rpy2_unzipped),
        "total 2017-style zip": (
            handler["zipped_bytes"] + r_zipped + rpy2_zipped,
            handler["unzipped_bytes"] + r_unzipped + rpy2_unzipped,
        ),
    }
    return {
        "rows": rows,
        "r_home": str(r_home),
        "r_home_bytes": _size(all_files),
        "r_lib_bytes": lib_bytes,
        "base_packages_bytes": base_bytes,
        "base_packages": {name: _size(files) for name, files in package_files.items()},
        "r_home_other_bytes": _size(all_files) - lib_bytes - base_bytes,
        "lapack_module_bytes": _size(lapack_files),
        "linked_libraries": {str(path): path.stat().st_size for path in linked},
        "linked_libraries_bytes": _size(linked),
        "rpy2_distributions": rpy2_present,
        "rpy2_bytes": rpy2_unzipped,
        "estimate": method,
        "seconds": round(time.perf_counter() - started, 2),
    }


# --- glibc: why a Debian R cannot ride in a zip on AL2023 -----------------------------------------

_GLIBC_VERSION = re.compile(rb"GLIBC_(2\.\d+(?:\.\d+)?)\x00")


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def glibc_versions_required(path: Path) -> list[str]:
    """The GLIBC_2.x symbol versions an ELF file references, oldest first (read from its bytes)."""
    data = Path(path).read_bytes()
    if not data.startswith(b"\x7fELF"):
        raise PackagingError(
            f"{path} is not an ELF shared library; pass a .so file such as libR.so."
        )
    versions = {match.decode() for match in _GLIBC_VERSION.findall(data)}
    return sorted(versions, key=_version_key)


def glibc_report(lib: Path | None = None) -> dict[str, Any]:
    """The newest glibc libR.so and R's other shared libraries need, against this machine and AL2023.

    A library built against glibc 2.35 refuses to load on 2.34 ("version `GLIBC_2.35' not found"),
    which is why the series ships R in a container image rather than a zip for a managed runtime.
    """
    lib = Path(lib) if lib is not None else find_r_home() / "lib" / "libR.so"
    if not lib.is_file():
        raise PackagingError(
            f"{lib} does not exist; pass the path of libR.so (it is in `R RHOME`/lib)."
        )
    libr_versions = glibc_versions_required(lib)
    r_home = lib.resolve().parent.parent
    others = {}
    for pattern in ("lib/*.so", "modules/*.so", "library/*/libs/*.so"):
        for path in sorted(r_home.glob(pattern)):
            if path.resolve() != lib.resolve():
                versions = glibc_versions_required(path)
                if versions:
                    others[str(path)] = versions[-1]
    libr_newest = libr_versions[-1] if libr_versions else None
    others_newest = max(others.values(), key=_version_key, default=None)
    needed = [version for version in (libr_newest, others_newest) if version]
    newest = max(needed, key=_version_key, default=None)
    local = os.confstr("CS_GNU_LIBC_VERSION") if "CS_GNU_LIBC_VERSION" in os.confstr_names else ""
    needs_newer = newest is not None and _version_key(newest) > _version_key(AL2023_GLIBC)
    return {
        "local_glibc": (local or "unknown").replace("glibc ", ""),
        "al2023_glibc": AL2023_GLIBC,
        "libR": str(lib),
        "libR_newest_glibc": libr_newest,
        "other_r_libraries": others,
        "other_newest_glibc": others_newest,
        "newest_required": newest,
        "needs_newer_glibc_than_al2023": needs_newer,
        "verdict": (
            f"R built for this machine needs a newer glibc than Amazon Linux 2023's {AL2023_GLIBC}: "
            "it cannot run from a zip on today's managed runtimes; use a container image."
            if needs_newer
            else f"R built for this machine needs no newer glibc than Amazon Linux 2023's "
            f"{AL2023_GLIBC}; other libraries may still be missing there."
        ),
        "this_machine": (
            f"this machine: glibc {(local or 'unknown').replace('glibc ', '')}; "
            f"its R needs glibc {newest or '(none found)'}"
        ),
    }


def human_size(size_bytes: float | None) -> str:
    """A byte count as people read it: ``3.9 KB``, ``37.4 MB`` (1 KB = 1,024 bytes)."""
    if size_bytes is None or size_bytes != size_bytes:  # None or NaN: not known
        return "—"
    for unit, scale in (("MB", MIB), ("KB", 1024)):
        if size_bytes >= scale:
            return f"{size_bytes / scale:,.1f} {unit}"
    return f"{size_bytes:,.0f} bytes"


def limits_view(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`limits_table` for reading: sizes in KB or MB as fits them, shares to 0.1 %.

    (Rounding every size to 0.1 MB shows a 4 KB handler as "0.0 MB".)
    """
    view = table.copy()
    for column in ("zipped MB", "unzipped MB"):
        view[column.removesuffix(" MB")] = [
            human_size(None if value is None or value != value else value * MIB)
            for value in table[column]
        ]
    shares = ["% of the 50 MB limit", "% of the 250 MB limit"]
    view[shares] = view[shares].astype(float).round(1)
    return view[["item", "zipped", "unzipped", *shares, "fits as zip"]]


# --- the container image, read statically ---------------------------------------------------------


def _logical_lines(text: str) -> list[str]:
    """Dockerfile lines with continuations joined; comment lines are dropped, also inside a RUN."""
    lines: list[str] = []
    current = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not current):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1].rstrip() + " "
            continue
        current += stripped
        if current.strip():
            lines.append(current.strip())
        current = ""
    if current.strip():
        lines.append(current.strip())
    return lines


def _exec_form(argument: str) -> list[str]:
    """ENTRYPOINT/CMD as a list: JSON exec form as is, shell form as Docker runs it."""
    if argument.startswith("["):
        try:
            value = json.loads(argument)
        except ValueError:
            value = None
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return value
    return ["/bin/sh", "-c", argument]


def _commands(shell: str) -> list[list[str]]:
    """A RUN line split into simple commands at &&, || and ;."""
    try:
        tokens = shlex.split(shell, comments=False, posix=True)
    except ValueError as error:
        raise PackagingError(f"cannot read the RUN command {shell!r}: {error}") from error
    commands: list[list[str]] = [[]]
    for token in tokens:
        parts = re.split(r"(&&|\|\||;)", token)
        for part in parts:
            if part in ("&&", "||", ";"):
                commands.append([])
            elif part:
                commands[-1].append(part)
    return [command for command in commands if command]


def dockerfile_summary(path: Path = LAMBDA_PACKAGE_DIR / "Dockerfile") -> dict[str, Any]:
    """Base image, apt packages, pip requirement files, ENTRYPOINT and CMD of a Dockerfile, read statically.

    Enough for a notebook to show what the image holds and for a test to check it without Docker.
    Continuation lines are joined; only the last stage counts if there are several FROMs.
    """
    path = Path(path)
    if not path.is_file():
        raise PackagingError(f"no Dockerfile at {path}; pass the path of the image's Dockerfile.")
    summary: dict[str, Any] = {
        "base_image": None,
        "apt_packages": [],
        "pip_requirements": [],
        "pip_packages": [],
        "env": {},
        "copy": [],
        "workdir": None,
        "entrypoint": None,
        "cmd": None,
    }
    for line in _logical_lines(path.read_text()):
        instruction, _, argument = line.partition(" ")
        instruction = instruction.upper()
        argument = argument.strip()
        if instruction == "FROM":
            words = argument.split()
            words = [word for word in words if not word.startswith("--")]
            summary["base_image"] = words[0] if words else None
        elif instruction == "RUN":
            for command in _commands(argument):
                _read_install(command, summary)
        elif instruction == "ENV":
            summary["env"].update(_env_pairs(argument))
        elif instruction in ("COPY", "ADD"):
            summary["copy"].append([word for word in argument.split() if not word.startswith("--")])
        elif instruction == "WORKDIR":
            summary["workdir"] = argument
        elif instruction == "ENTRYPOINT":
            summary["entrypoint"] = _exec_form(argument)
        elif instruction == "CMD":
            summary["cmd"] = _exec_form(argument)
    if summary["base_image"] is None:
        raise PackagingError(f"{path} has no FROM line; every Dockerfile must name a base image.")
    return summary


def _env_pairs(argument: str) -> dict[str, str]:
    words = shlex.split(argument)
    if words and "=" not in words[0]:  # legacy form: ENV NAME value with spaces
        return {words[0]: " ".join(words[1:])}
    return dict(word.split("=", 1) for word in words if "=" in word)


def _read_install(command: list[str], summary: dict[str, Any]) -> None:
    while command and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", command[0]):
        command = command[1:]  # VARIABLE=value before the program
    if not command:
        return
    program = Path(command[0]).name
    arguments = command[1:]
    if program in ("apt-get", "apt") and "install" in arguments:
        after = arguments[arguments.index("install") + 1 :]
        summary["apt_packages"].extend(word for word in after if not word.startswith("-"))
        return
    if program in ("python", "python3") and arguments[:2] == ["-m", "pip"]:
        arguments = arguments[2:]
    elif program not in ("pip", "pip3"):
        return
    if not arguments or arguments[0] != "install":
        return
    words = iter(arguments[1:])
    for word in words:
        if word in ("-r", "--requirement"):
            summary["pip_requirements"].append(next(words, ""))
        elif word.startswith("--requirement="):
            summary["pip_requirements"].append(word.split("=", 1)[1])
        elif not word.startswith("-"):
            summary["pip_packages"].append(word)


def requirement_pins(path: Path) -> dict[str, str]:
    """``name==version`` pins of a requirements file (lower-case names; comments and extras dropped)."""
    pins = {}
    for line in Path(path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[re.sub(r"\[.*\]", "", name).strip().lower()] = version.strip()
    return pins
