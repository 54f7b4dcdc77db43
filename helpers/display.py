"""Small display helpers for the notebooks: banners, comparison tables, plots.

They return pandas objects or print plain text, so what a notebook shows is stable enough for
nbval to compare (volatile parts are masked by ``notebooks/sanitize.cfg``).
"""

from __future__ import annotations

import platform
from importlib.metadata import version

import pandas as pd

from helpers.config import Settings
from helpers.r_model import AdmissionModel, reference_table

# Show whole cells: the point of a table here is often its message or its ARN.
pd.set_option("display.max_colwidth", None)
pd.set_option("display.width", 120)


def mode_banner(settings: Settings | None = None) -> str:
    """One line saying which account the notebook talks to; printed by every first cell."""
    settings = settings or Settings.from_environment()
    if settings.is_mock:
        text = (
            f"Mode: mock — an embedded AWS account on this machine (region {settings.region}). "
            "Nothing is created in AWS and nothing costs money."
        )
    else:
        text = (
            f"Mode: live — a real AWS account (region {settings.region}, prefix "
            f"{settings.prefix or '(none)'}). Resources are created for real; run the cleanup notebook."
        )
    print(text)
    return settings.mode


def identity(account) -> None:
    """Account id, region and caller ARN: the first thing to check before creating anything."""
    print(f"Account {account.account_id}, region {account.region}, acting as {account.caller_arn}")


PINNED = ("rpy2", "boto3", "moto", "awslambdaric", "pandas")
"""Packages whose versions the lock pins: the same on every machine that ran ``make setup``."""


def versions() -> pd.DataFrame:
    """Versions of the pinned packages the series depends on (the same wherever setup ran)."""
    rows = [(name, version(name)) for name in PINNED]
    return pd.DataFrame(rows, columns=["component", "version"]).set_index("component")


def this_machine(r_version: str) -> str:
    """What differs from machine to machine: R, Python and the operating system.

    Printed on one line that starts with ``this machine:``, so that stored outputs compare equal
    elsewhere (the nbval sanitizer masks that line).
    """
    try:
        system = platform.freedesktop_os_release().get("PRETTY_NAME", platform.system())
    except OSError:  # not Linux, or no /etc/os-release
        system = f"{platform.system()} {platform.release()}"
    return f"this machine: {r_version}; Python {platform.python_version()}; {system}"


def coefficients_vs_reference(model: AdmissionModel) -> pd.DataFrame:
    """The fitted coefficient table next to the published reference fit, with the differences."""
    ours = model.coefficients()[["estimate", "std_error"]]
    table = ours.join(reference_table())
    table["difference"] = (table["estimate"] - table["reference_estimate"]).abs()
    return table.round(6)


def admission_rate_plot(data: pd.DataFrame):
    """Two panels: admission rate by rank, and GRE by outcome. Returns the matplotlib figure."""
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2))
    rate = data.groupby("rank", observed=True)["admit"].mean()
    left.bar(rate.index.astype(str), rate.values, color="#4c72b0")
    left.set(
        xlabel="rank of undergraduate institution (1 = highest)", ylabel="admitted", ylim=(0, 1)
    )
    left.set_title("Admission rate by rank")
    for outcome, colour, label in ((0, "#dd8452", "not admitted"), (1, "#55a868", "admitted")):
        right.hist(
            data.loc[data["admit"] == outcome, "gre"], bins=12, alpha=0.6, color=colour, label=label
        )
    right.set(xlabel="GRE score", ylabel="applicants")
    right.set_title("GRE by outcome")
    right.legend()
    figure.tight_layout()
    return figure


