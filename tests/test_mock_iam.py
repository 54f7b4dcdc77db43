"""IAM in the mock account: the root is unrestricted, users and roles are enforced as on AWS."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from helpers.service_models import boto3_session

READ_MODEL = """
import boto3

def lambda_handler(event, context):
    s3 = boto3.client("s3")
    try:
        body = s3.get_object(Bucket=event["bucket"], Key=event["key"])["Body"].read()
        return {"ok": True, "body": body.decode()}
    except Exception as error:
        return {"ok": False, "code": error.response["Error"]["Code"]}
"""


def _user_session(mock_account, mock_name, policy: dict | None) -> boto3.Session:
    iam = mock_account.session().client("iam")
    user = mock_name("user")
    iam.create_user(UserName=user)
    if policy:
        iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return boto3_session(
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        region_name="us-east-1",
    )


def _allow(action: str, resource: str = "*") -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}],
    }


def test_root_is_the_unrestricted_admin(mock_account):
    session = mock_account.session()
    identity = session.client("sts").get_caller_identity()
    assert identity["Arn"] == "arn:aws:iam::123456789012:root"
    assert identity["Account"] == "123456789012"
    assert session.get_credentials().access_key == mock_account.admin_credentials["access_key_id"]
    session.client("lambda").list_functions()
    session.client("s3").list_buckets()


def test_aws_managed_policies_are_loaded(mock_session):
    policy = mock_session.client("iam").get_policy(
        PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    )
    assert policy["Policy"]["PolicyName"] == "AWSLambdaBasicExecutionRole"


def test_role_policies_decide_what_the_handler_may_read(
    mock_session, mock_function, mock_role, mock_name
):
    s3 = mock_session.client("s3")
    bucket, other = mock_name("models"), mock_name("other")
    for name in (bucket, other):
        s3.create_bucket(Bucket=name)
        s3.put_object(Bucket=name, Key="admission.rds", Body=b"model")
    reader = mock_role(inline=_allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*"))
    allowed = mock_function(READ_MODEL, role=reader)
    denied = mock_function(READ_MODEL, role=mock_role())
    client = mock_session.client("lambda")

    def run(function: str, target: str) -> dict:
        payload = json.dumps({"bucket": target, "key": "admission.rds"}).encode()
        return json.loads(client.invoke(FunctionName=function, Payload=payload)["Payload"].read())

    assert run(allowed, bucket) == {"ok": True, "body": "model"}
    assert run(allowed, other) == {"ok": False, "code": "AccessDenied"}
    assert run(denied, bucket) == {"ok": False, "code": "AccessDenied"}


def test_handler_runs_as_the_execution_role(mock_session, mock_function, mock_role):
    role = mock_role()
    source = "import boto3\ndef lambda_handler(e, c):\n    return boto3.client('sts').get_caller_identity()['Arn']\n"
    name = mock_function(source, role=role)
    arn = json.loads(mock_session.client("lambda").invoke(FunctionName=name)["Payload"].read())
    assert arn == f"arn:aws:sts::123456789012:assumed-role/{role.split('/')[-1]}/{name}"


@pytest.mark.parametrize(
    "trust",
    [
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ec2.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        },
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        },
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                },
                {
                    "Effect": "Deny",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:*",
                },
            ],
        },
    ],
    ids=["other-service", "account-principal", "explicit-deny"],
)
def test_role_lambda_cannot_assume_is_rejected(mock_session, mock_role, mock_zip, mock_name, trust):
    with pytest.raises(ClientError) as error:
        mock_session.client("lambda").create_function(
            FunctionName=mock_name("fn"),
            Runtime="python3.12",
            Role=mock_role(trust=trust),
            Handler="handler.lambda_handler",
            Code={"ZipFile": mock_zip({"handler.py": ""})},
        )
    assert error.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert (
        error.value.response["Error"]["Message"]
        == "The role defined for the function cannot be assumed by Lambda."
    )


def test_updating_to_a_role_lambda_cannot_assume_is_rejected(
    mock_session, mock_function, mock_role
):
    name = mock_function("def lambda_handler(e, c):\n    return 1\n")
    ec2_role = mock_role(
        trust={
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ec2.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    with pytest.raises(ClientError) as error:
        mock_session.client("lambda").update_function_configuration(
            FunctionName=name, Role=ec2_role
        )
    assert error.value.response["Error"]["Code"] == "InvalidParameterValueException"


def test_invoking_needs_lambda_invoke_function(mock_account, mock_function, mock_name):
    name = mock_function("def lambda_handler(e, c):\n    return 'ran'\n")
    arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
    nobody = _user_session(mock_account, mock_name, None).client("lambda")
    wrong_action = _user_session(mock_account, mock_name, _allow("lambda:Invoke")).client("lambda")
    other_function = _user_session(
        mock_account, mock_name, _allow("lambda:InvokeFunction", arn + "-other")
    ).client("lambda")
    invoker = _user_session(mock_account, mock_name, _allow("lambda:InvokeFunction", arn)).client(
        "lambda"
    )
    for client in (nobody, wrong_action, other_function):
        with pytest.raises(ClientError) as error:
            client.invoke(FunctionName=name, Payload=b"{}")
        assert error.value.response["Error"]["Code"] == "AccessDeniedException"
    assert invoker.invoke(FunctionName=name, Payload=b"{}")["Payload"].read() == b'"ran"'
    assert invoker.invoke(FunctionName=name, InvocationType="DryRun")["StatusCode"] == 204
    with pytest.raises(ClientError):
        nobody.invoke(FunctionName=name, InvocationType="DryRun")


def test_bodiless_requests_work_for_an_allowed_user(mock_account, mock_function, mock_name):
    name = mock_function("def lambda_handler(e, c):\n    return 1\n")
    admin = _user_session(mock_account, mock_name, _allow("*")).client("lambda")
    assert name in {f["FunctionName"] for f in admin.list_functions()["Functions"]}
    assert admin.get_function(FunctionName=name)["Configuration"]["FunctionName"] == name
    reader = _user_session(mock_account, mock_name, _allow("s3:GetObject")).client("lambda")
    with pytest.raises(ClientError) as error:
        reader.get_function(FunctionName=name)
    assert error.value.response["Error"]["Code"] == "AccessDeniedException"


def test_user_cannot_assume_a_service_role(mock_account, mock_role, mock_name):
    role = mock_role()
    user = _user_session(mock_account, mock_name, _allow("sts:AssumeRole"))
    with pytest.raises(ClientError) as error:
        user.client("sts").assume_role(RoleArn=role, RoleSessionName="me")
    assert error.value.response["Error"]["Code"] == "AccessDenied"


def test_made_up_keys_are_rejected(mock_account):
    session = boto3_session(
        aws_access_key_id="AKIAMADEUPKEY0000000", aws_secret_access_key="x", region_name="us-east-1"
    )
    with pytest.raises(ClientError) as error:
        session.client("lambda", endpoint_url=mock_account.endpoint_url).list_functions()
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_the_trust_check_knows_the_source_account_as_lambda_would():
    """A confused-deputy guard (aws:SourceAccount) in a trust policy: right account in, others out."""
    from helpers.mock.awslambda.roles import trust_allows_service

    guarded = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
            }
        ],
    }
    assert trust_allows_service(guarded, "lambda.amazonaws.com", "123456789012")
    assert not trust_allows_service(guarded, "lambda.amazonaws.com", "999999999999")
    assert not trust_allows_service(guarded, "ec2.amazonaws.com", "123456789012")
    assert not trust_allows_service("{not json", "lambda.amazonaws.com", "123456789012")
