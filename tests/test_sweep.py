"""The workshop sweep (helpers.sweep): every participant's resources, by their tags, and proof that
none is left — against the mock endpoint configured as live, with two participants."""

from __future__ import annotations

import json
import re

import pytest
import requests

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


def test_without_the_opt_in_a_usage_plan_may_be_detached_from_its_stages_and_nothing_else(
    monkeypatch,
):
    monkeypatch.delenv("SERIES_LIVE_CREATE", raising=False)
    detach = {"patchOperations": [{"op": "remove", "path": "/apiStages", "value": "a1:prod"}]}
    session.refuse_unconfirmed_changes("apigateway", "UpdateUsagePlan", detach)  # let through
    for params in (
        {"patchOperations": [{"op": "replace", "path": "/quota/limit", "value": "1000000"}]},
        {"patchOperations": [*detach["patchOperations"], {"op": "add", "path": "/apiStages"}]},
        {"patchOperations": []},
    ):
        with pytest.raises(session.LiveModeNotConfirmed):
            session.refuse_unconfirmed_changes("apigateway", "UpdateUsagePlan", params)
    with pytest.raises(session.LiveModeNotConfirmed):
        session.refuse_unconfirmed_changes("apigateway", "UpdateStage", detach)


# --------------------------------------------------------------------------- notebooks 9 and 10


def _no_website_fetch(url, **kwargs):
    raise requests.ConnectionError(f"no network to {url} in tests")


@pytest.fixture
def workshop_with_apis(mock_account, monkeypatch):
    """Ann and Bob each through notebook 10: function, REST API with both resources and
    permissions, key and usage plan, the quota demonstration's key and plan, and the site bucket
    with its page. Beside them a REST API and an API key with Ann's names but no tags (made by
    hand in the console, say), and an untagged usage plan with the series' stem in its name."""
    from live_support import push_fake_image

    from helpers import api, cleanup, registry, web_page

    monkeypatch.delenv("SERIES_IMAGE_URI", raising=False)
    monkeypatch.setattr(registry, "engine_problem", lambda: "there is no Docker engine (test).")
    monkeypatch.setattr(web_page, "fetch", _no_website_fetch)  # a live website is on the internet
    participants = []
    for prefix in ("ann", "bob"):
        account = _connect_as(monkeypatch, prefix)
        push_fake_image(account)
        catch_up("function", account)
        built = api.ensure_admission_api(account)
        api.access.ensure_demo_access(account, built.api_id, built.stage)
        web_page.publish(account, built.url, "key-value-not-used-here")
        participants.append(account)
    ann = participants[0]
    apigateway = ann.client("apigateway")
    stray_api = apigateway.create_rest_api(name=ann.names.api_name)["id"]
    stray_key = apigateway.create_api_key(name=ann.names.api_key_name, enabled=True)["id"]
    stray_plan = apigateway.create_usage_plan(name="ServerlessPOCHandMade")["id"]
    monkeypatch.delenv("SERIES_LIVE_CREATE")
    session.disconnect()
    yield ann, participants[1], {"REST API": stray_api, "API key": stray_key, "plan": stray_plan}
    monkeypatch.setenv("SERIES_LIVE_CREATE", "yes")
    for found in apigateway.get_usage_plans()["items"]:
        api.access.delete_usage_plan(ann, found["id"])
    for found in apigateway.get_api_keys()["items"]:
        apigateway.delete_api_key(apiKey=found["id"])
    for found in apigateway.get_rest_apis()["items"]:
        apigateway.delete_rest_api(restApiId=found["id"])
    for account in participants:
        cleanup.delete_everything(account)
    session.disconnect()


def test_the_survey_lists_each_owners_api_pieces_and_site_and_the_untagged_ones(
    workshop_with_apis,
):
    ann, bob, stray = workshop_with_apis
    from helpers.web_page import site_bucket_name

    found = sweep.survey(ann.session, ann.region)
    for account in (ann, bob):
        names, mine = account.names, found[found["owner"] == account.settings.prefix]
        listed = set(zip(mine["kind"], mine["name"], strict=True))
        assert {
            ("REST API", names.api_name),
            ("API key", names.api_key_name),
            ("API key", names.demo_api_key_name),
            ("usage plan", names.usage_plan_name),
            ("usage plan", names.demo_usage_plan_name),
            ("S3 bucket", site_bucket_name(names)),
            ("Lambda function", names.function_name),
        } <= listed
        api_rows = mine[mine["kind"].isin(["REST API", "API key", "usage plan"])]
        assert len(api_rows) == 5 and all(api_rows["id"])  # ids: names need not be unique
        assert stray["REST API"] not in set(api_rows["id"])
    unowned = found[found["owner"] == ""].set_index("id")
    assert unowned.loc[stray["REST API"], "name"] == ann.names.api_name
    assert unowned.loc[stray["REST API"], "note"] == "untagged: found by its name"
    assert unowned.loc[stray["API key"], "kind"] == "API key"
    assert unowned.loc[stray["plan"], "kind"] == "usage plan"


def test_delete_removes_each_owners_api_and_site_and_leaves_the_untagged_ones(
    workshop_with_apis, capsys
):
    ann, bob, stray = workshop_with_apis
    from helpers.web_page import site_bucket_name

    assert sweep.main(["--delete"]) == 1  # the untagged items are left
    out = capsys.readouterr().out
    for account in (ann, bob):
        names = account.names
        for resource in (
            f"usage plan {names.demo_usage_plan_name}",
            f"usage plan {names.usage_plan_name}",
            f"API key {names.api_key_name}",
            f"REST API {names.api_name}",
            f"S3 bucket {site_bucket_name(names)}",
        ):
            assert re.search(rf"{re.escape(resource)}\s+deleted", out), resource
    left = sweep.survey(ann.session, ann.region)
    assert set(left["id"]) == set(stray.values())  # all of ann's and bob's gone, nothing else
    assert set(left["owner"]) == {""}
    apigateway = ann.client("apigateway")
    assert apigateway.get_rest_api(restApiId=stray["REST API"])["name"] == ann.names.api_name
    assert apigateway.get_api_key(apiKey=stray["API key"])["name"] == ann.names.api_key_name
    buckets = {bucket["Name"] for bucket in ann.client("s3").list_buckets()["Buckets"]}
    assert not {site_bucket_name(ann.names), site_bucket_name(bob.names)} & buckets
    # what is left gets the commands to remove it by hand, the plan before the key and the API
    hand = out[out.index("remove them by hand") :]
    plan_at = hand.index(f"aws apigateway delete-usage-plan --usage-plan-id {stray['plan']}")
    key_at = hand.index(f"aws apigateway delete-api-key --api-key {stray['API key']}")
    api_at = hand.index(f"aws apigateway delete-rest-api --rest-api-id {stray['REST API']}")
    assert plan_at < key_at < api_at
