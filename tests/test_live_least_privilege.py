"""Least privilege in live mode: the role check, the decoy bucket, the scratch user, the learner key.

Like tests/test_live_mode.py, these run the live-mode code path (``SERIES_MODE=live`` with a
prefix) against the mock account's endpoint, and check what AWS documents: an IAM Identity Center
caller is trusted by its role's real (path-ful) ARN, a trust policy left widened is repaired, the
"other bucket" exists, a scratch user's policy is in effect before its outcomes count, and the
learner's permanent key never outlives its lesson.
"""

from __future__ import annotations

import dataclasses
import itertools
import json

import pytest
from botocore.exceptions import ClientError

from helpers import iam_lessons as lessons
from helpers import least_privilege as lp
from helpers.deploy import ensure_bucket
from helpers.iam import delete_role, load_policy
from helpers.ownership import NotOwned
from helpers.service_models import boto3_session

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
READ_EVERY_OBJECT = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::*/*"}],
}
SSO_PATH = "/aws-reserved/sso.amazonaws.com/"
SSO_ROLE = "AWSReservedSSO_AdministratorAccess_0123456789abcdef"
_roles = itertools.count(1)


@pytest.fixture
def live(live, monkeypatch):
    """conftest's live-mode Account, opted in to creating; also removes this module's roles."""
    monkeypatch.setenv("SERIES_LIVE_CREATE", "yes")
    yield live
    iam = live.client("iam")
    for role in iam.list_roles()["Roles"]:
        if role["RoleName"].startswith(("LpCheck", "AWSReservedSSO_")):
            delete_role(iam, role["RoleName"])


def _role(account, trust=LAMBDA_TRUST, inline=None, tags=None) -> str:
    """A role of this learner's (tagged with its prefix, unless ``tags`` says otherwise)."""
    iam = account.client("iam")
    name = f"LpCheck{next(_roles)}"
    tags = account.tags if tags is None else tags
    iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(trust),
        Tags=[{"Key": key, "Value": value} for key, value in tags.items()],
    )
    if inline:
        iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=json.dumps(inline))
    return name


def _trust(account, role_name: str) -> dict:
    document = account.client("iam").get_role(RoleName=role_name)["Role"][
        "AssumeRolePolicyDocument"
    ]
    return json.loads(document) if isinstance(document, str) else document


def _identity_center_caller(account) -> tuple[str, str]:
    """An IAM Identity Center role as AWS makes it; (its real ARN, a session's assumed-role ARN)."""
    role_arn = account.client("iam").create_role(
        RoleName=SSO_ROLE,
        Path=SSO_PATH,
        AssumeRolePolicyDocument=json.dumps(lessons.account_trust_policy(account.account_id)),
    )["Role"]["Arn"]
    return role_arn, f"arn:aws:sts::{account.account_id}:assumed-role/{SSO_ROLE}/alice@example.com"


def _model_in_s3(account) -> None:
    """A stand-in for admission.rds where the model belongs (no R needed)."""
    names = account.names
    ensure_bucket(account, names.models_bucket)
    account.client("s3").put_object(
        Bucket=names.models_bucket, Key=names.model_key, Body=b"m" * 2048
    )


def _denied(operation: str = "GetObject") -> ClientError:
    return ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, operation)


# --------------------------------------------------------------------------- 1. the role check


def test_an_identity_center_caller_is_named_by_its_roles_real_arn(live):
    role_arn, assumed = _identity_center_caller(live)
    iam = live.client("iam")
    assert f":role{SSO_PATH}{SSO_ROLE}" in role_arn
    assert lp.caller_principal_arn(iam, assumed) == role_arn
    user = f"arn:aws:iam::{live.account_id}:user/team/bob"
    assert lp.caller_principal_arn(iam, user) == user


def test_the_widened_trust_names_the_identity_center_role_with_its_path(live):
    role_arn, assumed = _identity_center_caller(live)
    target = _role(live)
    as_sso_user = dataclasses.replace(live, caller_arn=assumed)
    with lp.temporarily_trusting_caller(as_sso_user, target):
        added = [s for s in _trust(live, target)["Statement"] if s.get("Sid")]
    assert [s["Principal"] for s in added] == [{"AWS": role_arn}]
    assert [s["Sid"] for s in added] == [lp.TEMPORARY_TRUST_SID]
    assert _trust(live, target) == LAMBDA_TRUST


def test_a_trust_policy_left_widened_is_restored_before_anything_else(live):
    stale = {
        "Version": "2012-10-17",
        "Statement": [
            *LAMBDA_TRUST["Statement"],
            {
                "Sid": lp.TEMPORARY_TRUST_SID,
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{live.account_id}:root"},
                "Action": "sts:AssumeRole",
            },
        ],
    }
    target = _role(live, trust=stale)
    with lp.temporarily_trusting_caller(live, target):
        sids = [s.get("Sid") for s in _trust(live, target)["Statement"]]
    assert sids.count(lp.TEMPORARY_TRUST_SID) == 1  # the stale one went before ours came
    assert _trust(live, target) == LAMBDA_TRUST

    second = _role(live, trust=stale)
    lp.role_session(live, second)
    assert _trust(live, second) == LAMBDA_TRUST  # a kernel that died last time leaves nothing


def test_a_role_that_is_not_this_learners_is_left_alone(live):
    stale = {
        "Version": "2012-10-17",
        "Statement": [
            *LAMBDA_TRUST["Statement"],
            {"Sid": lp.TEMPORARY_TRUST_SID, "Effect": "Allow", "Principal": {"AWS": "*"}},
        ],
    }
    theirs = _role(live, trust=stale, tags={"project": "serverless-poc", "owner": "bob"})
    with pytest.raises(NotOwned, match="owner=alice"):
        lp.role_session(live, theirs)
    assert _trust(live, theirs) == stale  # not even "repaired"


def test_the_role_is_assumed_for_the_shortest_session_and_the_trust_restored(live):
    _model_in_s3(live)
    names = live.names
    read_model = load_policy("serverless_poc", names)
    target = _role(live, inline=read_model)
    calls = []
    live.client("sts").meta.events.register(
        "provide-client-params.sts.AssumeRole", lambda params, **_: calls.append(dict(params))
    )
    as_role = lp.role_session(live, target)
    assert [call["DurationSeconds"] for call in calls] == [900]
    assert _trust(live, target) == LAMBDA_TRUST
    assert f":assumed-role/{target}/" in as_role.client("sts").get_caller_identity()["Arn"]


# --------------------------------------------------------------------------- 2. the decoy bucket


def test_the_decoy_bucket_is_made_once_tagged_and_holds_an_object(live):
    names = live.names
    assert live.account_id in names.decoy_bucket
    assert lp.ensure_decoy_bucket(live) is True
    assert lp.ensure_decoy_bucket(live) is False  # only when missing
    s3 = live.client("s3")
    tags = {
        t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=names.decoy_bucket)["TagSet"]
    }
    assert tags == live.tags
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=names.decoy_bucket)["Contents"]]
    assert keys == [lp.DECOY_KEY]


def test_reading_another_bucket_is_judged_by_the_policy_not_answered_no_such_bucket(
    live, monkeypatch
):
    _model_in_s3(live)
    lp.ensure_decoy_bucket(live)
    probes = {p.label: p for p in lp.s3_probes(live)}
    other = probes["read another bucket"]
    assert other.resource == f"arn:aws:s3:::{live.names.decoy_bucket}/{lp.DECOY_KEY}"

    # A policy that reads every object reads the decoy: the bucket and its object exist.
    reads_all = lp.crosscheck(live, READ_EVERY_OBJECT, [other])
    assert reads_all.loc["read another bucket", "outcome"] == "allowed"

    # The function's policy does not: a real AccessDenied, as notebook 5 shows.
    target = _role(live, inline=load_policy("serverless_poc", live.names))
    outcomes = lp.try_probes(lp.role_session(live, target), list(probes.values()))
    assert outcomes.loc["read another bucket", "error code"] == "AccessDenied"
    assert outcomes["outcome"].tolist() == ["allowed", "denied", "denied", "denied"]


# --------------------------------------------------------------------------- 3. the scratch user


def test_the_scratch_user_has_its_name_and_tags_and_is_deleted_even_on_error(live):
    iam = live.client("iam")
    with pytest.raises(RuntimeError, match="half-way"), lp.scratch_user(live, READ_EVERY_OBJECT):
        tags = iam.list_user_tags(UserName=live.names.scratch_user)["Tags"]
        assert {t["Key"]: t["Value"] for t in tags} == live.tags
        raise RuntimeError("half-way")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user(UserName=live.names.scratch_user)


def test_outcomes_count_only_once_the_policy_allows_what_it_allows(live, monkeypatch):
    """A new policy that IAM has not applied yet denies; the cross-check waits for it."""
    monkeypatch.setattr(lp, "READY_DELAY_S", 0)
    _model_in_s3(live)
    read_model, *_ = lp.s3_probes(live)
    answers = iter([_denied(), _denied()])  # IAM still propagating: two denials, then the truth

    def slowly(session):
        answer = next(answers, None)
        if answer is not None:
            raise answer
        return read_model.call(session)

    slow = dataclasses.replace(read_model, call=slowly)
    checked = lp.crosscheck(live, load_policy("serverless_poc", live.names), [slow])
    assert checked.loc["read the model", "outcome"] == "allowed"
    assert checked["agree"].all()


def test_a_policy_that_never_takes_effect_is_a_clear_error_and_no_user_remains(live, monkeypatch):
    monkeypatch.setattr(lp, "READY_ATTEMPTS", 3)
    monkeypatch.setattr(lp, "READY_DELAY_S", 0)
    _model_in_s3(live)
    read_model, *_ = lp.s3_probes(live)
    tries = []

    def always_denied(_session):
        tries.append(1)
        raise _denied()

    stuck = dataclasses.replace(read_model, call=always_denied)
    with pytest.raises(lp.PolicyNotInEffect, match="read the model") as failure:
        lp.crosscheck(live, load_policy("serverless_poc", live.names), [stuck])
    assert "AccessDenied" in str(failure.value) and live.names.scratch_user in str(failure.value)
    assert len(tries) == 3  # bounded
    iam = live.client("iam")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user(UserName=live.names.scratch_user)


# --------------------------------------------------------------------------- 4. the learner key


def test_the_learner_policy_reads_lambda_and_cannot_pass_roles(live):
    iam = live.client("iam")
    documents = {
        name: lessons.managed_policy_document(iam, name)
        for name in ("AWSLambda_FullAccess", lessons.LEARNER_POLICY)
    }
    table = lessons.compare_policies(
        documents, lessons.learner_requests(live.names, live.account_id)
    )
    assert table[lessons.LEARNER_POLICY].tolist() == ["allowed"] + ["implicitDeny"] * 3
    assert (table["AWSLambda_FullAccess"] == "allowed").all()  # why not FullAccess
    assert table.loc["pass a role to Lambda", "AWSLambda_FullAccess"] == "allowed"


def test_the_learner_key_does_its_lesson_and_is_gone_even_when_the_lesson_fails(live):
    iam = live.client("iam")
    user = live.names.user_name
    with (
        pytest.raises(RuntimeError, match="mid-notebook"),
        lessons.learner_access_key(live) as keys,
    ):
        learner = boto3_session(**keys.session_kwargs(), region_name=live.region)
        lessons.attach_user_policies(iam, user, [lessons.LEARNER_POLICY])
        lam = learner.client("lambda")
        assert lessons.call_outcome(lam.list_functions) == "allowed"
        create = lessons.call_outcome(
            lambda: lam.create_function(
                FunctionName="LearnerMadeThis",
                Role=f"arn:aws:iam::{live.account_id}:role/{live.names.role_name}",
                Runtime="python3.12",
                Handler="h.h",
                Code={"ZipFile": b"PK"},
            )
        )
        assert create.startswith("denied")
        raise RuntimeError("a cell failed mid-notebook")
    assert iam.list_access_keys(UserName=user)["AccessKeyMetadata"] == []
    assert iam.list_attached_user_policies(UserName=user)["AttachedPolicies"] == []
    tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=user)["Tags"]}
    assert tags == live.tags
    gone = lessons.call_outcome(learner.client("sts").get_caller_identity)
    assert gone == "InvalidClientTokenId"
