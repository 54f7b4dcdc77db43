"""``make live-check``: its refusals, its report, and cleanup after a failed notebook.

No notebook runs here: the orchestration is driven with a fake notebook runner that does real
work in a mock account seen as live (the ``live`` fixture). Also here: the live-mode defects the
check found against the mock account (URLs that assumed AWS, live-only services it lacks).
"""

from __future__ import annotations

import json
import socket
import statistics
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from helpers import cleanup, costs, live_check, live_only, web_page
from helpers.api import urls
from helpers.catchup import catch_up
from helpers.live_check_report import (
    CheckResult,
    InvokeFigures,
    Observation,
    cleanup_rows,
    cost_rows,
    format_report,
    skipped_lines,
)
from helpers.series import NotebookRun

READY = {"SERIES_MODE": "live", "SERIES_PREFIX": "ci", "SERIES_LIVE_CREATE": "yes"}


# -- refusals ----------------------------------------------------------------------------------------
def _one_line(message: str | None) -> str:
    assert message is not None
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("environ", "to_set"),
    [
        ({**READY, "SERIES_MODE": "mock"}, "SERIES_MODE=live"),
        ({k: v for k, v in READY.items() if k != "SERIES_MODE"}, "SERIES_MODE=live"),
        ({k: v for k, v in READY.items() if k != "SERIES_PREFIX"}, "SERIES_PREFIX"),
        ({**READY, "SERIES_PREFIX": "!!!"}, "SERIES_PREFIX"),
        ({k: v for k, v in READY.items() if k != "SERIES_LIVE_CREATE"}, "SERIES_LIVE_CREATE=yes"),
        ({**READY, "SERIES_LIVE_CREATE": "no"}, "SERIES_LIVE_CREATE=yes"),
    ],
    ids=["mock mode", "no mode", "no prefix", "prefix without letters", "no opt-in", "opt-in no"],
)
def test_settings_that_do_not_allow_a_live_run_are_refused_in_one_line(environ, to_set):
    assert f"set {to_set}" in _one_line(live_check.settings_refusal(environ))


def test_settings_for_a_live_run_pass():
    assert live_check.settings_refusal(READY) is None


def test_no_credentials_is_refused_in_one_line(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    message = _one_line(live_check.account_refusal("us-east-1"))
    assert "no AWS credentials" in message and "AWS_PROFILE" in message


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_endpoint_is_refused_in_one_line(monkeypatch):
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAMOCKACCOUNTROOT0")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-real-secret")
    message = _one_line(live_check.account_refusal("us-east-1"))
    assert f"cannot reach {endpoint}" in message and "AWS_ENDPOINT_URL" in message


