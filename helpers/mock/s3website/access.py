"""Who may read a website object: the anonymous caller, judged as S3 judges it.

The website endpoint takes no credentials, so every request is anonymous. AWS serves an object
there only if the bucket policy allows ``s3:GetObject`` to everyone (``"Principal": "*"``) and
Block Public Access (the bucket's or the account's ``RestrictPublicBuckets``) does not cancel
that public grant. The same rules decide whether a missing key is a 404 or a 403: without an
anonymous ``s3:ListBucket`` grant AWS will not say whether a key exists, so it answers 403.

This is a small evaluator for resource policies as the anonymous principal sees them: Effect,
Principal/NotPrincipal, Action/NotAction and Resource/NotResource with ``*`` and ``?``
wildcards. Conditions are not evaluated; they fail closed: an Allow with a Condition grants
nothing, a Deny with a Condition applies. ACL grants are not read (new buckets have ACLs
disabled since April 2023: Object Ownership "bucket owner enforced").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any


@dataclass(frozen=True)
class Decision:
    """May the anonymous caller do it, and why (in words a learner can act on)."""

    allowed: bool
    reason: str


@dataclass(frozen=True)
class PublicAccessBlock:
    """The two settings that matter when serving: RestrictPublicBuckets (policies) and
    IgnorePublicAcls (ACLs, which this mock does not read)."""

    restrict_public_buckets: bool = False
    ignore_public_acls: bool = False
    source: str = ""


@cache
def _pattern(glob: str, case_sensitive: bool) -> re.Pattern[str]:
    text = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(text, 0 if case_sensitive else re.IGNORECASE)


def _matches(globs: Any, value: str, case_sensitive: bool) -> bool:
    items = globs if isinstance(globs, list) else [globs]
    return any(
        isinstance(item, str) and _pattern(item, case_sensitive).fullmatch(value) for item in items
    )


def _names_everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        aws = principal.get("AWS")
        return aws == "*" or (isinstance(aws, list) and "*" in aws)
    return False


def _applies(statement: dict[str, Any], action: str, resource: str) -> bool:
    if "Principal" in statement:
        if not _names_everyone(statement["Principal"]):
            return False
    elif "NotPrincipal" in statement:
        if _names_everyone(statement["NotPrincipal"]):
            return False
    else:
        return False
    if "Action" in statement:
        if not _matches(statement["Action"], action, case_sensitive=False):
            return False
    elif "NotAction" in statement:
        if _matches(statement["NotAction"], action, case_sensitive=False):
            return False
    else:
        return False
    if "Resource" in statement:
        return _matches(statement["Resource"], resource, case_sensitive=True)
    if "NotResource" in statement:
        return not _matches(statement["NotResource"], resource, case_sensitive=True)
    return False


def anonymous_decision(
    policy: bytes | str | None, action: str, resource: str, block: PublicAccessBlock
) -> Decision:
    """May an anonymous caller perform ``action`` on ``resource`` under this bucket policy?"""
    if not policy:
        return Decision(False, "the bucket has no bucket policy, so nothing in it is public")
    try:
        document = json.loads(policy)
    except ValueError:
        return Decision(False, "the bucket policy is not JSON")
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    if isinstance(statements, dict):
        statements = [statements]
    allowed = False
    for statement in statements:
        if not isinstance(statement, dict) or not _applies(statement, action, resource):
            continue
        if statement.get("Effect") == "Deny":
            return Decision(False, f"the bucket policy explicitly denies {action} to everyone")
        if statement.get("Effect") == "Allow" and not statement.get("Condition"):
            allowed = True
    if not allowed:
        return Decision(
            False,
            f'no statement of the bucket policy allows {action} on {resource} to "Principal": "*"',
        )
    if block.restrict_public_buckets:
        return Decision(
            False,
            f"Block Public Access ({block.source}: RestrictPublicBuckets) overrides the public "
            "bucket policy",
        )
    return Decision(True, "the bucket policy allows it to everyone")
