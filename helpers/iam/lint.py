"""Lint a policy with parliament plus the grammar check, as rows for one table.

parliament (Duo Labs) knows every action and ARN format from its copy of the Service
Authorization Reference, so it sees what IAM itself accepts silently: a typo'd action such as
``s3:GetObjects`` or ``s3:GetObject`` on a bucket ARN. It does not know policy kinds, so for a
trust policy its "no Resource" complaint is dropped here (trust policies have no Resource).
"""

from __future__ import annotations

import difflib
import functools
import json
import warnings
from collections.abc import Mapping
from typing import Any

from helpers.iam.documents import PolicyKind, check_grammar
from helpers.iam.findings import Finding

_SOURCE = "parliament"
_TRUST_FALSE_POSITIVES = ("Statement contains neither Resource nor NotResource",)


@functools.cache
def _parliament() -> Any:
    # parliament 1.6 imports pkg_resources, which warns on every import; the warning is not ours.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import parliament

    return parliament


@functools.cache
def _service_actions() -> dict[str, tuple[str, ...]]:
    """prefix -> action names, from parliament's own IAM definition."""
    table: dict[str, list[str]] = {}
    for service in _parliament().iam_definition:
        names = table.setdefault(service["prefix"], [])
        names.extend(p["privilege"] for p in service["privileges"])
    return {prefix: tuple(names) for prefix, names in table.items()}


def suggest_action(action: str) -> str | None:
    """The closest real action to a misspelt one (``s3:GetObjects`` -> ``s3:GetObject``), or None."""
    prefix, _, name = action.partition(":")
    candidates = _service_actions().get(prefix.lower(), ())
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.8)
    return f"{prefix.lower()}:{close[0]}" if close else None


def _location(location: Mapping[str, Any] | None) -> str:
    if not location:
        return "(document)"
    parts = []
    if "line" in location:
        parts.append(f"line {location['line']}")
    if "column" in location:
        parts.append(f"column {location['column']}")
    if location.get("string"):
        parts.append(f"at {location['string']!r}")
    return ", ".join(parts) or "(document)"


def _detail(issue: str, title: str, detail: Any) -> str:
    if isinstance(detail, list | dict):
        detail = json.dumps(detail)
    detail = str(detail or "")
    # parliament's title often repeats the start of its detail ("Unknown action; Unknown action x").
    text = (
        detail if title and detail.startswith(title) else "; ".join(p for p in (title, detail) if p)
    )
    if issue == "UNKNOWN_ACTION":
        action = str(detail).removeprefix("Unknown action ").strip()
        guess = suggest_action(action)
        text += (
            f". IAM accepts unknown actions silently and the call then fails with AccessDenied. Did you mean {guess!r}?"
            if guess
            else ". IAM accepts unknown actions silently; check the name in the Service Authorization Reference."
        )
    elif issue == "RESOURCE_MISMATCH":
        text += ". No resource in this statement has the ARN format these actions act on, so the statement allows nothing."
    return text


def parliament_findings(
    document: Mapping[str, Any] | str, kind: PolicyKind = "identity"
) -> list[Finding]:
    """parliament's findings on ``document`` (a dict or a JSON string), with teaching details."""
    text = document if isinstance(document, str) else json.dumps(document, indent=2)
    parliament = _parliament()
    try:
        policy = parliament.analyze_policy_string(text)
    except Exception as error:  # parliament raises bare exceptions on shapes it does not expect
        return [
            Finding(
                _SOURCE,
                "LINTER_FAILED",
                "HIGH",
                "(document)",
                f"parliament could not analyse this policy ({type(error).__name__}: {error}); "
                "the structure is probably too broken for it. Fix the grammar findings first.",
            )
        ]
    rows = []
    for finding in policy.findings:
        try:
            parliament.enhance_finding(finding)
        except Exception:  # an issue parliament's config does not describe: keep it, unrated
            finding.severity, finding.title = "UNKNOWN", ""
        if kind == "trust" and str(finding.detail) in _TRUST_FALSE_POSITIVES:
            continue
        rows.append(
            Finding(
                _SOURCE,
                finding.issue,
                finding.severity,
                _location(finding.location),
                _detail(finding.issue, finding.title, finding.detail),
            )
        )
    return rows


def lint_policy(document: Mapping[str, Any] | str, kind: PolicyKind = "identity") -> list[Finding]:
    """Grammar findings followed by parliament's: everything a learner should fix, in one list.

    Locations: the grammar check names elements (``Statement[0].Effect``); parliament gives line
    and column in the document as printed with ``json.dumps(document, indent=2)``.
    """
    if isinstance(document, str):
        try:
            parsed: Any = json.loads(document)
        except json.JSONDecodeError as error:
            return [
                Finding(
                    "grammar",
                    "MALFORMED_JSON",
                    "ERROR",
                    f"line {error.lineno}, column {error.colno}",
                    f"Not valid JSON ({error.msg}); IAM rejects it before reading any statement.",
                )
            ]
    else:
        parsed = document
    return check_grammar(parsed, kind) + parliament_findings(document, kind)
