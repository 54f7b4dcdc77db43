"""The live-mode wrappers, with botocore's Stubber standing in for AWS (moto lacks both APIs)."""

from __future__ import annotations

import datetime as dt

import boto3
import pytest
from botocore.stub import Stubber

from helpers.iam import Decision, load_policy, simulate_custom, simulate_principal, validate_policy
from helpers.iam.documents import policy_json
from helpers.iam.simulate import context_entries

MODEL = "arn:aws:s3:::serverless-poc-models/admission.rds"
ROLE = "arn:aws:iam::123456789012:role/ServerlessPOC"


@pytest.fixture
def iam():
    client = boto3.client(
        "iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def analyzer():
    client = boto3.client(
        "accessanalyzer", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def result(decision, matched=(), missing=(), action="s3:GetObject", resource=MODEL):
    return {
        "EvalActionName": action,
        "EvalResourceName": resource,
        "EvalDecision": decision,
        "MatchedStatements": [
            {
                "SourcePolicyId": policy_id,
                "SourcePolicyType": "IAM Policy",
                "StartPosition": {"Line": start, "Column": 1},
                "EndPosition": {"Line": end, "Column": 5},
            }
            for policy_id, start, end in matched
        ],
        "MissingContextValues": list(missing),
    }


def test_simulate_principal_sends_the_request_and_returns_a_decision(iam):
    client, stubber = iam
    stubber.add_response(
        "simulate_principal_policy",
        {"EvaluationResults": [result("allowed", [("ServerlessPOC", 4, 9)])], "IsTruncated": False},
        {"PolicySourceArn": ROLE, "ActionNames": ["s3:GetObject"], "ResourceArns": [MODEL]},
    )
    decision = simulate_principal(client, ROLE, "s3:GetObject", MODEL)
    assert isinstance(decision, Decision)
    assert (decision.decision, decision.action, decision.resource) == (
        "allowed",
        "s3:GetObject",
        MODEL,
    )
    assert [(m.policy, m.statement, m.effect) for m in decision.matched] == [
        ("ServerlessPOC", "lines 4-9", "Allow")
    ]
    assert "simulator" in decision.explanation


def test_simulate_principal_passes_context_with_inferred_types(iam):
    client, stubber = iam
    context = {
        "aws:SourceIp": "203.0.113.7",
        "aws:SecureTransport": True,
        "aws:TagKeys": ["a", "b"],
    }
    stubber.add_response(
        "simulate_principal_policy",
        {
            "EvaluationResults": [result("implicitDeny", missing=["aws:PrincipalTag/project"])],
            "IsTruncated": False,
        },
        {
            "PolicySourceArn": ROLE,
            "ActionNames": ["s3:GetObject"],
            "ResourceArns": [MODEL],
            "ContextEntries": [
                {
                    "ContextKeyName": "aws:SourceIp",
                    "ContextKeyValues": ["203.0.113.7"],
                    "ContextKeyType": "ip",
                },
                {
                    "ContextKeyName": "aws:SecureTransport",
                    "ContextKeyValues": ["true"],
                    "ContextKeyType": "boolean",
                },
                {
                    "ContextKeyName": "aws:TagKeys",
                    "ContextKeyValues": ["a", "b"],
                    "ContextKeyType": "stringList",
                },
            ],
        },
    )
    decision = simulate_principal(client, ROLE, "s3:GetObject", MODEL, context=context)
    assert decision.decision == "implicitDeny"
    assert decision.matched == ()
    assert decision.missing_context == ("aws:PrincipalTag/project",)
    assert "aws:PrincipalTag/project" in decision.explanation


def test_simulate_custom_sends_the_documents_as_json(iam):
    client, stubber = iam
    guard = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}],
    }
    stubber.add_response(
        "simulate_custom_policy",
        {
            "EvaluationResults": [result("explicitDeny", [("PolicyInputList.2", 1, 1)])],
            "IsTruncated": False,
        },
        {
            "PolicyInputList": [policy_json(load_policy("serverless_poc")), policy_json(guard)],
            "ActionNames": ["s3:GetObject"],
            "ResourceArns": [MODEL],
        },
    )
    decision = simulate_custom(
        client, [load_policy("serverless_poc"), guard], "s3:GetObject", MODEL
    )
    assert decision.decision == "explicitDeny"
    assert decision.matched[0].effect == "Deny"
    assert "explicit Deny beats any Allow" in decision.explanation


