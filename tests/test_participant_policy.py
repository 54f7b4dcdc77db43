"""The participant policy: generated from the series' calls, linted, and proven on the mock.

The proof: an IAM user holding only the policy for prefix ``ann`` runs the series' steps (live
names, live route) against the mock account under IAM enforcement, and every step succeeds;
calls outside the prefix are denied.

The proof runs on the mock account's own enforcement, with no test-only patch: the mock
authorizes each request against the ARN the AWS Service Authorization Reference gives (IAM, STS,
Logs, EventBridge and ECR requests and Lambda's CreateFunction by the resource they name;
HeadBucket as ``s3:ListBucket``; DeleteObjects as ``s3:DeleteObject`` on each object) and judges
AssumeRole's trust policy with the series' evaluator (helpers/mock/authorization.py, written from
the reference, not from the resource mapper this policy is generated with; see
docs/mock-account.md). The mock does not evaluate conditions, so ``iam:PolicyARN`` and
``iam:PassedToService`` are checked with the series' evaluator (``helpers.iam.evaluate``).
"""

from __future__ import annotations

import json

import boto3
import botocore.exceptions
import pytest

from helpers import participant_policy as pp
from helpers.iam import evaluate, lint_policy

PREFIX = "ann"
OTHER = "bob"

LINT_EXPLAINED = {
    ("INVALID_ARN", "arn:aws:iam::aws:policy/*"): (
        "parliament expects a 12-digit account; AWS managed policies live under the account "
        "'aws' (arn:aws:iam::aws:policy/...), which is what notebook 3 reads."
    ),
}
"""Every lint finding the policy has, with why it stays (a finding not listed fails the test)."""


# -- the mapping table -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("service", "operation", "parameters", "expected"),
    [
        ("s3", "ListObjectsV2", (), ("s3:ListBucket",)),
        ("s3", "HeadObject", (), ("s3:GetObject",)),
        ("s3", "HeadBucket", (), ("s3:ListBucket",)),
        ("s3", "DeleteObjects", (), ("s3:DeleteObject", "s3:DeleteObjectVersion")),
        ("lambda", "Invoke", (), ("lambda:InvokeFunction",)),
        ("logs", "FilterLogEvents", (), ("logs:FilterLogEvents",)),
        ("lambda", "CreateFunction", ("Role",), ("lambda:CreateFunction", "iam:PassRole")),
        ("lambda", "UpdateFunctionConfiguration", (), ("lambda:UpdateFunctionConfiguration",)),
        (
            "lambda",
            "UpdateFunctionConfiguration",
            ("Role",),
            ("lambda:UpdateFunctionConfiguration", "iam:PassRole"),
        ),
        ("iam", "CreateRole", ("Tags",), ("iam:CreateRole", "iam:TagRole")),
        ("accessanalyzer", "ValidatePolicy", (), ("access-analyzer:ValidatePolicy",)),
        ("sts", "GetCallerIdentity", (), ("sts:GetCallerIdentity",)),
    ],
)
def test_operations_map_to_the_actions_aws_checks(service, operation, parameters, expected):
    assert pp.iam_actions(service, operation, parameters) == expected


def test_every_rule_in_the_table_says_where_it_comes_from():
    for rules in pp.ACTION_TABLE.values():
        for rule in rules:
            assert "https://docs.aws.amazon.com/" in rule.source


def test_a_call_outside_the_prefix_stops_generation_and_says_what_to_do():
    stray = pp.Request("iam:CreateRole", "arn:aws:iam::1:role/Intruder", "iam.CreateRole")
    with pytest.raises(pp.UnscopedCall, match="outside its names"):
        pp.build_policy([stray], PREFIX)


# -- recorded, built, linted -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def recording(mock_account) -> pp.Recording:
    """The series' calls, recorded as the account root under the placeholder prefix."""
    root = mock_account.session()
    found = pp.record_series(
        root, mock_account.region, lambda_writes_logs=pp.log_writer(mock_account.session())
    )
    assert not found.failed_steps(), found.failed_steps()
    return found


@pytest.fixture(scope="module")
def policy(recording) -> pp.ParticipantPolicy:
    return pp.build_policy(recording.requests(), PREFIX)


def test_the_policy_is_scoped_to_the_prefix_and_star_only_where_aws_requires(policy):
    for statement in policy.document["Statement"]:
        resources = statement["Resource"]
        resources = [resources] if isinstance(resources, str) else resources
        if resources == ["*"]:
            actions = statement["Action"]
            assert set(actions) <= set(pp.ACCOUNT_WIDE), actions
        else:
            for resource in resources:
                assert (
                    "AnnServerlessPOC" in resource
                    or "ann-serverless-poc-" in resource
                    or (resource == "arn:aws:iam::aws:policy/*")
                ), resource
    pass_role = next(s for s in policy.document["Statement"] if s["Action"] == "iam:PassRole")
    assert pass_role["Condition"] == {
        "StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}
    }
    assert "lambda:InvokeFunction" in policy.actions()
    assert "s3:ListBucket" in policy.actions() and "s3:ListObjectsV2" not in policy.actions()


