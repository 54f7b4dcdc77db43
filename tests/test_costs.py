"""The cost model: 2017's free-tier arithmetic, billing rounding, and sanity properties of the bill."""

from __future__ import annotations

import matplotlib
import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers import costs

matplotlib.use("Agg")

memory = st.integers(min_value=128, max_value=10_240)
requests = st.integers(min_value=0, max_value=10**9)
durations = st.floats(min_value=0.0, max_value=900_000.0, allow_nan=False)


def test_free_tier_at_128_mb_is_3_2_million_seconds_or_about_37_days():
    seconds = costs.free_tier_compute_seconds(128)
    assert seconds == pytest.approx(3_200_000)
    assert seconds / costs.SECONDS_PER_DAY == pytest.approx(37.04, abs=0.005)


def test_free_tier_table_matches_the_formula_and_shrinks_with_memory():
    table = costs.free_tier_table([128, 1024, 10_240])
    assert list(table["free compute s"]) == pytest.approx([3_200_000, 400_000, 40_000])
    assert table["free compute days"].iloc[0] == pytest.approx(37.037, abs=0.001)
    assert table["free compute s"].is_monotonic_decreasing


def test_memory_outside_lambdas_range_is_refused_with_the_range():
    with pytest.raises(costs.CostModelError, match="128-10240 MB"):
        costs.free_tier_compute_seconds(64)


@pytest.mark.parametrize(
    ("duration", "granularity", "expected"),
    [
        (658.93, 1, 659),
        (658.93, 100, 700),
        (600.0, 100, 600),
        (0.1 + 0.2, 1, 1),
        (300.00000000000006, 1, 300),
        (0.0, 1, 0),
        (1.0, 100, 100),
    ],
)
def test_billed_ms_rounds_up_to_the_granularity(duration, granularity, expected):
    assert costs.billed_ms(duration, granularity) == expected


def test_billed_ms_refuses_a_negative_duration_and_a_zero_granularity():
    with pytest.raises(costs.CostModelError, match=">= 0"):
        costs.billed_ms(-1.0)
    with pytest.raises(costs.CostModelError, match="positive whole number"):
        costs.billed_ms(10.0, 0)


def test_compare_2017_the_cold_call_was_billed_700_ms_now_659():
    result = costs.compare_2017(658.93)
    assert (result["billed_ms_2017"], result["billed_ms_now"]) == (700, 659)
    assert result["extra_ms_2017"] == 41
    assert result["gb_seconds_2017"] == pytest.approx(0.7 * 0.125)


def test_the_2017_workload_fits_in_the_free_tier():
    cost = costs.monthly_cost(1_000_000, 658.93, 128)
    assert cost["gb_seconds"] == pytest.approx(1_000_000 * 0.659 * 0.125)
    assert cost["total"] == 0.0
    assert cost["free_tier_deduction"] == pytest.approx(cost["gross"])


def test_a_bill_above_the_free_tier_by_hand():
    # 3M requests x 1 s x 1 GB = 3M GB-s; 2M requests and 2.6M GB-s are billable.
    cost = costs.monthly_cost(3_000_000, 1000.0, 1024)
    assert cost["request_cost"] == pytest.approx(0.60)
    assert cost["total"] == pytest.approx(2 * 0.20 + 2_600_000 * 0.0000166667)
    arm = costs.monthly_cost(3_000_000, 1000.0, 1024, architecture="arm64")
    assert arm["total"] == pytest.approx(2 * 0.20 + 2_600_000 * 0.0000133334)


def test_init_is_billed_for_cold_starts_only():
    cost = costs.monthly_cost(
        10_000, 100.0, 1024, free_tier=False, init_ms=2000.0, cold_start_fraction=0.1
    )
    assert cost["cold_starts"] == pytest.approx(1000)
    assert cost["init_gb_seconds"] == pytest.approx(1000 * 2.0 * 1.0)
    assert cost["init_cost"] == pytest.approx(2000 * 0.0000166667)
    assert cost["total"] == pytest.approx(cost["gross"])


def test_unknown_architecture_and_fraction_are_refused_with_the_choices():
    with pytest.raises(costs.CostModelError, match="arm64"):
        costs.monthly_cost(1, 1.0, 128, architecture="graviton")
    with pytest.raises(costs.CostModelError, match="between 0"):
        costs.monthly_cost(1, 1.0, 128, cold_start_fraction=1.5)


@given(
    requests,
    durations,
    memory,
    st.sampled_from(sorted(costs.PRICE_PER_GB_SECOND)),
    st.floats(0.0, 10_000.0),
    st.floats(0.0, 1.0),
)
def test_free_tier_deduction_is_never_negative_and_never_exceeds_the_gross(
    count, duration, size, architecture, init, fraction
):
    cost = costs.monthly_cost(
        count, duration, size, architecture, init_ms=init, cold_start_fraction=fraction
    )
    assert 0.0 <= cost["free_tier_deduction"] <= cost["gross"] * (1 + 1e-12) + 1e-12
    assert cost["total"] >= 0.0
    assert cost["total"] == pytest.approx(
        cost["gross"] - cost["free_tier_deduction"], rel=1e-9, abs=1e-9
    )


@given(requests, requests, durations, memory, st.booleans())
def test_cost_never_falls_when_requests_rise(first, second, duration, size, free):
    low, high = sorted((first, second))
    assert (
        costs.monthly_cost(low, duration, size, free_tier=free)["total"]
        <= costs.monthly_cost(high, duration, size, free_tier=free)["total"]
    )


@given(requests, durations, memory, memory, st.booleans())
def test_cost_never_falls_when_memory_rises_at_fixed_duration(count, duration, first, second, free):
    low, high = sorted((first, second))
    assert (
        costs.monthly_cost(count, duration, low, free_tier=free)["total"]
        <= costs.monthly_cost(count, duration, high, free_tier=free)["total"]
    )


def test_cost_by_memory_keeps_duration_constant_unless_a_floor_is_given():
    constant = costs.cost_by_memory(5_000_000, 800.0, [128, 1024])
    assert list(constant["duration ms"]) == [800.0, 800.0]
    scaled = costs.cost_by_memory(5_000_000, 800.0, [128, 1024, 3008], floor_ms=150.0)
    assert list(scaled["duration ms"]) == pytest.approx([800.0, 150.0, 150.0])
    assert costs.scaled_duration_ms(800.0, 512, floor_ms=50.0) == pytest.approx(200.0)
    # past one vCPU (1,769 MB) single-threaded R gets no faster
    assert costs.scaled_duration_ms(800.0, 3008, floor_ms=0.0) == pytest.approx(800 * 128 / 1769)


def test_cost_by_requests_has_one_row_per_count_and_zero_inside_the_free_tier():
    table = costs.cost_by_requests([1000, 1_000_000, 10_000_000], 200.0, 128)
    assert list(table["requests"]) == [1000, 1_000_000, 10_000_000]
    assert table["total $"].iloc[0] == 0.0
    assert table["total $"].iloc[2] > 0.0


def test_plot_cost_curves_draws_both_architectures_on_two_panels():
    figure = costs.plot_cost_curves(request_counts=(10_000, 1_000_000, 50_000_000))
    by_memory, by_requests = figure.axes
    # both axes linear: a log x with a linear y bent a straight bill into a hockey stick
    assert (by_requests.get_xscale(), by_requests.get_yscale()) == ("linear", "linear")
    assert [line.get_label() for line in by_memory.get_lines()] == ["x86_64", "arm64"]
    assert len(by_requests.get_lines()[0].get_xdata()) == 3