@pytest.mark.parametrize(
    ("key_id", "code"),
    [
        ("AKIAMOCKACCOUNTROOT0", "SignatureDoesNotMatch"),
        ("AKIAUNKNOWNKEY000000", "InvalidClientTokenId"),
    ],
    ids=["wrong secret", "unknown key"],
)
def test_credentials_the_endpoint_refuses_are_refused_in_one_line(
    mock_account, monkeypatch, key_id, code
):
    monkeypatch.setenv("AWS_ENDPOINT_URL", mock_account.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x" * 40)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    message = _one_line(live_check.account_refusal("us-east-1"))
    assert f"refused the credentials ({code})" in message and "renew" in message


def test_expired_credentials_are_refused_in_one_line():
    sts = boto3.client(
        "sts", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    with Stubber(sts) as stub:
        stub.add_client_error("get_caller_identity", "ExpiredToken", "The token has expired.", 403)
        message = _one_line(live_check.account_refusal(sts=sts))
    assert "refused the credentials (ExpiredToken)" in message and "aws sso login" in message


def test_the_running_mock_account_passes(mock_account, monkeypatch):
    for name, value in mock_account.environment().items():
        monkeypatch.setenv(name, value)
    assert live_check.account_refusal() is None


def test_main_refuses_before_running_anything(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("SERIES_MODE", "live")
    monkeypatch.delenv("SERIES_PREFIX", raising=False)
    started = []
    monkeypatch.setattr(live_check, "run_check", lambda *a, **k: started.append(a))
    assert live_check.main(["--out", str(tmp_path / "out")]) == 2
    assert started == [] and not (tmp_path / "out").exists()
    assert "set SERIES_PREFIX" in _one_line(capsys.readouterr().err.strip())


# -- orchestration: cleanup after a failed notebook -------------------------------------------------
def _executed_copy(path: Path, source: str, stream: str = "", result: str = "") -> None:
    """An executed notebook as nbclient stores it: one code cell with its outputs."""
    outputs = []
    if stream:
        outputs.append({"output_type": "stream", "name": "stdout", "text": stream})
    if result:
        outputs.append(
            {"output_type": "execute_result", "data": {"text/plain": result}, "metadata": {}}
        )
    cell = {"cell_type": "code", "source": source, "outputs": outputs, "metadata": {}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4}))


def _series(tmp_path: Path) -> list[Path]:
    names = ["01_creates.ipynb", "02_fails.ipynb", "03_skips.ipynb", "11_cleanup.ipynb"]
    return [tmp_path / "notebooks" / name for name in names]


def test_cleanup_runs_after_a_failed_notebook_and_the_report_says_what_happened(
    live, monkeypatch, tmp_path
):
    monkeypatch.setenv("SERIES_LIVE_CREATE", "yes")
    out = tmp_path / "out"
    order = []

    def runner(path: Path) -> NotebookRun:
        order.append(path.name)
        if path.name.startswith("01"):
            catch_up("model", live)  # a real bucket and object, tagged with the prefix
        if path.name.startswith("02"):
            return NotebookRun(path.stem, "failed", 1.0, "ValueError: broken on purpose")
        if path.name.startswith("03"):
            _executed_copy(out / path.name, "x = 1", stream="skipped: a service: not here\n")
        if path.name.startswith("11"):
            deleted = cleanup.delete_everything(live)
            _executed_copy(
                out / path.name,
                "deleted = cleanup.delete_everything(account)\ndeleted",
                result=deleted.to_string(),
            )
        return NotebookRun(path.stem, "passed", 2.0)

    result = live_check.run_check(
        _series(tmp_path), runner, connect=lambda: live, out_dir=out, progress=lambda _: None
    )
    assert order == ["01_creates.ipynb", "02_fails.ipynb", "03_skips.ipynb", "11_cleanup.ipynb"]
    assert [run.status for run in result.runs] == ["passed", "failed", "passed", "passed"]
    assert ("S3 bucket", live.names.models_bucket) in result.observation.left
    assert (f"S3 bucket {live.names.models_bucket}", "deleted") in result.cleanup_rows
    assert result.inventory_after == [] and result.fallback_rows == []
    assert result.skipped == [("03_skips", "skipped: a service: not here")]
    assert not result.ok  # a notebook failed, even though the account is clean
    report = format_report(result)
    assert "02_fails" in report and "ValueError: broken on purpose" in report
    assert "live-check FAILED: 1 notebook(s) failed" in report


def test_when_the_cleanup_notebook_fails_the_check_deletes_what_is_left(
    live, monkeypatch, tmp_path
):
    monkeypatch.setenv("SERIES_LIVE_CREATE", "yes")

    def runner(path: Path) -> NotebookRun:
        if path.name.startswith("01"):
            catch_up("model", live)
        if path.name.startswith("11"):
            raise RuntimeError("the kernel died")  # nothing deleted by the notebook
        return NotebookRun(path.stem, "passed", 1.0)

    result = live_check.run_check(
        _series(tmp_path), runner, connect=lambda: live, out_dir=tmp_path, progress=lambda _: None
    )
    assert result.runs[-1].status == "failed" and "the kernel died" in result.runs[-1].error
    assert (f"S3 bucket {live.names.models_bucket}", "deleted") in result.fallback_rows
    assert result.inventory_after == []
    assert cleanup.inventory(live).empty


def test_the_inventory_after_cleanup_includes_anything_tagged_with_the_prefix(live, monkeypatch):
    monkeypatch.setenv("SERIES_LIVE_CREATE", "yes")
    s3 = live.client("s3")
    stray = f"{live.settings.prefix}-stray-{live.account_id}"  # not a series name
    s3.create_bucket(Bucket=stray)
    s3.put_bucket_tagging(
        Bucket=stray,
        Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in live.tags.items()]},
    )
    try:
        left = live_check.remaining(live)
    finally:
        s3.delete_bucket(Bucket=stray)
    assert ("S3 bucket", f"{stray} (tagged owner={live.settings.prefix})") in left
    assert not any(stray in name for _, name in live_check.remaining(live))


