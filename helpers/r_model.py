"""The admission model in R, driven from Python through rpy2.

``glm(admit ~ gre + gpa + rank, family = binomial)`` with ``rank`` a factor, as in 2017. Every R
call goes through :func:`r_session`, which holds one process-wide lock: rpy2 is not thread-safe
(parallel calls from threads crash R or return wrong numbers), so the lock is not optional.

The coefficients can be exported with 17 significant digits; :func:`predict_from_coefficients`
then reproduces R's probabilities in pure Python (to ~1e-16), which the tests use as a check.
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.config import DATA_CSV

os.environ.setdefault("RPY2_CFFI_MODE", "ABI")

R_LOCK = threading.RLock()
"""The one lock around every R call in this process."""

FORMULA = "admit ~ gre + gpa + rank"
RANK_LEVELS = ("1", "2", "3", "4")

# The reference fit from data/README.md (UCLA admissions, 400 rows).
REFERENCE_COEFFICIENTS: dict[str, tuple[float, float]] = {
    "(Intercept)": (-3.989979, 1.139951),
    "gre": (0.002264, 0.001094),
    "gpa": (0.804038, 0.331819),
    "rank2": (-0.675443, 0.316490),
    "rank3": (-1.340204, 0.345306),
    "rank4": (-1.551464, 0.417832),
}
REFERENCE_PROBABILITIES_AT_800_4 = {"1": 0.738, "2": 0.590, "3": 0.425, "4": 0.374}

_R_CODE = r"""
list(
  train = function(csv_path) {
    admissions <- utils::read.csv(csv_path)
    admissions$rank <- factor(admissions$rank, levels = c("1", "2", "3", "4"))
    fit <- stats::glm(admit ~ gre + gpa + rank, data = admissions, family = stats::binomial)
    # The call records where the data came from; keep it independent of the local variable name.
    fit$call <- quote(glm(formula = admit ~ gre + gpa + rank, family = binomial, data = admissions))
    environment(fit$formula) <- globalenv()
    attr(fit$terms, ".Environment") <- globalenv()
    attr(attr(fit$model, "terms"), ".Environment") <- globalenv()
    fit
  },
  save = function(fit, path) {
    # Format version 2 writes every vector expanded. Version 3 (the default) keeps ALTREP vectors
    # such as the deferred row names compact or not depending on whether anything has looked at
    # them, so the same model could give different bytes.
    saveRDS(fit, file = path, version = 2, compress = "gzip")
    invisible(file.size(path))
  },
  load = function(path) readRDS(path),
  predict = function(fit, gre, gpa, rank) {
    newdata <- data.frame(
      gre = as.numeric(gre), gpa = as.numeric(gpa),
      rank = factor(rank, levels = fit$xlevels$rank)
    )
    as.numeric(stats::predict(fit, newdata = newdata, type = "response"))
  },
  coefficients = function(fit) {
    table <- summary(fit)$coefficients
    list(terms = rownames(table), estimate = table[, 1], std_error = table[, 2],
         z = table[, 3], p = table[, 4],
         estimate_17 = sprintf("%.17g", table[, 1]))
  },
  fit_stats = function(fit) {
    c(deviance = fit$deviance, df_residual = fit$df.residual, null_deviance = fit$null.deviance,
      df_null = fit$df.null, aic = fit$aic)
  },
  rank_levels = function(fit) fit$xlevels$rank
)
"""


_LIBRARY_PATH_AT_START = os.environ.get("LD_LIBRARY_PATH")


def _restore_library_path() -> None:
    """Undo the LD_LIBRARY_PATH that starting R puts in ``os.environ``.

    R prepends its own and the system library folders. This process has already loaded its
    libraries, but every child would inherit the setting: a Python child (the ``aws`` CLI in a
    notebook's ``!`` cell, a Lambda worker of the mock account) then loads the system's libssl
    instead of its own and fails at ``import ssl``.
    """
    if _LIBRARY_PATH_AT_START is None:
        os.environ.pop("LD_LIBRARY_PATH", None)
    else:
        os.environ["LD_LIBRARY_PATH"] = _LIBRARY_PATH_AT_START


@contextmanager
def r_session() -> Iterator[Any]:
    """Hold the R lock and yield ``rpy2.robjects`` with its default converter active.

    The converter context matters in threads other than the main one: rpy2's conversion rules are
    context variables and a new thread starts without them.
    """
    import rpy2.robjects as ro

    with R_LOCK, ro.default_converter.context():
        if not _functions:
            _r("train")  # first use: define the R functions, tidy the environment
        yield ro


_functions: dict[str, Any] = {}


def r_version() -> str:
    """This machine's R version (``4.2.2``): ``saveRDS`` bytes differ between R versions."""
    with r_session() as ro:
        return ".".join(str(part) for part in ro.r("getRversion()")[0])


def _r(name: str) -> Any:
    """An R function from :data:`_R_CODE`, defined once per process (call under the lock)."""
    if not _functions:
        import rpy2.robjects as ro

        _restore_library_path()
        code = ro.r(_R_CODE)
        _functions.update({key: code.rx2(key) for key in code.names})
    return _functions[name]


@dataclass
class AdmissionModel:
    """A fitted R glm, held as an rpy2 object; use the methods, which take the R lock."""

    fit: Any

    def predict(self, applicants: pd.DataFrame | Mapping[str, Any]) -> list[float]:
        """P(admit) for one applicant (a mapping) or many (a DataFrame with gre, gpa, rank)."""
        frame = _as_frame(applicants)
        with r_session() as ro:
            probabilities = _r("predict")(
                self.fit,
                ro.FloatVector(frame["gre"].astype(float).tolist()),
                ro.FloatVector(frame["gpa"].astype(float).tolist()),
                ro.StrVector([_rank_label(rank) for rank in frame["rank"]]),
            )
            values = list(probabilities)
        if any(math.isnan(value) for value in values):
            raise ValueError(
                "R returned NA for at least one applicant: a rank outside the model's levels "
                f"{list(RANK_LEVELS)} or a missing value. Check the input rows."
            )
        return values

    def predict_one(self, gre: float, gpa: float, rank: int | str) -> float:
        return self.predict({"gre": gre, "gpa": gpa, "rank": rank})[0]

    def coefficients(self) -> pd.DataFrame:
        """The coefficient table (estimate, std. error, z, p) indexed by term."""
        with r_session():
            table = _r("coefficients")(self.fit)
            columns = {name: list(table.rx2(name)) for name in table.names}
        frame = pd.DataFrame(
            {
                "estimate": columns["estimate"],
                "std_error": columns["std_error"],
                "z": columns["z"],
                "p": columns["p"],
            },
            index=pd.Index(columns["terms"], name="term"),
        )
        frame.attrs["estimate_17"] = dict(
            zip(columns["terms"], columns["estimate_17"], strict=True)
        )
        return frame

    def fit_statistics(self) -> dict[str, float]:
        """Deviance, residual d.f., null deviance, null d.f. and AIC."""
        with r_session():
            stats = _r("fit_stats")(self.fit)
            return dict(zip(stats.names, (float(value) for value in stats), strict=True))

    def rank_levels(self) -> list[str]:
        with r_session():
            return list(_r("rank_levels")(self.fit))

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the model with ``saveRDS`` (same model and R version → same bytes)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with r_session():
            _r("save")(self.fit, str(path))
        return path

    def export_coefficients(self) -> dict[str, Any]:
        """Coefficients as text with 17 significant digits (exact doubles) plus the rank levels."""
        estimates = self.coefficients().attrs["estimate_17"]
        return {
            "formula": FORMULA,
            "link": "logit",
            "rank_levels": self.rank_levels(),
            "coefficients": estimates,
        }


def train(csv_path: str | os.PathLike[str] = DATA_CSV) -> AdmissionModel:
    """Fit the 2017 model on the admissions CSV (admit, gre, gpa, rank)."""
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise FileNotFoundError(
            f"No admissions data at {csv_path}. The series ships it as data/binary.csv; "
            "see data/README.md for where it comes from."
        )
    with r_session():
        return AdmissionModel(_r("train")(str(csv_path)))


def load(path: str | os.PathLike[str]) -> AdmissionModel:
    """Read a model saved with :meth:`AdmissionModel.save` (or any glm ``.rds`` of this formula)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"No model file at {path}: train one with helpers.r_model.train().save(path)."
        )
    with r_session():
        return AdmissionModel(_r("load")(str(path)))


def load_admissions(csv_path: str | os.PathLike[str] = DATA_CSV) -> pd.DataFrame:
    """The admissions data as a DataFrame, ``rank`` as an ordered categorical 1..4."""
    frame = pd.read_csv(csv_path)
    frame["rank"] = pd.Categorical(
        frame["rank"].astype(str), categories=list(RANK_LEVELS), ordered=True
    )
    return frame


def reference_table() -> pd.DataFrame:
    """The published reference fit (6 decimals), for side-by-side display."""
    return pd.DataFrame.from_dict(
        REFERENCE_COEFFICIENTS,
        orient="index",
        columns=["reference_estimate", "reference_std_error"],
    ).rename_axis("term")


def predict_from_coefficients(
    exported: Mapping[str, Any], gre: float, gpa: float, rank: int | str
) -> float:
    """P(admit) computed in pure Python from :meth:`AdmissionModel.export_coefficients`."""
    coefficients = {term: float(value) for term, value in exported["coefficients"].items()}
    label = _rank_label(rank)
    if label not in exported["rank_levels"]:
        raise ValueError(
            f"rank {rank!r} is not one of the model's levels {exported['rank_levels']}"
        )
    eta = coefficients["(Intercept)"] + coefficients["gre"] * gre + coefficients["gpa"] * gpa
    if label != exported["rank_levels"][0]:
        eta += coefficients[f"rank{label}"]
    return 1.0 / (1.0 + math.exp(-eta))


def write_coefficients_json(model: AdmissionModel, path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    path.write_text(json.dumps(model.export_coefficients(), indent=2) + "\n")
    return path


def _as_frame(applicants: pd.DataFrame | Mapping[str, Any]) -> pd.DataFrame:
    if isinstance(applicants, pd.DataFrame):
        frame = applicants
    elif isinstance(applicants, Mapping):
        frame = pd.DataFrame([dict(applicants)])
    else:
        raise TypeError("applicants must be a mapping (one applicant) or a DataFrame")
    missing = [column for column in ("gre", "gpa", "rank") if column not in frame.columns]
    if missing:
        raise KeyError(f"applicants need columns gre, gpa and rank; missing: {missing}")
    return frame


def _rank_label(rank: Any) -> str:
    """``1``, ``1.0`` and ``"1"`` all name factor level "1"."""
    if isinstance(rank, float) and rank.is_integer():
        rank = int(rank)
    return str(rank).strip()


def probabilities_at(model: AdmissionModel, gre: float, gpa: float) -> dict[str, float]:
    """P(admit) for each rank at one gre/gpa — the table in data/README.md."""
    frame = pd.DataFrame({"gre": [gre] * 4, "gpa": [gpa] * 4, "rank": list(RANK_LEVELS)})
    return dict(zip(RANK_LEVELS, model.predict(frame), strict=True))


__all__: Sequence[str] = (
    "R_LOCK",
    "AdmissionModel",
    "load",
    "load_admissions",
    "predict_from_coefficients",
    "probabilities_at",
    "r_session",
    "reference_table",
    "train",
    "write_coefficients_json",
)
