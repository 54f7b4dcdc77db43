"""The mock account's boundary: what a caller can send it, and who can act as its root.

Each test answers one finding of the mock's security review: moto's /moto-api/ (rows 1 and 2),
the root's secret (fixed and importable: row 4), unsigned and malformed requests (row 18), input
that crashed the mock with HTTP 500 (row 16) and names and parameters it accepted (row 17).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import boto3
import pytest
import requests
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from test_no_secrets import findings

from helpers.config import PROJECT_ROOT
from helpers.service_models import boto3_session

ECHO = "def lambda_handler(event, context):\n    return event\n"
OLD_FIXED_SECRET = "mock-account-root-secret-do-not-use-on-aws"
ONE_TRY = Config(retries={"total_max_attempts": 1})


def _error(call) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response
    return (
        error["Error"]["Code"],
        error["Error"].get("Message", ""),
        error["ResponseMetadata"]["HTTPStatusCode"],
    )


def _signed(mock_account, method, path, *, service="s3", body=b"", headers=None, secret=None):
    """A raw request signed with the root's key (or ``secret`` in its place)."""
    creds = mock_account.admin_credentials
    credentials = Credentials(creds["access_key_id"], secret or creds["secret_access_key"])
    request = AWSRequest(
        method=method, url=mock_account.endpoint_url + path, data=body, headers=headers or {}
    )
    SigV4Auth(credentials, service, "us-east-1").add_auth(request)
    prepared = request.prepare()
    return requests.request(
        method, prepared.url, headers=dict(prepared.headers), data=body, timeout=30
    )


def _leftovers(mock_account) -> list[Path]:
    return list(Path(mock_account.lambda_service.work_dir).rglob("*.partial"))


# -- rows 1 and 2: moto's /moto-api/ ------------------------------------------------------------------
MOTO_API_PATHS = [
    ("GET", "/moto-api/data.json"),
    ("GET", "/moto-api/"),
    ("POST", "/moto-api/reset"),
    ("POST", "/moto-api/reset-auth"),
    ("POST", "/moto-api/seed?a=42"),
    ("POST", "/moto-api/config"),
    ("GET", "/moto-api/recorder/download-recording"),
    ("GET", "/moto-api/state-manager/get-transition?model_name=lambda::function"),
]


@pytest.mark.parametrize(("method", "path"), MOTO_API_PATHS)
def test_moto_api_is_refused_to_everyone(mock_account, method, path):
    """Row 1: no caller, signed by the root or not, reaches moto's internal API."""
    unsigned = requests.request(method, mock_account.endpoint_url + path, data=b"1e9", timeout=30)
    signed = _signed(mock_account, method, path, body=b"1e9")
    for response in (unsigned, signed):
        assert response.status_code == 404, response.text[:200]
        assert "UnknownOperationException" in response.text
        assert mock_account.admin_credentials["secret_access_key"] not in response.text


def test_moto_api_state_dump_shows_no_secret(mock_account, mock_session, mock_name):
    """Row 1: data.json used to return every IAM user's secret key, unsigned."""
    iam = mock_session.client("iam")
    user = mock_name("user")
    iam.create_user(UserName=user)
    secret = iam.create_access_key(UserName=user)["AccessKey"]["SecretAccessKey"]
    response = requests.get(f"{mock_account.endpoint_url}/moto-api/data.json", timeout=30)
    assert response.status_code == 404
    assert secret not in response.text and user not in response.text


def test_moto_api_cannot_turn_enforcement_off_or_wipe_the_account(
    mock_account, mock_session, mock_function, mock_name
):
    """Row 2: reset-auth (body 1e9) turned IAM enforcement off; reset deleted everything."""
    name = mock_function(ECHO)
    iam = mock_session.client("iam")
    user = mock_name("user")
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    nobody = boto3_session(
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        region_name="us-east-1",
    ).client("lambda", endpoint_url=mock_account.endpoint_url, config=ONE_TRY)

    for path in ("/moto-api/reset-auth", "/moto-api/reset"):
        response = requests.post(mock_account.endpoint_url + path, data=b"1e9", timeout=30)
        assert response.status_code == 404, (path, response.text[:200])

    code, _, status = _error(lambda: nobody.list_functions())
    assert (code, status) == ("AccessDeniedException", 403)
    assert mock_session.client("lambda").get_function(FunctionName=name)
    assert any(u["UserName"] == user for u in iam.list_users()["Users"])


