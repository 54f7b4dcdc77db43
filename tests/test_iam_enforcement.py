"""The local evaluator agrees with moto's real IAM enforcement on S3 object reads and writes.

moto enforces IAM once ``settings.INITIAL_NO_AUTH_ACTION_COUNT`` requests have been served
(``moto.core.set_initial_no_auth_action_count`` sets the same value for a whole test). Here it is
switched directly: off (infinite) while the test sets up the account and writes the policy, and
0 (every request checked) while the policy's user reads and writes objects.

The generated policies stay inside what moto enforces like AWS (toolchain-notes.md and moto's
``iam/access_control.py``): exact-case action names (moto compares case-sensitively), no ``?``
(moto turns only ``*`` into a wildcard), no NotResource (moto treats it as "no Resource") and no
Condition (moto treats most operators as satisfied). test_iam_evaluate covers those locally.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto import settings as moto_settings

from helpers.iam import evaluate, load_policy

OBJECTS = [
    ("serverless-poc-models", "admission.rds"),
    ("serverless-poc-models", "data/binary.csv"),
    ("other-bucket", "admission.rds"),
]
ACTIONS = ("s3:GetObject", "s3:PutObject")
ACTION_PATTERNS = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:Get*",
    "s3:Put*",
    "s3:*Object",
    "s3:*",
    "*",
    "s3:ListBucket",
    "logs:*",
]
RESOURCE_PATTERNS = [
    "*",
    "arn:aws:s3:::serverless-poc-models/*",
    "arn:aws:s3:::serverless-poc-models/admission.rds",
    "arn:aws:s3:::serverless-poc-models",
    "arn:aws:s3:::*/admission.rds",
    "arn:aws:s3:::other-bucket/*",
    "arn:aws:s3:::serverless-poc-*",
    "arn:aws:s3:::serverless-poc-models/data/*",
]


@contextlib.contextmanager
def enforcement() -> Iterator[None]:
    """Every request is authenticated and authorised while inside; setup calls are not."""
    previous = moto_settings.INITIAL_NO_AUTH_ACTION_COUNT
    moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    try:
        yield
    finally:
        moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = previous


class Account:
    """One mock account for the whole module: a user whose inline policy each example replaces."""

    def __init__(self) -> None:
        self.iam = boto3.client("iam", region_name="us-east-1")
        admin_s3 = boto3.client("s3", region_name="us-east-1")
        for bucket in {b for b, _ in OBJECTS}:
            admin_s3.create_bucket(Bucket=bucket)
        for bucket, key in OBJECTS:
            admin_s3.put_object(Bucket=bucket, Key=key, Body=b"model")
        self.iam.create_user(UserName="learner")
        key = self.iam.create_access_key(UserName="learner")["AccessKey"]
        self.s3 = boto3.client(
            "s3",
            region_name="us-east-1",
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
        )

    def use_policies(self, documents: list[dict]) -> None:
        for name in self.iam.list_user_policies(UserName="learner")["PolicyNames"]:
            self.iam.delete_user_policy(UserName="learner", PolicyName=name)
        for i, document in enumerate(documents):
            self.iam.put_user_policy(
                UserName="learner", PolicyName=f"p{i}", PolicyDocument=json.dumps(document)
            )

    def moto_allows(self, action: str, bucket: str, key: str) -> bool:
        try:
            with enforcement():
                if action == "s3:GetObject":
                    self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                else:
                    self.s3.put_object(Bucket=bucket, Key=key, Body=b"model")
        except ClientError as error:
            if error.response["Error"]["Code"] != "AccessDenied":
                raise
            return False
        return True


@pytest.fixture(scope="module")
def account() -> Iterator[Account]:
    with pytest.MonkeyPatch.context() as patch:
        for variable, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }.items():
            patch.setenv(variable, value)
        for variable in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "INITIAL_NO_AUTH_ACTION_COUNT"):
            patch.delenv(variable, raising=False)
        patch.setattr(moto_settings, "INITIAL_NO_AUTH_ACTION_COUNT", float("inf"))
        with mock_aws(config={"iam": {"load_aws_managed_policies": False}}):
            yield Account()


def compare(account: Account, documents: list[dict]) -> list[tuple[str, str, bool, str]]:
    """(action, arn, moto says allowed, evaluator's decision) where the two disagree."""
    account.use_policies(documents)
    disagreements = []
    for bucket, key in OBJECTS:
        arn = f"arn:aws:s3:::{bucket}/{key}"
        for action in ACTIONS:
            ours = evaluate(action, arn, documents)
            theirs = account.moto_allows(action, bucket, key)
            if ours.allowed != theirs:
                disagreements.append((action, arn, theirs, ours.decision))
    return disagreements


def test_the_serverless_poc_policy_allows_reading_the_models_bucket_only(account):
    account.use_policies([load_policy("serverless_poc")])
    assert account.moto_allows("s3:GetObject", "serverless-poc-models", "admission.rds")
    assert not account.moto_allows("s3:PutObject", "serverless-poc-models", "admission.rds")
    assert not account.moto_allows("s3:GetObject", "other-bucket", "admission.rds")
    assert compare(account, [load_policy("serverless_poc")]) == []


def test_explicit_deny_agrees_with_moto(account):
    guard = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Action": "s3:*",
                "Resource": "arn:aws:s3:::serverless-poc-models/data/*",
            }
        ],
    }
    wide = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }
    assert compare(account, [wide, guard]) == []
    assert not account.moto_allows("s3:GetObject", "serverless-poc-models", "data/binary.csv")
    assert account.moto_allows("s3:GetObject", "serverless-poc-models", "admission.rds")


@st.composite
def statements(draw):
    statement = {"Effect": draw(st.sampled_from(["Allow", "Deny"]))}
    statement[draw(st.sampled_from(["Action", "NotAction"]))] = draw(
        st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=3, unique=True)
    )
    statement["Resource"] = draw(
        st.lists(st.sampled_from(RESOURCE_PATTERNS), min_size=1, max_size=2, unique=True)
    )
    return statement


policies = st.lists(
    st.lists(statements(), min_size=1, max_size=3).map(
        lambda s: {"Version": "2012-10-17", "Statement": s}
    ),
    min_size=1,
    max_size=2,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents=policies)
def test_evaluator_agrees_with_moto_enforcement(account, documents):
    assert compare(account, documents) == []
