"""The participant's resources (by prefix) and the policy built from the recorded requests."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from helpers.config import (
    MODELS_BUCKET_2017,
    Names,
    _clean_prefix,
    names_for,
)
from helpers.participant.actions import (
    ACCOUNT_WIDE,
    LAMBDA_SERVICE,
    LIVE_ONLY_CALLS,
    PUSH_ACTIONS,
    RECORDING_PREFIX,
    iam_actions,
)
from helpers.participant.requests import Request

# -- the participant's resources -------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The resource patterns of one participant's prefix, in one account and region (or ``*``)."""

    prefix: str
    account_id: str = "*"
    region: str = "*"

    @property
    def names(self) -> Names:
        return names_for("live", self.prefix, "ACCOUNT")

    @property
    def iam_stem(self) -> str:
        """``AnnServerlessPOC``: every IAM, Lambda and EventBridge name of the prefix starts so."""
        return self.names.role_name

    @property
    def bucket_stem(self) -> str:
        """``ann-serverless-poc-``: every bucket and the ECR repository of the prefix."""
        return self.names.models_bucket.split(MODELS_BUCKET_2017)[0] + "serverless-poc-"

    def patterns(self) -> dict[str, tuple[str, ...]]:
        """Resource kind -> the ARN patterns of this prefix's resources of that kind."""
        a, r, stem = self.account_id, self.region, self.iam_stem
        return {
            "role": (f"arn:aws:iam::{a}:role/{stem}*",),
            "user": (f"arn:aws:iam::{a}:user/{stem}*",),
            "policy": (f"arn:aws:iam::{a}:policy/{stem}*",),
            "aws-managed-policy": ("arn:aws:iam::aws:policy/*",),
            "object": (f"arn:aws:s3:::{self.bucket_stem}*/*",),  # before bucket: * crosses /
            "bucket": (f"arn:aws:s3:::{self.bucket_stem}*",),
            "function": (f"arn:aws:lambda:{r}:{a}:function:{stem}*",),
            "log-group": (f"arn:aws:logs:{r}:{a}:log-group:/aws/lambda/{stem}*",),
            "rule": (f"arn:aws:events:{r}:{a}:rule/{stem}*",),
            "repository": (f"arn:aws:ecr:{r}:{a}:repository/{self.bucket_stem}*",),
            "any": ("*",),
        }

    def kind_of(self, resource: str) -> str | None:
        """Which of this prefix's kinds ``resource`` (a concrete ARN) is, or None if none."""
        if resource == "*":
            return "any"
        for kind, patterns in self.patterns().items():
            if kind != "any" and any(_arn_like(pattern, resource) for pattern in patterns):
                return kind
        return None


def _arn_like(pattern: str, arn: str) -> bool:
    return fnmatch.fnmatchcase(arn, pattern)


# -- the policy ------------------------------------------------------------------------------------

STATEMENT_IDS = {
    "role": "SeriesRoles",
    "user": "SeriesUsers",
    "policy": "SeriesPolicy",
    "aws-managed-policy": "ReadAwsManagedPolicies",
    "object": "SeriesObjects",
    "bucket": "SeriesBuckets",
    "function": "SeriesFunctions",
    "log-group": "SeriesLogGroups",
    "rule": "SeriesSchedule",
    "repository": "SeriesImageRepository",
    "any": "AccountWideCallsOnly",
}
CONDITIONED = ("iam:PassRole", "iam:AttachRolePolicy", "iam:AttachUserPolicy")
"""Actions with a statement of their own, because their condition is the point."""


class UnscopedCall(RuntimeError):
    """A recorded call acts on something outside the participant's prefix."""


@dataclass
class ParticipantPolicy:
    """The policy document plus what it was made from (for the table and the tests)."""

    document: dict[str, Any]
    requests: list[Request]
    added: list[tuple[str, str]] = field(default_factory=list)  # (action, why) not recorded

    def actions(self) -> list[str]:
        found: list[str] = []
        for statement in self.document["Statement"]:
            actions = statement["Action"]
            found.extend([actions] if isinstance(actions, str) else actions)
        return sorted(set(found))


