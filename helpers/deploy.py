"""Deploying the data product: buckets, the model object, the role, the function — idempotently.

Every function here can run twice with the same result, so a notebook's catch-up cell can call
them blindly. In live mode every creating call passes the session's opt-in hook
(``helpers.session``), which refuses until the learner sets ``SERIES_LIVE_CREATE=yes``.
"""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.exceptions

from helpers.config import Names
from helpers.ownership import require_owned
from helpers.session import Account, tags_for

RUNTIME = "python3.12"
HANDLER = "handler.lambda_handler"
MEMORY_MB = 128
TIMEOUT_S = 6
IMAGE_MEMORY_MB = 512
"""The image's memory: R + rpy2 + boto3 peak at about 110-120 MB, and Lambda's CPU share
(MemorySize / 1,769 MB of a vCPU) must start R within the 10 s INIT limit; notebook 6 and
benchmarks/bench_image.py show the measurements behind the choice."""
IMAGE_TIMEOUT_S = 10
FUNCTION_ZIP_KEY = "function.zip"


def ensure_bucket(account: Account, bucket: str) -> bool:
    """Create ``bucket`` unless it exists (and is ours). Returns True when it was created."""
    s3 = account.client("s3")
    try:
        s3.head_bucket(Bucket=bucket)
        require_owned(account, "S3 bucket", bucket)
        return False
    except botocore.exceptions.ClientError as error:
        code = error.response["Error"]["Code"]
        if code in ("403", "AccessDenied"):
            raise RuntimeError(
                f"The bucket name {bucket!r} is taken by another AWS account (bucket names are "
                "global). Set SERIES_PREFIX to something unique, e.g. your name, and restart."
            ) from error
        if code not in ("404", "NoSuchBucket", "NotFound"):
            raise
    arguments: dict[str, Any] = {"Bucket": bucket}
    if account.region != "us-east-1":
        arguments["CreateBucketConfiguration"] = {"LocationConstraint": account.region}
    s3.create_bucket(**arguments)
    tags = [{"Key": key, "Value": value} for key, value in tags_for(account).items()]
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
    return True


def upload_file(account: Account, path: Path, bucket: str, key: str) -> bool:
    """Upload ``path`` to s3://bucket/key unless the object already has the same MD5 (ETag)."""
    s3 = account.client("s3")
    md5 = hashlib.md5(path.read_bytes()).hexdigest()
    try:
        if s3.head_object(Bucket=bucket, Key=key)["ETag"].strip('"') == md5:
            return False
    except botocore.exceptions.ClientError as error:
        if error.response["Error"]["Code"] not in ("404", "NoSuchKey", "NotFound"):
            raise
    s3.upload_file(str(path), bucket, key)
    return True


def upload_model(account: Account, model_path: Path) -> str:
    """The model bucket (created if needed) with ``admission.rds`` in it; returns its S3 URI."""
    names = account.names
    ensure_bucket(account, names.models_bucket)
    upload_file(account, model_path, names.models_bucket, names.model_key)
    return f"s3://{names.models_bucket}/{names.model_key}"


def setup_role(account: Account):
    """The ServerlessPOC policy and role (trusting Lambda), both policies attached."""
    from helpers.iam import setup_lambda_role

    require_owned(account, "IAM policy", account.names.policy_name)
    require_owned(account, "IAM role", account.names.role_name)
    return setup_lambda_role(account.client("iam"), account.names, tags=tags_for(account))


@dataclass(frozen=True)
class FunctionResult:
    arn: str
    action: str  # "created", "updated" or "unchanged"
    code_sha256: str


def code_sha256(zip_path: Path) -> str:
    """Lambda's CodeSha256: base64 of the zip's SHA-256 digest."""
    return base64.b64encode(hashlib.sha256(zip_path.read_bytes()).digest()).decode()


def package_type(account: Account) -> str:
    """``Zip`` in mock mode (the mock runs it with this machine's R); ``Image`` in live mode.

    A Debian R cannot run from a zip on today's Amazon Linux 2023 runtimes (notebook 6).
    """
    return "Zip" if account.settings.is_mock else "Image"


def function_configuration(names: Names, role_arn: str, kind: str = "Zip") -> dict[str, Any]:
    """The 2017 function's configuration, on today's runtime (or as a container image)."""
    configuration: dict[str, Any] = {
        "Role": role_arn,
        "MemorySize": MEMORY_MB if kind == "Zip" else IMAGE_MEMORY_MB,
        "Timeout": TIMEOUT_S if kind == "Zip" else IMAGE_TIMEOUT_S,
        "Environment": {
            "Variables": {"MODEL_BUCKET": names.models_bucket, "MODEL_KEY": names.model_key}
        },
        "Description": "Would this applicant be admitted? (R glm through rpy2)",
    }
    if kind == "Zip":  # an image carries its runtime and entry point (ENTRYPOINT/CMD) itself
        configuration.update(Runtime=RUNTIME, Handler=HANDLER)
    return configuration


