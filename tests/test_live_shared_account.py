"""Live mode in a shared account: a prefix is required, nothing that is not yours is changed or
deleted, the series re-tags nothing, and cleanup works without the opt-in and carries on past errors.

Run against the mock endpoint configured as live (the ``live`` fixture), like test_live_mode.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import botocore.exceptions
import pytest
from live_support import push_fake_image

from helpers import cleanup, deploy, ownership, registry, session
from helpers.catchup import catch_up
from helpers.config import PROJECT_ROOT, ConfigurationError, configured_region

LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


@pytest.fixture
def opted_in(live, monkeypatch):
    monkeypatch.setenv("SERIES_LIVE_CREATE", "yes")
    return live


def _calls(account) -> list[str]:
    """Record every API call the account's session makes from now on (service:Operation)."""
    seen: list[str] = []
    session.install_hook(account.session, lambda service, operation, _: seen.append(operation))
    account._clients.clear()  # clients made from now on carry the recording hook
    return seen


def test_live_mode_without_a_prefix_is_refused_before_anything_is_called(mock_account, monkeypatch):
    monkeypatch.setenv("SERIES_MODE", "live")
    monkeypatch.delenv("SERIES_PREFIX", raising=False)
    session.disconnect()
    with pytest.raises(ConfigurationError, match="export SERIES_PREFIX=alice"):
        session.connect()
    session.disconnect()


def test_a_second_catch_up_creates_tags_and_updates_nothing(opted_in):
    push_fake_image(opted_in)
    catch_up("function", opted_in)
    calls = _calls(opted_in)
    catch_up("function", opted_in)
    changing = [op for op in calls if session.is_creating(op)]
    assert changing == [], changing  # before: TagPolicy, TagRole on every run


def test_a_same_named_role_of_someone_else_is_not_adopted(opted_in):
    iam = opted_in.client("iam")
    names = opted_in.names
    iam.create_role(
        RoleName=names.role_name,
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        Tags=[{"Key": "project", "Value": "serverless-poc"}, {"Key": "owner", "Value": "bob"}],
    )
    try:
        with pytest.raises(ownership.NotOwned, match="owner=bob") as refused:
            deploy.setup_role(opted_in)
        assert "SERIES_PREFIX" in str(refused.value)
        trust = iam.get_role(RoleName=names.role_name)["Role"]["AssumeRolePolicyDocument"]
        assert trust["Statement"] == []  # not rewritten
    finally:
        iam.delete_role(RoleName=names.role_name)


def test_cleanup_without_the_opt_in_deletes_yours_and_skips_the_rest(live, monkeypatch):
    monkeypatch.setenv("SERIES_LIVE_CREATE", "yes")
    push_fake_image(live)
    catch_up("function", live)
    iam = live.client("iam")
    names = live.names
    # a colleague's user, with the series' name for this prefix
    iam.create_user(UserName=names.user_name, Tags=[{"Key": "owner", "Value": "mallory"}])
    monkeypatch.delenv("SERIES_LIVE_CREATE")
    try:
        skipped = cleanup.not_ours(live)
        assert list(skipped["name"]) == [names.user_name]
        assert "owner=mallory" in skipped.loc[0, "reason"]
        deleted = cleanup.delete_everything(live)
        results = dict(zip(deleted.index, deleted["result"], strict=True))
        assert results[f"IAM user {names.user_name}"].startswith("skipped: not tagged")
        for resource in (
            f"Lambda function {names.function_name}",
            f"IAM role {names.role_name}",
            f"IAM policy {names.policy_name}",
            f"S3 bucket {names.models_bucket}",
            f"ECR repository {names.ecr_repository}",
        ):
            assert results[resource] == "deleted", resource
        assert cleanup.inventory(live).empty
        iam.get_user(UserName=names.user_name)  # still there, untouched
    finally:
        iam.delete_user(UserName=names.user_name)


def test_one_failed_delete_does_not_stop_the_rest(opted_in, monkeypatch):
    push_fake_image(opted_in)
    catch_up("function", opted_in)
    from helpers import iam as iam_helpers

    def denied(iam, role_name):
        raise botocore.exceptions.ClientError(
            {"Error": {"Code": "AccessDenied", "Message": "not allowed to delete roles"}},
            "DeleteRole",
        )

    monkeypatch.setattr(iam_helpers, "delete_role", denied)
    deleted = cleanup.delete_everything(opted_in)
    results = dict(zip(deleted.index, deleted["result"], strict=True))
    names = opted_in.names
    assert results[f"IAM role {names.role_name}"] == (
        "failed: AccessDenied: not allowed to delete roles"
    )
    assert results[f"S3 bucket {names.models_bucket}"] == "deleted"
    assert results[f"ECR repository {names.ecr_repository}"] == "deleted"
    monkeypatch.undo()


def test_notebook_11_run_live_without_the_opt_in_leaves_nothing_of_yours(
    live, monkeypatch, tmp_path
):
    from helpers.series import run_notebook

    monkeypatch.setenv("SERIES_LIVE_CREATE", "yes")
    push_fake_image(live)
    catch_up("function", live)
    iam = live.client("iam")
    iam.create_role(
        RoleName="BobServerlessPOC",
        AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST),
        Tags=[{"Key": "project", "Value": "serverless-poc"}, {"Key": "owner", "Value": "bob"}],
    )
    monkeypatch.delenv("SERIES_LIVE_CREATE")
    monkeypatch.setenv("SERIES_BUILD_DIR", str(tmp_path / "build"))
    try:
        result = run_notebook(
            Path(PROJECT_ROOT) / "notebooks" / "11_cleanup.ipynb", store_to=tmp_path / "run"
        )
        assert result.status == "passed", result.error
        assert cleanup.inventory(live).empty
        iam.get_role(RoleName="BobServerlessPOC")  # another prefix's role is untouched
    finally:
        iam.delete_role(RoleName="BobServerlessPOC")


def test_docker_push_needs_the_opt_in_too(live, monkeypatch):
    monkeypatch.setenv("SERIES_LIVE_CREATE", "yes")
    registry.ensure_repository(live, live.names.ecr_repository)
    monkeypatch.delenv("SERIES_LIVE_CREATE")

    def no_build(plan):
        raise AssertionError("nothing may be built or pushed without the opt-in")

    monkeypatch.setattr(registry, "_built_image", no_build)
    with pytest.raises(session.LiveModeNotConfirmed, match="ecr:PutImage"):
        registry.ensure_image(live)


def test_the_live_region_comes_from_the_profile_like_the_cli(monkeypatch, tmp_path):
    config = tmp_path / "config"
    config.write_text("[default]\nregion = eu-west-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    assert configured_region("live") == "eu-west-1"
    assert configured_region("mock") == "us-east-1"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    assert configured_region("live") == "ap-south-1"


def test_lambda_unable_to_pull_a_shared_image_says_what_the_owner_must_do(opted_in):
    def create():
        raise botocore.exceptions.ClientError(
            {
                "Error": {
                    "Code": "AccessDeniedException",
                    "Message": "Lambda does not have permission to access the ECR image. "
                    "Check the ECR permissions.",
                }
            },
            "CreateFunction",
        )

    with pytest.raises(deploy.ImagePullDenied, match="repository policy"):
        deploy._retry_role_propagation(opted_in, create)
