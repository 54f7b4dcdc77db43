"""Policy documents: load them from ``policies/`` and check them against the IAM policy grammar.

The policy files carry the 2017 series' literal names (``serverless-poc-models``, ``ServerlessPOC``)
so that they read like the original; ``load_policy`` swaps in the names of a ``Names`` object, so
live mode, where many people share one account, gets its prefixed names without a second copy.

``check_grammar`` is the structural part of the policy grammar (aws-facts.md, IAM): it sees what
IAM itself would refuse or misread, not whether an action name exists (that is ``lint.py``'s job).
"""

from __future__ import annotations

import difflib
import json
import re
import urllib.parse
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from helpers import config
from helpers.iam.errors import PolicyFileError, PolicyGrammarError
from helpers.iam.findings import ERROR, SECURITY_WARNING, SUGGESTION, WARNING, Finding

PolicyKind = Literal["identity", "resource", "trust"]
POLICY_KINDS: tuple[str, ...] = ("identity", "resource", "trust")

CURRENT_VERSION = "2012-10-17"
LEGACY_VERSION = "2008-10-17"

TOP_LEVEL_ELEMENTS = ("Version", "Id", "Statement")
STATEMENT_ELEMENTS = (
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
)
PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")
CONDITION_OPERATORS = (
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Null",
)
SET_OPERATOR_PREFIXES = ("ForAnyValue:", "ForAllValues:")

_ACTION_PATTERN = re.compile(r"^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$")
_SID_PATTERN = re.compile(r"^[A-Za-z0-9]*$")
_VARIABLE_PATTERN = re.compile(r"\$\{[^}]+\}")
_SOURCE = "grammar"


# --------------------------------------------------------------------------- loading


def policy_path(name: str, policies_dir: Path = config.POLICIES_DIR) -> Path:
    """The file for ``name`` ("serverless_poc", "broken/typo_action", with or without .json)."""
    filename = name if name.endswith(".json") else f"{name}.json"
    return Path(policies_dir) / filename


def available_policies(policies_dir: Path = config.POLICIES_DIR) -> list[str]:
    """Names ``load_policy`` accepts, e.g. ``["broken/typo_action", ..., "serverless_poc"]``."""
    root = Path(policies_dir)
    return sorted(p.relative_to(root).with_suffix("").as_posix() for p in root.rglob("*.json"))


def _replacements(names: config.Names) -> dict[str, str]:
    return {
        config.MODELS_BUCKET_2017: names.models_bucket,
        config.HANDLERS_BUCKET_2017: names.handlers_bucket,
        config.FUNCTION_NAME_2017: names.function_name,
        config.POLICY_NAME_2017: names.policy_name,
        config.ROLE_NAME_2017: names.role_name,
    }


def substitute_names(document: Any, names: config.Names) -> Any:
    """A copy of ``document`` with the 2017 names in string values replaced by ``names``.

    One regex pass, longest name first, so ``ServerlessPOCAdmission`` (the function) is not
    half-replaced as ``ServerlessPOC`` (the role) + ``Admission``. Keys are never touched.
    """
    table = _replacements(names)
    pattern = re.compile("|".join(re.escape(k) for k in sorted(table, key=len, reverse=True)))

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            return pattern.sub(lambda m: table[m.group(0)], node)
        if isinstance(node, list):
            return [walk(item) for item in node]
        if isinstance(node, dict):
            return {key: walk(value) for key, value in node.items()}
        return node

    return walk(document)


def load_policy(
    name: str,
    names: config.Names | None = None,
    *,
    policies_dir: Path = config.POLICIES_DIR,
) -> dict[str, Any]:
    """Read ``policies/<name>.json``; with ``names``, the 2017 names are replaced by those."""
    path = policy_path(name, policies_dir)
    if not path.is_file():
        known = ", ".join(available_policies(policies_dir)) or "(none)"
        raise PolicyFileError(
            f"No policy file {path}. load_policy takes a name relative to {policies_dir} "
            f"without .json; the files there are: {known}."
        )
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise PolicyFileError(
            f"{path} is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}. "
            "IAM would reject it before reading any statement; fix the JSON first "
            "(a trailing comma or a missing quote is the usual cause)."
        ) from error
    return substitute_names(document, names) if names is not None else document