def test_simulate_custom_with_a_resource_policy_passes_the_caller(iam):
    client, stubber = iam
    bucket_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": ROLE},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::serverless-poc-models/*",
            }
        ],
    }
    stubber.add_response(
        "simulate_custom_policy",
        {
            "EvaluationResults": [result("allowed", [("ResourcePolicy", 1, 1)])],
            "IsTruncated": False,
        },
        {
            "PolicyInputList": [],
            "ActionNames": ["s3:GetObject"],
            "ResourceArns": [MODEL],
            "ResourcePolicy": policy_json(bucket_policy),
            "CallerArn": ROLE,
        },
    )
    decision = simulate_custom(
        client, [], "s3:GetObject", MODEL, resource_policy=bucket_policy, caller_arn=ROLE
    )
    assert decision.allowed


def test_an_unknown_simulator_decision_is_not_passed_off_as_ours(iam):
    client, stubber = iam
    stubber.add_response(
        "simulate_principal_policy",
        {"EvaluationResults": [result("somethingNew")], "IsTruncated": False},
    )
    with pytest.raises(ValueError, match="somethingNew"):
        simulate_principal(client, ROLE, "s3:GetObject", MODEL)


def test_validate_policy_turns_findings_into_rows(analyzer):
    client, stubber = analyzer
    document = load_policy("broken/typo_action")
    stubber.add_response(
        "validate_policy",
        {
            "findings": [
                {
                    "findingDetails": "The action s3:GetObjects does not exist.",
                    "findingType": "ERROR",
                    "issueCode": "INVALID_ACTION",
                    "learnMoreLink": "https://docs.aws.amazon.com/example",
                    "locations": [
                        {
                            "path": [{"value": "Statement"}, {"index": 0}, {"value": "Action"}],
                            "span": {
                                "start": {"line": 7, "column": 16, "offset": 100},
                                "end": {"line": 7, "column": 31, "offset": 115},
                            },
                        }
                    ],
                }
            ],
            "nextToken": "page2",
        },
        {"policyDocument": policy_json(document), "policyType": "IDENTITY_POLICY"},
    )
    stubber.add_response(
        "validate_policy",
        {
            "findings": [
                {
                    "findingDetails": "Add a Sid.",
                    "findingType": "SUGGESTION",
                    "issueCode": "EMPTY_SID_EXAMPLE",
                    "learnMoreLink": "",
                    "locations": [],
                }
            ]
        },
        {
            "policyDocument": policy_json(document),
            "policyType": "IDENTITY_POLICY",
            "nextToken": "page2",
        },
    )
    rows = validate_policy(client, document)
    assert [(r.source, r.issue, r.severity, r.location) for r in rows] == [
        ("access-analyzer", "INVALID_ACTION", "ERROR", "Statement[0].Action"),
        ("access-analyzer", "EMPTY_SID_EXAMPLE", "SUGGESTION", "(document)"),
    ]
    assert "https://docs.aws.amazon.com/example" in rows[0].detail


def test_validate_trust_policy_uses_the_assume_role_resource_type(analyzer):
    client, stubber = analyzer
    trust = load_policy("lambda_trust_policy")
    stubber.add_response(
        "validate_policy",
        {"findings": []},
        {
            "policyDocument": policy_json(trust),
            "policyType": "RESOURCE_POLICY",
            "validatePolicyResourceType": "AWS::IAM::AssumeRolePolicyDocument",
        },
    )
    assert validate_policy(client, trust, "trust") == []


def test_context_entries_types():
    when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    entries = context_entries(
        {
            "s3:max-keys": 10,
            "aws:SourceIp": "10.0.0.0/8",
            "aws:username": "alice",
            "aws:CurrentTime": when,
        }
    )
    assert [e["ContextKeyType"] for e in entries] == ["numeric", "ip", "string", "date"]
    assert entries[3]["ContextKeyValues"] == ["2026-01-01T00:00:00+00:00"]
