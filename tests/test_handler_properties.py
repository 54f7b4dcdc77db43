"""Property-based tests of the handler: random and malformed events never crash it unhandled and
never get a silently wrong answer."""

from __future__ import annotations

import json
import math

import boto3
import pytest
from handler_support import context, fresh_environment, import_handler, upload_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from helpers import r_model

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
plausible_gre = st.one_of(
    st.integers(100, 900), st.floats(100, 900), st.integers(100, 900).map(str)
)
plausible_gpa = st.one_of(st.floats(-1, 5), st.floats(-1, 5).map(lambda x: f"{x:.2f}"))
plausible_rank = st.one_of(
    st.integers(0, 6), st.sampled_from(["1", "2", "3", "4", "5", " 2 ", "1.0", "x"])
)

events = st.one_of(
    st.fixed_dictionaries(
        {"gre": st.one_of(plausible_gre, scalars), "gpa": st.one_of(plausible_gpa, scalars)},
        optional={"rank": st.one_of(plausible_rank, scalars), "extra": scalars},
    ),
    scalars,
    st.text(max_size=30),
)


@pytest.fixture(scope="module")
def exported(admission_model):
    return admission_model.export_coefficients()


@pytest.fixture(scope="module")
def handler(model_file, tmp_path_factory):
    import os
    import tempfile

    saved = {
        name: os.environ.get(name)
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL")
    }
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    os.environ.pop("AWS_ENDPOINT_URL", None)
    saved_tempdir = tempfile.tempdir
    with mock_aws():
        upload_model(model_file)
        module = import_handler()
        fresh_environment(
            module, boto3.client("s3", region_name="us-east-1"), tmp_path_factory.mktemp("tmp")
        )
        yield module
    tempfile.tempdir = saved_tempdir
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _expected_valid(event) -> tuple[float, float, str] | None:
    """An independent statement of which events are valid, to compare the handler with."""
    if isinstance(event, str):
        try:
            event = json.loads(event)
        except ValueError:
            return None
    if not isinstance(event, dict):
        return None

    def number(value, low, high):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            return None
        try:
            x = float(value)
        except ValueError:
            return None
        return x if math.isfinite(x) and low <= x <= high else None

    gre, gpa = number(event.get("gre"), 200, 800), number(event.get("gpa"), 0, 4)
    rank = event.get("rank")
    if isinstance(rank, float) and rank.is_integer():
        rank = int(rank)
    label = rank.strip() if isinstance(rank, str) else (str(rank) if type(rank) is int else None)
    if gre is None or gpa is None or label not in ("1", "2", "3", "4"):
        return None
    return gre, gpa, label


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(event=events)
def test_any_event_gives_a_correct_answer_or_a_400(handler, exported, event):
    expected = _expected_valid(event)
    try:
        answer = handler.lambda_handler(event, context("prop"))
    except handler.BadRequest as error:
        payload = json.loads(str(error))
        assert payload["httpStatus"] == 400 and payload["message"]
        assert expected is None, f"valid event {event!r} was refused: {payload['message']}"
        return
    assert expected is not None, f"invalid event {event!r} was answered {answer!r}"
    gre, gpa, rank = expected
    probability = r_model.predict_from_coefficients(exported, gre, gpa, rank)
    assert answer["probability"] == pytest.approx(probability, abs=1e-12)
    assert answer["result"] is (probability > 0.5)
