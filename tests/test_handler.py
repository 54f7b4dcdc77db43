"""The Lambda handler against an in-process moto S3 holding the model."""

from __future__ import annotations

import json

import boto3
import pytest
from handler_support import BUCKET, KEY, context, fresh_environment, import_handler, upload_model
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count

TEST_EVENT = {"gre": "800", "gpa": "4", "rank": "1"}  # the 2017 console test event


@pytest.fixture
def handler(aws_test_credentials, restore_tempdir, model_file, tmp_path, monkeypatch):
    """The handler in a fresh execution environment, with the model in a moto S3 bucket."""
    monkeypatch.delenv("MODEL_BUCKET", raising=False)
    monkeypatch.delenv("MODEL_KEY", raising=False)
    with mock_aws():
        upload_model(model_file)
        module = import_handler()
        fresh_environment(module, boto3.client("s3", region_name="us-east-1"), tmp_path)
        yield module


def s3_requests(module) -> list[str]:
    """Record the S3 operations the handler's client sends from now on."""
    seen: list[str] = []
    module._s3.meta.events.register(
        "before-call.s3.*", lambda model, **_: seen.append(model.name), unique_id="count"
    )
    return seen


def error_payload(excinfo) -> dict:
    return json.loads(str(excinfo.value))


def test_the_2017_test_event_is_admitted(handler):
    answer = handler.lambda_handler(TEST_EVENT, context())
    assert answer["result"] is True
    assert answer["probability"] == pytest.approx(0.738, abs=5e-4)


def test_numbers_and_strings_give_the_same_answer(handler):
    as_strings = handler.lambda_handler({"gre": "640", "gpa": "3.19", "rank": "4"}, context())
    as_numbers = handler.lambda_handler({"gre": 640, "gpa": 3.19, "rank": 4}, context())
    assert as_strings == as_numbers
    assert as_numbers["result"] is False


def test_the_model_is_downloaded_once_and_read_once(handler, tmp_path):
    calls = s3_requests(handler)
    handler.lambda_handler(TEST_EVENT, context())
    first = list(calls)
    assert "GetObject" in first
    model_object = handler._model
    handler.lambda_handler({"gre": 500, "gpa": 3, "rank": 2}, context())
    assert calls == first, "the second call must make no S3 request"
    assert handler._model is model_object, "the model must not be re-read"
    assert (tmp_path / KEY).is_file()


def test_a_model_already_in_tmp_is_not_downloaded_again(handler, model_file, tmp_path):
    (tmp_path / KEY).write_bytes(model_file.read_bytes())
    calls = s3_requests(handler)
    assert handler.lambda_handler(TEST_EVENT, context())["result"] is True
    assert calls == []


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"gpa": "4", "rank": "1"}, "missing field(s): gre"),
        ({"gre": "800", "gpa": "", "rank": "1"}, "missing field(s): gpa"),
        ({"gre": "eight hundred", "gpa": "4", "rank": "1"}, "gre must be a number"),
        ({"gre": "800", "gpa": "four", "rank": "1"}, "gpa must be a number"),
        ({"gre": "900", "gpa": "4", "rank": "1"}, "gre must be between 200 and 800"),
        ({"gre": "150", "gpa": "4", "rank": "1"}, "gre must be between 200 and 800"),
        ({"gre": "800", "gpa": "4.5", "rank": "1"}, "gpa must be between 0 and 4"),
        ({"gre": "800", "gpa": "-1", "rank": "1"}, "gpa must be between 0 and 4"),
        ({"gre": "800", "gpa": "nan", "rank": "1"}, "gpa must be a finite number"),
        ({"gre": "800", "gpa": "4", "rank": "5"}, "rank must be one of 1, 2, 3, 4"),
        ({"gre": "800", "gpa": "4", "rank": 1.5}, "rank must be one of 1, 2, 3, 4"),
        ({"gre": True, "gpa": "4", "rank": "1"}, "gre must be a number"),
        (["800", "4", "1"], "must be a JSON object"),
        ("not json", "the event is not JSON"),
    ],
)
def test_bad_input_is_a_400_that_says_what_to_fix(handler, event, expected):
    with pytest.raises(handler.BadRequest) as excinfo:
        handler.lambda_handler(event, context("req-42"))
    payload = error_payload(excinfo)
    assert payload["errorType"] == "BadRequest"
    assert payload["httpStatus"] == 400
    assert payload["request_id"] == "req-42"
    assert expected in payload["message"]
    assert '"httpStatus":400' in str(excinfo.value), "API Gateway's 2017 regex must match"


