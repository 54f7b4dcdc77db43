"""The workshop sweep (helpers.sweep): every participant's resources, by their tags, and proof that
none is left — against the mock endpoint configured as live, with two participants."""

from __future__ import annotations

import json

import pytest

from helpers import session, sweep
from helpers.catchup import catch_up

DEMO = "AnnServerlessPOCDemo"


def _connect_as(monkeypatch, prefix: str):
    monkeypatch.setenv("SERIES_MODE", "live")
    monkeypatch.setenv("SERIES_PREFIX", prefix)
    monkeypatch.setenv("SERIES_LIVE_CREATE", "yes")
    session.disconnect()
    return session.connect()


@pytest.fixture
def workshop(mock_account, monkeypatch):
    """Two participants' resources (ann: model and role; bob: model), a log group left untagged
    by a deleted function of ann's, a role of ann's tagged with the project but no owner (as
    notebook 3 tags its demo role), and a bucket that is not the series'."""
    monkeypatch.delenv("SERIES_IMAGE_URI", raising=False)
    ann = _connect_as(monkeypatch, "ann")
    catch_up("role", ann)
    logs = ann.client("logs")
    logs.create_log_group(logGroupName=f"/aws/lambda/{ann.names.function_name}")
    ann.client("iam").create_role(
        RoleName=DEMO,
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        Tags=[{"Key": "project", "Value": "serverless-poc"}],
    )
    bob = _connect_as(monkeypatch, "bob")
    catch_up("model", bob)
    s3 = bob.client("s3")
    s3.create_bucket(Bucket="someone-elses-data")
    monkeypatch.delenv("SERIES_LIVE_CREATE")
    session.disconnect()
    yield ann, bob
    s3.delete_bucket(Bucket="someone-elses-data")
    for role in (DEMO,):
        try:
            ann.client("iam").delete_role(RoleName=role)
        except ann.client("iam").exceptions.NoSuchEntityException:
            pass
    for page in logs.get_paginator("describe_log_groups").paginate(
        logGroupNamePrefix="/aws/lambda/"
    ):
        for group in page["logGroups"]:
            logs.delete_log_group(logGroupName=group["logGroupName"])


def test_the_survey_finds_every_participants_resources_by_owner(workshop):
    ann, bob = workshop
    found = sweep.survey(ann.session, ann.region)
    mine = found[found["owner"] == "ann"]
    assert set(mine["kind"]) == {"S3 bucket", "IAM role", "IAM policy"}
    assert ann.names.role_name in set(mine["name"]) and ann.names.policy_name in set(mine["name"])
    assert set(found[found["owner"] == "bob"]["name"]) == {bob.names.models_bucket}
    untagged = found[found["owner"] == ""]
    assert set(untagged["name"]) == {f"/aws/lambda/{ann.names.function_name}", DEMO}
    notes = dict(zip(untagged["name"], untagged["note"], strict=True))
    assert notes[DEMO] == "no owner tag"
    assert "function gone" in notes[f"/aws/lambda/{ann.names.function_name}"]
    assert "someone-elses-data" not in set(found["name"])
    counts = dict(zip(*sweep.by_owner(found).to_dict("list").values(), strict=True))
    assert counts == {"": 2, "ann": 3, "bob": 1}
    only_bob = sweep.survey(ann.session, ann.region, owners=["bob"])
    assert set(only_bob["owner"]) == {"bob", ""}  # the untagged ones belong to no one: always shown


def test_delete_removes_each_owners_tagged_resources_and_lists_what_is_left(workshop, capsys):
    ann, _ = workshop
    assert sweep.main([]) == 1  # listing only: things are left
    listing = capsys.readouterr().out
    assert ann.names.role_name in listing and "--delete" in listing
    assert sweep.main(["--delete"]) == 1  # the role without an owner tag is not deleted
    out = capsys.readouterr().out
    assert "deleting what is tagged owner=ann" in out and "deleting what is tagged owner=bob" in out
    assert f"IAM role {DEMO}" in out and "skipped: not tagged" in out  # cleanup's own verdict
    assert f"aws iam delete-role --role-name {DEMO}" in out
    left = sweep.survey(ann.session, ann.region)
    assert list(left["name"]) == [DEMO]  # the function-less log group went with ann's cleanup
    assert "someone-elses-data" in {
        bucket["Name"] for bucket in ann.client("s3").list_buckets()["Buckets"]
    }
    ann.client("iam").delete_role(RoleName=DEMO)
    assert sweep.main([]) == 0
    assert "nothing of the series is left" in capsys.readouterr().out


def test_the_sweep_session_cannot_create_anything(mock_account, monkeypatch):
    monkeypatch.delenv("SERIES_LIVE_CREATE", raising=False)
    client = sweep._session("us-east-1").client("s3")
    with pytest.raises(session.LiveModeNotConfirmed):
        client.create_bucket(Bucket="made-by-a-sweep")