def ensure_function(
    account: Account,
    zip_path: Path,
    role_arn: str,
    *,
    function_name: str | None = None,
    configuration: dict[str, Any] | None = None,
) -> FunctionResult:
    """Create the function, or bring its code and configuration up to date.

    Mock mode: code from the zip, uploaded to the handlers bucket (as in 2017). Live mode: the
    container image of ``lambda_package/`` in ECR (built and pushed by ``helpers.image``).
    """
    names = account.names
    function_name = function_name or names.function_name
    kind = package_type(account)
    wanted = configuration or function_configuration(names, role_arn, kind)
    lam = account.client("lambda")
    if kind == "Zip":
        ensure_bucket(account, names.handlers_bucket)
        upload_file(account, zip_path, names.handlers_bucket, FUNCTION_ZIP_KEY)
        code: dict[str, Any] = {"S3Bucket": names.handlers_bucket, "S3Key": FUNCTION_ZIP_KEY}
        sha = code_sha256(zip_path)
    else:
        from helpers.registry import ensure_image

        code = {"ImageUri": ensure_image(account)}
        sha = ""
    try:
        current = lam.get_function_configuration(FunctionName=function_name)
        require_owned(account, "Lambda function", function_name)
    except lam.exceptions.ResourceNotFoundException:
        created = _retry_role_propagation(
            account,
            lambda: lam.create_function(
                FunctionName=function_name,
                Code=code,
                PackageType=kind,
                Publish=False,
                Tags=tags_for(account),
                **wanted,
            ),
        )
        wait_until_ready(account, function_name)
        return FunctionResult(created["FunctionArn"], "created", created["CodeSha256"])
    action = "unchanged"
    if _code_differs(lam, function_name, current, code, sha):
        _retry_role_propagation(
            account, lambda: lam.update_function_code(FunctionName=function_name, **code)
        )
        wait_until_ready(account, function_name)
        action = "updated"
    if _differs(current, wanted):
        _retry_role_propagation(
            account,
            lambda: lam.update_function_configuration(FunctionName=function_name, **wanted),
        )
        wait_until_ready(account, function_name)
        action = "updated"
    return FunctionResult(current["FunctionArn"], action, sha or current["CodeSha256"])


def _code_differs(
    lam: Any, name: str, current: dict[str, Any], code: dict[str, Any], sha: str
) -> bool:
    if "ImageUri" in code:
        return lam.get_function(FunctionName=name)["Code"].get("ImageUri") != code["ImageUri"]
    return current["CodeSha256"] != sha


def _differs(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    for key, value in wanted.items():
        have = current.get(key)
        if key == "Environment":
            have = {"Variables": (have or {}).get("Variables", {})}
        if have != value:
            return True
    return False


class ImagePullDenied(RuntimeError):
    """Lambda may not read the image (typically another account's ECR without a policy)."""


def _retry_role_propagation(account: Account, call, attempts: int = 8):
    """A new role takes a few seconds to be usable by Lambda in a live account; retry then.

    In mock mode the same error means the trust policy is wrong, so it is raised at once.
    """
    for attempt in range(attempts):
        try:
            return call()
        except botocore.exceptions.ClientError as error:
            message = error.response["Error"].get("Message", "")
            if "ECR" in message and ("permission" in message or "denied" in message.lower()):
                raise ImagePullDenied(
                    f"Lambda could not pull the function's image: {message} When the image is in "
                    "another account's ECR (an instructor's SERIES_IMAGE_URI), that repository "
                    "needs a repository policy letting this account's Lambda pull it "
                    "(docs/live-mode.md, 'A shared image'); ask its owner, or unset "
                    "SERIES_IMAGE_URI to build and push your own."
                ) from error
            retryable = "cannot be assumed by Lambda" in message and not account.settings.is_mock
            if not retryable or attempt == attempts - 1:
                raise
            time.sleep(2 + attempt)
    raise AssertionError("unreachable")


def wait_until_ready(
    account: Account, function_name: str, timeout_s: float = 120
) -> dict[str, Any]:
    """Wait until the function is Active and its last update Successful."""
    lam = account.client("lambda")
    deadline = time.monotonic() + timeout_s
    while True:
        configuration = lam.get_function_configuration(FunctionName=function_name)
        state = configuration.get("State", "Active")
        update = configuration.get("LastUpdateStatus", "Successful")
        if state == "Active" and update in ("Successful", None):
            return configuration
        if state == "Failed" or update == "Failed":
            reason = configuration.get("StateReason") or configuration.get("LastUpdateStatusReason")
            raise RuntimeError(f"{function_name} failed to become ready: {reason}")
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{function_name} is still {state}/{update} after {timeout_s:.0f} s; "
                "check it in the Lambda console."
            )
        time.sleep(1)


def setup_role_without_model_access(account: Account) -> str:
    """A counter-example: a role trusting Lambda that may write logs but not read the model."""
    from helpers.iam import BASIC_EXECUTION_POLICY_ARN, attach_policies, ensure_role, load_policy

    iam = account.client("iam")
    require_owned(account, "IAM role", account.names.no_s3_role)
    role = ensure_role(
        iam,
        account.names.no_s3_role,
        load_policy("lambda_trust_policy", account.names),
        description="Counter-example: logging only, no access to the model",
        tags=tags_for(account),
    )
    attach_policies(iam, account.names.no_s3_role, [BASIC_EXECUTION_POLICY_ARN])
    return role.arn


def setup_untrusted_role(account: Account) -> str:
    """A counter-example: a role whose trust policy names EC2, not Lambda."""
    from helpers.iam import ensure_role

    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    require_owned(account, "IAM role", account.names.untrusted_role)
    return ensure_role(
        account.client("iam"),
        account.names.untrusted_role,
        trust,
        description="Counter-example: trusts EC2, not Lambda",
        tags=tags_for(account),
    ).arn
