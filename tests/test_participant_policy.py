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
docs/mock-account.md). The mock evaluates conditions only for API Gateway, so ``iam:PolicyARN``
and ``iam:PassedToService`` are checked with the series' evaluator (``helpers.iam.evaluate``).

API Gateway is authorized as AWS does too (helpers/mock/apigateway/authorization.py): the HTTP
verb (``apigateway:GET`` …) on ``arn:aws:apigateway:<region>::<path>``, with the item's tags as
``aws:ResourceTag`` (a REST API's children inherit them) and a create's as ``aws:RequestTag``,
judged with the conditions, so the owner-tag conditions are enforced on the mock, not only
evaluated; and a bucket's Block Public Access as ``s3:PutBucketPublicAccessBlock``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.exceptions
import pytest

from helpers import participant_policy as pp
from helpers.iam import evaluate, lint_policy
from helpers.participant.actions import API_GATEWAY_SOURCE, api_gateway_path
from helpers.service_models import boto3_session

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
        ("apigateway", "CreateRestApi", ("tags",), ("apigateway:POST",)),
        ("apigateway", "GetRestApis", (), ("apigateway:GET",)),
        ("apigateway", "UpdateUsagePlan", (), ("apigateway:PATCH",)),
        ("apigateway", "PutIntegrationResponse", (), ("apigateway:PUT",)),
        ("apigateway", "DeleteApiKey", (), ("apigateway:DELETE",)),
        ("s3", "PutPublicAccessBlock", (), ("s3:PutBucketPublicAccessBlock",)),
        ("s3control", "GetPublicAccessBlock", (), ("s3:GetAccountPublicAccessBlock",)),
    ],
)
def test_operations_map_to_the_actions_aws_checks(service, operation, parameters, expected):
    assert pp.iam_actions(service, operation, parameters) == expected


def test_every_rule_in_the_table_says_where_it_comes_from():
    for rules in pp.ACTION_TABLE.values():
        for rule in rules:
            assert "https://docs.aws.amazon.com/" in rule.source
    assert "https://docs.aws.amazon.com/" in API_GATEWAY_SOURCE


@pytest.mark.parametrize(
    ("operation", "parameters", "path"),
    [
        ("GetRestApis", {}, "/restapis"),
        ("CreateDeployment", {"restApiId": "a1"}, "/restapis/a1/deployments"),
        (
            "PutIntegrationResponse",
            {"restApiId": "a1", "resourceId": "r2", "httpMethod": "GET", "statusCode": "400"},
            "/restapis/a1/resources/r2/methods/GET/integration/responses/400",
        ),
        ("GetApiKey", {"apiKey": "k3", "includeValue": "True"}, "/apikeys/k3"),
        ("CreateUsagePlanKey", {"usagePlanId": "p4"}, "/usageplans/p4/keys"),
        ("GetStage", {"restApiId": "a1"}, "/restapis/a1/stages/*"),  # not recorded: any
    ],
)
def test_an_api_gateway_call_is_authorized_on_the_path_it_requests(operation, parameters, path):
    assert api_gateway_path(operation, parameters) == path


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
        root,
        mock_account.region,
        lambda_writes_logs=pp.log_writer(mock_account.session()),
        mock=mock_account,
    )
    assert not found.failed_steps(), found.failed_steps()
    return found


def test_the_recording_asks_nothing_of_aws_itself_and_live_only_calls_are_added(recording):
    assert [call.name for call in recording.calls if call.service == "s3control"] == []
    policy = pp.build_policy(recording.requests(), PREFIX)
    assert ("s3:GetAccountPublicAccessBlock", "live only") in {
        (action, why[: len("live only")]) for action, why in policy.added
    }


@pytest.fixture(scope="module")
def policy(recording) -> pp.ParticipantPolicy:
    return pp.build_policy(recording.requests(), PREFIX)


OWNER_TAGS = {"owner": PREFIX, "project": "serverless-poc"}
API_COLLECTIONS = [
    f"arn:aws:apigateway:*::/{kind}" for kind in ("restapis", "apikeys", "usageplans")
]