def policy_json(document: Mapping[str, Any]) -> str:
    """The compact JSON string the IAM API expects as a policy document."""
    return json.dumps(document, separators=(",", ":"))


def canonical(document: Mapping[str, Any] | str) -> str:
    """A stable text form for comparing documents (key order and spacing ignored)."""
    if isinstance(document, str):
        document = json.loads(document)
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def parse_document(raw: Mapping[str, Any] | str) -> dict[str, Any]:
    """A document as a dict, from a dict, JSON text, or the URL-encoded JSON the IAM API returns
    (boto3 usually decodes it already; other clients and the CLI's --query output may not)."""
    if isinstance(raw, str):
        text = raw if raw.lstrip().startswith("{") else urllib.parse.unquote(raw)
        return json.loads(text)
    return dict(raw)


def as_list(value: Any) -> list[Any]:
    """IAM lets most elements be a single value or a list; this always gives a list."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def statements(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The statements of a document as a list (a single-statement object becomes a 1-list)."""
    return [s for s in as_list(document.get("Statement")) if isinstance(s, dict)]


def statement_label(statement: Mapping[str, Any], index: int) -> str:
    """How a statement is named in messages: its Sid, else its position."""
    sid = statement.get("Sid")
    return f"Sid {sid!r}" if isinstance(sid, str) and sid else f"Statement[{index}]"


# --------------------------------------------------------------------------- grammar


def _finding(issue: str, severity: str, location: str, detail: str) -> Finding:
    return Finding(_SOURCE, issue, severity, location, detail)