# -- the report --------------------------------------------------------------------------------------
def _fake_result(seconds: float = 600.0) -> CheckResult:
    reports = [
        {"duration_ms": 900.0, "billed_ms": 3900.0, "memory_mb": 512, "init_ms": 3000.0},
        {"duration_ms": 40.0, "billed_ms": 40.0, "memory_mb": 512},
        {"duration_ms": 60.0, "billed_ms": 60.0, "memory_mb": 512},
    ]
    return CheckResult(
        runs=[
            NotebookRun("01_setup_and_modes", "passed", 9.5),
            NotebookRun("11_cleanup", "passed", 12.25),
        ],
        observation=Observation(
            left=[("S3 bucket", "ci-serverless-poc-models-123456789012")],
            figures=InvokeFigures.from_reports(reports),
            image_bytes=150_000_000,
        ),
        cleanup_rows=[("S3 bucket ci-serverless-poc-models-123456789012", "deleted")],
        inventory_after=[],
        skipped=[("04_policy_json", "skipped: IAM Access Analyzer: not AWS")],
        seconds=seconds,
    )


def test_the_report_lists_notebooks_resources_skips_figures_and_cost():
    result = _fake_result()
    report = format_report(result)
    assert "01_setup_and_modes  passed      9.5 s" in report
    assert "11_cleanup          passed     12.2 s" in report  # 12.25 rounds to even
    assert "S3 bucket ci-serverless-poc-models-123456789012  deleted" in report
    assert "empty: nothing of this prefix remains" in report
    assert "04_policy_json: skipped: IAM Access Analyzer: not AWS" in report
    assert "3 calls: 1 cold (Init Duration median 3,000 ms" in report
    assert "2 warm (duration median 50 ms)" in report
    total = sum(usd for _, _, usd in cost_rows(result))
    assert "total" in report and f"{total:>10.6f} USD" in report
    assert report.rstrip().endswith("live-check PASSED")


def test_the_cost_is_priced_with_helpers_costs():
    result = _fake_result(seconds=costs.SECONDS_PER_DAY * 30)  # a month: storage at its full price
    rows = {item: usd for item, _, usd in cost_rows(result)}
    gb_s = (3900 + 40 + 60) / 1000 * 512 / 1024
    assert rows["Lambda compute"] == pytest.approx(gb_s * costs.PRICE_PER_GB_SECOND["x86_64"])
    assert rows["Lambda requests"] == pytest.approx(3 / 1e6 * costs.PRICE_PER_MILLION_REQUESTS)
    assert rows["ECR image storage"] == pytest.approx(0.15 * costs.ECR_PRICE_PER_GB_MONTH)
    assert rows["API Gateway REST requests"] == pytest.approx(
        200 / 1e6 * costs.REST_API_PRICE_PER_MILLION
    )


def test_a_report_with_leftovers_fails_and_says_so():
    result = _fake_result()
    result.inventory_after = [("IAM role", "CiServerlessPOC")]
    report = format_report(result)
    assert not result.ok
    assert "IAM role  CiServerlessPOC" in report
    assert report.rstrip().endswith("live-check FAILED: 1 resource(s) remain")


def test_figures_split_cold_from_warm_calls():
    figures = _fake_result().observation.figures
    assert figures.cold_init_ms == [3000.0]
    assert statistics.median(figures.warm_duration_ms) == 50.0


