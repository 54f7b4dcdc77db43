"""The local evaluator: deny beats allow beats implicit deny, wildcards, Not*, conditions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.iam import (
    PolicyGrammarError,
    UnsupportedConditionError,
    evaluate,
    evaluate_all,
    evaluate_trust,
    load_policy,
    trust_allows_service,
)
from helpers.iam.evaluate import action_matches, arn_matches

MODEL = "arn:aws:s3:::serverless-poc-models/admission.rds"
OTHER = "arn:aws:s3:::other-bucket/admission.rds"


def policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


SERVERLESS_POC = load_policy("serverless_poc")


# --------------------------------------------------------------------------- the basic order


def test_allow_beats_implicit_deny():
    decision = evaluate("s3:GetObject", MODEL, {"ServerlessPOC": SERVERLESS_POC})
    assert decision.decision == "allowed"
    assert decision.allowed
    assert [(m.policy, m.statement, m.effect) for m in decision.matched] == [
        ("ServerlessPOC", "Sid 'ReadModelObjects'", "Allow")
    ]
    assert "ReadModelObjects" in decision.explanation


def test_nothing_matching_is_an_implicit_deny():
    decision = evaluate("s3:PutObject", MODEL, {"ServerlessPOC": SERVERLESS_POC})
    assert decision.decision == "implicitDeny"
    assert decision.matched == ()
    assert "denies it by default" in decision.explanation


def test_the_model_in_another_bucket_is_not_readable():
    assert evaluate("s3:GetObject", OTHER, SERVERLESS_POC).decision == "implicitDeny"


def test_explicit_deny_beats_allow_in_any_policy():
    guard = policy(
        {"Sid": "NoModelReads", **deny("s3:GetObject", "arn:aws:s3:::serverless-poc-models/*")}
    )
    decision = evaluate(
        "s3:GetObject", MODEL, [("ServerlessPOC", SERVERLESS_POC), ("Guard", guard)]
    )
    assert decision.decision == "explicitDeny"
    assert [(m.policy, m.statement) for m in decision.matched] == [("Guard", "Sid 'NoModelReads'")]
    assert "explicit Deny beats any Allow" in decision.explanation


def test_no_policies_at_all_is_an_implicit_deny():
    assert evaluate("s3:GetObject", MODEL).decision == "implicitDeny"


def test_a_resource_policy_allow_suffices_within_the_account():
    bucket_policy = policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:role/ServerlessPOC"},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::serverless-poc-models/*",
        }
    )
    role = "arn:aws:iam::123456789012:role/ServerlessPOC"
    assert evaluate("s3:GetObject", MODEL, None, bucket_policy, principal=role).allowed
    other_role = "arn:aws:iam::123456789012:role/Other"
    assert not evaluate("s3:GetObject", MODEL, None, bucket_policy, principal=other_role).allowed
    account_wide = policy({**bucket_policy["Statement"][0], "Principal": {"AWS": "123456789012"}})
    assert evaluate("s3:GetObject", MODEL, None, account_wide, principal=other_role).allowed


def test_a_resource_policy_deny_beats_an_identity_allow():
    bucket_policy = policy(
        {"Effect": "Deny", "Principal": "*", **deny("s3:*", "arn:aws:s3:::serverless-poc-models/*")}
    )
    decision = evaluate(
        "s3:GetObject", MODEL, SERVERLESS_POC, bucket_policy, principal="arn:aws:iam::1:role/x"
    )
    assert decision.decision == "explicitDeny"
    assert decision.matched[0].policy == "resource policy 1"


# --------------------------------------------------------------------------- wildcards


@pytest.mark.parametrize(
    "pattern, action, expected",
    [
        ("s3:GetObject", "s3:GetObject", True),
        ("s3:getobject", "S3:GetObject", True),  # actions are case-insensitive
        ("s3:Get*", "s3:GetObjectVersion", True),
        ("s3:*Object", "s3:PutObject", True),
        ("s3:?etObject", "s3:GetObject", True),
        ("s3:?etObject", "s3:GGetObject", False),
        ("*", "logs:PutLogEvents", True),
        ("s3:Get*", "s3:PutObject", False),
        ("s3:GetObject", "s3:GetObjects", False),
    ],
)
def test_action_wildcards(pattern, action, expected):
    assert action_matches(pattern, action) is expected


@pytest.mark.parametrize(
    "pattern, arn, expected",
    [
        ("arn:aws:s3:::serverless-poc-models/*", MODEL, True),
        ("arn:aws:s3:::Serverless-POC-models/*", MODEL, False),  # resources are case-sensitive
        ("arn:aws:s3:::serverless-poc-models", MODEL, False),  # the bucket is not its objects
        ("arn:aws:s3:::serverless-poc-*", MODEL, True),  # * in the resource part crosses "/"
        ("arn:aws:s3:::*/admission.???", MODEL, True),
        ("arn:aws:s3:::*/admission.??", MODEL, False),
        ("*", MODEL, True),
        (
            "arn:aws:logs:*:*:log-group:/aws/lambda/X:*",
            "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/X:log-stream:a",
            True,
        ),
        # a * in the region segment must not swallow the account segment's ":"
        ("arn:aws:logs:*:log-group:*", "arn:aws:logs:us-east-1:123456789012:log-group:x", False),
    ],
)
def test_resource_wildcards(pattern, arn, expected):
    assert arn_matches(pattern, arn) is expected


# --------------------------------------------------------------------------- NotAction / NotResource


def test_not_action_deny_blocks_everything_but_the_listed_actions():
    docs = [
        policy(allow("s3:*", "arn:aws:s3:::serverless-poc-models/*")),
        policy({"Effect": "Deny", "NotAction": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}),
    ]
    assert evaluate("s3:GetObject", MODEL, docs).decision == "allowed"
    assert evaluate("s3:PutObject", MODEL, docs).decision == "explicitDeny"
    assert evaluate("s3:DeleteObject", MODEL, docs).decision == "explicitDeny"


def test_not_action_allow_grants_everything_else():
    doc = policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert evaluate("s3:PutObject", MODEL, doc).allowed
    assert evaluate("IAM:CreateUser", "*", doc).decision == "implicitDeny"


def test_not_resource_deny_protects_everything_outside_the_models_bucket():
    docs = [
        policy(allow("s3:GetObject")),
        policy(
            {
                "Effect": "Deny",
                "Action": "s3:*",
                "NotResource": "arn:aws:s3:::serverless-poc-models/*",
            }
        ),
    ]
    assert evaluate("s3:GetObject", MODEL, docs).decision == "allowed"
    decision = evaluate("s3:GetObject", OTHER, docs)
    assert decision.decision == "explicitDeny"
    assert decision.matched[0].statement == "Statement[0]"


# --------------------------------------------------------------------------- conditions


def with_condition(condition):
    return policy(
        allow("s3:GetObject", "arn:aws:s3:::serverless-poc-models/*", Condition=condition)
    )


@pytest.mark.parametrize(
    "condition, context, expected",
    [
        (
            {"StringEquals": {"aws:PrincipalTag/project": "serverless-poc"}},
            {"aws:PrincipalTag/project": "serverless-poc"},
            True,
        ),
        (
            {"StringEquals": {"aws:PrincipalTag/project": "serverless-poc"}},
            {"aws:principaltag/project": "serverless-poc"},
            True,
        ),  # keys are case-insensitive
        (
            {"StringEquals": {"aws:PrincipalTag/project": "serverless-poc"}},
            {"aws:PrincipalTag/project": "Serverless-POC"},
            False,
        ),  # values are not
        ({"StringEquals": {"aws:PrincipalTag/project": "serverless-poc"}}, {}, False),
        (
            {"StringEquals": {"aws:PrincipalTag/project": ["a", "serverless-poc"]}},
            {"aws:PrincipalTag/project": "serverless-poc"},
            True,
        ),  # values OR
        (
            {"StringNotEquals": {"aws:PrincipalTag/team": "intruders"}},
            {"aws:PrincipalTag/team": "data"},
            True,
        ),
        (
            {"StringNotEquals": {"aws:PrincipalTag/team": "intruders"}},
            {"aws:PrincipalTag/team": "intruders"},
            False,
        ),
        (
            {"StringNotEquals": {"aws:PrincipalTag/team": "intruders"}},
            {},
            True,
        ),  # negated + absent key = true
        ({"StringLike": {"s3:prefix": "models/*"}}, {"s3:prefix": "models/v2"}, True),
        ({"StringLike": {"s3:prefix": "models/*"}}, {"s3:prefix": "data/v2"}, False),
        (
            {"ArnLike": {"aws:SourceArn": "arn:aws:execute-api:*:*:abc123/*"}},
            {
                "aws:SourceArn": "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/POST/predict"
            },
            True,
        ),
        (
            {"ArnEquals": {"aws:SourceArn": "arn:aws:events:us-east-1:123456789012:rule/warm"}},
            {"aws:SourceArn": "arn:aws:events:us-east-1:123456789012:rule/cold"},
            False,
        ),
        ({"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": True}, True),
        ({"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": False}, False),
        ({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {"aws:SourceIp": "203.0.113.7"}, True),
        (
            {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
            {"aws:SourceIp": "198.51.100.7"},
            False,
        ),
        (
            {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
            {"aws:SourceIp": "198.51.100.7"},
            True,
        ),
        ({"NumericLessThanEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": 10}, True),
        ({"StringEqualsIfExists": {"aws:RequestTag/project": "x"}}, {}, True),
        ({"Null": {"aws:TokenIssueTime": "true"}}, {}, True),
        (
            {"Null": {"aws:TokenIssueTime": "true"}},
            {"aws:TokenIssueTime": "2026-01-01T00:00:00Z"},
            False,
        ),
        (
            {"ForAllValues:StringEquals": {"aws:TagKeys": ["project", "owner"]}},
            {"aws:TagKeys": ["project"]},
            True,
        ),
        (
            {"ForAllValues:StringEquals": {"aws:TagKeys": ["project", "owner"]}},
            {"aws:TagKeys": ["project", "cost"]},
            False,
        ),
        (
            {"ForAnyValue:StringEquals": {"aws:TagKeys": ["project"]}},
            {"aws:TagKeys": ["cost", "project"]},
            True,
        ),
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["project"]}}, {}, False),
        # two operators / two keys: all must hold
        (
            {
                "Bool": {"aws:SecureTransport": "true"},
                "StringEquals": {"aws:PrincipalTag/project": "p"},
            },
            {"aws:SecureTransport": True},
            False,
        ),
    ],
)
def test_conditions(condition, context, expected):
    decision = evaluate("s3:GetObject", MODEL, with_condition(condition), context=context)
    assert decision.allowed is expected, decision.explanation


def test_missing_context_keys_are_reported():
    decision = evaluate(
        "s3:GetObject", MODEL, with_condition({"Bool": {"aws:SecureTransport": "true"}})
    )
    assert decision.missing_context == ("aws:SecureTransport",)
    assert "aws:SecureTransport" in decision.explanation


def test_policy_variables_come_from_the_context_only_in_version_2012():
    statement = allow("s3:GetObject", "arn:aws:s3:::serverless-poc-models/${aws:username}/*")
    current = policy(statement)
    legacy = {"Statement": [statement]}
    resource = "arn:aws:s3:::serverless-poc-models/alice/admission.rds"
    assert evaluate("s3:GetObject", resource, current, context={"aws:username": "alice"}).allowed
    assert not evaluate("s3:GetObject", resource, current, context={"aws:username": "bob"}).allowed
    assert not evaluate("s3:GetObject", resource, current).allowed  # no value: never matches
    assert not evaluate("s3:GetObject", resource, legacy, context={"aws:username": "alice"}).allowed
    literal = "arn:aws:s3:::serverless-poc-models/${aws:username}/admission.rds"
    assert evaluate("s3:GetObject", literal, legacy).allowed


@pytest.mark.parametrize("operator", ["DateGreaterThan", "BinaryEquals", "ForAnyValue:DateEquals"])
def test_an_unsupported_condition_operator_is_reported_not_guessed(operator):
    doc = with_condition({operator: {"aws:CurrentTime": "2026-01-01T00:00:00Z"}})
    with pytest.raises(
        UnsupportedConditionError, match=rf"{operator!r} is not supported.*simulate"
    ):
        evaluate("s3:GetObject", MODEL, doc, context={"aws:CurrentTime": "2026-06-01T00:00:00Z"})


def test_an_unsupported_operator_on_a_statement_that_does_not_apply_does_not_matter():
    doc = with_condition({"DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}})
    assert evaluate("s3:PutObject", MODEL, doc).decision == "implicitDeny"


def test_a_policy_iam_would_reject_is_not_evaluated():
    with pytest.raises(PolicyGrammarError, match="Effect 'allow'"):
        evaluate("s3:GetObject", MODEL, load_policy("broken/lowercase_effect"))


def test_the_typo_action_evaluates_to_implicit_deny():
    # IAM stores this policy; the Lambda function then gets AccessDenied reading its model.
    assert (
        evaluate("s3:GetObject", MODEL, load_policy("broken/typo_action")).decision
        == "implicitDeny"
    )
    assert (
        evaluate("s3:GetObject", MODEL, load_policy("broken/bucket_not_objects")).decision
        == "implicitDeny"
    )


# --------------------------------------------------------------------------- trust


def test_lambda_may_assume_the_role_and_nobody_else():
    trust = load_policy("lambda_trust_policy")
    assert trust_allows_service(trust, "lambda.amazonaws.com")
    assert not trust_allows_service(trust, "ec2.amazonaws.com")
    assert not evaluate_trust(trust, "arn:aws:iam::123456789012:user/alice").allowed
    assert (
        evaluate_trust(trust, "lambda.amazonaws.com", "sts:TagSession").decision == "implicitDeny"
    )


def test_trust_allows_service_reads_json_text():
    assert trust_allows_service(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["events.amazonaws.com","lambda.amazonaws.com"]},"Action":"sts:AssumeRole"}]}'
    )


def test_evaluate_all_builds_the_least_privilege_grid():
    decisions = evaluate_all(["s3:GetObject", "s3:PutObject"], [MODEL, OTHER], SERVERLESS_POC)
    assert [d.decision for d in decisions] == [
        "allowed",
        "implicitDeny",
        "implicitDeny",
        "implicitDeny",
    ]


# --------------------------------------------------------------------------- properties

ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "logs:PutLogEvents"]
ACTION_PATTERNS = ["*", "s3:*", "s3:Get*", "s3:*Object", "S3:GETOBJECT", "s3:?utObject", *ACTIONS]
RESOURCES = [
    MODEL,
    OTHER,
    "arn:aws:s3:::serverless-poc-models/data/binary.csv",
    "arn:aws:s3:::serverless-poc-models",
]
RESOURCE_PATTERNS = [
    "*",
    "arn:aws:s3:::serverless-poc-models/*",
    "arn:aws:s3:::*/admission.rds",
    "arn:aws:s3:::serverless-poc-models",
    "arn:aws:s3:::other-bucket/*",
    "arn:aws:s3:::serverless-poc-*",
]
CONTEXTS = [
    {},
    {"aws:SecureTransport": True},
    {"aws:SecureTransport": False, "aws:SourceIp": "203.0.113.9"},
]
CONDITIONS = [
    {"Bool": {"aws:SecureTransport": "true"}},
    {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
    {"StringNotEquals": {"aws:PrincipalTag/team": "x"}},
]


@st.composite
def statements(draw, effect=None):
    statement = {"Effect": effect or draw(st.sampled_from(["Allow", "Deny"]))}
    action_key = draw(st.sampled_from(["Action", "NotAction"]))
    statement[action_key] = draw(st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=3))
    resource_key = draw(st.sampled_from(["Resource", "NotResource"]))
    statement[resource_key] = draw(
        st.lists(st.sampled_from(RESOURCE_PATTERNS), min_size=1, max_size=2)
    )
    if draw(st.booleans()):
        statement["Condition"] = draw(st.sampled_from(CONDITIONS))
    return statement


policies = st.lists(
    st.lists(statements(), min_size=1, max_size=3).map(lambda s: policy(*s)), max_size=3
)
requests = st.tuples(
    st.sampled_from(ACTIONS), st.sampled_from(RESOURCES), st.sampled_from(CONTEXTS)
)


@settings(max_examples=300, deadline=None)
@given(policies, statements(effect="Deny"), requests)
def test_adding_a_deny_never_turns_a_denied_request_into_allowed(docs, extra_deny, request):
    action, resource, context = request
    before = evaluate(action, resource, docs, context=context)
    after = evaluate(action, resource, [*docs, policy(extra_deny)], context=context)
    if not before.allowed:
        assert not after.allowed
    # and more strongly: a Deny can only move a decision towards explicitDeny
    assert after.decision in {before.decision, "explicitDeny"}


@settings(max_examples=300, deadline=None)
@given(policies, requests)
def test_a_policy_set_decides_as_its_statements_decide_one_by_one(docs, request):
    action, resource, context = request
    alone = [
        evaluate(action, resource, policy(s), context=context).decision
        for doc in docs
        for s in doc["Statement"]
    ]
    expected = (
        "explicitDeny"
        if "explicitDeny" in alone
        else "allowed"
        if "allowed" in alone
        else "implicitDeny"
    )
    assert evaluate(action, resource, docs, context=context).decision == expected