# -- row 4: the root's secret -----------------------------------------------------------------------
def test_the_root_secret_is_drawn_at_start_and_importable_nowhere(mock_account):
    from helpers.mock import identity

    secret = mock_account.admin_credentials["secret_access_key"]
    assert secret != OLD_FIXED_SECRET and len(secret) == 40
    assert secret not in {v for v in vars(identity).values() if isinstance(v, str)}
    assert mock_account.environment()["AWS_SECRET_ACCESS_KEY"] == secret
    assert mock_account.session().get_credentials().secret_key == secret
    # the credential scan of stored outputs would catch it, bare or as an exported line
    assert findings(f"output: {secret} end")
    assert findings(f"AWS_SECRET_ACCESS_KEY={secret}")


def test_the_old_fixed_secret_opens_nothing(mock_account):
    sts = boto3.client(
        "sts",
        endpoint_url=mock_account.endpoint_url,
        aws_access_key_id=mock_account.admin_credentials["access_key_id"],
        aws_secret_access_key=OLD_FIXED_SECRET,
        region_name="us-east-1",
        config=ONE_TRY,
    )
    code, _, status = _error(lambda: sts.get_caller_identity())
    assert (code, status) == ("SignatureDoesNotMatch", 403)


BACKDOOR = """
import boto3
from botocore.exceptions import ClientError

try:  # in the sandbox the project's files are out of reach; unsandboxed the module has no secret
    from helpers.mock import identity
except ImportError:
    identity = None


def lambda_handler(event, context):
    secret = getattr(identity, "ROOT_SECRET_ACCESS_KEY", None) or event["guess"]
    iam = boto3.client(
        "iam",
        aws_access_key_id="AKIAMOCKACCOUNTROOT0",
        aws_secret_access_key=secret,
        aws_session_token=None,
    )
    try:
        iam.create_user(UserName=event["user"])
        return {"created": True}
    except ClientError as error:
        return {"created": False, "code": error.response["Error"]["Code"]}
"""


def test_a_function_cannot_sign_as_the_root(mock_session, mock_function, mock_name):
    """Row 4: a handler imported the fixed root key and created IAM user ``backdoor``."""
    name = mock_function(BACKDOOR, Timeout=30)
    user = mock_name("backdoor")
    response = mock_session.client("lambda").invoke(
        FunctionName=name, Payload=json.dumps({"user": user, "guess": OLD_FIXED_SECRET})
    )
    result = json.loads(response["Payload"].read())
    assert result == {"created": False, "code": "SignatureDoesNotMatch"}
    code, _, _ = _error(lambda: mock_session.client("iam").get_user(UserName=user))
    assert code == "NoSuchEntity"