def test_the_policy_is_scoped_to_the_prefix_and_star_only_where_aws_requires(policy):
    for statement in policy.document["Statement"]:
        resources = statement["Resource"]
        resources = [resources] if isinstance(resources, str) else resources
        actions = statement["Action"]
        actions = [actions] if isinstance(actions, str) else actions
        if resources == ["*"]:
            assert set(actions) <= set(pp.ACCOUNT_WIDE), actions
        elif any(resource.startswith("arn:aws:apigateway:") for resource in resources):
            # ids, not names: limited by the owner's tags, or a list of a collection
            condition = statement.get("Condition", {}).get("StringEquals", {})
            tags = {key.split("/", 1)[1]: value for key, value in condition.items()}
            if actions == ["apigateway:GET"] and resources == API_COLLECTIONS:
                assert condition == {}, statement  # listing: a collection has no tags
            else:
                assert tags == OWNER_TAGS, statement
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
    statements = {statement["Sid"]: statement for statement in policy.document["Statement"]}
    public = statements["PublishOnlyTheSiteBucket"]  # only the site bucket can be made public
    assert public["Resource"] == "arn:aws:s3:::ann-serverless-poc-site-*"
    assert "s3:PutBucketPolicy" in public["Action"]
    assert "s3:PutBucketPolicy" not in statements["SeriesBuckets"]["Action"]
    grant = statements["LetOnlyTheSeriesServicesInvokeFunctions"]
    assert grant["Condition"]["StringEquals"]["lambda:Principal"] == [
        "apigateway.amazonaws.com",
        "events.amazonaws.com",
    ]
    assert "lambda:AddPermission" not in statements["SeriesFunctions"]["Action"]


def test_the_policy_fits_one_managed_policy(policy):
    size = pp.policy_size(policy.document)
    assert size == len(json.dumps(policy.document, separators=(",", ":")))  # no spaces in it
    assert size <= pp.MANAGED_POLICY_LIMIT, f"{size} characters: split it in two managed policies"


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
    shown = capsys.readouterr()
    printed = json.loads(shown.out)
    assert printed == policy.document
    size = f"{pp.policy_size(policy.document):,} characters without white space"
    assert f"{size}; a managed policy may have 6,144: fits one managed policy" in shown.err
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
    return boto3_session(
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
        mock=mock_account,
    )
    failed = "\n".join(f"{step.name}: {step.error}" for step in ran.failed_steps())
    assert not failed, failed
    denied = [call for call in ran.refused() if "AccessDenied" in call.error or call.error == "403"]
    assert denied == []
    steps = " ".join(step.name for step in ran.steps)
    assert "(notebook 9)" in steps and "(notebook 10)" in steps
    made = {call.name for call in ran.calls}
    assert {"apigateway.CreateRestApi", "s3.PutBucketPolicy", "lambda.AddPermission"} <= made
    # cleanup (the last step, which also checks that nothing is left) deleted the new resources
    site = f"ann-serverless-poc-site-{mock_account.account_id}"
    deleted = {(call.name, dict(call.parameters).get("Bucket")) for call in ran.calls}
    assert ("apigateway.DeleteRestApi", None) in deleted
    assert ("apigateway.DeleteUsagePlan", None) in deleted
    assert ("s3.DeleteBucket", site) in deleted
    # the evaluator agrees for every request, with the conditions the mock does not check
    for request in ran.requests():
        context = dict(request.context)
        decision = evaluate(request.action, request.resource, policy.document, context=context)
        assert decision.allowed, (request, decision.explanation)


@pytest.fixture(scope="module")
def others_api(mock_account) -> dict[str, str]:
    """Another participant's REST API, API key and site bucket (made by the root, tagged bob's)."""
    root = mock_account.session()
    apigateway = root.client("apigateway")
    tags = {"owner": OTHER, "project": "serverless-poc"}
    api = apigateway.create_rest_api(name="BobServerlessPOC", tags=tags)["id"]
    key = apigateway.create_api_key(name="BobServerlessPOCKey", enabled=True, tags=tags)["id"]
    site = f"{OTHER}-serverless-poc-site-{mock_account.account_id}"
    own_models = f"{PREFIX}-serverless-poc-models-{mock_account.account_id}"
    for bucket in (site, own_models):
        root.client("s3").create_bucket(Bucket=bucket)
    return {"api": api, "key": key, "site": site, "own models": own_models}