def test_a_scheduled_keep_warm_ping_loads_the_model_and_predicts_nothing(handler):
    ping = {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/ServerlessPOCKeepWarm"],
        "detail": {},
    }
    assert handler.lambda_handler(ping, context()) == {"warm": True}
    assert handler._model is not None
    calls = s3_requests(handler)
    assert handler.lambda_handler(TEST_EVENT, context())["result"] is True
    assert calls == [], "after the ping, the model is already loaded"


def test_an_event_that_merely_looks_like_a_ping_is_still_validated(handler):
    with pytest.raises(handler.BadRequest, match="missing field"):
        handler.lambda_handler({"source": "aws.events"}, context())


def test_a_json_string_event_is_accepted(handler):
    assert handler.lambda_handler(json.dumps(TEST_EVENT), context())["result"] is True


def test_a_missing_model_object_is_a_500_naming_the_object(handler, monkeypatch):
    monkeypatch.setenv("MODEL_KEY", "missing.rds")
    with pytest.raises(handler.ModelUnavailable) as excinfo:
        handler.lambda_handler(TEST_EVENT, context())
    payload = error_payload(excinfo)
    assert payload["httpStatus"] == 500
    assert f"s3://{BUCKET}/missing.rds does not exist" in payload["message"]


def test_a_missing_bucket_is_a_500_naming_the_bucket(handler, monkeypatch):
    monkeypatch.setenv("MODEL_BUCKET", "no-such-bucket")
    with pytest.raises(handler.ModelUnavailable, match=r"s3://no-such-bucket/admission\.rds"):
        handler.lambda_handler(TEST_EVENT, context())


def test_a_corrupt_model_is_a_500_and_is_not_kept(handler, tmp_path):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"this is not an R object")
    with pytest.raises(handler.ModelUnavailable, match="not a readable R model"):
        handler.lambda_handler(TEST_EVENT, context())
    assert not (tmp_path / KEY).exists(), "a bad download must not poison the next call"


def test_after_a_failure_the_next_call_recovers(handler, model_file, monkeypatch):
    monkeypatch.setenv("MODEL_KEY", "later.rds")
    with pytest.raises(handler.ModelUnavailable):
        handler.lambda_handler(TEST_EVENT, context())
    boto3.client("s3", region_name="us-east-1").upload_file(str(model_file), BUCKET, "later.rds")
    assert handler.lambda_handler(TEST_EVENT, context())["result"] is True


def test_a_model_without_rank_levels_gives_no_silent_false(handler, tmp_path):
    """A model fitted with a numeric rank cannot honour the rank factor: an error, not 'false'."""
    from helpers.r_model import r_session

    with r_session() as ro:
        ro.r(
            f"""d <- read.csv("{_data_csv()}")
                saveRDS(glm(admit ~ gre + gpa + rank, data = d, family = binomial), "{tmp_path / KEY}")"""
        )
    with pytest.raises(handler.PredictionFailed) as excinfo:
        handler.lambda_handler(TEST_EVENT, context())
    assert error_payload(excinfo)["httpStatus"] == 500


def _data_csv() -> str:
    from helpers.config import DATA_CSV

    return str(DATA_CSV)


