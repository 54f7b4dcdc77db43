"""Policy files load, take the names of a mode, and the grammar check finds each broken file's flaw."""

from __future__ import annotations

import json

import pytest

from helpers import config
from helpers.iam import (
    PolicyFileError,
    PolicyGrammarError,
    available_policies,
    check_grammar,
    load_policy,
    require_valid,
    substitute_names,
)
from helpers.iam.findings import ERROR

# file -> (policy kind, the grammar issue the exercise is about; None = grammar cannot see it)
BROKEN = {
    "broken/typo_action": ("identity", None),
    "broken/bucket_not_objects": ("identity", None),
    "broken/missing_version": ("identity", "MISSING_VERSION"),
    "broken/principal_in_identity_policy": ("identity", "PRINCIPAL_IN_IDENTITY_POLICY"),
    "broken/action_and_notaction": ("identity", "BOTH_ACTION_AND_NOTACTION"),
    "broken/lowercase_effect": ("identity", "INVALID_EFFECT"),
    "broken/todays_date_as_version": ("identity", "INVALID_VERSION"),
    "broken/trust_without_principal": ("trust", "MISSING_PRINCIPAL"),
}
GOOD = {
    "serverless_poc": "identity",
    "aws_lambda_basic_execution_role": "identity",
    "lambda_trust_policy": "trust",
}


def test_every_broken_file_is_listed_here_and_in_the_readme():
    on_disk = {name for name in available_policies() if name.startswith("broken/")}
    assert on_disk == set(BROKEN)
    readme = (config.POLICIES_DIR / "broken" / "README.md").read_text()
    for name in BROKEN:
        assert f"`{name.removeprefix('broken/')}.json`" in readme


@pytest.mark.parametrize("name, kind", GOOD.items())
def test_good_policies_have_no_grammar_errors(name, kind):
    assert [f for f in check_grammar(load_policy(name), kind) if f.severity == ERROR] == []


def test_serverless_poc_is_the_2017_policy():
    statement = load_policy("serverless_poc")["Statement"][0]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "s3:GetObject"
    assert statement["Resource"] == "arn:aws:s3:::serverless-poc-models/*"


def test_basic_execution_role_matches_aws_facts_exactly():
    expected = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": "*",
            }
        ],
    }
    assert load_policy("aws_lambda_basic_execution_role") == expected


@pytest.mark.parametrize("name", [n for n, (_, issue) in BROKEN.items() if issue])
def test_grammar_check_finds_the_flaw_of_each_broken_file(name):
    kind, issue = BROKEN[name]
    findings = check_grammar(load_policy(name), kind)
    matching = [f for f in findings if f.issue == issue]
    assert matching, f"{name}: expected {issue}, got {findings}"
    assert all(f.source == "grammar" and len(f.detail) > 30 for f in matching)
    assert matching[0].severity == ERROR


@pytest.mark.parametrize("name", [n for n, (_, issue) in BROKEN.items() if issue is None])
def test_grammar_check_cannot_see_semantic_mistakes(name):
    # These two are valid grammar; only parliament (test_iam_lint) catches them.
    assert [f for f in check_grammar(load_policy(name)) if f.severity == ERROR] == []


def test_trust_file_without_principal_also_has_a_resource_it_must_not_have():
    issues = {
        f.issue for f in check_grammar(load_policy("broken/trust_without_principal"), "trust")
    }
    assert {"MISSING_PRINCIPAL", "RESOURCE_IN_TRUST_POLICY"} <= issues


def test_principal_is_fine_in_a_trust_policy_but_not_in_an_identity_policy():
    trust = load_policy("lambda_trust_policy")
    assert check_grammar(trust, "trust") == []
    assert {f.issue for f in check_grammar(trust, "identity")} >= {
        "PRINCIPAL_IN_IDENTITY_POLICY",
        "MISSING_RESOURCE",
    }


