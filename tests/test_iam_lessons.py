"""The IAM lesson steps of notebooks 3 and 4: tables, retries and the exercise check."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from botocore.exceptions import ClientError

from helpers import iam_lessons as lessons
from helpers.config import names_for
from helpers.iam import PermanentCredentials, TemporaryCredentials, load_policy
from helpers.service_models import boto3_session

NAMES = names_for("mock")


def _client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}}, "Op")


def test_todays_user_policies_replace_the_deprecated_one():
    assert lessons.USER_POLICIES_TODAY == (
        "AWSLambda_FullAccess",
        "AmazonAPIGatewayAdministrator",
        "AmazonCognitoPowerUser",
    )
    assert lessons.managed_policy_arn("AWSLambda_FullAccess") == (
        "arn:aws:iam::aws:policy/AWSLambda_FullAccess"
    )


def test_account_trust_policy_names_the_account_root():
    trust = lessons.account_trust_policy("123456789012")
    statement = trust["Statement"][0]
    assert statement["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert statement["Action"] == "sts:AssumeRole" and "Resource" not in statement
    assert lessons.demo_role_name(NAMES) == "ServerlessPOCDemo"


def test_trust_table_decides_per_principal():
    table = lessons.trust_table(
        {
            "lambda": load_policy("lambda_trust_policy"),
            "account": lessons.account_trust_policy("123456789012"),
        },
        [
            "lambda.amazonaws.com",
            "arn:aws:iam::123456789012:user/u",
            "arn:aws:iam::999999999999:user/u",
        ],
    )
    assert table["lambda"].tolist() == ["allowed", "implicitDeny", "implicitDeny"]
    assert table["account"].tolist() == ["implicitDeny", "allowed", "implicitDeny"]


def test_call_outcome_words():
    def denied():
        raise _client_error("AccessDeniedException")

    def invalid():
        raise _client_error("InvalidClientTokenId")

    assert lessons.call_outcome(lambda: None) == "allowed"
    assert lessons.call_outcome(denied) == "denied (AccessDeniedException)"
    assert lessons.call_outcome(invalid) == "InvalidClientTokenId"


def test_outcome_when_settled_retries_until_expected():
    answers = iter([_client_error("InvalidClientTokenId"), _client_error("AccessDenied"), None])

    def call():
        answer = next(answers)
        if answer is not None:
            raise answer

    assert lessons.outcome_when_settled(call, "allowed", delay_s=0) == "allowed"
    stuck = lessons.outcome_when_settled(lambda: None, "denied", attempts=3, delay_s=0)
    assert stuck == "allowed"  # never settled: the last outcome, for the notebook's assert


def test_credentials_table_hides_every_secret():
    permanent = PermanentCredentials("u", "AKIAIOSFODNN7EXAMPLE", "permanent-secret")
    temporary = TemporaryCredentials(
        "ASIAIOSFODNN7EXAMPLE",
        "temporary-secret",
        "session-token",
        dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
        "arn:aws:sts::123456789012:assumed-role/r/s",
    )
    table = lessons.credentials_table(user=permanent, role=temporary)
    text = table.to_string()
    for secret in ("permanent-secret", "temporary-secret", "session-token", "IOSFODNN7EXA"):
        assert secret not in text
    assert table.loc["user", "session token"] == "none"
    assert table.loc["role", "kind"].startswith("temporary")
    assert table.loc["user", "expires"].startswith("never")


def test_broken_policies_report_flags_every_file():
    report = lessons.broken_policies_report(NAMES)
    assert len(report) == 8
    assert report.loc["trust_without_principal.json", "kind"] == "trust"
    assert not report.loc["typo_action.json", "errors"]
    assert "UNKNOWN_ACTION" in report.loc["typo_action.json", "parliament"]
    assert report.loc["lowercase_effect.json", "errors"]


def test_findings_by_policy_keeps_clean_policies_as_rows():
    table = lessons.findings_by_policy(
        {
            "poc": (load_policy("serverless_poc"), "identity"),
            "trust": (load_policy("lambda_trust_policy"), "trust"),
        }
    )
    assert table["detail"].tolist() == ["no findings", "no findings"]


@pytest.mark.parametrize(
    "name",
    [
        "broken/bucket_not_objects",
        "broken/typo_action",
        "broken/lowercase_effect",
        "broken/action_and_notaction",
        "broken/principal_in_identity_policy",
    ],
)
def test_exercise_status_never_raises_and_reports_broken(name):
    status = lessons.exercise_status(load_policy(name, NAMES), NAMES)
    assert not status.fixed and status.problems
    assert str(status).startswith("Not fixed yet")


def test_exercise_status_accepts_the_fix_and_refuses_too_much():
    fixed = load_policy("broken/bucket_not_objects", NAMES)
    fixed["Statement"][0]["Resource"] += "/*"
    assert lessons.exercise_status(fixed, NAMES).fixed
    too_much = json.loads(json.dumps(fixed))
    too_much["Statement"][0]["Action"] = ["s3:GetObject", "s3:PutObject"]
    status = lessons.exercise_status(too_much, NAMES)
    assert not status.fixed and "overwriting" in str(status)


def test_attach_and_assume_on_the_mock_account(mock_account):
    session = mock_account.session()
    iam_client = session.client("iam")
    iam_client.create_user(UserName="lessonuser")
    table = lessons.attach_user_policies(
        iam_client, "lessonuser", ["AWSLambdaFullAccess", "AWSLambda_FullAccess"]
    )
    assert table["result"].tolist() == ["refused", "attached"]
    assert "not attachable" in table.loc["AWSLambdaFullAccess", "IAM says"]
    role = iam_client.create_role(
        RoleName="lessondemo",
        AssumeRolePolicyDocument=json.dumps(lessons.account_trust_policy(mock_account.account_id)),
    )["Role"]
    creds = lessons.assume_when_ready(session.client("sts"), role["Arn"], "lesson", attempts=1)
    assert creds.access_key_id.startswith("ASIA")
    as_role = boto3_session(**creds.session_kwargs(), region_name="us-east-1")
    assert lessons.call_outcome(as_role.client("s3").list_buckets).startswith("denied")