def test_the_policy_passes_the_series_own_linter_or_each_finding_is_explained(policy):
    unexplained = [
        finding
        for finding in lint_policy(policy.document)
        if not any(
            finding.issue == issue and resource in finding.location + finding.detail
            for issue, resource in LINT_EXPLAINED
        )
    ]
    assert unexplained == []


def test_the_command_prints_the_policy_json(policy, monkeypatch, capsys, tmp_path):
    from helpers import doctor

    monkeypatch.setattr(doctor, "REQUESTS_CACHE", tmp_path / "requests.json")
    monkeypatch.setattr(
        "helpers.participant.cli.generate",
        lambda prefix, *_: (pp.build_policy(policy.requests, prefix), None),
    )
    assert pp.main(["--prefix", "ann"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == policy.document
    assert pp.cached_requests(tmp_path / "requests.json") == policy.requests  # for make doctor
    assert pp.main(["--prefix", ""]) == 2
    assert "--prefix NAME" in capsys.readouterr().err


# -- proven: a user holding only the policy --------------------------------------------------------
@pytest.fixture(scope="module")
def participant(mock_account, policy) -> boto3.Session:
    """An IAM user (named outside the prefix) whose only permission is the participant policy."""
    iam = mock_account.session().client("iam")
    user = "workshop-participant-ann"
    arn = iam.create_policy(
        PolicyName="workshop-participant-ann", PolicyDocument=json.dumps(policy.document)
    )["Policy"]["Arn"]
    iam.create_user(UserName=user)
    iam.attach_user_policy(UserName=user, PolicyArn=arn)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return boto3.Session(
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        region_name=mock_account.region,
    )


@pytest.fixture(scope="module")
def others_bucket(mock_account) -> str:
    """Another participant's model bucket, with the model in it (made by the root)."""
    bucket = f"{OTHER}-serverless-poc-models-{mock_account.account_id}"
    s3 = mock_account.session().client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="admission.rds", Body=b"bob's model")
    return bucket


def test_the_series_runs_as_a_user_holding_only_the_policy(mock_account, participant, policy):
    ran = pp.record_series(
        participant,
        mock_account.region,
        prefix=PREFIX,
        lambda_writes_logs=pp.log_writer(mock_account.session()),
    )
    failed = "\n".join(f"{step.name}: {step.error}" for step in ran.failed_steps())
    assert not failed, failed
    denied = [call for call in ran.refused() if "AccessDenied" in call.error or call.error == "403"]
    assert denied == []
    # the evaluator agrees for every request, with the conditions the mock does not check
    for request in ran.requests():
        context = dict(request.context)
        decision = evaluate(request.action, request.resource, policy.document, context=context)
        assert decision.allowed, (request, decision.explanation)


def test_calls_outside_the_prefix_are_denied(participant, others_bucket):
    iam, s3 = participant.client("iam"), participant.client("s3")
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    refusals = {
        "a role without the prefix": lambda: iam.create_role(
            RoleName="Intruder", AssumeRolePolicyDocument=trust
        ),
        "another prefix's role": lambda: iam.get_role(RoleName="BobServerlessPOC"),
        "another prefix's bucket, read": lambda: s3.get_object(
            Bucket=others_bucket, Key="admission.rds"
        ),
        "another prefix's bucket, listed": lambda: s3.list_objects_v2(Bucket=others_bucket),
        "another prefix's function": lambda: participant.client("lambda").get_function(
            FunctionName="BobServerlessPOCAdmission"
        ),
        "another prefix's log group": lambda: participant.client("logs").delete_log_group(
            logGroupName="/aws/lambda/BobServerlessPOCAdmission"
        ),
        "every bucket in the account": lambda: s3.list_buckets(),
    }
    for label, call in refusals.items():
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            call()
        code = refused.value.response["Error"]["Code"]
        assert code in ("AccessDenied", "AccessDeniedException", "403"), (label, code)


def test_conditions_keep_roles_for_lambda_and_attachments_to_the_series_policies(policy):
    role = "arn:aws:iam::123456789012:role/AnnServerlessPOC"
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    document = policy.document
    assert evaluate(
        "iam:PassRole", role, document, context={"iam:PassedToService": "lambda.amazonaws.com"}
    ).allowed
    assert not evaluate(
        "iam:PassRole", role, document, context={"iam:PassedToService": "ec2.amazonaws.com"}
    ).allowed
    assert not evaluate(
        "iam:AttachRolePolicy", role, document, context={"iam:PolicyARN": admin}
    ).allowed
    assert not evaluate(
        "iam:AttachUserPolicy",
        "arn:aws:iam::123456789012:user/AnnServerlessPOCLearner",
        document,
        context={"iam:PolicyARN": admin},
    ).allowed
    basic = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    assert evaluate(
        "iam:AttachRolePolicy", role, document, context={"iam:PolicyARN": basic}
    ).allowed
