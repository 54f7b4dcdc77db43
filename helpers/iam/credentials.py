"""Permanent vs temporary credentials: the Part II lesson, with keys never printed in full.

An IAM user has permanent credentials (an access key ``AKIA...`` and a secret) until someone
deletes them; a role has none, and whoever assumes it gets temporary ones from STS (``ASIA...``,
a secret *and* a session token, with an expiry). Notebooks show keys through ``mask_key_id`` and
the dataclasses' reprs, so a shared or committed notebook does not leak a secret.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from helpers.iam.errors import IamStateError
from helpers.iam.roles import tag_list

MAX_ACCESS_KEYS_PER_USER = 2
KEY_KINDS = {
    "AKIA": "permanent (IAM user access key)",
    "ASIA": "temporary (STS session credentials)",
}


def mask_key_id(key_id: str) -> str:
    """``AKIAIOSFODNN7EXAMPLE`` -> ``AKIA************MPLE``: the kind and the last 4, nothing else."""
    if len(key_id) < 12:
        return "*" * len(key_id)
    return f"{key_id[:4]}{'*' * (len(key_id) - 8)}{key_id[-4:]}"


def key_kind(key_id: str) -> str:
    """What the prefix says: AKIA = permanent user key, ASIA = temporary STS key."""
    return KEY_KINDS.get(key_id[:4], f"unknown (prefix {key_id[:4]!r})")


@dataclass(frozen=True)
class TemporaryCredentials:
    """Credentials from STS AssumeRole. The repr masks them; pass them on with ``session_kwargs``."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration: dt.datetime
    assumed_role_arn: str

    def __repr__(self) -> str:
        return (
            f"TemporaryCredentials(access_key_id={mask_key_id(self.access_key_id)!r}, "
            f"session_token=<{len(self.session_token)} chars>, expiration={self.expiration.isoformat()}, "
            f"assumed_role_arn={self.assumed_role_arn!r})"
        )

    def session_kwargs(self) -> dict[str, str]:
        """Keyword arguments for ``boto3.Session(**...)`` or ``boto3.client(...)``."""
        return {
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
            "aws_session_token": self.session_token,
        }

    def seconds_left(self, now: dt.datetime | None = None) -> float:
        """Seconds until these credentials stop working."""
        now = now or dt.datetime.now(dt.UTC)
        return (self.expiration - now).total_seconds()


@dataclass(frozen=True)
class PermanentCredentials:
    """An IAM user's access key. The repr masks it; the secret is shown only once by AWS."""

    user_name: str
    access_key_id: str
    secret_access_key: str = field(repr=False)

    def __repr__(self) -> str:
        return (
            f"PermanentCredentials(user_name={self.user_name!r}, "
            f"access_key_id={mask_key_id(self.access_key_id)!r}, secret_access_key=<hidden>)"
        )

    def session_kwargs(self) -> dict[str, str]:
        """Keyword arguments for ``boto3.Session(**...)`` or ``boto3.client(...)``."""
        return {
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
        }


def assume_role_credentials(
    sts_client: Any,
    role_arn: str,
    session_name: str,
    *,
    duration_seconds: int = 900,
) -> TemporaryCredentials:
    """Assume the role and return its temporary credentials (to prove least privilege by calling AWS).

    900 s is the shortest duration STS allows, and enough for a notebook's checks.
    """
    try:
        response = sts_client.assume_role(
            RoleArn=role_arn, RoleSessionName=session_name, DurationSeconds=duration_seconds
        )
    except Exception as error:
        code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
        if code == "AccessDenied":
            raise IamStateError(
                f"STS refused to let the caller assume {role_arn}: the role's trust policy does not "
                "name the caller as a principal (a role trusting only lambda.amazonaws.com can be "
                "assumed only by Lambda), or the caller lacks sts:AssumeRole. Add the caller to "
                "the trust policy for this exercise, or run the check inside the function."
            ) from error
        raise
    creds = response["Credentials"]
    return TemporaryCredentials(
        access_key_id=creds["AccessKeyId"],
        secret_access_key=creds["SecretAccessKey"],
        session_token=creds["SessionToken"],
        expiration=creds["Expiration"],
        assumed_role_arn=response["AssumedRoleUser"]["Arn"],
    )


def create_user_with_access_key(
    iam: Any,
    user_name: str,
    *,
    tags: Mapping[str, str] | None = None,
) -> PermanentCredentials:
    """Create the user if missing and give it a new access key (permanent credentials).

    Each call makes a new key; IAM allows two per user, so a third call fails with a message.
    Delete the user (``delete_user``) when the lesson is over: permanent keys do not expire.
    """
    try:
        iam.get_user(UserName=user_name)
        if tags:
            iam.tag_user(UserName=user_name, Tags=tag_list(tags))
    except iam.exceptions.NoSuchEntityException:
        kwargs: dict[str, Any] = {"UserName": user_name}
        if tags:
            kwargs["Tags"] = tag_list(tags)
        iam.create_user(**kwargs)
    keys = iam.list_access_keys(UserName=user_name)["AccessKeyMetadata"]
    if len(keys) >= MAX_ACCESS_KEYS_PER_USER:
        shown = ", ".join(mask_key_id(k["AccessKeyId"]) for k in keys)
        raise IamStateError(
            f"User {user_name} already has {len(keys)} access keys ({shown}); IAM allows "
            f"{MAX_ACCESS_KEYS_PER_USER}. Delete one (iam.delete_access_key) or the user "
            "(delete_user) before making another."
        )
    key = iam.create_access_key(UserName=user_name)["AccessKey"]
    return PermanentCredentials(user_name, key["AccessKeyId"], key["SecretAccessKey"])


def delete_user(iam: Any, user_name: str) -> bool:
    """Delete the user's keys, policies and the user. False if it did not exist."""
    try:
        iam.get_user(UserName=user_name)
    except iam.exceptions.NoSuchEntityException:
        return False
    for key in iam.list_access_keys(UserName=user_name)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=user_name, AccessKeyId=key["AccessKeyId"])
    for policy in iam.list_attached_user_policies(UserName=user_name)["AttachedPolicies"]:
        iam.detach_user_policy(UserName=user_name, PolicyArn=policy["PolicyArn"])
    for policy_name in iam.list_user_policies(UserName=user_name)["PolicyNames"]:
        iam.delete_user_policy(UserName=user_name, PolicyName=policy_name)
    for group in iam.list_groups_for_user(UserName=user_name)["Groups"]:
        iam.remove_user_from_group(GroupName=group["GroupName"], UserName=user_name)
    iam.delete_user(UserName=user_name)
    return True
