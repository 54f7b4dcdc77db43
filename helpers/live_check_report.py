"""What ``make live-check`` reports: read from the account and the executed notebooks, then printed.

Two sources, both real: the account itself, read by the check's own process just before the
cleanup notebook runs (what notebooks 1-10 left, the function's REPORT lines in CloudWatch Logs,
the image's size in ECR) and again after it (``cleanup.inventory``); and the executed copies of
the notebooks (notebook 11's per-resource results, the ``skipped: …`` lines of live-only steps
the endpoint could not answer). The cost is priced with :mod:`helpers.costs` from those figures.
"""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers import costs
from helpers.series import NotebookRun

SKIPPED_LINE = re.compile(r"^\s*(skipped: .+)$", re.MULTILINE)
"""A live-only step the endpoint could not answer says so in a line of its own (helpers.live_only)."""
CLEANUP_CALL = "cleanup.delete_everything("
TABLE_ROW = re.compile(r"^(\S.*?)\s{2,}(\S.*)$")
API_REQUESTS_PER_RUN = 200
"""REST API requests of notebooks 9 and 10, rounded up (docs/live-mode.md, "What they cost")."""
SITE_AND_MODEL_GB = 0.00005
"""The model, the handlers and the page in S3: about 50 KB (as ``costs.series_live_estimate``)."""


@dataclass
class InvokeFigures:
    """The function's REPORT lines, split into calls that waited for INIT (cold) and the rest."""

    calls: int
    cold_init_ms: list[float]
    cold_duration_ms: list[float]
    warm_duration_ms: list[float]
    billed_gb_s: float

    @classmethod
    def from_reports(cls, reports: list[dict[str, float]]) -> InvokeFigures:
        cold = [report for report in reports if "init_ms" in report]
        warm = [report for report in reports if "init_ms" not in report]
        gb_s = sum(
            costs.billed_ms(report.get("billed_ms", 0.0)) / 1000 * report.get("memory_mb", 0) / 1024
            for report in reports
        )
        return cls(
            calls=len(reports),
            cold_init_ms=[report["init_ms"] for report in cold],
            cold_duration_ms=[report.get("duration_ms", 0.0) for report in cold],
            warm_duration_ms=[report.get("duration_ms", 0.0) for report in warm],
            billed_gb_s=gb_s,
        )


@dataclass
class Observation:
    """The account just before cleanup: what the series left, and what it measured."""

    left: list[tuple[str, str]] = field(default_factory=list)  # (kind, name), yours
    figures: InvokeFigures | None = None
    image_bytes: int | None = None
    notes: list[str] = field(default_factory=list)  # what could not be read, and why


@dataclass
class CheckResult:
    """Everything the report prints; ``ok`` is the exit status's verdict."""

    runs: list[NotebookRun]
    observation: Observation
    cleanup_rows: list[tuple[str, str]]
    inventory_after: list[tuple[str, str]]
    skipped: list[tuple[str, str]]  # (notebook, "skipped: …")
    seconds: float
    fallback_rows: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(run.status == "passed" for run in self.runs) and not self.inventory_after


# -- reading the executed notebooks ------------------------------------------------------------------
def _outputs_text(cell: dict[str, Any], kinds: tuple[str, ...]) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") not in kinds:
            continue
        text = output.get("text") or output.get("data", {}).get("text/plain", "")
        parts.append(text if isinstance(text, str) else "".join(text))
    return "\n".join(parts)