@pytest.mark.parametrize(
    "statement, issue, hint",
    [
        (
            {"Effect": "Allow", "Action": "s3:GetObject", "Resources": "*"},
            "UNKNOWN_ELEMENT",
            "'Resource'",
        ),
        (
            {"Effect": "Allow", "Action": "GetObject", "Resource": "*"},
            "INVALID_ACTION_FORMAT",
            "s3:GetObject",
        ),
        (
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "serverless-poc-models/*"},
            "INVALID_RESOURCE_FORMAT",
            "ARN",
        ),
        ({"Action": "s3:GetObject", "Resource": "*"}, "MISSING_EFFECT", "Allow"),
        ({"Effect": "Allow", "Resource": "*"}, "MISSING_ACTION", "Action"),
        ({"Effect": "Allow", "Action": "s3:GetObject"}, "MISSING_RESOURCE", "Resource"),
        (
            {"Sid": "read-model", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
            "INVALID_SID",
            "letters and digits",
        ),
        ({"Effect": "Allow", "Action": "*", "Resource": "*"}, "FULL_ADMIN", "least privilege"),
        (
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "*",
                "Condition": {"StringEqual": {"a:b": "c"}},
            },
            "UNKNOWN_CONDITION_OPERATOR",
            "'StringEquals'",
        ),
        (
            {
                "Effect": "Deny",
                "Action": "s3:*",
                "Resource": "*",
                "NotResource": "arn:aws:s3:::b/*",
            },
            "BOTH_RESOURCE_AND_NOTRESOURCE",
            "never both",
        ),
    ],
)
def test_grammar_messages_teach_the_fix(statement, issue, hint):
    document = {"Version": "2012-10-17", "Statement": [statement]}
    findings = [f for f in check_grammar(document) if f.issue == issue]
    assert findings, check_grammar(document)
    assert hint in findings[0].detail


def test_duplicate_sids_and_unknown_top_level_elements():
    statement = {"Sid": "A", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    document = {"Version": "2012-10-17", "Statment": [], "Statement": [statement, statement]}
    issues = [f.issue for f in check_grammar(document)]
    assert issues.count("DUPLICATE_SID") == 1
    assert "UNKNOWN_ELEMENT" in issues


def test_missing_version_without_variables_is_only_a_warning():
    document = {"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}
    (finding,) = check_grammar(document)
    assert (finding.issue, finding.severity) == ("MISSING_VERSION", "WARNING")


def test_check_grammar_rejects_unknown_kind_with_the_choices():
    with pytest.raises(ValueError, match=r"'identity'.*'resource'.*'trust'"):
        check_grammar({}, "bucket")  # type: ignore[arg-type]


def test_require_valid_raises_with_every_error_listed():
    with pytest.raises(PolicyGrammarError) as caught:
        require_valid(load_policy("broken/lowercase_effect"), "identity", "ServerlessPOC")
    assert "Statement[0].Effect" in str(caught.value)
    assert [f.issue for f in caught.value.findings] == ["INVALID_EFFECT"]


def test_live_names_are_substituted_everywhere_and_the_function_name_is_not_split():
    names = config.names_for("live", prefix="alice", account_id="123456789012")
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "lambda:InvokeFunction"],
                "Resource": [
                    "arn:aws:s3:::serverless-poc-models/*",
                    "arn:aws:s3:::serverless-poc-handlers/*",
                    "arn:aws:lambda:*:*:function:ServerlessPOCAdmission",
                    "arn:aws:iam::*:role/ServerlessPOC",
                ],
            }
        ],
    }
    resources = substitute_names(document, names)["Statement"][0]["Resource"]
    assert resources == [
        "arn:aws:s3:::alice-serverless-poc-models-123456789012/*",
        "arn:aws:s3:::alice-serverless-poc-handlers-123456789012/*",
        "arn:aws:lambda:*:*:function:AliceServerlessPOCAdmission",
        "arn:aws:iam::*:role/AliceServerlessPOC",
    ]
    assert document["Statement"][0]["Resource"][0] == "arn:aws:s3:::serverless-poc-models/*"


def test_load_policy_with_mock_names_is_the_file_itself():
    mock = config.names_for("mock")
    assert load_policy("serverless_poc", mock) == load_policy("serverless_poc")


def test_load_policy_with_live_names_changes_the_bucket():
    names = config.names_for("live", prefix="bob")
    resource = load_policy("serverless_poc", names)["Statement"][0]["Resource"]
    assert resource == "arn:aws:s3:::bob-serverless-poc-models/*"


def test_missing_policy_file_lists_the_available_ones():
    with pytest.raises(PolicyFileError, match="serverless_poc"):
        load_policy("serverless-poc")


def test_invalid_json_says_where(tmp_path):
    (tmp_path / "bad.json").write_text('{"Version": "2012-10-17",\n "Statement": [],}\n')
    with pytest.raises(PolicyFileError, match=r"line 2.*trailing comma"):
        load_policy("bad", policies_dir=tmp_path)


def test_policy_files_are_pretty_printed_json():
    for name in available_policies():
        text = (config.POLICIES_DIR / f"{name}.json").read_text()
        assert text == json.dumps(json.loads(text), indent=2) + "\n", name


def test_parse_document_reads_dicts_json_text_and_iams_url_encoding():
    from urllib.parse import quote

    from helpers.iam import parse_document

    trust = load_policy("lambda_trust_policy")
    text = json.dumps(trust)
    assert parse_document(trust) == trust
    assert parse_document(text) == trust
    assert parse_document(quote(text)) == trust