def test_calls_outside_the_prefix_are_denied(participant, others_bucket, others_api):
    iam, s3 = participant.client("iam"), participant.client("s3")
    apigateway = participant.client("apigateway")
    public = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}
            ],
        }
    )
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
        "another participant's REST API, read": lambda: apigateway.get_resources(
            restApiId=others_api["api"]
        ),
        "another participant's REST API, deleted": lambda: apigateway.delete_rest_api(
            restApiId=others_api["api"]
        ),
        "another participant's API key, read": lambda: apigateway.get_api_key(
            apiKey=others_api["key"], includeValue=True
        ),
        "a REST API without the owner's tags": lambda: apigateway.create_rest_api(
            name="AnnServerlessPOC"
        ),
        "a REST API tagged as another's": lambda: apigateway.create_rest_api(
            name="AnnServerlessPOC", tags={"owner": OTHER, "project": "serverless-poc"}
        ),
        "another participant's site bucket, made public": lambda: s3.put_bucket_policy(
            Bucket=others_api["site"], Policy=public
        ),
        "the participant's model bucket, made public": lambda: s3.put_bucket_policy(
            Bucket=others_api["own models"], Policy=public
        ),
        "the model bucket's Block Public Access, lifted": lambda: s3.put_public_access_block(
            Bucket=others_api["own models"],
            PublicAccessBlockConfiguration={"BlockPublicPolicy": False},
        ),
    }
    allowed, codes = [], {}
    for label, call in refusals.items():
        try:
            call()
        except botocore.exceptions.ClientError as refused:
            codes[label] = refused.response["Error"]["Code"]
        else:
            allowed.append(label)
    assert allowed == []
    assert {
        label: code
        for label, code in codes.items()
        if code not in ("AccessDenied", "AccessDeniedException", "403")
    } == {}


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


def test_conditions_keep_function_grants_to_the_series_services_and_api_gateway_to_the_owner(
    policy,
):
    document = policy.document
    function = "arn:aws:lambda:eu-west-1:123456789012:function:AnnServerlessPOCAdmission"
    for principal, allowed in (
        ("apigateway.amazonaws.com", True),
        ("events.amazonaws.com", True),
        ("*", False),  # anyone may invoke it
        ("444455556666", False),  # another account
    ):
        decision = evaluate(
            "lambda:AddPermission", function, document, context={"lambda:Principal": principal}
        )
        assert decision.allowed is allowed, principal
    api = "arn:aws:apigateway:eu-west-1::/restapis/a1b2c3/resources"
    for owner, allowed in ((PREFIX, True), (OTHER, False)):
        tags = {"aws:ResourceTag/owner": owner, "aws:ResourceTag/project": "serverless-poc"}
        assert evaluate("apigateway:POST", api, document, context=tags).allowed is allowed
    assert not evaluate("apigateway:DELETE", api, document).allowed  # untagged
    create = "arn:aws:apigateway:eu-west-1::/restapis"
    tags = {"aws:RequestTag/owner": PREFIX, "aws:RequestTag/project": "serverless-poc"}
    assert evaluate("apigateway:POST", create, document, context=tags).allowed
    assert not evaluate("apigateway:POST", create, document).allowed  # no tags


class _SimulatorPages:
    """IAM's simulate_principal_policy, answered by the series' evaluator for the policy."""

    def __init__(self, document: dict[str, Any]):
        self.document = document
        self.asked: list[dict[str, Any]] = []

    def paginate(self, **arguments: Any) -> Iterator[dict[str, Any]]:
        self.asked.append(arguments)
        context = {
            entry["ContextKeyName"]: entry["ContextKeyValues"][0]
            for entry in arguments.get("ContextEntries", [])
        }
        (resource,) = arguments["ResourceArns"]
        yield {
            "EvaluationResults": [
                {
                    "EvalActionName": action,
                    "EvalDecision": "allowed"
                    if evaluate(action, resource, self.document, context=context).allowed
                    else "implicitDeny",
                }
                for action in arguments["ActionNames"]
            ]
        }


def test_make_doctor_can_simulate_every_statement_with_an_example_and_its_condition(policy):
    pages = _SimulatorPages(policy.document)

    class Iam:
        def get_paginator(self, name: str) -> _SimulatorPages:
            assert name == "simulate_principal_policy"
            return pages

    principal = "arn:aws:iam::111122223333:user/ann"
    assert pp.simulate_for(Iam(), principal, policy, PREFIX, "111122223333", "eu-west-1") == []
    assert len(pages.asked) == len(policy.document["Statement"])
    asked = {tuple(arguments["ResourceArns"]) for arguments in pages.asked}
    assert ("arn:aws:apigateway:eu-west-1::/restapis/a1b2c3d4e5",) in asked
    assert ("arn:aws:s3:::ann-serverless-poc-site-111122223333",) in asked
