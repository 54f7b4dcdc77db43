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

from helpers.ownership import require_owned
from helpers.session import Account, derived_session

DENIED_CODES = ("AccessDenied", "AccessDeniedException", "403", "Forbidden")
# A new access key is refused with these until IAM has it everywhere (live accounts only).
NOT_YET_VALID_CODES = ("InvalidClientTokenId", "InvalidAccessKeyId", "SignatureDoesNotMatch")
MISSING_CODES = ("404", "NoSuchBucket", "NotFound", "NoSuchKey")

DECOY_KEY = "decoy.txt"
DECOY_BODY = b"Not the model: a bucket the function's role must not read.\n"

TEMPORARY_TRUST_SID = "TemporaryLeastPrivilegeCheck"
ROLE_SESSION_SECONDS = 900
"""The shortest session STS allows: the role's credentials outlive the widened trust by at most
this long."""

READY_ATTEMPTS = 20
READY_DELAY_S = 3.0
"""How long a live scratch user may take before its policy is in effect (about a minute)."""


class PolicyNotInEffect(RuntimeError):
    """A scratch user's policy still did not allow a request it allows, after waiting."""


@dataclass(frozen=True)
class Probe:
    """One real request: what it asks (action, resource) and how to make it with a session."""

    label: str
    action: str
    resource: str
    call: Callable[[boto3.Session], Any]


def ensure_decoy_bucket(account: Account) -> bool:
    """The decoy bucket (``names.decoy_bucket``) with one small object, made only when missing.

    The "read another bucket" probe needs a bucket that *exists*: S3 answers a request for a
    missing bucket with ``NoSuchBucket`` (404) before it looks at any policy, which proves
    nothing about least privilege. The bucket carries the account's tags, like everything the
    series creates; notebook 11 deletes it. Returns True when something was created.
    """
    from helpers.deploy import ensure_bucket

    names = account.names
    s3 = account.client("s3")
    created = ensure_bucket(account, names.decoy_bucket)
    try:
        s3.head_object(Bucket=names.decoy_bucket, Key=DECOY_KEY)
    except botocore.exceptions.ClientError as error:
        if str(error.response["Error"]["Code"]) not in MISSING_CODES:
            raise
        s3.put_object(Bucket=names.decoy_bucket, Key=DECOY_KEY, Body=DECOY_BODY)
        created = True
    return created


