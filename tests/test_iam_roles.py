"""Roles and policies against moto: idempotent re-runs, versions, teardown, credentials."""

from __future__ import annotations

import datetime as dt

import boto3
import pytest
from moto import mock_aws
from moto import settings as moto_settings

from helpers import config
from helpers.iam import (
    BASIC_EXECUTION_POLICY_ARN,
    IamStateError,
    PolicyGrammarError,
    assume_role_credentials,
    attach_policies,
    create_user_with_access_key,
    delete_policy,
    delete_role,
    delete_user,
    ensure_policy,
    ensure_role,
    key_kind,
    load_policy,
    mask_key_id,
    role_permissions_table,
    setup_lambda_role,
    teardown_lambda_role,
    trust_allows_service,
)

NAMES = config.names_for("mock")
TAGS = {"project": "serverless-poc", "owner": "tests"}


def _mock_iam(monkeypatch, load_managed: bool):
    for variable, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(variable, value)
    for variable in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "MOTO_IAM_LOAD_MANAGED_POLICIES"):
        monkeypatch.delenv(variable, raising=False)
    # These tests call IAM as an unrestricted test identity: enforcement off, whatever ran before.
    monkeypatch.setattr(moto_settings, "INITIAL_NO_AUTH_ACTION_COUNT", float("inf"))
    with mock_aws(config={"iam": {"load_aws_managed_policies": load_managed}}):
        yield boto3.client("iam", region_name="us-east-1")


@pytest.fixture
def iam(monkeypatch):
    """A fresh mock account without AWS managed policies (loading them costs ~0.5 s a test)."""
    yield from _mock_iam(monkeypatch, load_managed=False)


@pytest.fixture
def iam_managed(monkeypatch):
    """A fresh mock account with AWS managed policies, for AWSLambdaBasicExecutionRole."""
    yield from _mock_iam(monkeypatch, load_managed=True)


def customer_policies(iam):
    return iam.list_policies(Scope="Local")["Policies"]


def test_setup_twice_gives_one_role_one_policy_and_each_attachment_once(iam_managed):
    first = setup_lambda_role(iam_managed, NAMES, tags=TAGS)
    second = setup_lambda_role(iam_managed, NAMES, tags=TAGS)

    assert first.policy.change == "created"
    assert first.role.created
    assert set(first.newly_attached) == {first.policy.arn, BASIC_EXECUTION_POLICY_ARN}
    assert second.policy.change == "unchanged"
    assert not second.role.created and not second.role.trust_updated
    assert second.newly_attached == ()

    assert [r["RoleName"] for r in iam_managed.list_roles()["Roles"]] == ["ServerlessPOC"]
    assert [p["PolicyName"] for p in customer_policies(iam_managed)] == ["ServerlessPOC"]
    attached = iam_managed.list_attached_role_policies(RoleName="ServerlessPOC")["AttachedPolicies"]
    assert sorted(p["PolicyArn"] for p in attached) == sorted(
        [first.policy.arn, BASIC_EXECUTION_POLICY_ARN]
    )
    versions = iam_managed.list_policy_versions(PolicyArn=first.policy.arn)["Versions"]
    assert len(versions) == 1


def test_the_role_trusts_lambda_and_carries_the_tags(iam_managed):
    setup_lambda_role(iam_managed, NAMES, tags=TAGS)
    role = iam_managed.get_role(RoleName="ServerlessPOC")["Role"]
    assert trust_allows_service(role["AssumeRolePolicyDocument"], "lambda.amazonaws.com")
    assert {
        t["Key"]: t["Value"] for t in iam_managed.list_role_tags(RoleName="ServerlessPOC")["Tags"]
    } == TAGS
    policy_arn = customer_policies(iam_managed)[0]["Arn"]
    assert {
        t["Key"]: t["Value"] for t in iam_managed.list_policy_tags(PolicyArn=policy_arn)["Tags"]
    } == TAGS


