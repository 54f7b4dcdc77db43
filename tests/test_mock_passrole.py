"""iam:PassRole and function ARNs, as Lambda checks them (security review rows 7 and 8)."""

from __future__ import annotations

import json

import boto3
import pytest

from helpers.service_models import boto3_session

ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"
LAMBDA_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "lambda:CreateFunction",
                "lambda:InvokeFunction",
                "lambda:UpdateFunctionConfiguration",
                "lambda:UpdateFunctionCode",
                "lambda:GetFunction",
            ],
            "Resource": "*",
        }
    ],
}


@pytest.fixture
def user_session(mock_account, mock_session, mock_name):
    """make(*statements) -> a boto3 session of a new IAM user allowed LAMBDA_ONLY + statements."""
    iam = mock_session.client("iam")

    def make(*statements: dict) -> boto3.Session:
        name = mock_name("user")
        iam.create_user(UserName=name)
        policy = {**LAMBDA_ONLY, "Statement": [*LAMBDA_ONLY["Statement"], *statements]}
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return boto3_session(
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
            region_name="us-east-1",
        )

    return make


def _create(session, name: str, role: str, zip_bytes: bytes) -> dict:
    return session.client("lambda", endpoint_url=_endpoint()).create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="handler.lambda_handler",
        Code={"ZipFile": zip_bytes},
    )


def _endpoint() -> str:
    from helpers.mock import current_mock_account

    return current_mock_account().endpoint_url


@pytest.fixture
def handler_zip(mock_zip) -> bytes:
    return mock_zip({"handler.py": "def lambda_handler(event, context):\n    return 'ran'\n"})


def test_without_pass_role_a_user_cannot_give_a_function_an_admin_role(
    user_session, mock_role, mock_name, handler_zip
):
    admin_role = mock_role(policies=(ADMIN_POLICY,))
    denied = {"Effect": "Deny", "Action": "iam:PassRole", "Resource": "*"}
    for session in (user_session(), user_session(denied)):  # implicit, then explicit deny
        client = session.client("lambda", endpoint_url=_endpoint())
        with pytest.raises(client.exceptions.ClientError) as refused:
            _create(session, mock_name("fn"), admin_role, handler_zip)
        error = refused.value.response["Error"]
        assert error["Code"] == "AccessDeniedException"
        assert (
            f"is not authorized to perform: iam:PassRole on resource: {admin_role}"
            in (error["Message"])
        )


def test_pass_role_scoped_to_one_role_allows_that_role_only(
    user_session, mock_role, mock_name, handler_zip
):
    execution_role, other_role = mock_role(), mock_role(policies=(ADMIN_POLICY,))
    scoped = {"Effect": "Allow", "Action": "iam:PassRole", "Resource": execution_role}
    session = user_session(scoped)
    name = mock_name("fn")
    _create(session, name, execution_role, handler_zip)
    client = session.client("lambda", endpoint_url=_endpoint())
    client.update_function_configuration(FunctionName=name, Timeout=7)  # no role: no PassRole
    with pytest.raises(client.exceptions.ClientError, match="iam:PassRole"):
        client.update_function_configuration(FunctionName=name, Role=other_role)
    with pytest.raises(client.exceptions.ClientError, match="iam:PassRole"):
        _create(session, mock_name("fn"), other_role, handler_zip)


def test_the_root_may_pass_any_role(mock_session, mock_role, mock_name, handler_zip):
    _create(mock_session, mock_name("fn"), mock_role(policies=(ADMIN_POLICY,)), handler_zip)


def test_a_deny_on_the_function_arn_holds_whatever_account_or_region_the_arn_names(
    user_session, mock_role, mock_name, mock_session, handler_zip
):
    name = mock_name("fn")
    _create(mock_session, name, mock_role(), handler_zip)
    arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
    denied = {"Effect": "Deny", "Action": "lambda:*", "Resource": arn}
    client = user_session(denied).client("lambda", endpoint_url=_endpoint())
    for other in (
        arn.replace("123456789012", "210987654321"),
        arn.replace("us-east-1", "eu-west-1"),
    ):
        with pytest.raises(client.exceptions.ClientError) as refused:
            client.invoke(FunctionName=other, Payload=b"{}")
        assert refused.value.response["Error"]["Code"] in (
            "ResourceNotFoundException",
            "AccessDeniedException",
        )
        with pytest.raises(client.exceptions.ClientError):
            client.update_function_code(FunctionName=other, ZipFile=handler_zip)
    with pytest.raises(client.exceptions.ClientError, match="AccessDenied"):
        client.invoke(FunctionName=arn, Payload=b"{}")