def _cells(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [cell for cell in json.loads(path.read_text())["cells"] if cell["cell_type"] == "code"]


def skipped_lines(path: Path) -> list[str]:
    """The ``skipped: …`` lines a notebook printed (its stream outputs only)."""
    return [
        match.group(1).strip()
        for cell in _cells(path)
        for match in SKIPPED_LINE.finditer(_outputs_text(cell, ("stream",)))
    ]


def cleanup_rows(path: Path) -> list[tuple[str, str]]:
    """Notebook 11's per-resource results (resource, result), from its executed copy."""
    for cell in _cells(path):
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        if CLEANUP_CALL not in source:
            continue
        table = _outputs_text(cell, ("execute_result",)).splitlines()
        rows = [TABLE_ROW.match(line) for line in table[2:]]  # after the header and index lines
        return [(match.group(1), match.group(2)) for match in rows if match]
    return []


# -- the report ------------------------------------------------------------------------------------
def _median(values: list[float]) -> str:
    return f"{statistics.median(values):,.0f} ms" if values else "none"


def cost_rows(result: CheckResult) -> list[tuple[str, str, float]]:
    """(item, usage, USD) of this run, priced with helpers.costs; the free tier not deducted."""
    figures = result.observation.figures
    calls = figures.calls if figures else 0
    gb_s = figures.billed_gb_s if figures else 0.0
    image_gb = (result.observation.image_bytes or 0) / 1e9
    months = result.seconds / costs.SECONDS_PER_DAY / 30  # storage is billed per GB-month, prorated
    return [
        (
            "Lambda requests",
            f"{calls} measured",
            calls / 1e6 * costs.PRICE_PER_MILLION_REQUESTS,
        ),
        (
            "Lambda compute",
            f"{gb_s:.1f} GB-s billed (REPORT lines)",
            gb_s * costs.PRICE_PER_GB_SECOND["x86_64"],
        ),
        (
            "API Gateway REST requests",
            f"up to {API_REQUESTS_PER_RUN} (notebooks 9-10)",
            API_REQUESTS_PER_RUN / 1e6 * costs.REST_API_PRICE_PER_MILLION,
        ),
        (
            "ECR image storage",
            f"{image_gb:.2f} GB for {result.seconds / 60:.0f} min",
            image_gb * costs.ECR_PRICE_PER_GB_MONTH * months,
        ),
        (
            "S3 objects",
            f"about {SITE_AND_MODEL_GB * 1e6:.0f} KB",
            SITE_AND_MODEL_GB * costs.S3_PRICE_PER_GB_MONTH * months,
        ),
    ]


def _table(rows: list[tuple[str, str]], indent: str = "  ") -> list[str]:
    width = max((len(left) for left, _ in rows), default=0)
    return [f"{indent}{left:<{width}}  {right}" for left, right in rows]


def format_report(result: CheckResult) -> str:
    """The report: notebooks, resources, live-only skips, measured figures, cost, verdict."""
    lines = ["== live-check report", "", "notebooks (every cell executed; outputs not compared):"]
    width = max([len(run.name) for run in result.runs] + [8])
    for run in result.runs:
        lines.append(f"  {run.name:<{width}}  {run.status:<7} {run.seconds:7.1f} s")
        if run.error:
            lines.append(f"  {'':<{width}}    └─ {run.error}")
    passed = sum(run.status == "passed" for run in result.runs)
    lines.append(f"  {passed} passed, {len(result.runs) - passed} failed in {result.seconds:.0f} s")

    observation = result.observation
    lines += ["", f"made by notebooks 1-10, left for cleanup ({len(observation.left)}):"]
    lines += _table([(kind, name) for kind, name in observation.left]) or ["  nothing"]
    lines += ["", "cleanup (notebook 11), per resource:"]
    lines += _table(result.cleanup_rows) or ["  no results (notebook 11 did not get to its delete)"]
    if result.fallback_rows:
        lines += ["", "cleanup by live-check itself (notebook 11 failed or left something):"]
        lines += _table(result.fallback_rows)
    lines += ["", f"inventory after cleanup ({len(result.inventory_after)}):"]
    lines += _table(result.inventory_after) or ["  empty: nothing of this prefix remains"]

    lines += ["", "live-only steps this endpoint could not answer:"]
    lines += [f"  {notebook}: {line}" for notebook, line in result.skipped] or ["  none"]

    lines += ["", "invocations measured (the function's REPORT lines in CloudWatch Logs):"]
    figures = observation.figures
    if figures is None or not figures.calls:
        lines.append("  none found")
    else:
        lines.append(
            f"  {figures.calls} calls: {len(figures.cold_init_ms)} cold "
            f"(Init Duration median {_median(figures.cold_init_ms)}, duration median "
            f"{_median(figures.cold_duration_ms)}), {len(figures.warm_duration_ms)} warm "
            f"(duration median {_median(figures.warm_duration_ms)})"
        )

    rows = cost_rows(result)
    lines += ["", "cost of this run (helpers.costs prices, us-east-1; free tier not deducted):"]
    width = max(len(item) for item, _, _ in rows)
    for item, usage, usd in rows:
        lines.append(f"  {item:<{width}}  {usd:>10.6f} USD  {usage}")
    lines.append(f"  {'total':<{width}}  {sum(usd for _, _, usd in rows):>10.6f} USD")

    notes = observation.notes + result.notes
    if notes:
        lines += ["", "notes:"] + [f"  {note}" for note in notes]
    verdict = "PASSED" if result.ok else "FAILED"
    why = []
    if passed < len(result.runs):
        why.append(f"{len(result.runs) - passed} notebook(s) failed")
    if result.inventory_after:
        why.append(f"{len(result.inventory_after)} resource(s) remain")
    lines += ["", f"live-check {verdict}" + (f": {'; '.join(why)}" if why else "")]
    return "\n".join(lines)
