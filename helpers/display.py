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


def versions() -> pd.DataFrame:
    """Versions of the pieces the series depends on (Python side; R's version comes from R)."""
    rows = [("Python", platform.python_version())]
    rows += [(name, version(name)) for name in ("rpy2", "boto3", "moto", "awslambdaric", "pandas")]
    return pd.DataFrame(rows, columns=["component", "version"]).set_index("component")


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
