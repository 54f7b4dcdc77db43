"""The deployment package: reproducible zip, size table, the local R footprint, glibc, the Dockerfile."""

from __future__ import annotations

import os
import shutil
import stat
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from helpers import packaging
from helpers.config import LAMBDA_PACKAGE_DIR, PROJECT_ROOT

requires_r = pytest.mark.skipif(
    shutil.which("R") is None and not (packaging.DEFAULT_R_HOME / "lib" / "libR.so").is_file(),
    reason="no R installation on this machine (the series installs r-base-core)",
)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    directory = tmp_path / "src"
    directory.mkdir()
    (directory / "handler.py").write_text("def lambda_handler(event, context):\n    return 1\n")
    (directory / "notes.txt").write_text("not for the zip\n")
    return directory


def test_two_builds_give_the_same_bytes_even_after_the_source_is_touched(source, tmp_path):
    first = packaging.build_function_zip(tmp_path / "a.zip", source)
    os.utime(source / "handler.py", (1_900_000_000, 1_900_000_000))
    (source / "handler.py").chmod(0o755)
    second = packaging.build_function_zip(tmp_path / "b.zip", source)
    assert first.read_bytes() == second.read_bytes()
    assert packaging.zip_report(first)["sha256"] == packaging.zip_report(second)["sha256"]


def test_the_zip_holds_only_the_handler_with_fixed_metadata(source, tmp_path):
    path = packaging.build_function_zip(tmp_path / "function.zip", source)
    with zipfile.ZipFile(path) as archive:
        (info,) = archive.infolist()
        assert archive.read("handler.py") == (source / "handler.py").read_bytes()
    assert info.filename == "handler.py"
    assert info.date_time == (1980, 1, 1, 0, 0, 0)
    assert stat.S_IMODE(info.external_attr >> 16) == 0o644
    assert stat.S_ISREG(info.external_attr >> 16)
    assert info.compress_type == zipfile.ZIP_DEFLATED
    assert info.extra == b""
    assert not list(tmp_path.glob(".function.zip.*")), "the temporary file must be gone"


def test_entries_are_sorted_and_have_no_directory_entries(source, tmp_path):
    (source / "lib").mkdir()
    (source / "lib" / "util.py").write_text("X = 1\n")
    path = packaging.build_function_zip(
        tmp_path / "f.zip", source, files=("lib/util.py", "handler.py")
    )
    assert packaging.zip_report(path)["names"] == ["handler.py", "lib/util.py"]


def test_the_real_handler_zip_builds_and_reports_its_sizes(tmp_path):
    report = packaging.zip_report(packaging.build_function_zip(tmp_path / "function.zip"))
    handler = LAMBDA_PACKAGE_DIR / "handler.py"
    assert report["entries"] == 1
    assert report["unzipped_bytes"] == handler.stat().st_size
    assert 0 < report["zipped_bytes"] < report["unzipped_bytes"]
    assert len(report["sha256"]) == 64


def test_a_missing_file_is_named_in_the_error(source, tmp_path):
    with pytest.raises(packaging.PackagingError, match=r"missing\.py.*source_dir"):
        packaging.build_function_zip(tmp_path / "f.zip", source, files=("missing.py",))
    with pytest.raises(packaging.PackagingError, match=r"no '\.\.'"):
        packaging.build_function_zip(tmp_path / "f.zip", source, files=("../etc/passwd",))
    assert not (tmp_path / "f.zip").exists()


def test_limits_are_the_documented_byte_counts():
    assert packaging.LIMITS == {
        "zip_direct_upload": 52_428_800,
        "unzipped": 262_144_000,
        "container_image": 10_737_418_240,
    }


def test_limits_table_percentages_and_verdicts():
    table = packaging.limits_table(
        {
            "small": (5 * 2**20, 25 * 2**20),
            "too big zipped": (60 * 2**20, 100 * 2**20),
            "too big unzipped": (40 * 2**20, 300 * 2**20),
            "image only": (None, 125 * 2**20),
        }
    ).set_index("item")
    assert list(table.columns) == [
        "zipped MB",
        "unzipped MB",
        "% of the 50 MB limit",
        "% of the 250 MB limit",
        "fits as zip",
    ]
    assert table.loc["small", "zipped MB"] == pytest.approx(5.0)
    assert table.loc["small", "% of the 50 MB limit"] == pytest.approx(10.0)
    assert table.loc["small", "% of the 250 MB limit"] == pytest.approx(10.0)
    assert table.loc["image only", "% of the 250 MB limit"] == pytest.approx(50.0)
    assert pd.isna(table.loc["image only", "% of the 50 MB limit"])
    assert table["fits as zip"].to_dict() == {
        "small": True,
        "too big zipped": False,
        "too big unzipped": False,
        "image only": True,
    }


def test_limits_table_explains_a_wrong_shape():
    with pytest.raises(packaging.PackagingError, match=r"r_footprint\(\)\['rows'\]"):
        packaging.limits_table({"rows": {"a": (1, 2)}})


@pytest.fixture(scope="module")
def footprint() -> dict:
    return packaging.r_footprint()


