"""Requests are authorized against the resources AWS uses (helpers/mock/authorization.py).

Each test gives an IAM user a policy scoped to names starting ``Ann`` (or one bucket's objects)
and checks, on a mock account with enforcement, that the user may act on ``Ann…`` and is denied
``Bob…`` with AWS's message (``… is not authorized to perform: ACTION on resource: ARN``).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import botocore.exceptions
import pytest

ACCOUNT = "123456789012"
REGION = "us-east-1"
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
def user(mock_user):
    """A new IAM user allowed exactly the statements given (conftest's ``mock_user``)."""
    return mock_user


def allow(action: str, resource: str) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def assert_denied(call: Callable[[], object], action: str, resource: str) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        call()
    error = refused.value.response["Error"]
    assert error["Code"] in ("AccessDenied", "AccessDeniedException"), error
    assert f"is not authorized to perform: {action} on resource: {resource}" in error["Message"]


def test_iam_create_role_is_authorized_against_the_role_it_creates(user, mock_name):
    iam = user(allow("iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/Ann*")).client("iam")
    suffix = mock_name("X")
    iam.create_role(RoleName=f"Ann{suffix}", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    assert_denied(
        lambda: iam.create_role(
            RoleName=f"Bob{suffix}", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST)
        ),
        "iam:CreateRole",
        f"arn:aws:iam::{ACCOUNT}:role/Bob{suffix}",
    )


def test_iam_role_arns_include_the_path(user, mock_name):
    iam = user(allow("iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/team/Ann*")).client("iam")
    suffix = mock_name("X")
    trust = json.dumps(LAMBDA_TRUST)
    iam.create_role(RoleName=f"Ann{suffix}", Path="/team/", AssumeRolePolicyDocument=trust)
    assert_denied(
        lambda: iam.create_role(RoleName=f"Ann{suffix}b", AssumeRolePolicyDocument=trust),
        "iam:CreateRole",
        f"arn:aws:iam::{ACCOUNT}:role/Ann{suffix}b",
    )


def test_logs_create_log_group_is_authorized_against_the_group(user, mock_name):
    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/Ann*"
    logs = user(allow("logs:CreateLogGroup", group)).client("logs")
    suffix = mock_name("X")
    logs.create_log_group(logGroupName=f"/aws/lambda/Ann{suffix}")
    assert_denied(
        lambda: logs.create_log_group(logGroupName=f"/aws/lambda/Bob{suffix}"),
        "logs:CreateLogGroup",
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/Bob{suffix}",
    )


def test_events_put_rule_is_authorized_against_the_rule(user, mock_name):
    events = user(allow("events:PutRule", f"arn:aws:events:{REGION}:{ACCOUNT}:rule/Ann*")).client(
        "events"
    )
    suffix = mock_name("X")
    events.put_rule(Name=f"Ann{suffix}", ScheduleExpression="rate(5 minutes)", State="DISABLED")
    assert_denied(
        lambda: events.put_rule(
            Name=f"Bob{suffix}", ScheduleExpression="rate(5 minutes)", State="DISABLED"
        ),
        "events:PutRule",
        f"arn:aws:events:{REGION}:{ACCOUNT}:rule/Bob{suffix}",
    )


def test_ecr_create_repository_is_authorized_against_the_repository(user, mock_name):
    ecr = user(
        allow("ecr:CreateRepository", f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/ann*")
    ).client("ecr")
    suffix = mock_name("x")
    ecr.create_repository(repositoryName=f"ann{suffix}")
    assert_denied(
        lambda: ecr.create_repository(repositoryName=f"bob{suffix}"),
        "ecr:CreateRepository",
        f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/bob{suffix}",
    )


def test_lambda_create_function_is_authorized_against_the_function(
    user, mock_role, mock_name, mock_zip
):
    role = mock_role()
    session = user(
        allow("lambda:CreateFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:Ann*"),
        allow("iam:PassRole", role),
    )
    client = session.client("lambda")
    package = mock_zip({"handler.py": "def lambda_handler(event, context):\n    return 1\n"})
    suffix = mock_name("X")

    def create(name: str) -> dict:
        return client.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="handler.lambda_handler",
            Code={"ZipFile": package},
        )

    create(f"Ann{suffix}")
    assert_denied(
        lambda: create(f"Bob{suffix}"),
        "lambda:CreateFunction",
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:Bob{suffix}",
    )


def test_sts_assume_role_is_authorized_against_the_role_and_trust_naming_the_account_root(
    user, mock_session, mock_name
):
    """A trust policy naming the account root trusts the account's users: their policies decide.

    The trust policy also names the Lambda service, which moto took for a reason to deny.
    """
    iam = mock_session.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            },
            LAMBDA_TRUST["Statement"][0],
        ],
    }
    suffix = mock_name("X")
    arns = {
        who: iam.create_role(RoleName=f"{who}{suffix}", AssumeRolePolicyDocument=json.dumps(trust))[
            "Role"
        ]["Arn"]
        for who in ("Ann", "Bob")
    }
    sts = user(allow("sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/Ann*")).client("sts")
    assumed = sts.assume_role(RoleArn=arns["Ann"], RoleSessionName="session")
    assert assumed["AssumedRoleUser"]["Arn"].endswith(f"assumed-role/Ann{suffix}/session")
    assert_denied(
        lambda: sts.assume_role(RoleArn=arns["Bob"], RoleSessionName="session"),
        "sts:AssumeRole",
        arns["Bob"],
    )


