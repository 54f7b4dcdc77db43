"""Least privilege shown with real calls: act as a role (or a scratch user) and try requests.

A policy is only as good as what it really allows. These helpers get credentials for a principal
and make real S3 calls with them, so a notebook can show ``allowed`` next to ``AccessDenied`` —
and compare each with what the local evaluator (or the policy simulator) predicted.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.exceptions
import pandas as pd

from helpers.session import Account

DENIED_CODES = ("AccessDenied", "AccessDeniedException", "403", "Forbidden")


@dataclass(frozen=True)
class Probe:
    """One real request: what it asks (action, resource) and how to make it with a session."""

    label: str
    action: str
    resource: str
    call: Callable[[boto3.Session], Any]


def s3_probes(account: Account) -> list[Probe]:
    """The requests that show the function's role is least-privilege."""
    names = account.names
    model_arn = f"arn:aws:s3:::{names.models_bucket}/{names.model_key}"
    other_arn = f"arn:aws:s3:::{names.handlers_bucket}/function.zip"
    region = account.region

    def s3(session: boto3.Session):
        return session.client("s3", region_name=region)

    return [
        Probe(
            "read the model",
            "s3:GetObject",
            model_arn,
            lambda session: s3(session).get_object(Bucket=names.models_bucket, Key=names.model_key),
        ),
        Probe(
            "overwrite the model",
            "s3:PutObject",
            model_arn,
            lambda session: s3(session).put_object(
                Bucket=names.models_bucket, Key=names.model_key, Body=b"not a model"
            ),
        ),
        Probe(
            "read another bucket",
            "s3:GetObject",
            other_arn,
            lambda session: s3(session).get_object(
                Bucket=names.handlers_bucket, Key="function.zip"
            ),
        ),
        Probe(
            "list the models bucket",
            "s3:ListBucket",
            f"arn:aws:s3:::{names.models_bucket}",
            lambda session: s3(session).list_objects_v2(Bucket=names.models_bucket),
        ),
    ]


def try_probes(session: boto3.Session, probes: Sequence[Probe]) -> pd.DataFrame:
    """Make each request for real; one row each: allowed, or the error code AWS answered."""
    rows = []
    for probe in probes:
        try:
            probe.call(session)
            outcome, code = "allowed", ""
        except botocore.exceptions.ClientError as error:
            code = str(error.response["Error"]["Code"])
            outcome = "denied" if code in DENIED_CODES else "error"
        rows.append(
            {
                "request": probe.label,
                "action": probe.action,
                "resource": probe.resource,
                "outcome": outcome,
                "error code": code,
            }
        )
    return pd.DataFrame(rows).set_index("request")


def role_session(account: Account, role_name: str) -> boto3.Session:
    """A session with the role's temporary credentials — the ones its Lambda function gets.

    Mock mode: the mock account mints them exactly as it does for a function (after checking the
    role trusts Lambda). Live mode: a role that trusts only ``lambda.amazonaws.com`` cannot be
    assumed by you, so :func:`temporarily_trusting_caller` lets your identity assume it for a
    moment and then restores the trust policy.
    """
    iam = account.client("iam")
    role_arn = iam.get_role(RoleName=role_name)["Role"]["Arn"]
    if account.settings.is_mock:
        from helpers.mock.roles import check_lambda_can_assume, mint_credentials

        check_lambda_can_assume(account.account_id, role_arn)
        credentials = mint_credentials(
            account.account_id, account.region, role_arn, "least-privilege-check"
        )
        return boto3.Session(
            aws_access_key_id=credentials.access_key_id,
            aws_secret_access_key=credentials.secret_access_key,
            aws_session_token=credentials.session_token,
            region_name=account.region,
        )
    with temporarily_trusting_caller(account, role_name):
        sts = account.client("sts")
        for attempt in range(10):  # a changed trust policy takes a few seconds to apply
            try:
                credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName="least-privilege")[
                    "Credentials"
                ]
                break
            except botocore.exceptions.ClientError as error:
                if error.response["Error"]["Code"] != "AccessDenied" or attempt == 9:
                    raise
                time.sleep(2)
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=account.region,
    )


def caller_principal_arn(caller_arn: str) -> str:
    """The principal ARN a trust policy must name for this caller (assumed roles → the role)."""
    if ":assumed-role/" in caller_arn:
        prefix, rest = caller_arn.split(":assumed-role/", 1)
        account_part = prefix.replace(":sts:", ":iam:")
        return f"{account_part}:role/{rest.split('/')[0]}"
    return caller_arn


@contextmanager
def temporarily_trusting_caller(account: Account, role_name: str) -> Iterator[None]:
    """Add the caller to the role's trust policy for the duration of the block, then restore it."""
    iam = account.client("iam")
    original = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    if isinstance(original, str):
        original = json.loads(original)
    widened = json.loads(json.dumps(original))
    widened["Statement"].append(
        {
            "Sid": "TemporaryLeastPrivilegeCheck",
            "Effect": "Allow",
            "Principal": {"AWS": caller_principal_arn(account.caller_arn)},
            "Action": "sts:AssumeRole",
        }
    )
    iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=json.dumps(widened))
    try:
        yield
    finally:
        iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=json.dumps(original))


@contextmanager
def scratch_user(
    account: Account, policy: dict[str, Any], name: str = ""
) -> Iterator[boto3.Session]:
    """A temporary IAM user whose only permission is ``policy`` (inline); deleted afterwards.

    Used to cross-check a policy decision against a real call in mock and live mode alike.
    """
    from helpers.iam import create_user_with_access_key, delete_user

    iam = account.client("iam")
    user = name or f"{account.names.user_name}PolicyCheck"
    delete_user(iam, user)
    keys = create_user_with_access_key(iam, user)
    iam.put_user_policy(UserName=user, PolicyName="UnderTest", PolicyDocument=json.dumps(policy))
    session = boto3.Session(**keys.session_kwargs(), region_name=account.region)
    try:
        if not account.settings.is_mock:
            _wait_until_usable(session)
        yield session
    finally:
        delete_user(iam, user)


def _wait_until_usable(session: boto3.Session, attempts: int = 15) -> None:
    """New access keys take a few seconds to work in a live account."""
    sts = session.client("sts")
    for attempt in range(attempts):
        try:
            sts.get_caller_identity()
            return
        except botocore.exceptions.ClientError:
            if attempt == attempts - 1:
                raise
            time.sleep(2)


def crosscheck(account: Account, policy: dict[str, Any], probes: Sequence[Probe]) -> pd.DataFrame:
    """Each probe's decision by the local evaluator next to the outcome of the real call."""
    from helpers.iam import evaluate

    with scratch_user(account, policy) as session:
        real = try_probes(session, probes)
    real["evaluator"] = [evaluate(p.action, p.resource, policy).decision for p in probes]
    real["agree"] = (real["evaluator"] == "allowed") == (real["outcome"] == "allowed")
    return real[["action", "resource", "evaluator", "outcome", "agree"]]