def test_python_m_helpers_mock_prints_its_own_working_secret(mock_account):
    """The terminal's account prints its four lines with a secret of its own, which works there
    and nowhere else."""
    process = subprocess.Popen(
        [sys.executable, "-m", "helpers.mock"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().strip() for _ in range(4)]
        printed = dict(line.split("=", 1) for line in lines)
        assert list(printed) == [
            "AWS_ENDPOINT_URL",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_DEFAULT_REGION",
        ]
        secret = printed["AWS_SECRET_ACCESS_KEY"]
        assert secret != mock_account.admin_credentials["secret_access_key"]

        def sts(secret_key: str):
            return boto3.client(
                "sts",
                endpoint_url=printed["AWS_ENDPOINT_URL"],
                aws_access_key_id=printed["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=secret_key,
                region_name=printed["AWS_DEFAULT_REGION"],
                config=ONE_TRY,
            )

        assert sts(secret).get_caller_identity()["Arn"] == "arn:aws:iam::123456789012:root"
        other = mock_account.admin_credentials["secret_access_key"]
        code, _, _ = _error(lambda: sts(other).get_caller_identity())
        assert code == "SignatureDoesNotMatch"
    finally:
        process.terminate()
        process.wait(timeout=30)


# -- row 18: unsigned and malformed requests ----------------------------------------------------------
def test_unsigned_requests_get_aws_403s(mock_account):
    url = mock_account.endpoint_url
    lam = requests.get(f"{url}/2015-03-31/functions/", timeout=30)
    assert lam.status_code == 403
    assert lam.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert lam.json()["message"] == "Missing Authentication Token"

    logs = requests.post(
        url,
        data=b"{}",
        headers={
            "X-Amz-Target": "Logs_20140328.DescribeLogGroups",
            "Content-Type": "application/x-amz-json-1.1",
        },
        timeout=30,
    )
    assert logs.status_code == 403
    assert logs.json()["__type"] == "MissingAuthenticationTokenException"

    iam = requests.post(
        url,
        data=b"Action=CreateUser&UserName=anonymous&Version=2010-05-08",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )
    assert iam.status_code == 403
    assert "<Code>MissingAuthenticationToken</Code>" in iam.text

    s3 = requests.get(f"{url}/some-bucket/some-key", timeout=30)
    assert s3.status_code == 403
    assert "<Code>AccessDenied</Code>" in s3.text


def test_unsigned_sdk_clients_get_aws_errors(mock_account):
    def client(service: str):
        return boto3.client(
            service,
            endpoint_url=mock_account.endpoint_url,
            region_name="us-east-1",
            config=Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1}),
        )

    assert _error(lambda: client("lambda").list_functions())[::2] == (
        "MissingAuthenticationTokenException",
        403,
    )
    assert _error(lambda: client("s3").list_objects_v2(Bucket="any"))[::2] == ("AccessDenied", 403)