def _hint(word: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    folded = [c for c in choices if c.lower() == word.lower()]
    guess = folded or close
    return f" Did you mean {guess[0]!r}?" if guess else ""


def _strings(document: Any) -> Iterator[str]:
    if isinstance(document, str):
        yield document
    elif isinstance(document, list):
        for item in document:
            yield from _strings(item)
    elif isinstance(document, dict):
        for value in document.values():
            yield from _strings(value)


def check_grammar(document: Any, kind: PolicyKind = "identity") -> list[Finding]:
    """Structural findings for a policy of ``kind`` ("identity", "resource" or "trust").

    Checks the elements aws-facts.md lists: Version, Id, Statement, Sid, Effect (Allow|Deny),
    Principal/NotPrincipal (resource and trust policies only), Action/NotAction,
    Resource/NotResource, Condition, and that no statement holds both X and NotX.
    Unknown action names are not checked here; ``lint.lint_policy`` does that.
    """
    if kind not in POLICY_KINDS:
        raise ValueError(
            f"kind={kind!r} is not a policy kind; use 'identity' (attached to a user or role), "
            "'resource' (attached to a bucket, function, ...) or 'trust' (a role's trust policy)."
        )
    if not isinstance(document, dict):
        return [
            _finding(
                "NOT_A_JSON_OBJECT",
                ERROR,
                "(document)",
                f"A policy is a JSON object with Version and Statement; this is a {type(document).__name__}.",
            )
        ]
    found: list[Finding] = []
    for key in document:
        if key not in TOP_LEVEL_ELEMENTS:
            found.append(
                _finding(
                    "UNKNOWN_ELEMENT",
                    ERROR,
                    key,
                    f"{key!r} is not a policy element; the top level holds only Version, Id and "
                    f"Statement.{_hint(key, TOP_LEVEL_ELEMENTS)}",
                )
            )
    found.extend(_check_version(document))
    if "Statement" not in document:
        found.append(
            _finding(
                "MISSING_STATEMENT",
                ERROR,
                "(document)",
                "A policy needs a Statement (an object or a list of objects) saying what it allows or denies.",
            )
        )
        return found
    raw = document["Statement"]
    if isinstance(raw, dict):
        entries = [("Statement", raw)]
    elif isinstance(raw, list) and raw:
        entries = [(f"Statement[{i}]", s) for i, s in enumerate(raw)]
    else:
        found.append(
            _finding(
                "INVALID_STATEMENT",
                ERROR,
                "Statement",
                "Statement must be an object or a non-empty list of objects.",
            )
        )
        return found
    sids: dict[str, str] = {}
    for location, statement in entries:
        found.extend(_check_statement(statement, location, kind, sids))
    return found


def _check_version(document: Mapping[str, Any]) -> list[Finding]:
    if "Version" not in document:
        uses_variables = any(_VARIABLE_PATTERN.search(s) for s in _strings(document))
        extra = (
            " This policy uses ${...} policy variables, which the legacy version treats as literal "
            "text, so they will not match what you expect."
            if uses_variables
            else ""
        )
        return [
            _finding(
                "MISSING_VERSION",
                ERROR if uses_variables else WARNING,
                "Version",
                f"No Version: IAM then reads the policy with the legacy {LEGACY_VERSION} language."
                f'{extra} Add "Version": "{CURRENT_VERSION}".',
            )
        ]
    version = document["Version"]
    if version == CURRENT_VERSION:
        return []
    if version == LEGACY_VERSION:
        return [
            _finding(
                "OLD_VERSION",
                SUGGESTION,
                "Version",
                f"{LEGACY_VERSION} is the legacy policy language (no policy variables); "
                f"use {CURRENT_VERSION}.",
            )
        ]
    return [
        _finding(
            "INVALID_VERSION",
            ERROR,
            "Version",
            f"Version {version!r} does not exist. Version names the policy language, not the date "
            f"you wrote the policy: use {CURRENT_VERSION!r}.",
        )
    ]


def _check_statement(
    statement: Any, where: str, kind: PolicyKind, sids: dict[str, str]
) -> list[Finding]:
    if not isinstance(statement, dict):
        return [
            _finding(
                "INVALID_STATEMENT",
                ERROR,
                where,
                "Each statement must be a JSON object with Effect, Action and (usually) Resource.",
            )
        ]
    found: list[Finding] = []
    for key in statement:
        if key not in STATEMENT_ELEMENTS:
            found.append(
                _finding(
                    "UNKNOWN_ELEMENT",
                    ERROR,
                    f"{where}.{key}",
                    f"{key!r} is not a statement element (element names are case-sensitive)."
                    f"{_hint(key, STATEMENT_ELEMENTS)}",
                )
            )
    found.extend(_check_sid(statement, where, kind, sids))
    found.extend(_check_effect(statement, where))
    for element in ("Action", "Resource", "Principal"):
        if element in statement and f"Not{element}" in statement:
            found.append(
                _finding(
                    f"BOTH_{element.upper()}_AND_NOT{element.upper()}",
                    ERROR,
                    where,
                    f"The statement has both {element} and Not{element}. A statement may hold "
                    f"one of them, never both: keep {element} to list what it covers, or "
                    f"Not{element} to cover everything except the list.",
                )
            )
    found.extend(_check_principal(statement, where, kind))
    found.extend(_check_actions(statement, where))
    found.extend(_check_resources(statement, where, kind))
    found.extend(_check_condition(statement, where))
    found.extend(_check_breadth(statement, where))
    return found


def _check_sid(
    statement: Mapping[str, Any], where: str, kind: PolicyKind, sids: dict[str, str]
) -> list[Finding]:
    if "Sid" not in statement:
        return []
    sid = statement["Sid"]
    if not isinstance(sid, str):
        return [_finding("INVALID_SID", ERROR, f"{where}.Sid", "Sid must be a string.")]
    found = []
    if kind != "resource" and not _SID_PATTERN.match(sid):
        found.append(
            _finding(
                "INVALID_SID",
                ERROR,
                f"{where}.Sid",
                f"Sid {sid!r}: IAM policies allow only letters and digits in a Sid "
                "(no spaces, dashes or underscores), e.g. 'ReadModelObjects'.",
            )
        )
    if sid and sid in sids:
        found.append(
            _finding(
                "DUPLICATE_SID",
                ERROR,
                f"{where}.Sid",
                f"Sid {sid!r} is also used by {sids[sid]}; Sids must be unique within a policy.",
            )
        )
    sids.setdefault(sid, where)
    return found


def _check_effect(statement: Mapping[str, Any], where: str) -> list[Finding]:
    if "Effect" not in statement:
        return [
            _finding(
                "MISSING_EFFECT",
                ERROR,
                where,
                'The statement has no Effect; add "Effect": "Allow" or "Effect": "Deny".',
            )
        ]
    effect = statement["Effect"]
    if effect in ("Allow", "Deny"):
        return []
    return [
        _finding(
            "INVALID_EFFECT",
            ERROR,
            f"{where}.Effect",
            f"Effect {effect!r} is not valid: it must be exactly 'Allow' or 'Deny' "
            f"(case-sensitive).{_hint(str(effect), ('Allow', 'Deny'))}",
        )
    ]


def _check_principal(statement: Mapping[str, Any], where: str, kind: PolicyKind) -> list[Finding]:
    present = [e for e in ("Principal", "NotPrincipal") if e in statement]
    if kind == "identity":
        return [
            _finding(
                "PRINCIPAL_IN_IDENTITY_POLICY",
                ERROR,
                f"{where}.{element}",
                f"{element} belongs only in resource-based and trust policies. An identity policy "
                "applies to whoever it is attached to, so it names no principal; IAM rejects it "
                "(MalformedPolicyDocument). Remove it, or put the trust in the role's trust policy.",
            )
            for element in present
        ]
    found = []
    if not present:
        what = "may assume the role" if kind == "trust" else "the statement applies to"
        example = (
            '{"Service": "lambda.amazonaws.com"}'
            if kind == "trust"
            else '{"AWS": "<account or role ARN>"}'
        )
        found.append(
            _finding(
                "MISSING_PRINCIPAL",
                ERROR,
                where,
                f'A {kind} policy statement needs a Principal saying who {what}, e.g. "Principal": {example}.',
            )
        )
    for element in present:
        value = statement[element]
        if value == "*":
            if statement.get("Effect") == "Allow" and "Condition" not in statement:
                found.append(
                    _finding(
                        "PUBLIC_PRINCIPAL",
                        SECURITY_WARNING,
                        f"{where}.{element}",
                        'Principal "*" with Allow and no Condition lets anyone, in any account, do this.',
                    )
                )
        elif not isinstance(value, dict) or not value:
            found.append(
                _finding(
                    "INVALID_PRINCIPAL",
                    ERROR,
                    f"{where}.{element}",
                    f'{element} must be "*" or an object such as '
                    '{"Service": "lambda.amazonaws.com"} or {"AWS": "arn:aws:iam::123456789012:root"}.',
                )
            )
        else:
            for key in value:
                if key not in PRINCIPAL_TYPES:
                    found.append(
                        _finding(
                            "INVALID_PRINCIPAL",
                            ERROR,
                            f"{where}.{element}.{key}",
                            f"{key!r} is not a principal type; use one of {', '.join(PRINCIPAL_TYPES)}."
                            f"{_hint(key, PRINCIPAL_TYPES)}",
                        )
                    )
    return found


def _check_actions(statement: Mapping[str, Any], where: str) -> list[Finding]:
    present = [e for e in ("Action", "NotAction") if e in statement]
    if not present:
        return [
            _finding(
                "MISSING_ACTION",
                ERROR,
                where,
                "The statement has neither Action nor NotAction, so it covers no request; "
                'add e.g. "Action": "s3:GetObject".',
            )
        ]
    found = []
    for element in present:
        values = as_list(statement[element])
        if not values:
            found.append(
                _finding(
                    "EMPTY_ACTION", ERROR, f"{where}.{element}", f"{element} is an empty list."
                )
            )
        for i, action in enumerate(values):
            location = f"{where}.{element}" + (
                f"[{i}]" if isinstance(statement[element], list) else ""
            )
            if not isinstance(action, str) or (action != "*" and not _ACTION_PATTERN.match(action)):
                found.append(
                    _finding(
                        "INVALID_ACTION_FORMAT",
                        ERROR,
                        location,
                        f"{action!r} is not an action. Actions are written service:Name, e.g. "
                        "'s3:GetObject' or 'logs:*' ('*' alone means every action).",
                    )
                )
    return found


def _check_resources(statement: Mapping[str, Any], where: str, kind: PolicyKind) -> list[Finding]:
    present = [e for e in ("Resource", "NotResource") if e in statement]
    if kind == "trust":
        return [
            _finding(
                "RESOURCE_IN_TRUST_POLICY",
                ERROR,
                f"{where}.{element}",
                f"A trust policy has no {element}: the resource is the role itself. Remove it and "
                "name who may assume the role in Principal.",
            )
            for element in present
        ]
    if not present:
        return [
            _finding(
                "MISSING_RESOURCE",
                ERROR,
                where,
                "The statement has neither Resource nor NotResource; name what it covers, e.g. "
                '"Resource": "arn:aws:s3:::serverless-poc-models/*".',
            )
        ]
    found = []
    for element in present:
        values = as_list(statement[element])
        if not values:
            found.append(
                _finding(
                    "EMPTY_RESOURCE", ERROR, f"{where}.{element}", f"{element} is an empty list."
                )
            )
        for i, resource in enumerate(values):
            location = f"{where}.{element}" + (
                f"[{i}]" if isinstance(statement[element], list) else ""
            )
            if resource == "*":
                continue
            if (
                not isinstance(resource, str)
                or not resource.startswith("arn:")
                or resource.count(":") < 5
            ):
                found.append(
                    _finding(
                        "INVALID_RESOURCE_FORMAT",
                        ERROR,
                        location,
                        f"{resource!r} is not an ARN. Resources are ARNs "
                        "(arn:partition:service:region:account:resource, e.g. "
                        "'arn:aws:s3:::serverless-poc-models/*') or '*'.",
                    )
                )
    return found


def is_known_condition_operator(operator: str) -> bool:
    """True for an operator IAM knows, with optional ForAnyValue:/ForAllValues: and IfExists."""
    for prefix in SET_OPERATOR_PREFIXES:
        operator = operator.removeprefix(prefix)
    if operator.endswith("IfExists") and operator != "Null":
        operator = operator.removesuffix("IfExists")
    return operator in CONDITION_OPERATORS


def _check_condition(statement: Mapping[str, Any], where: str) -> list[Finding]:
    if "Condition" not in statement:
        return []
    condition = statement["Condition"]
    if not isinstance(condition, dict):
        return [
            _finding(
                "INVALID_CONDITION",
                ERROR,
                f"{where}.Condition",
                'Condition must be an object: {"<Operator>": {"<key>": "<value or list>"}}, e.g. '
                '{"StringEquals": {"aws:PrincipalTag/project": "serverless-poc"}}.',
            )
        ]
    found = []
    for operator, block in condition.items():
        location = f"{where}.Condition.{operator}"
        if not is_known_condition_operator(operator):
            found.append(
                _finding(
                    "UNKNOWN_CONDITION_OPERATOR",
                    ERROR,
                    location,
                    f"{operator!r} is not a condition operator.{_hint(operator, CONDITION_OPERATORS)}",
                )
            )
        if not isinstance(block, dict) or not block:
            found.append(
                _finding(
                    "INVALID_CONDITION",
                    ERROR,
                    location,
                    f"{operator} must map condition keys to values, e.g. "
                    f'{{"{operator}": {{"aws:SourceAccount": "123456789012"}}}}.',
                )
            )
    return found


def _check_breadth(statement: Mapping[str, Any], where: str) -> list[Finding]:
    if statement.get("Effect") != "Allow":
        return []
    found = []
    if "*" in as_list(statement.get("Action")) and "*" in as_list(statement.get("Resource")):
        found.append(
            _finding(
                "FULL_ADMIN",
                SECURITY_WARNING,
                where,
                'Allow with Action "*" on Resource "*" grants every permission in the account; '
                "least privilege means listing only the actions and resources the code uses.",
            )
        )
    if "NotAction" in statement:
        found.append(
            _finding(
                "ALLOW_WITH_NOTACTION",
                WARNING,
                f"{where}.NotAction",
                "Allow with NotAction allows every action except those listed, including actions "
                "AWS adds later. Prefer Allow with an explicit Action list.",
            )
        )
    return found


def require_valid(document: Any, kind: PolicyKind = "identity", name: str = "policy") -> None:
    """Raise ``PolicyGrammarError`` if ``document`` has ERROR findings (IAM would refuse it)."""
    errors = [f for f in check_grammar(document, kind) if f.severity == ERROR]
    if errors:
        listing = "\n".join(f"  - {f.location}: {f.detail}" for f in errors)
        raise PolicyGrammarError(
            f"{name} ({kind} policy) breaks the IAM policy grammar, so IAM would reject or "
            f"misread it:\n{listing}\nFix these first; check_grammar(document, {kind!r}) lists them.",
            errors,
        )
