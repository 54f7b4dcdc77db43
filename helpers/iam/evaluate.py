"""A local IAM policy evaluator, so mock mode can answer "would this be allowed, and why?".

AWS's policy simulator is live-only and moto does not implement it, so the series needs its
own answer in mock mode. This evaluator follows the documented logic for one account: every
request starts as an implicit deny; an applicable Allow (identity or resource policy) allows it;
an applicable Deny anywhere beats every Allow. SCPs, permission boundaries and session policies
are out of scope. The decision words are the simulator's: allowed, explicitDeny, implicitDeny.

Matching: ``*`` and ``?`` wildcards; actions case-insensitive, resources case-sensitive and ARN
segment by segment (a wildcard in the first five segments does not cross a ``:``); NotAction,
NotResource, Principal/NotPrincipal (resource and trust policies); policy variables
``${key}`` (Version 2012-10-17 only) from the request context. Conditions: the operators in
``SUPPORTED_CONDITION_OPERATORS``, with IfExists and ForAnyValue:/ForAllValues:. Any other
operator raises ``UnsupportedConditionError`` instead of being guessed.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from helpers.iam.documents import (
    CURRENT_VERSION,
    PolicyKind,
    as_list,
    check_grammar,
    statement_label,
    statements,
)
from helpers.iam.errors import PolicyGrammarError, UnsupportedConditionError
from helpers.iam.findings import ERROR

DecisionWord = Literal["allowed", "explicitDeny", "implicitDeny"]
ContextValue = str | bool | int | float | Sequence[str]
PolicyInput = Mapping[str, Any] | Iterable[Mapping[str, Any] | tuple[str, Mapping[str, Any]]]

# Findings that do not stop evaluation: a policy without Version is valid (legacy language).
_EVALUABLE_ERRORS = frozenset({"MISSING_VERSION"})


@dataclass(frozen=True)
class MatchedStatement:
    """A statement that decided the request: which policy, which statement, which effect."""

    policy: str
    statement: str
    effect: str

    def __str__(self) -> str:
        return f"{self.statement} of {self.policy!r} ({self.effect})"


@dataclass(frozen=True)
class Decision:
    """The answer for one request, in the policy simulator's vocabulary."""

    decision: DecisionWord
    action: str
    resource: str
    matched: tuple[MatchedStatement, ...]
    explanation: str
    missing_context: tuple[str, ...] = field(default=())

    @property
    def allowed(self) -> bool:
        return self.decision == "allowed"

    def __str__(self) -> str:
        return self.explanation


# --------------------------------------------------------------------------- matching

_VARIABLE = re.compile(r"\$\{\s*([^},]+?)\s*(?:,\s*'([^']*)'\s*)?\}")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


def _lookup(context: Mapping[str, ContextValue], key: str) -> list[str] | None:
    """Context values for ``key`` (keys are case-insensitive), as strings; None if absent."""
    wanted = key.lower()
    for name, value in context.items():
        if name.lower() == wanted:
            values = value if isinstance(value, list | tuple) else [value]
            return [str(v).lower() if isinstance(v, bool) else str(v) for v in values]
    return None


def _pattern_regex(
    pattern: str,
    *,
    ignore_case: bool,
    arn: bool,
    context: Mapping[str, ContextValue] | None,
) -> re.Pattern[str] | None:
    """Regex for a wildcard pattern; None when a policy variable has no value (never matches)."""
    parts: list[str] = []
    segment = 0
    position = 0
    tokens = _VARIABLE.finditer(pattern) if context is not None else iter(())
    for variable in itertools.chain(tokens, [None]):
        end = variable.start() if variable else len(pattern)
        for char in pattern[position:end]:
            crosses = not arn or segment >= 5
            if char == "*":
                parts.append(".*" if crosses else "[^:]*")
            elif char == "?":
                parts.append("." if crosses else "[^:]")
            else:
                segment += char == ":"
                parts.append(re.escape(char))
        if variable is None:
            break
        key, default = variable.group(1), variable.group(2)
        if key in _ESCAPES:
            value = _ESCAPES[key]
        else:
            values = _lookup(context or {}, key)
            if values is None and default is None:
                return None
            value = values[0] if values else default
        parts.append(re.escape(value))
        position = variable.end()
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile("".join(parts), flags)