SIGV4 = "AWS4-HMAC-SHA256 Credential=AKIAMOCKACCOUNTROOT0/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host;x-amz-date, Signature={signature}"
DATE = {"X-Amz-Date": "20260101T000000Z"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
MALFORMED = {
    "SigV2 header": ("GET", "/", {"Authorization": "AWS AKIAMOCKACCOUNTROOT0:abc"}, b""),
    "garbage header": ("GET", "/2015-03-31/functions", {"Authorization": "garbage"}, b""),
    "no Signature": (
        "GET",
        "/2015-03-31/functions",
        {
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAMOCKACCOUNTROOT0/20260101/us-east-1/lambda/aws4_request",
            **DATE,
        },
        b"",
    ),
    "no X-Amz-Date": (
        "GET",
        "/2015-03-31/functions",
        {"Authorization": SIGV4.format(service="lambda", signature="0" * 64)},
        b"",
    ),
    "unknown service": (
        "GET",
        "/",
        {"Authorization": SIGV4.format(service="nosuchservice", signature="0" * 64), **DATE},
        b"",
    ),
    "presigned URL": (
        "GET",
        "/bucket/key?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAMOCKACCOUNTROOT0%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00",
        {},
        b"",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_authentication_never_gets_a_500(mock_account, case):
    method, path, headers, body = MALFORMED[case]
    response = requests.request(
        method, mock_account.endpoint_url + path, headers=headers, data=body, timeout=30
    )
    assert 400 <= response.status_code < 500, response.text[:300]
    assert "Traceback" not in response.text and "<html" not in response.text.lower()


SIGNED_GARBAGE = {
    "IAM body not UTF-8": ("iam", "POST", "/", b"Action=CreateUser&UserName=\xff", FORM),
    "IAM unknown action": ("iam", "POST", "/", b"Action=Nope&Version=2010-05-08", FORM),
    "STS missing parameter": ("sts", "POST", "/", b"Action=AssumeRole&Version=2011-06-15", FORM),
    "Logs JSON 3,000 deep": (
        "logs",
        "POST",
        "/",
        b"[" * 3000 + b"]" * 3000,
        {"X-Amz-Target": "Logs_20140328.DescribeLogGroups"},
    ),
    "Lambda body not JSON": ("lambda", "POST", "/2015-03-31/functions", b"{nope", {}),
    "Lambda body of wrong types": (
        "lambda",
        "POST",
        "/2015-03-31/functions",
        json.dumps(
            {
                "FunctionName": "f",
                "Runtime": "python3.12",
                "Handler": "h.f",
                "Role": "arn:aws:iam::123456789012:role/r",
                "Code": "not a structure",
            }
        ).encode(),
        {},
    ),
    "Lambda body missing its name": ("lambda", "POST", "/2015-03-31/functions", b"{}", {}),
}


@pytest.mark.parametrize("case", list(SIGNED_GARBAGE))
def test_signed_garbage_never_gets_a_500(mock_account, case):
    service, method, path, body, headers = SIGNED_GARBAGE[case]
    response = _signed(mock_account, method, path, service=service, body=body, headers=headers)
    assert 400 <= response.status_code < 500, response.text[:300]
    assert "Traceback" not in response.text and "<html" not in response.text.lower()


# -- row 16: input that crashed the mock ------------------------------------------------------------
def test_invoke_payload_that_is_not_utf8_is_a_400(mock_session, mock_function):
    name = mock_function(ECHO)
    lam = mock_session.client("lambda", config=ONE_TRY)
    code, message, status = _error(lambda: lam.invoke(FunctionName=name, Payload=b'{"a": "\xff"}'))
    assert (code, status) == ("InvalidRequestContentException", 400)
    assert message.startswith("Could not parse request body into json: Could not parse payload")
    assert "UTF-8" in message


def test_invoke_payload_nested_2000_deep_is_a_400(mock_session, mock_function):
    name = mock_function(ECHO)
    lam = mock_session.client("lambda", config=ONE_TRY)
    payload = b"[" * 2000 + b"]" * 2000
    code, message, status = _error(lambda: lam.invoke(FunctionName=name, Payload=payload))
    assert (code, status) == ("InvalidRequestContentException", 400)
    assert "Document nesting depth (2000) exceeds the maximum allowed (1000)" in message


def test_partial_arns_resolve_as_on_aws(mock_account, mock_session, mock_function):
    name = mock_function(ECHO)
    lam = mock_session.client("lambda", config=ONE_TRY)
    response = lam.invoke(FunctionName=f"123456789012:function:{name}", Payload=b'{"x": 1}')
    assert json.loads(response["Payload"].read()) == {"x": 1}
    assert lam.get_function(FunctionName=f"123456789012:function:{name}")
    for missing in (
        "123456789012:function:x",
        f"999999999999:function:{name}",
        f"arn:aws:lambda:eu-west-1:123456789012:function:{name}",
    ):
        code, message, status = _error(lambda m=missing: lam.invoke(FunctionName=m, Payload=b"{}"))
        assert (code, status) == ("ResourceNotFoundException", 404), message


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"A=B": "1"}, "ValidationException"),
        ({"GOOD": "nul\x00inside"}, "InvalidParameterValueException"),
    ],
    ids=["key with =", "NUL in a value"],
)
def test_environment_a_process_cannot_hold_is_refused_at_create(
    mock_account, mock_session, mock_function, variables, code
):
    lam = mock_session.client("lambda", config=ONE_TRY)
    before = {f["FunctionName"] for f in lam.list_functions()["Functions"]}
    error = _error(lambda: mock_function(ECHO, Environment={"Variables": variables}))
    assert error[::2] == (code, 400), error
    assert {f["FunctionName"] for f in lam.list_functions()["Functions"]} == before
    name = mock_function(ECHO)
    error = _error(
        lambda: lam.update_function_configuration(
            FunctionName=name, Environment={"Variables": variables}
        )
    )
    assert error[::2] == (code, 400), error


def _bad_crc(package: bytes) -> bytes:
    data = bytearray(package)
    local, central = data.find(b"PK\x03\x04"), data.rfind(b"PK\x01\x02")
    crc = (int.from_bytes(data[local + 14 : local + 18], "little") ^ 0xFFFF).to_bytes(4, "little")
    data[local + 14 : local + 18] = crc
    data[central + 16 : central + 20] = crc
    return bytes(data)


def _lying_size(package: bytes) -> bytes:
    data = bytearray(package)
    local, central = data.find(b"PK\x03\x04"), data.rfind(b"PK\x01\x02")
    data[local + 22 : local + 26] = (1).to_bytes(4, "little")
    data[central + 24 : central + 28] = (1).to_bytes(4, "little")
    return bytes(data)


