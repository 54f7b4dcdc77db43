"""Notebook tables: a policy's statements and a grid of decisions."""

from __future__ import annotations

from helpers.iam import decisions_table, evaluate_all, load_policy, statements_table

MODEL = "arn:aws:s3:::serverless-poc-models/admission.rds"


def test_statements_table_of_the_two_lambda_policies():
    table = statements_table(
        {
            "ServerlessPOC": load_policy("serverless_poc"),
            "AWSLambdaBasicExecutionRole": load_policy("aws_lambda_basic_execution_role"),
        }
    )
    assert list(table.columns) == [
        "policy",
        "statement",
        "effect",
        "principal",
        "actions",
        "resources",
        "condition",
    ]
    assert table.to_dict("records") == [
        {
            "policy": "ServerlessPOC",
            "statement": "Sid 'ReadModelObjects'",
            "effect": "Allow",
            "principal": "",
            "actions": "s3:GetObject",
            "resources": "arn:aws:s3:::serverless-poc-models/*",
            "condition": "",
        },
        {
            "policy": "AWSLambdaBasicExecutionRole",
            "statement": "Statement[0]",
            "effect": "Allow",
            "principal": "",
            "actions": "logs:CreateLogGroup, logs:CreateLogStream, logs:PutLogEvents",
            "resources": "*",
            "condition": "",
        },
    ]


def test_statements_table_spells_out_not_elements_principals_and_conditions():
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "NotAction": "s3:GetObject",
                "NotResource": "arn:aws:s3:::b/*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }
    trust = load_policy("lambda_trust_policy")
    table = statements_table([("guard", document), ("trust", trust)])
    guard, trust_row = table.to_dict("records")
    assert guard["actions"] == "everything except s3:GetObject"
    assert guard["resources"] == "everything except arn:aws:s3:::b/*"
    assert guard["condition"] == '{"Bool": {"aws:SecureTransport": "false"}}'
    assert trust_row["principal"] == "Service: lambda.amazonaws.com"
    assert trust_row["resources"] == ""


def test_decisions_table_shows_the_least_privilege_grid():
    decisions = evaluate_all(
        ["s3:GetObject", "s3:PutObject"], [MODEL], {"ServerlessPOC": load_policy("serverless_poc")}
    )
    table = decisions_table(decisions)
    assert list(table.columns) == ["action", "resource", "decision", "matched", "explanation"]
    assert list(table["decision"]) == ["allowed", "implicitDeny"]
    assert table.loc[0, "matched"] == "Sid 'ReadModelObjects' of 'ServerlessPOC' (Allow)"
    assert table.loc[1, "matched"] == ""
