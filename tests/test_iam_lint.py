"""parliament plus the grammar check: what each tool sees on the exercise's broken policies."""

from __future__ import annotations

import pytest

from helpers.iam import (
    findings_table,
    lint_policy,
    load_policy,
    parliament_findings,
    suggest_action,
)

PARLIAMENT_SEES = {
    "broken/typo_action": "UNKNOWN_ACTION",
    "broken/bucket_not_objects": "RESOURCE_MISMATCH",
    "broken/missing_version": "NO_VERSION",
    "broken/action_and_notaction": "MALFORMED",
    "broken/lowercase_effect": "MALFORMED",
    "broken/todays_date_as_version": "INVALID_VERSION",
}


def test_parliament_reports_the_typo_action_with_the_right_spelling():
    findings = parliament_findings(load_policy("broken/typo_action"))
    (unknown,) = [f for f in findings if f.issue == "UNKNOWN_ACTION"]
    assert unknown.source == "parliament"
    assert unknown.severity == "LOW"
    assert "s3:GetObjects" in unknown.detail
    assert "Did you mean 's3:GetObject'?" in unknown.detail
    assert unknown.location.startswith("line 7")


@pytest.mark.parametrize("name, issue", PARLIAMENT_SEES.items())
def test_parliament_sees_these_broken_files(name, issue):
    assert issue in {f.issue for f in parliament_findings(load_policy(name))}


def test_parliament_is_silent_about_a_principal_in_an_identity_policy():
    # Why the grammar check exists: parliament does not know policy kinds.
    assert parliament_findings(load_policy("broken/principal_in_identity_policy")) == []
    issues = {f.issue for f in lint_policy(load_policy("broken/principal_in_identity_policy"))}
    assert "PRINCIPAL_IN_IDENTITY_POLICY" in issues


def test_trust_policies_are_not_blamed_for_having_no_resource():
    trust = load_policy("lambda_trust_policy")
    assert lint_policy(trust, "trust") == []
    assert any("neither Resource" in f.detail for f in parliament_findings(trust, "identity"))


def test_the_2017_policy_is_clean_and_the_managed_one_only_uses_resource_star():
    assert lint_policy(load_policy("serverless_poc")) == []
    issues = {f.issue for f in lint_policy(load_policy("aws_lambda_basic_execution_role"))}
    assert issues == {"RESOURCE_STAR"}


def test_lint_policy_accepts_json_text_and_reports_bad_json():
    (finding,) = lint_policy('{"Version": "2012-10-17", "Statement": [}')
    assert finding.issue == "MALFORMED_JSON"
    assert finding.location.startswith("line 1")


def test_every_broken_file_has_at_least_one_finding_from_lint_policy():
    for name in PARLIAMENT_SEES | {"broken/principal_in_identity_policy": ""}:
        assert lint_policy(load_policy(name)), name
    assert lint_policy(load_policy("broken/trust_without_principal"), "trust")


def test_findings_table_has_one_row_per_finding():
    findings = lint_policy(load_policy("broken/action_and_notaction"))
    table = findings_table(findings)
    assert list(table.columns) == ["source", "issue", "severity", "location", "detail"]
    assert len(table) == len(findings)
    assert set(table["source"]) == {"grammar", "parliament"}


@pytest.mark.parametrize(
    "action, expected",
    [
        ("s3:GetObjects", "s3:GetObject"),
        ("logs:PutLogEvent", "logs:PutLogEvents"),
        ("s3:Frobnicate", None),
    ],
)
def test_suggest_action(action, expected):
    assert suggest_action(action) == expected