def build_policy(
    requests: Sequence[Request],
    prefix: str,
    *,
    recorded_with: str = RECORDING_PREFIX,
    account_id: str = "*",
    region: str = "*",
) -> ParticipantPolicy:
    """The participant policy for ``prefix`` from requests recorded under ``recorded_with``."""
    recorded_scope = Scope(_clean_prefix(recorded_with), "*", "*")
    scope = Scope(_clean_prefix(prefix), account_id, region)
    by_kind: dict[str, set[str]] = {}
    attachable: set[str] = set()
    passes_roles = False
    problems: list[str] = []
    for request in requests:
        kind = recorded_scope.kind_of(request.resource)
        if kind == "any" and request.action not in ACCOUNT_WIDE:
            problems.append(
                f"The series called {request.call}, which needs {request.action}, and this "
                "module finds no resource in the call to scope it to. If AWS authorizes it only "
                "against '*', add it to ACCOUNT_WIDE with the reason; otherwise teach _resource "
                "which parameter names its resource."
            )
            continue
        if kind is None:
            problems.append(
                f"The series called {request.call}, which needs {request.action} on "
                f"{request.resource}: not a resource of the prefix {recorded_scope.prefix!r} and "
                "not account-wide. Either the series touched something outside its names (a bug "
                "to fix in the step), or a new kind of resource needs a pattern in "
                "helpers/participant/policy.py (Scope.patterns)."
            )
            continue
        if request.action == "iam:PassRole":
            passes_roles = True
            continue
        if request.action in CONDITIONED:
            attachable.update(value for key, value in request.context if key == "iam:PolicyARN")
            by_kind.setdefault(f"attach:{kind}", set()).add(request.action)
            continue
        by_kind.setdefault(kind, set()).add(request.action)
    if problems:
        raise UnscopedCall("\n".join(f"- {problem}" for problem in problems))
    added: list[tuple[str, str]] = []
    for service, operation, why in LIVE_ONLY_CALLS:
        action = iam_actions(service, operation)[0]
        by_kind.setdefault("any", set()).add(action)
        added.append((action, f"live only, not recordable on the mock: {why}"))
    for action in PUSH_ACTIONS:
        kind = "any" if action in ACCOUNT_WIDE else "repository"
        by_kind.setdefault(kind, set()).add(action)
        added.append((action, "docker login + docker push (ECR's documentation)"))

    patterns = scope.patterns()
    statements: list[dict[str, Any]] = []
    for kind in STATEMENT_IDS:
        if kind in by_kind:
            statements.append(
                {
                    "Sid": STATEMENT_IDS[kind],
                    "Effect": "Allow",
                    "Action": sorted(by_kind[kind]),
                    "Resource": _one_or_list(patterns[kind]),
                }
            )
    policy_arns = sorted(
        _attachable_pattern(arn, recorded_scope, scope) for arn in attachable if arn
    )
    for kind in ("role", "user"):
        actions = by_kind.get(f"attach:{kind}")
        if actions:
            statements.append(
                {
                    "Sid": f"Attach{'ToRoles' if kind == 'role' else 'ToUsers'}OnlyTheSeriesPolicies",
                    "Effect": "Allow",
                    "Action": sorted(actions),
                    "Resource": _one_or_list(patterns[kind]),
                    "Condition": {"ArnLike": {"iam:PolicyARN": _one_or_list(policy_arns)}},
                }
            )
    if passes_roles:
        statements.append(
            {
                "Sid": "PassSeriesRolesToLambdaOnly",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": _one_or_list(patterns["role"]),
                "Condition": {"StringEquals": {"iam:PassedToService": LAMBDA_SERVICE}},
            }
        )
    document = {"Version": "2012-10-17", "Statement": statements}
    return ParticipantPolicy(document, list(requests), added)


KNOWN_MANAGED_POLICIES = (
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess",
    "arn:aws:iam::aws:policy/AWSLambdaFullAccess",
)
"""AWS managed policies the series attaches, to restore ARNs the call record shortened (…)."""


def _attachable_pattern(arn: str, recorded: Scope, scope: Scope) -> str:
    """A recorded PolicyARN as the participant's: their own policy, or the AWS managed one."""
    if arn.endswith("…"):
        known = [full for full in KNOWN_MANAGED_POLICIES if full.startswith(arn[:-1])]
        if len(known) != 1:
            raise UnscopedCall(
                f"The series attached a policy whose ARN the call record shortened ({arn}); "
                "add the full ARN to KNOWN_MANAGED_POLICIES in helpers/participant/policy.py."
            )
        arn = known[0]
    if arn.startswith("arn:aws:iam::aws:policy/"):
        return arn
    if recorded.kind_of(arn) == "policy":
        return scope.patterns()["policy"][0]
    raise UnscopedCall(f"The series attached {arn}, which is neither AWS managed nor its own.")


def _one_or_list(values: Sequence[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else list(values)