@set_initial_no_auth_action_count(4)
def test_a_role_without_s3_get_object_gets_a_500_naming_the_permission(
    aws_test_credentials, restore_tempdir, model_file, tmp_path
):
    """With IAM enforced, credentials of a role with no S3 policy are refused by S3."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
    with mock_aws():
        # The first four requests are not authorised (set-up as the account's administrator).
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)  # 1
        s3.upload_file(str(model_file), BUCKET, KEY)  # 2
        iam = boto3.client("iam", region_name="us-east-1")
        role = iam.create_role(RoleName="NoS3", AssumeRolePolicyDocument=json.dumps(trust))  # 3
        creds = boto3.client("sts", region_name="us-east-1").assume_role(
            RoleArn=role["Role"]["Arn"], RoleSessionName="lambda"
        )["Credentials"]  # 4
        role_s3 = boto3.client(
            "s3",
            region_name="us-east-1",
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
        module = import_handler()
        fresh_environment(module, role_s3, tmp_path)
        with pytest.raises(module.ModelUnavailable) as excinfo:
            module.lambda_handler(TEST_EVENT, context())
    payload = error_payload(excinfo)
    assert payload["httpStatus"] == 500
    assert f"lacks s3:GetObject on arn:aws:s3:::{BUCKET}/{KEY}" in payload["message"]
    # real S3 answers 403 for a missing object too when the role has no s3:ListBucket
    assert "or the object does not exist" in payload["message"]
    assert "s3:ListBucket" in payload["message"]
    assert not (tmp_path / KEY).exists()


# --------------------------------------------------------------------------- proxy events


def proxy_event(query: dict[str, str] | None) -> dict:
    """A REST API proxy event (AWS_PROXY) for GET /admit-proxy, as API Gateway builds it."""
    return {
        "resource": "/admit-proxy",
        "path": "/admit-proxy",
        "httpMethod": "GET",
        "headers": {"x-api-key": "not-a-real-key"},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": None,
        "requestContext": {"resourcePath": "/admit-proxy", "httpMethod": "GET", "stage": "prod"},
        "body": None,
        "isBase64Encoded": False,
    }


def test_a_proxy_event_gets_an_http_response_with_a_string_body(handler):
    answer = handler.lambda_handler(proxy_event(TEST_EVENT), context())
    assert answer["statusCode"] == 200
    assert answer["headers"] == {
        "Content-Type": "application/json",
        "Access-Control-Allow-Origin": "*",
    }
    assert isinstance(answer["body"], str)
    body = json.loads(answer["body"])
    assert body["result"] is True
    assert body["probability"] == pytest.approx(0.738, abs=5e-4)


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"gre": "abc", "gpa": "4", "rank": "1"}, "gre must be a number"),
        ({"gre": "800", "gpa": "4", "rank": "5"}, "rank must be one of 1, 2, 3, 4"),
        ({"gre": "800"}, "missing field(s): gpa, rank"),
        (None, "missing field(s): gre, gpa, rank"),
    ],
)
def test_bad_input_in_a_proxy_event_is_a_400_with_the_cors_header(handler, query, expected):
    answer = handler.lambda_handler(proxy_event(query), context("req-1"))
    assert answer["statusCode"] == 400
    assert answer["headers"]["Access-Control-Allow-Origin"] == "*"
    body = json.loads(answer["body"])
    assert body["httpStatus"] == 400 and body["errorType"] == "BadRequest"
    assert body["request_id"] == "req-1"
    assert expected in body["message"]


def test_a_fault_in_a_proxy_event_is_a_500_response_not_a_raised_error(handler, monkeypatch):
    monkeypatch.setenv("MODEL_KEY", "missing.rds")
    answer = handler.lambda_handler(proxy_event(TEST_EVENT), context())
    assert answer["statusCode"] == 500
    assert answer["headers"]["Access-Control-Allow-Origin"] == "*"
    body = json.loads(answer["body"])
    assert body["errorType"] == "ModelUnavailable" and body["httpStatus"] == 500
    assert "missing.rds does not exist" in body["message"]


def test_an_unforeseen_fault_in_a_proxy_event_is_a_500_that_points_to_the_log(
    handler, monkeypatch, capsys
):
    def broken(*_args, **_kwargs):
        raise KeyError("surprise")

    monkeypatch.setattr(handler, "predict", broken)
    answer = handler.lambda_handler(proxy_event(TEST_EVENT), context())
    assert answer["statusCode"] == 500
    assert "see the function's log" in json.loads(answer["body"])["message"]
    assert "unexpected KeyError" in capsys.readouterr().out


def test_the_non_proxy_path_still_raises_the_json_error(handler):
    """The 2017 integration maps the raised message by regex: it must stay a raised error."""
    with pytest.raises(handler.BadRequest) as excinfo:
        handler.lambda_handler({"gre": "abc", "gpa": "4", "rank": "1"}, context())
    assert '"httpStatus":400' in str(excinfo.value)