@requires_r
def test_r_footprint_measures_positive_sizes_with_the_8_base_packages(footprint):
    assert set(footprint["base_packages"]) == set(packaging.BASE_PACKAGES_2017)
    assert all(size > 0 for size in footprint["base_packages"].values())
    assert footprint["r_lib_bytes"] > 0 and footprint["r_home_other_bytes"] > 0
    assert footprint["r_home_bytes"] == (
        footprint["r_lib_bytes"]
        + footprint["base_packages_bytes"]
        + footprint["r_home_other_bytes"]
    )
    assert footprint["linked_libraries_bytes"] > 0
    assert not any("/libc.so" in path for path in footprint["linked_libraries"])
    assert any(name.startswith("rpy2-rinterface ") for name in footprint["rpy2_distributions"])
    for zipped, unzipped in footprint["rows"].values():
        assert 0 < zipped < unzipped
    rows = footprint["rows"]
    parts = [rows[name] for name in rows if name != "total 2017-style zip"]
    assert rows["total 2017-style zip"] == (
        sum(zipped for zipped, _ in parts),
        sum(unzipped for _, unzipped in parts),
    )
    assert "zlib level 6" in footprint["estimate"]
    table = packaging.limits_table(rows)
    assert list(table["item"]) == list(rows)


@requires_r
def test_glibc_report_finds_the_glibc_libr_needs():
    report = packaging.glibc_report()
    assert report["libR_newest_glibc"].startswith("2.")
    assert report["al2023_glibc"] == "2.34"
    assert report["other_r_libraries"], "R's modules and package libraries should be scanned"
    newest = tuple(int(part) for part in report["newest_required"].split("."))
    assert report["needs_newer_glibc_than_al2023"] == (newest > (2, 34))


def test_glibc_versions_are_read_from_elf_bytes(tmp_path):
    fake = tmp_path / "libfake.so"
    fake.write_bytes(
        b"\x7fELF" + b"\0" * 12 + b"GLIBC_2.2.5\0GLIBC_2.35\0GLIBC_2.4\0GLIBC_PRIVATE\0"
    )
    assert packaging.glibc_versions_required(fake) == ["2.2.5", "2.4", "2.35"]
    text = tmp_path / "notes.txt"
    text.write_text("GLIBC_2.99\0")
    with pytest.raises(packaging.PackagingError, match="not an ELF"):
        packaging.glibc_versions_required(text)


def test_the_real_dockerfile_runs_the_handler_through_awslambdaric():
    summary = packaging.dockerfile_summary()
    assert summary["entrypoint"] == ["python", "-m", "awslambdaric"]
    assert summary["cmd"] == ["handler.lambda_handler"]
    assert "r-base-core" in summary["apt_packages"]
    assert summary["pip_requirements"] == ["/tmp/packages/requirements.txt"]
    assert ["requirements.txt", "wheelhouse*", "/tmp/packages/"] in summary["copy"]
    image_pins = packaging.requirement_pins(LAMBDA_PACKAGE_DIR / "requirements.txt")
    project_pins = packaging.requirement_pins(PROJECT_ROOT / "requirements.in")
    for name in ("rpy2", "rpy2-rinterface", "rpy2-robjects", "awslambdaric", "boto3"):
        assert image_pins[name] == project_pins[name], name


def test_a_synthetic_dockerfile_with_continuations_and_comments(tmp_path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "# syntax=docker/dockerfile:1\n"
        "FROM --platform=linux/arm64 public.ecr.aws/lambda/python:3.12 AS base\n"
        "RUN apt-get update && \\\n"
        "    # a comment inside the continuation\n"
        "    apt-get install -y --no-install-recommends \\\n"
        "        r-base-core \\\n"
        "        libcurl4 \\\n"
        "    && python -m pip install --no-cache-dir -r req.txt --requirement=extra.txt boto3\n"
        "ENV A=1 B=two\n"
        "ENTRYPOINT /usr/local/bin/start \\\n"
        "    --verbose\n"
        'CMD ["app.handler"]\n'
    )
    summary = packaging.dockerfile_summary(dockerfile)
    assert summary["base_image"] == "public.ecr.aws/lambda/python:3.12"
    assert summary["apt_packages"] == ["r-base-core", "libcurl4"]
    assert summary["pip_requirements"] == ["req.txt", "extra.txt"]
    assert summary["pip_packages"] == ["boto3"]
    assert summary["env"] == {"A": "1", "B": "two"}
    assert summary["entrypoint"] == ["/bin/sh", "-c", "/usr/local/bin/start --verbose"]
    assert summary["cmd"] == ["app.handler"]


def test_a_dockerfile_without_from_is_refused(tmp_path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text('CMD ["x"]\n')
    with pytest.raises(packaging.PackagingError, match="no FROM"):
        packaging.dockerfile_summary(dockerfile)


def test_sizes_read_in_the_unit_that_fits():
    assert packaging.human_size(3_916) == "3.8 KB"
    assert packaging.human_size(38_300_000) == "36.5 MB"
    assert packaging.human_size(512) == "512 bytes"
    assert packaging.human_size(None) == "—"


def test_limits_view_shows_a_small_handler_in_kb_not_as_zero():
    table = packaging.limits_table({"handler zip": (3_916, 10_405), "R": (None, 74_000_000)})
    view = packaging.limits_view(table)
    assert view.loc[0, "zipped"] == "3.8 KB" and view.loc[0, "unzipped"] == "10.2 KB"
    assert view.loc[1, "zipped"] == "—" and view.loc[1, "unzipped"] == "70.6 MB"
    assert view.loc[1, "% of the 250 MB limit"] == 28.2


@requires_r
def test_glibc_verdict_names_no_machine_specific_version():
    report = packaging.glibc_report()
    assert report["this_machine"].startswith("this machine: glibc ")
    assert report["newest_required"] not in report["verdict"]