@pytest.mark.parametrize("damage", [_bad_crc, _lying_size], ids=["bad CRC", "lying size"])
def test_a_damaged_zip_is_refused_at_create_and_update(
    mock_account, mock_session, mock_function, mock_role, mock_zip, mock_name, damage
):
    package = damage(mock_zip({"handler.py": ECHO}))
    with pytest.raises((zipfile.BadZipFile, zlib.error, EOFError)):  # the damage is real
        zipfile.ZipFile(io.BytesIO(package)).read("handler.py")
    lam = mock_session.client("lambda", config=ONE_TRY)
    name = mock_name("fn")
    code, message, status = _error(
        lambda: lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=mock_role(),
            Handler="handler.lambda_handler",
            Code={"ZipFile": package},
        )
    )
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message.startswith("Could not unzip uploaded file.")
    assert _error(lambda: lam.get_function(FunctionName=name))[0] == "ResourceNotFoundException"

    working = mock_function(ECHO)
    code, _, status = _error(
        lambda: lam.update_function_code(FunctionName=working, ZipFile=package)
    )
    assert (code, status) == ("InvalidParameterValueException", 400)
    response = lam.invoke(FunctionName=working, Payload=b'{"still": "works"}')
    assert json.loads(response["Payload"].read()) == {"still": "works"}
    assert _leftovers(mock_account) == []


# -- row 17: names and parameters Lambda refuses ------------------------------------------------------
@pytest.mark.parametrize("name", ["foo bar", "x;rm", "..", "a" * 65], ids=lambda n: n[:12])
def test_function_names_lambda_refuses(mock_session, mock_role, mock_zip, name):
    lam = mock_session.client("lambda", config=ONE_TRY)
    code, message, status = _error(
        lambda: lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=mock_role(),
            Handler="handler.lambda_handler",
            Code={"ZipFile": mock_zip({"handler.py": ECHO})},
        )
    )
    assert (code, status) == ("ValidationException", 400)
    assert message.startswith(
        f"1 validation error detected: Value '{name}' at 'functionName' failed to satisfy "
        "constraint: Member must"
    )
    assert name not in {f["FunctionName"] for f in lam.list_functions()["Functions"]}


def test_names_lambda_accepts_still_work(mock_session, mock_role, mock_zip):
    lam = mock_session.client("lambda", config=ONE_TRY)
    for name in ("b" * 64, "Under_score-and-dash9"):
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=mock_role(),
            Handler="handler.lambda_handler",
            Code={"ZipFile": mock_zip({"handler.py": ECHO})},
        )
        assert lam.get_function(FunctionName=name)["Configuration"]["FunctionName"] == name
        lam.delete_function(FunctionName=name)


def test_environment_variable_names_lambda_refuses(mock_function):
    code, message, status = _error(
        lambda: mock_function(ECHO, Environment={"Variables": {"1BAD": "x"}})
    )
    assert (code, status) == ("ValidationException", 400)
    assert message == (
        "1 validation error detected: Value at 'environment.variables' failed to satisfy "
        "constraint: Map keys must satisfy constraint: [Member must satisfy regular expression "
        "pattern: [a-zA-Z]([a-zA-Z0-9_])+]"
    )


def test_an_unknown_invocation_type_is_refused_and_runs_nothing(
    mock_account, mock_session, mock_function
):
    name = mock_function(ECHO)
    lam = mock_session.client("lambda", config=ONE_TRY)
    code, message, status = _error(
        lambda: lam.invoke(FunctionName=name, InvocationType="Bogus", Payload=b"{}")
    )
    assert (code, status) == ("ValidationException", 400)
    assert message == (
        "1 validation error detected: Value 'Bogus' at 'invocationType' failed to satisfy "
        "constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
    )
    assert mock_account.lambda_service.environments(name) == []


def test_json_deeper_than_aws_allows_is_refused_whatever_python_parses():
    """Python 3.13's json parses 3,000 levels (3.11's gives up near 1,000); AWS stops at 1,000."""
    from helpers.mock.door_checks import deeper_than_allowed

    assert deeper_than_allowed("[" * 1001 + "]" * 1001)
    assert not deeper_than_allowed("[" * 1000 + "]" * 1000)
    assert not deeper_than_allowed('"' + "[" * 3000 + '"')  # brackets inside a string
    assert not deeper_than_allowed("[" + "[]," * 3000 + "[]]")  # many, but shallow
