"""Where no Docker engine runs, image functions can be created, and invoking one says how to get one."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def no_engine(monkeypatch, tmp_path):
    """The docker client pointed at a socket nobody serves: as on a machine without an engine."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")


def test_an_image_function_is_created_and_its_invoke_explains_the_missing_engine(
    no_engine, mock_session, mock_role, mock_function
):
    client = mock_session.client("lambda")
    client.create_function(
        FunctionName="image-without-engine",
        Role=mock_role(),
        PackageType="Image",
        Code={"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/admission:1"},
    )
    with pytest.raises(client.exceptions.ServiceException) as failure:
        client.invoke(FunctionName="image-without-engine", Payload=b"{}")
    message = str(failure.value)
    assert "No Docker engine is running here" in message and "make engine" in message
    assert failure.value.response["ResponseMetadata"]["HTTPStatusCode"] == 502
    # zip functions are not affected
    name = mock_function("def lambda_handler(event, context):\n    return {'zip': True}\n")
    assert json.loads(client.invoke(FunctionName=name)["Payload"].read()) == {"zip": True}


def test_a_dry_run_of_an_image_function_needs_no_engine(no_engine, mock_session, mock_role):
    """DryRun checks the caller's permission and the parameters; it never runs the code."""
    client = mock_session.client("lambda")
    client.create_function(
        FunctionName="image-dry-run",
        Role=mock_role(),
        PackageType="Image",
        Code={"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/admission:1"},
    )
    answer = client.invoke(FunctionName="image-dry-run", InvocationType="DryRun", Payload=b"{}")
    assert answer["StatusCode"] == 204
