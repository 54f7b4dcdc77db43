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
from helpers.participant.requests import REQUEST_TAG, RESOURCE_TAG, Request

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

    @property
    def site_bucket_stem(self) -> str:
        """``ann-serverless-poc-site-``: notebook 10's site bucket (``web_page.site_bucket_name``)."""
        from helpers.web_page import site_bucket_name

        return site_bucket_name(self.names).removesuffix("ACCOUNT")

    def patterns(self) -> dict[str, tuple[str, ...]]:
        """Resource kind -> the ARN patterns of this prefix's resources of that kind.

        API Gateway's ARNs hold ids, not names (``/restapis/a1b2c3/...``): nothing in them says
        whose a REST API, key or usage plan is, so those patterns cover the account's and the
        statements using them are limited by the ``owner``/``project`` tags instead.
        """
        a, r, stem = self.account_id, self.region, self.iam_stem
        api = f"arn:aws:apigateway:{r}::"
        return {
            "role": (f"arn:aws:iam::{a}:role/{stem}*",),
            "user": (f"arn:aws:iam::{a}:user/{stem}*",),
            "policy": (f"arn:aws:iam::{a}:policy/{stem}*",),
            "aws-managed-policy": ("arn:aws:iam::aws:policy/*",),
            "object": (f"arn:aws:s3:::{self.bucket_stem}*/*",),  # before bucket: * crosses /
            "site-bucket": (f"arn:aws:s3:::{self.site_bucket_stem}*",),  # before bucket
            "bucket": (f"arn:aws:s3:::{self.bucket_stem}*",),
            "function": (f"arn:aws:lambda:{r}:{a}:function:{stem}*",),
            "log-group": (f"arn:aws:logs:{r}:{a}:log-group:/aws/lambda/{stem}*",),
            "rule": (f"arn:aws:events:{r}:{a}:rule/{stem}*",),
            "repository": (f"arn:aws:ecr:{r}:{a}:repository/{self.bucket_stem}*",),
            "api-collection": tuple(f"{api}/{kind}" for kind in API_GATEWAY_COLLECTIONS),
            "api-item": tuple(f"{api}/{kind}/*" for kind in API_GATEWAY_COLLECTIONS),
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


API_GATEWAY_COLLECTIONS = ("restapis", "apikeys", "usageplans")
"""The API Gateway collections the series creates in (REST APIs, API keys, usage plans)."""


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
    "site-bucket": "PublishOnlyTheSiteBucket",
    "function": "SeriesFunctions",
    "log-group": "SeriesLogGroups",
    "rule": "SeriesSchedule",
    "repository": "SeriesImageRepository",
    "lambda-permission": "LetOnlyTheSeriesServicesInvokeFunctions",
    "api-create": "CreateApiGatewayItemsWithTheSeriesTags",
    "api-list": "ListApiGatewayCollections",
    "api-item": "ApiGatewayItemsWithTheSeriesTags",
    "any": "AccountWideCallsOnly",
}
RESOURCE_KIND = {"api-create": "api-collection", "api-list": "api-collection"}
"""Statement kinds whose resources are another kind's patterns."""
CONDITIONED = ("iam:PassRole", "iam:AttachRolePolicy", "iam:AttachUserPolicy")
"""Actions with a statement of their own, because their condition is the point."""


MANAGED_POLICY_LIMIT = 6144
"""IAM's quota for a managed policy document, white space not counted ("IAM and AWS STS quotas",
IAM User Guide; re-check before teaching). An inline user policy may have 2,048."""


def policy_size(document: dict[str, Any]) -> int:
    """The document's size as IAM counts it against the quota: characters, white space not
    counted."""
    import json

    return len("".join(json.dumps(document).split()))


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
    principals: set[str] = set()
    tags: dict[str, str] = {}
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
        if request.action == "lambda:AddPermission":
            principals.update(value for key, value in request.context if key == "lambda:Principal")
            kind = "lambda-permission"
        elif kind == "api-collection":
            kind = "api-create" if request.action == "apigateway:POST" else "api-list"
            if kind == "api-create":
                created_with = {k[len(REQUEST_TAG) :]: v for k, v in request.context}
                if not created_with:
                    problems.append(
                        f"The series called {request.call} without tags: a participant's policy "
                        "can only let them create API Gateway items carrying their owner/project "
                        "tags. Pass tags=account.tags where the item is created."
                    )
                tags.update(created_with)
        by_kind.setdefault(kind, set()).add(request.action)
    if "api-item" in by_kind and not tags:
        problems.append(
            "The series changed API Gateway items but never created one with tags, so nothing "
            "says whose they are; the policy limits API Gateway items by their owner/project tags."
        )
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
    patterns["lambda-permission"] = patterns["function"]
    # The site bucket is one of the prefix's buckets: its statement keeps only what no other
    # bucket needs (making it a public website), so no other bucket can be made public.
    by_kind["site-bucket"] = by_kind.get("site-bucket", set()) - by_kind.get("bucket", set())
    owner_tags = {
        key: (scope.prefix if value == recorded_scope.prefix else value)
        for key, value in sorted(tags.items())
    }
    conditions: dict[str, dict[str, Any]] = {
        "api-create": {
            "StringEquals": {f"{REQUEST_TAG}{key}": value for key, value in owner_tags.items()}
        },
        "api-item": {
            "StringEquals": {f"{RESOURCE_TAG}{key}": value for key, value in owner_tags.items()}
        },
        "lambda-permission": {
            "StringEquals": {"lambda:Principal": _one_or_list(sorted(principals))}
        },
    }
    statements: list[dict[str, Any]] = []
    for kind in STATEMENT_IDS:
        if by_kind.get(kind):
            statement = {
                "Sid": STATEMENT_IDS[kind],
                "Effect": "Allow",
                "Action": _one_or_list(sorted(by_kind[kind])),
                "Resource": _one_or_list(patterns[RESOURCE_KIND.get(kind, kind)]),
            }
            if kind in conditions:
                statement["Condition"] = conditions[kind]
            statements.append(statement)
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