def wildcard_match(
    pattern: str,
    value: str,
    *,
    ignore_case: bool = False,
    arn: bool = False,
    context: Mapping[str, ContextValue] | None = None,
) -> bool:
    """Does ``value`` match ``pattern`` with ``*``/``?`` wildcards (and ``${}`` variables if context)?"""
    regex = _pattern_regex(pattern, ignore_case=ignore_case, arn=arn, context=context)
    return regex is not None and regex.fullmatch(value) is not None


def action_matches(pattern: str, action: str) -> bool:
    """Action names are case-insensitive: ``S3:getobject`` matches ``s3:GetObject``."""
    return wildcard_match(pattern, action, ignore_case=True)


def arn_matches(pattern: str, arn: str, context: Mapping[str, ContextValue] | None = None) -> bool:
    """ARNs are case-sensitive and compared segment by segment; ``*`` alone matches anything."""
    if pattern == "*":
        return True
    return wildcard_match(pattern, arn, arn=True, context=context)


# --------------------------------------------------------------------------- conditions

_Matcher = Callable[[str, str, Mapping[str, ContextValue] | None], bool]


def _ip_in(actual: str, expected: str, _context: Any) -> bool:
    try:
        return ipaddress.ip_address(actual) in ipaddress.ip_network(expected, strict=False)
    except ValueError:
        return False


def _number(op: Callable[[float, float], bool]) -> _Matcher:
    def compare(actual: str, expected: str, _context: Any) -> bool:
        try:
            return op(float(actual), float(expected))
        except ValueError:
            return False

    return compare


def _resolve(expected: str, context: Mapping[str, ContextValue] | None) -> str | None:
    if context is None:
        return expected
    regex_free = _VARIABLE.sub(
        lambda m: (
            _ESCAPES.get(m.group(1))
            or ((_lookup(context, m.group(1)) or [None])[0])
            or m.group(2)
            or "\0"
        ),
        expected,
    )
    return None if "\0" in regex_free else regex_free


def _equals(ignore_case: bool) -> _Matcher:
    def compare(actual: str, expected: str, context: Any) -> bool:
        resolved = _resolve(expected, context)
        if resolved is None:
            return False
        return actual.lower() == resolved.lower() if ignore_case else actual == resolved

    return compare


# operator -> (matcher, negated)
_OPERATORS: dict[str, tuple[_Matcher, bool]] = {
    "StringEquals": (_equals(False), False),
    "StringNotEquals": (_equals(False), True),
    "StringEqualsIgnoreCase": (_equals(True), False),
    "StringNotEqualsIgnoreCase": (_equals(True), True),
    "StringLike": (lambda a, e, c: wildcard_match(e, a, context=c), False),
    "StringNotLike": (lambda a, e, c: wildcard_match(e, a, context=c), True),
    "ArnEquals": (lambda a, e, c: arn_matches(e, a, c), False),
    "ArnLike": (lambda a, e, c: arn_matches(e, a, c), False),
    "ArnNotEquals": (lambda a, e, c: arn_matches(e, a, c), True),
    "ArnNotLike": (lambda a, e, c: arn_matches(e, a, c), True),
    "Bool": (lambda a, e, c: a.lower() == e.lower(), False),
    "IpAddress": (_ip_in, False),
    "NotIpAddress": (_ip_in, True),
    "NumericEquals": (_number(lambda a, e: a == e), False),
    "NumericNotEquals": (_number(lambda a, e: a == e), True),
    "NumericLessThan": (_number(lambda a, e: a < e), False),
    "NumericLessThanEquals": (_number(lambda a, e: a <= e), False),
    "NumericGreaterThan": (_number(lambda a, e: a > e), False),
    "NumericGreaterThanEquals": (_number(lambda a, e: a >= e), False),
}
SUPPORTED_CONDITION_OPERATORS: tuple[str, ...] = (*_OPERATORS, "Null")


def _split_operator(operator: str) -> tuple[str, str, bool]:
    """``ForAnyValue:StringLikeIfExists`` -> ("ForAnyValue", "StringLike", True)."""
    qualifier = ""
    for prefix in ("ForAnyValue:", "ForAllValues:"):
        if operator.startswith(prefix):
            qualifier, operator = prefix[:-1], operator.removeprefix(prefix)
    if_exists = operator.endswith("IfExists")
    return qualifier, operator.removesuffix("IfExists"), if_exists


