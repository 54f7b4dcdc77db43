"""The live-mode code path, exercised against a local mock endpoint configured as if it were live.

``SERIES_MODE=live`` with a prefix and the endpoint override (``AWS_ENDPOINT_URL``, which the
mock account sets): the helpers use the live names, the live session (with its opt-in hook) and
the container-image route, exactly as they would against AWS.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from live_support import PREFIX, push_fake_image

from helpers import cleanup, image, registry, session
from helpers.catchup import catch_up
from helpers.config import PROJECT_ROOT


def test_live_names_carry_the_prefix_and_buckets_the_account_id(live):
    names = live.names
    assert live.mode == "live"
    assert names.models_bucket == f"{PREFIX}-serverless-poc-models-{live.account_id}"
    assert names.role_name == "AliceServerlessPOC"
    assert names.function_name == "AliceServerlessPOCAdmission"
    assert names.ecr_repository == f"{PREFIX}-serverless-poc-admission"


def test_without_opt_in_nothing_is_created_and_the_message_says_how(live):
    assert live.client("sts").get_caller_identity()["Account"] == live.account_id  # reading is fine
    with pytest.raises(session.LiveModeNotConfirmed, match="SERIES_LIVE_CREATE=yes") as refused:
        catch_up("function", live)
    assert "s3:CreateBucket" in str(refused.value)
    assert live.names.models_bucket in str(refused.value)
    assert cleanup.inventory(live).empty


def test_opted_in_the_series_runs_the_image_route_tags_everything_and_cleanup_leaves_nothing(
    live, monkeypatch
):
    monkeypatch.setenv("SERIES_LIVE_CREATE", "yes")
    image_uri = push_fake_image(live)
    state = catch_up("function", live)
    names = live.names

    function = live.client("lambda").get_function(FunctionName=names.function_name)
    assert function["Configuration"]["PackageType"] == "Image"
    assert function["Code"]["ImageUri"] == image_uri
    assert function["Tags"]["project"] == "serverless-poc"
    assert function["Tags"]["owner"] == PREFIX
    bucket_tags = live.client("s3").get_bucket_tagging(Bucket=names.models_bucket)["TagSet"]
    assert {"Key": "owner", "Value": PREFIX} in bucket_tags
    role_tags = live.client("iam").list_role_tags(RoleName=names.role_name)["Tags"]
    assert {"Key": "project", "Value": "serverless-poc"} in role_tags
    assert state.role_arn.endswith(f":role/{names.role_name}")

    found = cleanup.inventory(live)
    assert set(found["name"]) >= {names.function_name, names.role_name, names.models_bucket}
    assert "ECR repository" in set(found["kind"])

    deleted = cleanup.delete_everything(live)
    assert deleted.loc[f"ECR repository {names.ecr_repository}", "result"] == "deleted"
    assert cleanup.inventory(live).empty


def test_running_twice_live_changes_nothing_the_second_time(live, monkeypatch):
    monkeypatch.setenv("SERIES_LIVE_CREATE", "yes")
    push_fake_image(live)
    catch_up("function", live)
    again = catch_up("function", live)
    assert again.table().loc["function", "result"].endswith("(unchanged)")


def test_an_image_index_in_ecr_is_refused_before_lambda_sees_it(live, monkeypatch):
    monkeypatch.setenv("SERIES_LIVE_CREATE", "yes")
    push_fake_image(live, "application/vnd.oci.image.index.v1+json")
    with pytest.raises(registry.ImageIsAnIndex, match="single-platform") as refused:
        catch_up("function", live)
    assert "--provenance=false" in str(refused.value)
    functions = live.client("lambda").list_functions()["Functions"]
    assert live.names.function_name not in {f["FunctionName"] for f in functions}


def test_the_content_tag_covers_the_build_settings():
    offline = image.BuildSettings(base_image="serverless-poc-base:bookworm-x", offline=True)
    online = image.BuildSettings(base_image="debian:bookworm-slim", offline=False)
    assert image.content_tag(offline) == image.content_tag(offline)
    assert image.content_tag(offline) != image.content_tag(online)
    arm = image.BuildSettings(
        base_image="debian:bookworm-slim", offline=False, platform="linux/arm64"
    )
    assert image.content_tag(arm) != image.content_tag(online)


def test_a_given_image_uri_is_used_without_docker_or_ecr(live, monkeypatch):
    monkeypatch.setenv("SERIES_LIVE_CREATE", "yes")
    monkeypatch.setenv("SERIES_IMAGE_URI", "444455556666.dkr.ecr.us-east-1.amazonaws.com/shared:v1")
    catch_up("function", live)
    code = live.client("lambda").get_function(FunctionName=live.names.function_name)["Code"]
    assert code["ImageUri"] == "444455556666.dkr.ecr.us-east-1.amazonaws.com/shared:v1"
    assert "ECR repository" not in set(cleanup.inventory(live)["kind"])


def test_without_docker_and_without_an_image_the_error_says_what_to_do(live, monkeypatch):
    monkeypatch.setenv("SERIES_LIVE_CREATE", "yes")
    with pytest.raises(registry.ImageUnavailable, match="SERIES_IMAGE_URI") as failure:
        catch_up("function", live)
    assert "no Docker engine" in str(failure.value)


def test_plan_mode_prints_the_calls_and_makes_none(live, tmp_path):
    env = {**os.environ, "SERIES_PREFIX": "bob", "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "helpers.plan"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    bucket = f"bob-serverless-poc-models-{live.account_id}"
    assert f"account {live.account_id}" in done.stdout  # read from the 'live' endpoint
    for expected in (
        "CreateBucket",
        f"Bucket={bucket}",
        "CreateRole",
        "CreateFunction",
        "PutRule",
    ):
        assert expected in done.stdout
    assert "total" in done.stdout
    s3 = live.client("s3")
    assert bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}, (
        "the plan created something"
    )


def test_the_dockerfile_builds_what_the_live_function_needs():
    from helpers.packaging import dockerfile_summary, requirement_pins

    summary = dockerfile_summary()
    assert summary["entrypoint"] == ["python", "-m", "awslambdaric"]
    assert summary["cmd"] == ["handler.lambda_handler"]
    assert "r-base-core" in summary["apt_packages"]
    pins = requirement_pins(Path(PROJECT_ROOT / "lambda_package" / "requirements.txt"))
    assert pins["rpy2"] == "3.6.6" and "awslambdaric" in pins
    assert set(image.IMAGE_INPUTS) <= {
        path.name for path in (PROJECT_ROOT / "lambda_package").iterdir()
    }