def test_a_changed_document_becomes_the_new_default_version(iam):
    document = load_policy("serverless_poc")
    created = ensure_policy(iam, "ServerlessPOC", document)
    changed = {
        **document,
        "Statement": [
            {**document["Statement"][0], "Action": ["s3:GetObject", "s3:GetObjectVersion"]}
        ],
    }
    updated = ensure_policy(iam, "ServerlessPOC", changed)

    assert (created.change, created.default_version) == ("created", "v1")
    assert (updated.change, updated.default_version, updated.arn) == (
        "new-version",
        "v2",
        created.arn,
    )
    default = iam.get_policy(PolicyArn=created.arn)["Policy"]["DefaultVersionId"]
    assert default == "v2"
    stored = iam.get_policy_version(PolicyArn=created.arn, VersionId="v2")["PolicyVersion"][
        "Document"
    ]
    assert stored["Statement"][0]["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
    assert ensure_policy(iam, "ServerlessPOC", changed).change == "unchanged"


def test_old_versions_are_pruned_to_stay_within_five(iam):
    document = load_policy("serverless_poc")
    arn = ensure_policy(iam, "ServerlessPOC", document).arn
    pruned = []
    for i in range(7):
        variant = {**document, "Statement": [{**document["Statement"][0], "Sid": f"Read{i}"}]}
        result = ensure_policy(iam, "ServerlessPOC", variant)
        pruned.extend(result.pruned_versions)
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert len(versions) == 5
    assert [v["VersionId"] for v in versions if v["IsDefaultVersion"]] == ["v8"]
    assert pruned == ["v1", "v2", "v3"]  # oldest first, never the default


def test_a_changed_trust_policy_is_updated_in_place(iam):
    trust = load_policy("lambda_trust_policy")
    ensure_role(iam, "ServerlessPOC", trust)
    wider = {
        **trust,
        "Statement": [
            {
                **trust["Statement"][0],
                "Principal": {"Service": ["lambda.amazonaws.com", "events.amazonaws.com"]},
            }
        ],
    }
    result = ensure_role(iam, "ServerlessPOC", wider)
    assert not result.created and result.trust_updated
    stored = iam.get_role(RoleName="ServerlessPOC")["Role"]["AssumeRolePolicyDocument"]
    assert trust_allows_service(stored, "events.amazonaws.com")


def test_broken_policies_fail_before_reaching_iam(iam):
    with pytest.raises(PolicyGrammarError, match="Principal belongs only"):
        ensure_policy(iam, "ServerlessPOC", load_policy("broken/principal_in_identity_policy"))
    with pytest.raises(PolicyGrammarError, match="needs a Principal"):
        ensure_role(iam, "ServerlessPOC", load_policy("broken/trust_without_principal"))
    assert customer_policies(iam) == []


def test_attaching_a_deprecated_managed_policy_explains_why_it_fails(iam):
    ensure_role(iam, "ServerlessPOC", load_policy("lambda_trust_policy"))
    with pytest.raises(IamStateError, match="AWSLambda_FullAccess"):
        attach_policies(iam, "ServerlessPOC", ["arn:aws:iam::aws:policy/NoSuchPolicyForThisTest"])


def test_live_names_create_prefixed_resources(iam_managed):
    names = config.names_for("live", prefix="alice", account_id="123456789012")
    setup = setup_lambda_role(iam_managed, names)
    assert setup.role.name == "AliceServerlessPOC"
    document = iam_managed.get_policy_version(PolicyArn=setup.policy.arn, VersionId="v1")[
        "PolicyVersion"
    ]["Document"]
    assert (
        document["Statement"][0]["Resource"]
        == "arn:aws:s3:::alice-serverless-poc-models-123456789012/*"
    )


def test_teardown_removes_everything_and_is_idempotent(iam_managed):
    setup_lambda_role(iam_managed, NAMES)
    assert teardown_lambda_role(iam_managed, NAMES) == {"role": True, "policy": True}
    assert teardown_lambda_role(iam_managed, NAMES) == {"role": False, "policy": False}
    assert iam_managed.list_roles()["Roles"] == []
    assert customer_policies(iam_managed) == []


def test_delete_policy_detaches_it_from_users_and_roles_first(iam):
    arn = ensure_policy(iam, "ServerlessPOC", load_policy("serverless_poc")).arn
    ensure_policy(iam, "ServerlessPOC", {**load_policy("serverless_poc"), "Id": "v2"})
    ensure_role(iam, "ServerlessPOC", load_policy("lambda_trust_policy"))
    attach_policies(iam, "ServerlessPOC", [arn])
    iam.create_user(UserName="alice")
    iam.attach_user_policy(UserName="alice", PolicyArn=arn)
    assert delete_policy(iam, arn)
    assert iam.list_attached_role_policies(RoleName="ServerlessPOC")["AttachedPolicies"] == []
    assert delete_role(iam, "ServerlessPOC")
    assert not delete_role(iam, "ServerlessPOC")


def test_role_permissions_table_lists_both_policies(iam_managed):
    setup_lambda_role(iam_managed, NAMES)
    table = role_permissions_table(iam_managed, "ServerlessPOC")
    assert set(table["policy"]) == {"ServerlessPOC", "AWSLambdaBasicExecutionRole"}
    row = table[table["policy"] == "ServerlessPOC"].iloc[0]
    assert (row["effect"], row["actions"], row["resources"]) == (
        "Allow",
        "s3:GetObject",
        "arn:aws:s3:::serverless-poc-models/*",
    )


# --------------------------------------------------------------------------- credentials


def test_assume_role_gives_temporary_credentials_with_token_and_expiry(iam):
    role_arn = ensure_role(iam, "ServerlessPOC", load_policy("lambda_trust_policy")).arn
    sts = boto3.client("sts", region_name="us-east-1")
    before = dt.datetime.now(dt.UTC)
    creds = assume_role_credentials(sts, role_arn, "prove-least-privilege")

    assert creds.access_key_id.startswith("ASIA")
    assert key_kind(creds.access_key_id).startswith("temporary")
    assert creds.session_token and creds.secret_access_key
    assert 0 < (creds.expiration - before).total_seconds() <= 900 + 5
    assert 0 < creds.seconds_left() <= 900
    assert creds.assumed_role_arn.endswith(":assumed-role/ServerlessPOC/prove-least-privilege")
    shown = repr(creds)
    assert creds.secret_access_key not in shown and creds.session_token not in shown
    assert creds.access_key_id not in shown and creds.access_key_id[-4:] in shown
    identity = boto3.client(
        "sts", region_name="us-east-1", **creds.session_kwargs()
    ).get_caller_identity()
    assert identity["Arn"] == creds.assumed_role_arn


def test_a_user_gets_permanent_credentials_and_at_most_two(iam):
    first = create_user_with_access_key(iam, "alice", tags=TAGS)
    second = create_user_with_access_key(iam, "alice")
    assert first.access_key_id.startswith("AKIA") and key_kind(first.access_key_id).startswith(
        "permanent"
    )
    assert first.access_key_id != second.access_key_id
    assert first.secret_access_key not in repr(first)
    with pytest.raises(IamStateError, match="IAM allows 2"):
        create_user_with_access_key(iam, "alice")
    assert delete_user(iam, "alice")
    assert not delete_user(iam, "alice")


@pytest.mark.parametrize(
    "key_id, shown",
    [
        ("AKIAIOSFODNN7EXAMPLE", "AKIA************MPLE"),
        ("ASIAY34FZKBOKMUTVV7A", "ASIA************VV7A"),
        ("short", "*****"),
    ],
)
def test_mask_key_id_shows_only_the_kind_and_the_last_four(key_id, shown):
    assert mask_key_id(key_id) == shown
    assert len(mask_key_id(key_id)) == len(key_id)