def _condition_holds(
    condition: Mapping[str, Any],
    context: Mapping[str, ContextValue],
    variables: bool,
    missing: list[str],
) -> bool:
    """All operators and all keys must hold (AND); a key's listed values are alternatives (OR)."""
    holds = True
    for operator, block in condition.items():
        qualifier, base, if_exists = _split_operator(operator)
        if base != "Null" and base not in _OPERATORS:
            raise UnsupportedConditionError(
                f"Condition operator {operator!r} is not supported by the local evaluator, so it "
                "cannot tell whether this statement applies, and it will not guess. Supported: "
                f"{', '.join(SUPPORTED_CONDITION_OPERATORS)} (with IfExists and ForAnyValue:/"
                "ForAllValues:). Use the live policy simulator (simulate.py) for this policy, or "
                "rewrite the condition with a supported operator."
            )
        for key, expected in block.items():
            expected_values = [
                str(v).lower() if isinstance(v, bool) else str(v) for v in as_list(expected)
            ]
            actual = _lookup(context, key)
            if base == "Null":
                wants_absent = any(v.lower() == "true" for v in expected_values)
                holds = holds and (actual is None) == wants_absent
                continue
            matcher, negated = _OPERATORS[base]
            if actual is None:
                if if_exists or negated or qualifier == "ForAllValues":
                    continue
                missing.append(key)
                holds = False
                continue
            var_context = context if variables else None

            def matches(
                value: str,
                m: _Matcher = matcher,
                c: Any = var_context,
                wanted: list[str] = expected_values,
            ) -> bool:
                return any(m(value, e, c) for e in wanted)

            if qualifier == "ForAllValues":
                ok = all(matches(a) != negated for a in actual)
            elif qualifier == "ForAnyValue":
                ok = any(matches(a) != negated for a in actual)
            else:
                ok = any(matches(a) for a in actual) != negated
            holds = holds and ok
    return holds


# --------------------------------------------------------------------------- principals


def principal_matches(principal_element: Any, principal: str | None) -> bool:
    """Does a Principal element name ``principal`` (a service name such as
    ``lambda.amazonaws.com`` or an ARN)? ``"*"`` and ``{"AWS": "*"}`` name everyone; an account
    ID or ``arn:aws:iam::<account>:root`` names every principal of that account."""
    if principal_element == "*":
        return True
    if not isinstance(principal_element, Mapping):
        return False
    for kind, values in principal_element.items():
        for value in as_list(values):
            if kind == "AWS" and value == "*":
                return True
            if principal is None:
                continue
            if value == principal:
                return True
            if kind == "AWS" and principal.startswith("arn:"):
                account = principal.split(":")[4] if principal.count(":") >= 5 else ""
                if account and value in (account, f"arn:aws:iam::{account}:root"):
                    return True
    return False


# --------------------------------------------------------------------------- evaluation


def named_policies(policies: PolicyInput | None, label: str) -> list[tuple[str, Mapping[str, Any]]]:
    """Accept one document, a {name: document} mapping, or a list of documents / (name, doc)."""
    if policies is None:
        return []
    if isinstance(policies, Mapping):
        if "Statement" in policies:
            return [(f"{label} 1", policies)]
        return list(policies.items())
    result = []
    for i, item in enumerate(policies, start=1):
        if isinstance(item, tuple):
            result.append((str(item[0]), item[1]))
        else:
            result.append((f"{label} {i}", item))
    return result


def _require_evaluable(name: str, document: Mapping[str, Any], kind: PolicyKind) -> None:
    errors = [
        f
        for f in check_grammar(document, kind)
        if f.severity == ERROR and f.issue not in _EVALUABLE_ERRORS
    ]
    if errors:
        listing = "\n".join(f"  - {f.location}: {f.detail}" for f in errors)
        raise PolicyGrammarError(
            f"Policy {name!r} ({kind} policy) breaks the IAM policy grammar, so IAM would not "
            f"store it and there is nothing to evaluate:\n{listing}",
            errors,
        )


def _applies(
    statement: Mapping[str, Any],
    kind: PolicyKind,
    action: str,
    resource: str,
    principal: str | None,
    context: Mapping[str, ContextValue],
    variables: bool,
    missing: list[str],
) -> bool:
    if "Action" in statement:
        if not any(action_matches(p, action) for p in as_list(statement["Action"])):
            return False
    elif any(action_matches(p, action) for p in as_list(statement.get("NotAction"))):
        return False
    var_context = context if variables else None
    if "Resource" in statement:
        if not any(arn_matches(p, resource, var_context) for p in as_list(statement["Resource"])):
            return False
    elif "NotResource" in statement and any(
        arn_matches(p, resource, var_context) for p in as_list(statement["NotResource"])
    ):
        return False
    if kind != "identity":
        if "Principal" in statement:
            if not principal_matches(statement["Principal"], principal):
                return False
        elif "NotPrincipal" in statement and principal_matches(
            statement["NotPrincipal"], principal
        ):
            return False
    condition = statement.get("Condition")
    return not condition or _condition_holds(condition, context, variables, missing)