def test_a_role_trusting_only_a_service_cannot_be_assumed_by_a_user(user, mock_role):
    role = mock_role()  # trusts lambda.amazonaws.com only
    sts = user(allow("sts:AssumeRole", "*")).client("sts")
    assert_denied(
        lambda: sts.assume_role(RoleArn=role, RoleSessionName="session"), "sts:AssumeRole", role
    )


def test_head_bucket_is_authorized_as_s3_list_bucket(user, mock_session, mock_name):
    bucket = mock_name("ann-bucket-")
    mock_session.client("s3").create_bucket(Bucket=bucket)
    s3 = user(allow("s3:ListBucket", f"arn:aws:s3:::{bucket}")).client("s3")
    s3.head_bucket(Bucket=bucket)
    s3 = user(allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*")).client("s3")
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        s3.head_bucket(Bucket=bucket)
    assert refused.value.response["Error"]["Code"] in ("403", "AccessDenied")


def test_delete_objects_needs_s3_delete_object_on_the_objects(user, mock_session, mock_name):
    bucket = mock_name("ann-bucket-")
    root_s3 = mock_session.client("s3")
    root_s3.create_bucket(Bucket=bucket)
    for key in ("a", "b"):
        root_s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    delete = {"Objects": [{"Key": "a"}, {"Key": "b"}]}

    on_bucket = user(allow("s3:DeleteObject", f"arn:aws:s3:::{bucket}")).client("s3")
    answer = on_bucket.delete_objects(Bucket=bucket, Delete=delete)
    assert {error["Code"] for error in answer.get("Errors", [])} == {"AccessDenied"}
    assert not answer.get("Deleted")

    on_objects = user(allow("s3:DeleteObject", f"arn:aws:s3:::{bucket}/*")).client("s3")
    answer = on_objects.delete_objects(Bucket=bucket, Delete=delete)
    assert not answer.get("Errors"), answer
    assert sorted(item["Key"] for item in answer["Deleted"]) == ["a", "b"]
    assert root_s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_the_root_is_still_unrestricted(mock_session, mock_name):
    suffix = mock_name("X")
    mock_session.client("iam").create_role(
        RoleName=f"Bob{suffix}", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST)
    )
    mock_session.client("logs").create_log_group(logGroupName=f"/aws/lambda/Bob{suffix}")


# -- the mapping, without the wire -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("service", "operation", "parameters", "expected"),
    [
        ("iam", "CreateRole", {"RoleName": "R"}, f"arn:aws:iam::{ACCOUNT}:role/R"),
        ("iam", "CreateRole", {"RoleName": "R", "Path": "/a/"}, f"arn:aws:iam::{ACCOUNT}:role/a/R"),
        ("iam", "CreateUser", {"UserName": "U"}, f"arn:aws:iam::{ACCOUNT}:user/U"),
        (
            "iam",
            "AttachRolePolicy",
            {"RoleName": "R", "PolicyArn": "arn:aws:iam::aws:policy/X"},
            f"arn:aws:iam::{ACCOUNT}:role/R",
        ),
        (
            "iam",
            "GetPolicy",
            {"PolicyArn": "arn:aws:iam::aws:policy/X"},
            "arn:aws:iam::aws:policy/X",
        ),
        ("iam", "CreatePolicy", {"PolicyName": "P"}, f"arn:aws:iam::{ACCOUNT}:policy/P"),
        (
            "iam",
            "AddRoleToInstanceProfile",
            {"RoleName": "R", "InstanceProfileName": "I"},
            f"arn:aws:iam::{ACCOUNT}:instance-profile/I",
        ),
        ("iam", "ListRoles", {}, "*"),
        ("sts", "AssumeRole", {"RoleArn": "arn:aws:iam::1:role/R"}, "arn:aws:iam::1:role/R"),
        ("sts", "GetCallerIdentity", {}, "*"),
        (
            "logs",
            "CreateLogGroup",
            {"logGroupName": "/g"},
            f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/g",
        ),
        (
            "logs",
            "PutLogEvents",
            {"logGroupName": "/g", "logStreamName": "s"},
            f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/g:log-stream:s",
        ),
        ("logs", "DescribeLogGroups", {"logGroupNamePrefix": "/g"}, "*"),
        ("events", "PutRule", {"Name": "r"}, f"arn:aws:events:{REGION}:{ACCOUNT}:rule/r"),
        ("events", "PutTargets", {"Rule": "r"}, f"arn:aws:events:{REGION}:{ACCOUNT}:rule/r"),
        (
            "events",
            "PutRule",
            {"Name": "r", "EventBusName": "b"},
            f"arn:aws:events:{REGION}:{ACCOUNT}:rule/b/r",
        ),
        (
            "ecr",
            "CreateRepository",
            {"repositoryName": "x"},
            f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/x",
        ),
        ("ecr", "GetAuthorizationToken", {}, "*"),
        (
            "lambda",
            "CreateFunction",
            {"FunctionName": "F"},
            f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:F",
        ),
    ],
)
def test_requests_map_to_the_resources_of_the_service_authorization_reference(
    mock_account, service, operation, parameters, expected
):
    from helpers.mock.authorization import resource_for

    assert resource_for(service, operation, parameters, ACCOUNT, REGION) == expected