def s3_probes(account: Account) -> list[Probe]:
    """The requests that show the function's role is least-privilege.

    "read another bucket" reads the decoy bucket's object: call :func:`ensure_decoy_bucket`
    first, or S3 answers ``NoSuchBucket`` instead of judging the policy.
    """
    names = account.names
    model_arn = f"arn:aws:s3:::{names.models_bucket}/{names.model_key}"
    decoy_arn = f"arn:aws:s3:::{names.decoy_bucket}/{DECOY_KEY}"
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
            decoy_arn,
            lambda session: s3(session).get_object(Bucket=names.decoy_bucket, Key=DECOY_KEY),
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

    First, a trust policy left widened by an earlier run (a kernel that died inside
    :func:`temporarily_trusting_caller`) is restored. Mock mode: the mock account mints the
    credentials exactly as it does for a function (after checking the role trusts Lambda). Live
    mode: a role that trusts only ``lambda.amazonaws.com`` cannot be assumed by you, so
    :func:`temporarily_trusting_caller` lets your identity assume it for a moment, for the
    shortest session STS allows (15 minutes), and then restores the trust policy.
    """
    iam = account.client("iam")
    require_owned(account, "IAM role", role_name)
    restore_widened_trust(iam, role_name)
    role_arn = iam.get_role(RoleName=role_name)["Role"]["Arn"]
    if account.settings.is_mock:
        from helpers.lab import lambda_role_credentials

        credentials = lambda_role_credentials(account, role_arn, "least-privilege-check")
        return derived_session(
            aws_access_key_id=credentials.access_key_id,
            aws_secret_access_key=credentials.secret_access_key,
            aws_session_token=credentials.session_token,
            region_name=account.region,
        )
    with temporarily_trusting_caller(account, role_name):
        sts = account.client("sts")
        for attempt in range(10):  # a changed trust policy takes a few seconds to apply
            try:
                credentials = sts.assume_role(
                    RoleArn=role_arn,
                    RoleSessionName="least-privilege",
                    DurationSeconds=ROLE_SESSION_SECONDS,
                )["Credentials"]
                break
            except botocore.exceptions.ClientError as error:
                if error.response["Error"]["Code"] != "AccessDenied" or attempt == 9:
                    raise
                time.sleep(2)
    return derived_session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=account.region,
    )


def caller_principal_arn(iam: Any, caller_arn: str) -> str:
    """The principal ARN a trust policy must name for this caller (assumed roles → the role).

    An assumed-role ARN (``arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION``) has no path, but the
    role's ARN may: an IAM Identity Center role is
    ``arn:aws:iam::ACCOUNT:role/aws-reserved/sso.amazonaws.com/[REGION/]AWSReservedSSO_…``, and a
    trust policy naming it without the path is refused ("Invalid principal in policy"). So the
    role's real ARN comes from IAM.
    """
    if ":assumed-role/" in caller_arn:
        role_name = caller_arn.split(":assumed-role/", 1)[1].split("/")[0]
        return iam.get_role(RoleName=role_name)["Role"]["Arn"]
    return caller_arn


def _trust_document(iam: Any, role_name: str) -> dict[str, Any]:
    document = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    return json.loads(document) if isinstance(document, str) else document


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def restore_widened_trust(iam: Any, role_name: str) -> bool:
    """Remove the temporary statement a previous run left in the role's trust policy.

    :func:`temporarily_trusting_caller` restores the trust policy in a ``finally``, which does
    not run when the kernel dies inside the block. Returns True when the policy was repaired.
    """
    document = _trust_document(iam, role_name)
    statements = _statements(document)
    kept = [s for s in statements if s.get("Sid") != TEMPORARY_TRUST_SID]
    if len(kept) == len(statements):
        return False
    cleaned = {**document, "Statement": kept}
    iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=json.dumps(cleaned))
    return True


@contextmanager
def temporarily_trusting_caller(account: Account, role_name: str) -> Iterator[None]:
    """Add the caller to the role's trust policy for the duration of the block, then restore it.

    The added statement names exactly the caller (for an assumed role, the role's real ARN, path
    included) and only ``sts:AssumeRole``. A statement left by a run that died is removed first.
    Only a role of this learner's (tagged with its prefix) is changed.
    """
    iam = account.client("iam")
    require_owned(account, "IAM role", role_name)
    restore_widened_trust(iam, role_name)
    original = _trust_document(iam, role_name)
    widened = {
        **original,
        "Statement": [
            *_statements(original),
            {
                "Sid": TEMPORARY_TRUST_SID,
                "Effect": "Allow",
                "Principal": {"AWS": caller_principal_arn(iam, account.caller_arn)},
                "Action": "sts:AssumeRole",
            },
        ],
    }
    iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=json.dumps(widened))
    try:
        yield
    finally:
        iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=json.dumps(original))


@contextmanager
def scratch_user(
    account: Account, policy: dict[str, Any], ready_when: Probe | None = None
) -> Iterator[boto3.Session]:
    """A temporary IAM user (``names.scratch_user``) whose only permission is ``policy``.

    Used to cross-check a policy decision against a real call in mock and live mode alike. In a
    live account a new key and a new policy take a few seconds to apply: before handing out the
    session, wait until ``ready_when`` (a request the policy allows) succeeds; without one, until
    the key works. The user is deleted afterwards, whatever happens in between.
    """
    from helpers.iam import create_user_with_access_key, delete_user

    iam = account.client("iam")
    user = account.names.scratch_user
    require_owned(account, "IAM user", user)
    delete_user(iam, user)  # a user left by a kernel that died inside the block
    try:
        keys = create_user_with_access_key(iam, user, tags=account.tags)
        iam.put_user_policy(
            UserName=user, PolicyName="UnderTest", PolicyDocument=json.dumps(policy)
        )
        session = derived_session(**keys.session_kwargs(), region_name=account.region)
        if not account.settings.is_mock:
            _wait_until_in_effect(session, user, ready_when)
        yield session
    finally:
        delete_user(iam, user)


def _wait_until_in_effect(session: boto3.Session, user: str, probe: Probe | None) -> None:
    """Retry ``probe`` (or GetCallerIdentity) until it succeeds; a clear error after a minute."""
    label = f"'{probe.label}' ({probe.action})" if probe else "GetCallerIdentity"
    retry_codes = NOT_YET_VALID_CODES + (DENIED_CODES if probe else ())
    code = ""
    for attempt in range(READY_ATTEMPTS):
        try:
            if probe is None:
                session.client("sts").get_caller_identity()
            else:
                probe.call(session)
            return
        except botocore.exceptions.ClientError as error:
            code = str(error.response["Error"]["Code"])
            if code not in retry_codes:
                raise
        if attempt < READY_ATTEMPTS - 1:
            time.sleep(READY_DELAY_S)
    waited = READY_ATTEMPTS * READY_DELAY_S
    why = (
        "although its policy allows it. IAM normally applies a new key and policy within "
        "seconds: run the cell again. If it keeps failing, the policy does not allow what the "
        "local evaluator says; ask the policy simulator (iam.simulate_custom) for a second "
        "opinion."
        if probe
        else "so its new access key does not work yet. Run the cell again in a minute."
    )
    raise PolicyNotInEffect(
        f"The scratch user {user} still gets {code} for {label} after {READY_ATTEMPTS} tries "
        f"(about {waited:.0f} s), {why}"
    )


def _readiness_probe(probes: Sequence[Probe], allowed: Sequence[bool]) -> Probe | None:
    """The request that proves the policy is in effect: an allowed one, a read if possible."""
    candidates = [probe for probe, ok in zip(probes, allowed, strict=True) if ok]
    reads = [p for p in candidates if p.action.split(":")[-1].startswith(("Get", "List", "Head"))]
    return (reads or candidates or [None])[0]


def crosscheck(account: Account, policy: dict[str, Any], probes: Sequence[Probe]) -> pd.DataFrame:
    """Each probe's decision by the local evaluator next to the outcome of the real call.

    In a live account the real calls start only once a request the policy allows succeeds, so
    a ``denied`` means the policy denies, not that IAM has not applied it yet. (When the policy
    allows none of the probes, only the key can be waited for.)
    """
    from helpers.iam import evaluate

    decisions = [evaluate(p.action, p.resource, policy).decision for p in probes]
    ready_when = _readiness_probe(probes, [d == "allowed" for d in decisions])
    with scratch_user(account, policy, ready_when) as session:
        real = try_probes(session, probes)
    real["evaluator"] = decisions
    real["agree"] = (real["evaluator"] == "allowed") == (real["outcome"] == "allowed")
    return real[["action", "resource", "evaluator", "outcome", "agree"]]