def _decide(
    action: str,
    resource: str,
    policies: Sequence[tuple[str, Mapping[str, Any], PolicyKind]],
    principal: str | None,
    context: Mapping[str, ContextValue],
) -> Decision:
    allows: list[MatchedStatement] = []
    denies: list[MatchedStatement] = []
    missing: list[str] = []
    for name, document, kind in policies:
        _require_evaluable(name, document, kind)
        variables = document.get("Version") == CURRENT_VERSION
        for index, statement in enumerate(statements(document)):
            if _applies(statement, kind, action, resource, principal, context, variables, missing):
                matched = MatchedStatement(
                    name, statement_label(statement, index), statement["Effect"]
                )
                (denies if statement["Effect"] == "Deny" else allows).append(matched)
    missing_keys = tuple(dict.fromkeys(missing))
    request = f"{action} on {resource}"
    if denies:
        word: DecisionWord = "explicitDeny"
        matched_statements = tuple(denies)
        text = (
            f"explicitDeny: {request} is denied by {', '.join(map(str, denies))}; "
            "an explicit Deny beats any Allow."
        )
    elif allows:
        word, matched_statements = "allowed", tuple(allows)
        text = (
            f"allowed: {request} is allowed by {', '.join(map(str, allows))}, and no Deny applies."
        )
    else:
        word, matched_statements = "implicitDeny", ()
        count = len(policies)
        text = (
            f"implicitDeny: no statement in the {count} polic{'y' if count == 1 else 'ies'} "
            f"allows {request}, so IAM denies it by default."
        )
        if missing_keys:
            text += (
                f" (Conditions needed context keys that were not given: {', '.join(missing_keys)}.)"
            )
    return Decision(word, action, resource, matched_statements, text, missing_keys)


def evaluate(
    action: str,
    resource: str = "*",
    identity_policies: PolicyInput | None = None,
    resource_policies: PolicyInput | None = None,
    *,
    context: Mapping[str, ContextValue] | None = None,
    principal: str | None = None,
) -> Decision:
    """Would ``action`` on ``resource`` be allowed, given these policies? And by which statement?

    ``identity_policies``/``resource_policies``: a document, a ``{name: document}`` mapping or a
    list of documents or ``(name, document)`` pairs. ``principal`` (an ARN or a service name)
    is matched against resource policies' Principal (a statement naming someone else, or any
    specific principal when ``principal`` is None, does not apply). ``context`` maps condition keys (e.g.
    ``aws:SourceIp``, ``aws:SecureTransport``) to values; it also fills ``${...}`` variables.
    """
    policies: list[tuple[str, Mapping[str, Any], PolicyKind]] = [
        (name, doc, "identity")
        for name, doc in named_policies(identity_policies, "identity policy")
    ]
    policies += [
        (name, doc, "resource")
        for name, doc in named_policies(resource_policies, "resource policy")
    ]
    return _decide(action, resource, policies, principal, dict(context or {}))


def evaluate_trust(
    trust_policy: Mapping[str, Any],
    principal: str,
    action: str = "sts:AssumeRole",
    *,
    role_arn: str = "*",
    context: Mapping[str, ContextValue] | None = None,
) -> Decision:
    """May ``principal`` (e.g. ``lambda.amazonaws.com``) assume a role with this trust policy?"""
    return _decide(
        action, role_arn, [("trust policy", trust_policy, "trust")], principal, dict(context or {})
    )


def evaluate_all(
    actions: Iterable[str],
    resources: Iterable[str],
    identity_policies: PolicyInput | None = None,
    resource_policies: PolicyInput | None = None,
    *,
    context: Mapping[str, ContextValue] | None = None,
    principal: str | None = None,
) -> list[Decision]:
    """``evaluate`` for every (action, resource) pair, e.g. for a least-privilege table."""
    resources = list(resources)
    return [
        evaluate(a, r, identity_policies, resource_policies, context=context, principal=principal)
        for a in actions
        for r in resources
    ]