def test_executed_copies_are_read_for_skips_and_cleanup_rows(tmp_path):
    copy = tmp_path / "nb.ipynb"
    table = (
        "                                    result\n"
        "resource                                  \n"
        "S3 bucket ci-site                  deleted\n"
        "IAM role CiServerlessPOCDemo     not found\n"
        "IAM user CiLearner   skipped: owner=bob\n"
    )
    _executed_copy(
        copy, "deleted = cleanup.delete_everything(account)", "  skipped: x: y\nok\n", table
    )
    assert skipped_lines(copy) == ["skipped: x: y"]
    assert cleanup_rows(copy) == [
        ("S3 bucket ci-site", "deleted"),
        ("IAM role CiServerlessPOCDemo", "not found"),
        ("IAM user CiLearner", "skipped: owner=bob"),
    ]
    assert skipped_lines(tmp_path / "missing.ipynb") == []


def test_the_secret_scan_covers_the_executed_copies():
    from test_no_secrets import SCANNED_NOTEBOOK_FOLDERS

    from helpers.config import PROJECT_ROOT

    assert live_check.OUT_DIR.name == "live-check"
    assert PROJECT_ROOT / "build" / "live-check" in SCANNED_NOTEBOOK_FOLDERS


# -- live mode against an endpoint that is not AWS -------------------------------------------------------
def test_the_api_url_is_the_endpoints_own_when_live_mode_points_at_the_mock(live):
    endpoint = live.client("apigateway").meta.endpoint_url
    assert urls.invoke_url(live, "abc123") == urls.mock_url(endpoint, "abc123")


def test_the_site_url_is_the_mock_website_host_when_live_mode_points_at_the_mock(live):
    port = live.client("s3").meta.endpoint_url.rsplit(":", 1)[-1]
    bucket = web_page.site_bucket_name(live.names)
    assert web_page.website_url(live) == f"http://{bucket}.s3-website-us-east-1.localhost:{port}"


def test_a_live_only_service_the_mock_lacks_is_skipped_with_its_reason(live):
    analyzer = live.client("accessanalyzer")
    document = json.dumps({"Version": "2012-10-17", "Statement": []})

    def validate():
        return analyzer.validate_policy(policyDocument=document, policyType="IDENTITY_POLICY")

    found, skipped = live_only.attempt(analyzer, "IAM Access Analyzer", validate, fallback=[])
    assert found == []
    assert skipped.startswith("skipped: IAM Access Analyzer: http://127.0.0.1:")
    assert "is not AWS" in skipped and "InvalidSignatureException" in skipped


def test_a_real_answer_is_never_skipped(live):
    s3 = live.client("s3")
    with pytest.raises(ClientError):  # NoSuchBucket is an answer, not a missing service
        live_only.attempt(s3, "S3", lambda: s3.head_bucket(Bucket="no-such-bucket-x"), None)


def test_on_an_aws_endpoint_every_error_is_raised():
    iam = boto3.client(
        "iam",
        region_name="us-east-1",
        endpoint_url="https://iam.amazonaws.com",  # AWS's own, whatever the environment says
        aws_access_key_id="a",
        aws_secret_access_key="b",
    )
    assert live_only.is_aws_endpoint(iam)
    with Stubber(iam) as stub:
        stub.add_client_error("simulate_custom_policy", "InternalFailure", "", 500)
        with pytest.raises(ClientError):
            live_only.attempt(
                iam,
                "the policy simulator",
                lambda: iam.simulate_custom_policy(PolicyInputList=["{}"], ActionNames=["s3:*"]),
                None,
            )


def test_the_stored_image_size_is_its_manifests_blobs(live, monkeypatch):
    monkeypatch.setenv("SERIES_LIVE_CREATE", "yes")
    ecr = live.client("ecr")
    repository = live.names.ecr_repository
    ecr.create_repository(repositoryName=repository)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"digest": "sha256:" + "c" * 64, "size": 300},
        "layers": [
            {"digest": "sha256:" + "a" * 64, "size": 1000},
            {"digest": "sha256:" + "b" * 64, "size": 2000},
        ],
    }
    ecr.put_image(repositoryName=repository, imageManifest=json.dumps(manifest), imageTag="t1")
    try:
        assert live_check.stored_image_bytes(live) == 3300  # not DescribeImages' 300 (moto's)
    finally:
        ecr.delete_repository(repositoryName=repository, force=True)
