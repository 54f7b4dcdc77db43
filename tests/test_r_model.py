"""The R admission model: the reference fit, deterministic saving, and R vs pure Python."""

from __future__ import annotations

import hashlib
import json
import threading

import pandas as pd
import pytest

from helpers import r_model


def test_coefficients_match_the_reference_fit_to_1e_6(admission_model):
    table = admission_model.coefficients()
    assert list(table.index) == list(r_model.REFERENCE_COEFFICIENTS)
    for term, (estimate, std_error) in r_model.REFERENCE_COEFFICIENTS.items():
        assert table.loc[term, "estimate"] == pytest.approx(estimate, abs=1e-6)
        assert table.loc[term, "std_error"] == pytest.approx(std_error, abs=1e-6)


def test_fit_statistics_match_the_reference(admission_model):
    stats = admission_model.fit_statistics()
    assert stats["deviance"] == pytest.approx(458.52, abs=0.005)
    assert stats["null_deviance"] == pytest.approx(499.98, abs=0.005)
    assert stats["aic"] == pytest.approx(470.52, abs=0.005)
    assert (stats["df_residual"], stats["df_null"]) == (394, 399)


def test_the_four_ranks_at_gre_800_gpa_4(admission_model):
    probabilities = r_model.probabilities_at(admission_model, 800, 4)
    for rank, expected in r_model.REFERENCE_PROBABILITIES_AT_800_4.items():
        assert probabilities[rank] == pytest.approx(expected, abs=5e-4)
    assert probabilities["1"] > probabilities["2"] > probabilities["3"] > probabilities["4"]


def test_saving_twice_gives_the_same_bytes_and_the_same_predictions(admission_model, tmp_path):
    first = admission_model.save(tmp_path / "a.rds").read_bytes()
    with r_model.r_session() as ro:  # looking at the names expands R's compact (ALTREP) row names
        assert list(ro.r["names"](admission_model.fit.rx2("residuals")))[:2] == ["1", "2"]
    second = admission_model.save(tmp_path / "b.rds").read_bytes()
    assert hashlib.sha256(first).digest() == hashlib.sha256(second).digest()
    reloaded = r_model.load(tmp_path / "a.rds")
    assert reloaded.predict_one(800, 4, "1") == admission_model.predict_one(800, 4, "1")


def test_a_refit_saves_the_same_bytes(admission_model, model_file, tmp_path):
    refit = r_model.train().save(tmp_path / "refit.rds")
    assert refit.read_bytes() == model_file.read_bytes()


def test_predict_accepts_a_dataframe_and_mixed_rank_types(admission_model):
    frame = pd.DataFrame({"gre": [800, 800, 800], "gpa": [4, 4.0, 4], "rank": [1, "1", 1.0]})
    values = admission_model.predict(frame)
    assert values[0] == values[1] == values[2]


def test_an_unknown_rank_is_an_error_not_a_silent_na(admission_model):
    with pytest.raises(ValueError, match="NA"):
        admission_model.predict_one(800, 4, "5")


def test_pure_python_matches_r_to_1e_12_on_every_row(admission_model):
    exported = json.loads(json.dumps(admission_model.export_coefficients()))  # as stored on disk
    data = r_model.load_admissions()
    in_r = admission_model.predict(data)
    in_python = [
        r_model.predict_from_coefficients(exported, row.gre, row.gpa, row.rank)
        for row in data.itertuples()
    ]
    worst = max(abs(a - b) for a, b in zip(in_r, in_python, strict=True))
    assert worst < 1e-12


def test_exported_coefficients_carry_17_significant_digits(admission_model):
    exported = admission_model.export_coefficients()
    table = admission_model.coefficients()
    for term, text in exported["coefficients"].items():
        assert float(text) == table.loc[term, "estimate"]  # exact round trip of the double
    assert exported["rank_levels"] == ["1", "2", "3", "4"]


def test_the_r_lock_makes_threaded_predictions_correct(admission_model):
    expected = admission_model.predict_one(700, 3.5, "2")
    results: list[float] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(25):
                results.append(admission_model.predict_one(700, 3.5, "2"))
        except BaseException as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 150
    assert set(results) == {expected}


def test_missing_data_file_says_where_the_data_should_be(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"data/binary\.csv"):
        r_model.train(tmp_path / "nope.csv")


def test_loaded_data_matches_its_provenance():
    data = r_model.load_admissions()
    assert len(data) == 400
    assert data["admit"].sum() == 127
    assert data["rank"].value_counts().sort_index().tolist() == [61, 151, 121, 67]
    assert data["gpa"].mean() == pytest.approx(3.3899, abs=1e-4)