def architecture_figure():
    """The data product as boxes and arrows: what the series builds, and what is IAM's part."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    figure, axes = plt.subplots(figsize=(10, 3.6))
    axes.set_xlim(0, 10)
    axes.set_ylim(0, 3.6)
    axes.axis("off")
    boxes = {
        "caller": (0.2, 1.5, "Caller\n(boto3, aws CLI,\nlater API Gateway)", "#e8e8e8"),
        "lambda": (
            3.0,
            1.5,
            "Lambda function\nServerlessPOCAdmission\nhandler.py + R (rpy2)",
            "#fde2c4",
        ),
        "s3": (6.3, 2.4, "S3 bucket\nserverless-poc-models\nadmission.rds", "#d5e8d4"),
        "logs": (6.3, 0.3, "CloudWatch Logs\n/aws/lambda/…", "#dae8fc"),
        "role": (3.0, 0.05, "IAM role ServerlessPOC\ntrust: lambda.amazonaws.com", "#f8cecc"),
    }
    for x, y, text, colour in boxes.values():
        axes.add_patch(
            FancyBboxPatch((x, y), 2.6, 1.0, boxstyle="round,pad=0.05", fc=colour, ec="#555")
        )
        axes.text(x + 1.3, y + 0.5, text, ha="center", va="center", fontsize=8.5)

    def arrow(start, end, label, offset=(0.0, 0.12)):
        axes.add_patch(
            FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color="#333")
        )
        middle = ((start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1])
        axes.text(*middle, label, ha="center", fontsize=8)

    arrow((2.85, 2.0), (3.0, 2.0), "")
    axes.text(2.1, 2.65, "invoke\n{gre, gpa, rank}", ha="center", fontsize=8)
    arrow((5.65, 2.2), (6.3, 2.8), "s3:GetObject", offset=(-0.45, 0.25))
    arrow((5.65, 1.8), (6.3, 0.9), "logs:PutLogEvents", offset=(0.75, 0.0))
    arrow((4.3, 1.05), (4.3, 1.5), "")
    axes.text(4.45, 1.22, "temporary credentials", fontsize=8)
    axes.set_title("What the series builds", fontsize=11)
    figure.tight_layout()
    return figure


class Steps:
    """A plain-text progress bar for multi-step cells: ``[##--] 2/4 upload … done (0.4 s)``."""

    def __init__(self, total: int, width: int = 20) -> None:
        self.total, self.width, self.done = total, width, 0

    def run(self, label: str, call, *args, **kwargs):
        import time

        started = time.perf_counter()
        result = call(*args, **kwargs)
        self.done += 1
        filled = round(self.width * self.done / self.total)
        bar = "#" * filled + "-" * (self.width - filled)
        seconds = time.perf_counter() - started
        print(f"[{bar}] {self.done}/{self.total} {label} … done ({seconds:.1f} s)", flush=True)
        return result


def show_function(module_path, name: str) -> None:
    """Print one top-level function of a source file (for walking through the handler)."""
    import ast
    from pathlib import Path

    source = Path(module_path).read_text()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name == name:
            print("\n".join(source.splitlines()[node.lineno - 1 : node.end_lineno]))
            return
    raise KeyError(f"{name} is not a top-level function or class of {module_path}")


def latency_plot(latencies: pd.DataFrame):
    """Client-side latency per call, cold and warm marked, with 2017's figures as reference lines."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 3.2))
    for start, colour in (("cold", "#c44e52"), ("warm", "#4c72b0")):
        part = latencies[latencies["start"] == start]
        axes.scatter(
            part.index, part["client_ms"], color=colour, label=f"{start} (this run)", zorder=3
        )
    axes.axhline(658.93, color="#c44e52", linestyle="--", linewidth=1, label="2017 cold: 659 ms")
    axes.axhline(200, color="#4c72b0", linestyle="--", linewidth=1, label="2017 warm: < 200 ms")
    axes.set(xlabel="call", ylabel="latency seen by the caller (ms)", yscale="log")
    axes.set_title("Cold and warm invocations")
    axes.legend(fontsize=8, loc="upper right")
    figure.tight_layout()
    return figure


def names_table(names) -> pd.DataFrame:
    """The series' names as a two-column table (what, name)."""
    from dataclasses import asdict

    return pd.DataFrame(list(asdict(names).items()), columns=["what", "name"]).set_index("what")
