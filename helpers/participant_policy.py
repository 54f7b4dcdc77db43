"""The IAM policy a workshop participant needs, generated from what the series really calls.

``python -m helpers.participant_policy --prefix ann`` (``make participant-policy PREFIX=ann``)
prints the identity policy for a participant's IAM user or IAM Identity Center permission set.
It is not written by hand: the series' steps (the catch-up path of every notebook, the lessons'
users and roles, the schedule, invoking and reading logs, notebook 9's reads and deletes) run on
a private mock account with live names, every API call is recorded (``helpers.calls``), each
``service.Operation`` is mapped to the IAM action(s) AWS checks (:data:`ACTION_TABLE` lists the
ones that are not simply ``service:Operation``, with their sources), and each action is scoped to
the resources of the participant's prefix wherever the service allows it.

Two things no recording on the mock can show are added from AWS's documentation and said so:
the calls ``docker push`` makes (:data:`PUSH_ACTIONS`) and the live-only calls of notebook 4 and
of ``make doctor`` (:data:`LIVE_ONLY_CALLS`).

What the policy cannot prevent, and why, is in ``policies/participant/README.md``: a
participant may write any document into their *own* ServerlessPOC policy and scratch user, so a
permissions boundary (not set by the series today) is what would cap them.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers import calls
from helpers.config import (
    DEFAULT_REGION,
    MODELS_BUCKET_2017,
    ConfigurationError,
    Names,
    Settings,
    _clean_prefix,
    names_for,
)

RECORDING_PREFIX = "recording"
"""The placeholder prefix the series' steps run under while their calls are recorded."""
LAMBDA_SERVICE = "lambda.amazonaws.com"

# -- botocore operation -> IAM action --------------------------------------------------------------


@dataclass(frozen=True)
class ActionRule:
    """The IAM actions AWS checks for one API operation, where it is not ``service:Operation``.

    ``when`` names a request parameter that must be present for the rule to apply (``Tags``:
    tag-on-create permissions, ``Role``: passing a role); ``source`` is where AWS says so.
    """

    actions: tuple[str, ...]
    source: str
    when: str = ""
    replaces: bool = True  # False: the actions come in addition to service:Operation


S3_API = "https://docs.aws.amazon.com/AmazonS3/latest/API/API_{}.html (Permissions)"
TAG_ON_CREATE = "tag-on-create: creating with Tags also needs the service's tagging action ({})"
ACTION_TABLE: dict[tuple[str, str], tuple[ActionRule, ...]] = {
    ("s3", "ListObjectsV2"): (ActionRule(("s3:ListBucket",), S3_API.format("ListObjectsV2")),),
    ("s3", "ListObjectVersions"): (
        ActionRule(("s3:ListBucketVersions",), S3_API.format("ListObjectVersions")),
    ),
    ("s3", "HeadObject"): (ActionRule(("s3:GetObject",), S3_API.format("HeadObject")),),
    ("s3", "HeadBucket"): (ActionRule(("s3:ListBucket",), S3_API.format("HeadBucket")),),
    ("s3", "ListBuckets"): (ActionRule(("s3:ListAllMyBuckets",), S3_API.format("ListBuckets")),),
    ("s3", "DeleteObjects"): (
        # cleanup deletes by VersionId, which needs DeleteObjectVersion as well
        ActionRule(("s3:DeleteObject", "s3:DeleteObjectVersion"), S3_API.format("DeleteObjects")),
    ),
    ("s3", "CreateMultipartUpload"): (
        ActionRule(("s3:PutObject",), S3_API.format("CreateMultipartUpload")),
    ),
    ("s3", "UploadPart"): (ActionRule(("s3:PutObject",), S3_API.format("UploadPart")),),
    ("s3", "CompleteMultipartUpload"): (
        ActionRule(("s3:PutObject",), S3_API.format("CompleteMultipartUpload")),
    ),
    ("s3", "AbortMultipartUpload"): (
        ActionRule(("s3:AbortMultipartUpload",), S3_API.format("AbortMultipartUpload")),
    ),
    ("lambda", "Invoke"): (
        ActionRule(
            ("lambda:InvokeFunction",),
            "https://docs.aws.amazon.com/lambda/latest/dg/lambda-api-permissions-ref.html",
        ),
    ),
    ("lambda", "CreateFunction"): (
        ActionRule(
            ("iam:PassRole",),
            "https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html "
            "(the caller needs iam:PassRole on the execution role)",
            when="Role",
            replaces=False,
        ),
        ActionRule(
            ("lambda:TagResource",),
            TAG_ON_CREATE.format(
                "https://docs.aws.amazon.com/lambda/latest/dg/configuration-tags.html"
            ),
            when="Tags",
            replaces=False,
        ),
        ActionRule(
            ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"),
            "https://docs.aws.amazon.com/lambda/latest/dg/images-create.html"
            "#configuration-images-permissions (Amazon ECR "
            "permissions: the caller of CreateFunction must be able to read the image)",
            when="ImageUri",
            replaces=False,
        ),
    ),
    ("lambda", "GetFunction"): (
        ActionRule(
            ("lambda:ListTags",),
            "https://docs.aws.amazon.com/lambda/latest/dg/configuration-tags.html (for a tagged "
            "function, GetFunction also needs lambda:ListTags; the series tags every function)",
            replaces=False,
        ),
    ),
    ("lambda", "UpdateFunctionConfiguration"): (
        ActionRule(
            ("iam:PassRole",),
            "https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html",
            when="Role",
            replaces=False,
        ),
    ),
    ("lambda", "UpdateFunctionCode"): (
        ActionRule(
            ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"),
            "https://docs.aws.amazon.com/lambda/latest/dg/images-create.html",
            when="ImageUri",
            replaces=False,
        ),
    ),
    ("iam", "CreateRole"): (
        ActionRule(
            ("iam:TagRole",),
            TAG_ON_CREATE.format("https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html"),
            when="Tags",
            replaces=False,
        ),
    ),
    ("iam", "CreateUser"): (
        ActionRule(
            ("iam:TagUser",),
            TAG_ON_CREATE.format("https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html"),
            when="Tags",
            replaces=False,
        ),
    ),
    ("iam", "CreatePolicy"): (
        ActionRule(
            ("iam:TagPolicy",),
            TAG_ON_CREATE.format("https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html"),
            when="Tags",
            replaces=False,
        ),
    ),
    ("ecr", "CreateRepository"): (
        ActionRule(
            ("ecr:TagResource",),
            TAG_ON_CREATE.format(
                "https://docs.aws.amazon.com/AmazonECR/latest/userguide/"
                "ecr-supported-iam-actions-tagging.html"
            ),
            when="tags",
            replaces=False,
        ),
    ),
    ("events", "PutRule"): (
        ActionRule(
            ("events:TagResource",),
            "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_TagResource.html "
            "(PutRule's own page does not say it; included on the tag-on-create rule the other "
            "services document, and limited to the prefix's rules)",
            when="Tags",
            replaces=False,
        ),
    ),
}
"""Operations whose IAM actions differ from ``service:Operation`` or come with more actions."""

SERVICE_PREFIX = {
    "sts": "sts",
    "logs": "logs",
    "events": "events",
    "accessanalyzer": "access-analyzer",
}
"""botocore service name -> IAM service prefix, where they differ (most are the same)."""

PUSH_ACTIONS = (
    "ecr:GetAuthorizationToken",
    "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
    "ecr:BatchGetImage",
)
"""``docker login`` + ``docker push`` to the participant's repository (they go past boto3):
https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-push-iam.html"""

LIVE_ONLY_CALLS = (
    ("accessanalyzer", "ValidatePolicy", "notebook 4: IAM Access Analyzer checks the policies"),
    ("iam", "SimulateCustomPolicy", "notebook 4: the policy simulator, next to the evaluator"),
    ("iam", "SimulatePrincipalPolicy", "make doctor: may the caller do what the series does?"),
)
"""Calls the series makes only against AWS (moto has neither service); they act on no resource."""

ACCOUNT_WIDE = {
    "sts:GetCallerIdentity": "needs no permission, listed for clarity (STS API reference)",
    "ecr:GetAuthorizationToken": "acts on the registry, not a repository (ECR docs)",
    "s3:ListAllMyBuckets": "a list call: no bucket to scope to",
    "lambda:ListFunctions": "a list call: no function to scope to",
    "iam:ListPolicies": "a list call (cleanup finds the policy's ARN by name)",
    "logs:DescribeLogGroups": "a list call; logGroupNamePrefix is no resource",
    "access-analyzer:ValidatePolicy": "acts on no resource",
    "iam:SimulateCustomPolicy": "acts on no resource",
    "iam:SimulatePrincipalPolicy": "the principal simulated is the caller, whose name the "
    "policy cannot know; it evaluates, it changes nothing",
}
"""Actions that AWS authorizes only against ``*`` here, and why."""


def iam_actions(service: str, operation: str, parameters: Iterable[str] = ()) -> tuple[str, ...]:
    """The IAM actions AWS checks for ``service.Operation`` called with these parameter names."""
    present = set(parameters)
    prefix = SERVICE_PREFIX.get(service, service)
    actions: list[str] = [f"{prefix}:{operation}"]
    for rule in ACTION_TABLE.get((service, operation), ()):
        if rule.when and rule.when not in present:
            continue
        if rule.replaces:
            actions = list(rule.actions)
        else:
            actions.extend(rule.actions)
    return tuple(dict.fromkeys(actions))


# -- what a request acts on ------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One IAM authorization the series needs: an action on a resource (an ARN or ``*``)."""

    action: str
    resource: str
    call: str  # service.Operation it came from
    context: tuple[tuple[str, str], ...] = ()


OBJECT_ACTIONS = {
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:AbortMultipartUpload",
    "s3:GetObjectTagging",
}


def _resource(action: str, parameters: dict[str, str], account_id: str, region: str) -> str:
    """The ARN ``action`` is authorized against, from the call's parameters (``*`` if none)."""
    service = action.partition(":")[0]
    if action in ACCOUNT_WIDE:
        return "*"
    if service == "iam":
        if action == "iam:PassRole":
            return parameters.get("Role", "*")
        for key, kind in (("RoleName", "role"), ("UserName", "user")):
            if key in parameters:
                return f"arn:aws:iam::{account_id}:{kind}/{parameters[key]}"
        if "PolicyArn" in parameters:
            return parameters["PolicyArn"]
        if "PolicyName" in parameters:  # CreatePolicy names the policy it makes
            return f"arn:aws:iam::{account_id}:policy/{parameters['PolicyName']}"
        return "*"
    if service == "sts":
        return parameters.get("RoleArn", "*")
    if service == "s3":
        bucket = parameters.get("Bucket")
        if not bucket:
            return "*"
        if action in OBJECT_ACTIONS:
            return f"arn:aws:s3:::{bucket}/{parameters.get('Key', '*')}"
        return f"arn:aws:s3:::{bucket}"
    if service == "lambda":
        function = parameters.get("FunctionName")
        return f"arn:aws:lambda:{region}:{account_id}:function:{function}" if function else "*"
    if service == "logs":
        group = parameters.get("logGroupName")
        return f"arn:aws:logs:{region}:{account_id}:log-group:{group}:*" if group else "*"
    if service == "events":
        if "ResourceARN" in parameters:
            return parameters["ResourceARN"]
        rule = parameters.get("Name") or parameters.get("Rule")
        return f"arn:aws:events:{region}:{account_id}:rule/{rule}" if rule else "*"
    if service == "ecr":
        if "resourceArn" in parameters:
            return parameters["resourceArn"]
        repository = parameters.get("repositoryName") or parameters.get("repositoryNames")
        return f"arn:aws:ecr:{region}:{account_id}:repository/{repository or '*'}"
    return "*"


def requests_of(recorded: Iterable[calls.Call], account_id: str, region: str) -> list[Request]:
    """Every (action, resource) the recorded calls need, in order, each once."""
    found: dict[tuple[str, str, tuple[tuple[str, str], ...]], Request] = {}
    for call in recorded:
        parameters = dict(call.parameters)
        for action in iam_actions(call.service, call.operation, parameters):
            context: tuple[tuple[str, str], ...] = ()
            if action == "iam:PassRole":
                context = (("iam:PassedToService", LAMBDA_SERVICE),)
            elif action in ("iam:AttachRolePolicy", "iam:AttachUserPolicy"):
                context = (("iam:PolicyARN", parameters.get("PolicyArn", "")),)
            resource = _resource(action, parameters, account_id, region)
            if action.startswith("ecr:") and call.service == "lambda":
                resource = _image_repository(parameters, account_id, region)
            request = Request(action, resource, call.name, context)
            found.setdefault((action, resource, context), request)
    return list(found.values())


def _image_repository(parameters: dict[str, str], account_id: str, region: str) -> str:
    """The repository an ``ImageUri`` names (``ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME:TAG``)."""
    uri = parameters.get("ImageUri", "")
    host, _, path = uri.partition("/")
    name = path.split("@")[0].rsplit(":", 1)[0] if path else "*"
    parts = host.split(".")
    if len(parts) > 3 and parts[1:3] == ["dkr", "ecr"]:
        account_id, region = parts[0], parts[3]
    return f"arn:aws:ecr:{region}:{account_id}:repository/{name}"


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
                "helpers/participant_policy.py (Scope.patterns)."
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
                "add the full ARN to KNOWN_MANAGED_POLICIES in helpers/participant_policy.py."
            )
        arn = known[0]
    if arn.startswith("arn:aws:iam::aws:policy/"):
        return arn
    if recorded.kind_of(arn) == "policy":
        return scope.patterns()["policy"][0]
    raise UnscopedCall(f"The series attached {arn}, which is neither AWS managed nor its own.")


def _one_or_list(values: Sequence[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else list(values)


# -- recording the series --------------------------------------------------------------------------


@dataclass
class StepResult:
    """One step of the series as run: its name, and the error if it failed."""

    name: str
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


FAKE_MANIFEST = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {"digest": "sha256:" + "0" * 64},
    "layers": [],
}


def _push_image_stand_in(account: Any) -> None:
    """``docker login`` + ``docker push`` as far as boto3 sees them: the repository, the
    login token and the image manifest (ECR PutImage, which a push ends with)."""
    from helpers import registry

    plan = registry.image_plan(account)
    registry.ensure_repository(account, plan.repository)
    ecr = account.client("ecr")
    ecr.get_authorization_token()
    if registry.manifest_media_type(account, plan) is None:
        ecr.put_image(
            repositoryName=plan.repository,
            imageManifest=json.dumps(FAKE_MANIFEST),
            imageTag=plan.tag,
        )


def series_steps(
    account: Any, lambda_writes_logs: Callable[[str], None] | None = None
) -> list[tuple[str, Callable[[], Any]]]:
    """The series' steps as the notebooks make them, in order, for ``account`` (live mode).

    Each step calls the helpers the notebooks call (catch-up, lessons, schedule, cleanup), so
    the calls recorded are the series' own. Invoking the image function needs the image in a
    local engine, which a recording does not have: invoke's outcome is not checked here, only
    that it was allowed (``DryRun`` checks exactly that). So that reading and deleting the logs
    is recorded too, ``lambda_writes_logs(group)`` stands in for the function writing them
    (with credentials of its own: it is Lambda's call, not the participant's).
    """
    from helpers import cleanup, deploy, invoke, least_privilege, packaging, pass_role, schedule
    from helpers import iam as iam_tools
    from helpers import iam_lessons as lessons
    from helpers.plan import _model_stand_in

    names = account.names
    iam = account.client("iam")
    state: dict[str, Any] = {}

    def who_am_i() -> None:
        account.client("sts").get_caller_identity()

    def catch_up_function() -> None:
        # helpers.catchup.catch_up("function"), with plan mode's stand-in for the model file
        # (training R is not needed to know which calls uploading it makes)
        deploy.upload_model(account, _model_stand_in())
        state["role_arn"] = deploy.setup_role(account).role.arn
        deploy.ensure_function(account, packaging.build_function_zip(), state["role_arn"])

    def learner_user() -> None:  # notebook 3
        with lessons.learner_access_key(account) as keys:
            iam.list_access_keys(UserName=keys.user_name)
            lessons.attach_user_policies(iam, keys.user_name, ["AWSLambdaFullAccess"])
            lessons.attach_user_policies(iam, keys.user_name, [lessons.LEARNER_POLICY])
        iam.list_attached_user_policies(UserName=names.user_name)
        lessons.policies_today(iam)
        for policy in ("AWSLambda_FullAccess", lessons.LEARNER_POLICY):
            lessons.managed_policy_document(iam, policy)

    def demo_role() -> None:  # notebook 3
        role = iam_tools.ensure_role(
            iam,
            lessons.demo_role_name(names),
            lessons.account_trust_policy(account.account_id),
            description="Notebook 3: temporary credentials demo",
            tags={"project": "serverless-poc"},
        )
        try:
            lessons.assume_when_ready(account.client("sts"), role.arn, "notebook-3")
        finally:
            iam_tools.delete_role(iam, role.name)

    def policy_checks() -> None:  # notebook 4
        least_privilege.ensure_decoy_bucket(account)
        probes = least_privilege.s3_probes(account)
        least_privilege.crosscheck(account, iam_tools.load_policy("serverless_poc", names), probes)

    def role_session() -> None:  # notebook 5
        policy = iam_tools.find_customer_policy(iam, names.policy_name)
        iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])
        iam.get_role(RoleName=names.role_name)
        iam.list_attached_role_policies(RoleName=names.role_name)
        iam_tools.role_permissions_table(iam, names.role_name)
        least_privilege.role_session(account, names.role_name)

    def untrusted_role() -> None:  # notebook 5
        import botocore.exceptions

        arn = deploy.setup_untrusted_role(account)
        try:
            account.client("lambda").create_function(
                FunctionName=f"{names.function_name}Untrusted",
                Runtime=deploy.RUNTIME,
                Handler=deploy.HANDLER,
                Role=arn,
                Code={"ZipFile": packaging.build_function_zip().read_bytes()},
            )
        except botocore.exceptions.ClientError as error:
            if error.response["Error"]["Code"] != "InvalidParameterValueException":
                raise
        finally:
            iam_tools.delete_role(iam, names.untrusted_role)

    def reconfigure() -> None:  # notebook 6
        lam = account.client("lambda")
        memory = lam.get_function_configuration(FunctionName=names.function_name)["MemorySize"]
        lam.update_function_configuration(FunctionName=names.function_name, MemorySize=2 * memory)
        deploy.wait_until_ready(account, names.function_name)
        deploy.ensure_function(account, packaging.build_function_zip(), state["role_arn"])
        pass_role.pass_role_lesson(account, state["role_arn"])

    def rerun_after_a_change() -> None:  # the series was updated mid-workshop, then re-run
        from helpers import registry

        plan = registry.image_plan(account)
        changed = {**FAKE_MANIFEST, "config": {"digest": "sha256:" + "1" * 64}}
        account.client("ecr").put_image(
            repositoryName=plan.repository, imageManifest=json.dumps(changed), imageTag="changed"
        )
        os.environ["SERIES_IMAGE_URI"] = plan.uri.rsplit(":", 1)[0] + ":changed"
        try:  # a new image: UpdateFunctionCode
            deploy.ensure_function(account, packaging.build_function_zip(), state["role_arn"])
        finally:
            os.environ.pop("SERIES_IMAGE_URI", None)
        deploy.ensure_function(account, packaging.build_function_zip(), state["role_arn"])
        document = iam_tools.load_policy("serverless_poc", names)
        edited = {**document, "Statement": [{**document["Statement"][0], "Sid": "Changed"}]}
        for version in (edited, document):  # a changed policy: CreatePolicyVersion
            iam_tools.ensure_policy(iam, names.policy_name, version)

    def invoke_and_read_logs() -> None:  # notebooks 6-8
        import botocore.exceptions

        invoke.invoke(account, {"gre": "800"}, invocation_type="DryRun")
        try:  # the image is not in a local engine here: the call is allowed, the run fails
            invoke.invoke(account, {"gre": "800", "gpa": "4", "rank": "1"})
        except botocore.exceptions.ClientError as error:
            if error.response["Error"]["Code"] in least_privilege.DENIED_CODES:
                raise
        if lambda_writes_logs is not None:
            lambda_writes_logs(names.log_group)
        logs = account.client("logs")
        with contextlib.suppress(logs.exceptions.ResourceNotFoundException):
            logs.describe_log_streams(logGroupName=names.log_group)
        schedule.keep_warm_pings(account)

    def counter_example_without_s3() -> None:  # notebook 7
        arn = deploy.setup_role_without_model_access(account)
        deploy.ensure_function(
            account, packaging.build_function_zip(), arn, function_name=names.no_s3_function
        )
        iam.attach_role_policy(
            RoleName=names.no_s3_role,
            PolicyArn=f"arn:aws:iam::{account.account_id}:policy/{names.policy_name}",
        )
        cleanup.delete_function(account, names.no_s3_function)
        iam_tools.delete_role(iam, names.no_s3_role)

    def keep_warm() -> None:  # notebook 7
        schedule.ensure_keep_warm_schedule(account)
        schedule.resource_policy(account)
        schedule.keep_warm_pings(account)
        cleanup.delete_schedule(account)
        schedule.ensure_keep_warm_schedule(account)  # left for notebook 9 to delete

    def clean_up() -> None:  # notebook 9
        cleanup.inventory(account)
        cleanup.not_ours(account)
        deleted = cleanup.delete_everything(account)
        failed = deleted[deleted["result"].str.startswith(("failed", "skipped"))]
        if len(failed):
            raise RuntimeError(f"cleanup did not delete everything:\n{failed.to_string()}")
        cleanup.inventory(account)

    return [
        ("who am I (notebook 1)", who_am_i),
        ("the image in ECR (docker push, notebook 6)", lambda: _push_image_stand_in(account)),
        ("catch up: model, role, function (notebooks 2, 5, 6)", catch_up_function),
        ("the learner user and its key (notebook 3)", learner_user),
        ("the demo role, assumed (notebook 3)", demo_role),
        ("the decoy bucket and the scratch user (notebook 4)", policy_checks),
        ("the role's own session (notebook 5)", role_session),
        ("a role Lambda cannot assume (notebook 5)", untrusted_role),
        ("configuration changes and iam:PassRole (notebook 6)", reconfigure),
        ("a re-run after the series changed (new image, changed policy)", rerun_after_a_change),
        ("invoking and reading the logs (notebooks 6-8)", invoke_and_read_logs),
        ("the role without the model (notebook 7)", counter_example_without_s3),
        ("the keep-warm schedule (notebook 7)", keep_warm),
        ("cleanup (notebook 9)", clean_up),
    ]


def run_series(
    account: Any, lambda_writes_logs: Callable[[str], None] | None = None
) -> list[StepResult]:
    """Run :func:`series_steps`; one step's failure is reported and does not stop the rest."""
    results = []
    saved = os.environ.pop("SERIES_IMAGE_URI", None)  # the participant's own image route
    try:
        for name, step in series_steps(account, lambda_writes_logs):
            try:
                step()
            except Exception as error:  # reported per step, as cleanup does
                results.append(StepResult(name, f"{type(error).__name__}: {error}"))
            else:
                results.append(StepResult(name))
    finally:
        if saved is not None:
            os.environ["SERIES_IMAGE_URI"] = saved
    return results


def live_style_account(session: Any, prefix: str, region: str = DEFAULT_REGION) -> Any:
    """An Account with live settings and names on a mock account's ``session`` (as plan mode)."""
    from helpers.session import Account

    identity = session.client("sts", region_name=region).get_caller_identity()
    settings = Settings(mode="live", region=region, prefix=_clean_prefix(prefix))
    names = names_for("live", settings.prefix, identity["Account"])
    return Account(settings, session, identity["Account"], identity["Arn"], names, None)


@dataclass
class Recording:
    """What running the series recorded: the calls, and how each step went."""

    calls: list[calls.Call]  # with every parameter in full
    steps: list[StepResult]
    account_id: str
    region: str
    shown: list[calls.Call] = field(default_factory=list)  # calls.record_calls': errors too

    def refused(self) -> list[calls.Call]:
        """Calls AWS (the mock) answered with an error code, as ``helpers.calls`` saw them."""
        return [call for call in self.shown if call.error and call.error != calls.NOT_SENT]

    def requests(self) -> list[Request]:
        return requests_of(self.calls, self.account_id, self.region)

    def failed_steps(self) -> list[StepResult]:
        return [step for step in self.steps if not step.ok]


def record_parameters(session: Any, sink: list[calls.Call]) -> None:
    """Record each call's string parameters in full (the display's record shortens long values,
    and an ARN cut short cannot be scoped), next to ``calls.record_calls``' record."""

    def before(params: dict[str, Any], model: Any, **_: Any) -> None:
        sink.append(calls.Call(model.service_model.service_name, model.name, _flat(params), ""))

    session.events.register("provide-client-params", before, unique_id="participant-policy")


def _flat(params: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """Parameters as (name, text): strings as they are, a list of strings joined, a structure's
    strings under their own names (``Code.ImageUri`` -> ``ImageUri``), anything else present
    as ``<…>`` (``Tags``: its presence is what a tag-on-create rule asks about)."""
    flat: list[tuple[str, str]] = []
    for name, value in params.items():
        if isinstance(value, str):
            flat.append((name, value))
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            flat.append((name, ",".join(value)))
        elif isinstance(value, dict):
            flat.append((name, "<structure>"))
            flat.extend((key, text) for key, text in value.items() if isinstance(text, str))
        else:
            flat.append((name, f"<{type(value).__name__}>"))
    return tuple(flat)


def record_series(
    session: Any,
    region: str = DEFAULT_REGION,
    *,
    prefix: str = RECORDING_PREFIX,
    lambda_writes_logs: Callable[[str], None] | None = None,
) -> Recording:
    """Run the series as ``session``'s identity with live names for ``prefix``; record every
    call (in full, and as ``helpers.calls`` shows it, with AWS's error codes)."""
    log = calls.CallLog()
    calls.record_calls(session, log)
    full: list[calls.Call] = []
    record_parameters(session, full)
    account = live_style_account(session, prefix, region)
    steps = run_series(account, lambda_writes_logs)
    return Recording(full, steps, account.account_id, region, log.take())


def log_writer(session: Any, region: str = DEFAULT_REGION) -> Callable[[str], None]:
    """Write one log line to a group with ``session`` (an unrecorded one), as Lambda would."""

    def write(group: str) -> None:
        logs = session.client("logs", region_name=region)
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_group(logGroupName=group)
        stream = "2026/01/01/[$LATEST]participantpolicy"
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_stream(logGroupName=group, logStreamName=stream)

    return write


def generate(
    prefix: str, account_id: str = "*", region: str = "*", session: Any = None
) -> tuple[ParticipantPolicy, Recording]:
    """Record the series (on ``session``, else a private mock account) and build the policy."""
    if session is None:
        from helpers.mock import MockAccount

        with MockAccount(region=DEFAULT_REGION) as mock:
            recording = record_series(
                mock.session(),
                DEFAULT_REGION,
                lambda_writes_logs=log_writer(mock.session(), DEFAULT_REGION),
            )
    else:
        recording = record_series(session, DEFAULT_REGION)
    failed = recording.failed_steps()
    if failed:
        listed = "\n".join(f"  - {step.name}: {step.error}" for step in failed)
        raise RuntimeError(
            "Some of the series' steps failed while their calls were recorded, so the policy "
            f"would miss what they call:\n{listed}\nFix the step (run `make test`), then generate "
            "the policy again."
        )
    policy = build_policy(recording.requests(), prefix, account_id=account_id, region=region)
    return policy, recording


def sources_table(policy: ParticipantPolicy) -> str:
    """Each action, the calls it comes from (or why it was added), as plain text."""
    rows: dict[str, list[str]] = {}
    for request in policy.requests:
        rows.setdefault(request.action, [])
        if request.call not in rows[request.action]:
            rows[request.action].append(request.call)
    for action, why in policy.added:
        rows.setdefault(action, []).append(f"({why})")
    width = max(len(action) for action in rows)
    return "\n".join(
        f"{action:<{width}}  {', '.join(sorted(origins))}"
        for action, origins in sorted(rows.items())
    )


# -- for make doctor: the cached record, and the simulator -----------------------------------------
def save_requests(requests: Sequence[Request], path: Path) -> None:
    """Keep the recorded requests (prefix-independent) so ``make doctor`` needs no recording."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        {"action": r.action, "resource": r.resource, "call": r.call, "context": list(r.context)}
        for r in requests
    ]
    path.write_text(json.dumps({"recorded_with": RECORDING_PREFIX, "requests": rows}, indent=1))


def cached_requests(path: Path) -> list[Request] | None:
    """The requests :func:`save_requests` kept, or None when there are none (or unreadable)."""
    try:
        rows = json.loads(path.read_text())["requests"]
        return [
            Request(
                row["action"],
                row["resource"],
                row["call"],
                tuple((key, value) for key, value in row["context"]),
            )
            for row in rows
        ]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _example_resources(scope: Scope) -> dict[str, str]:
    """A concrete ARN of each kind for the prefix (the simulator takes ARNs, not patterns)."""
    names = names_for("live", scope.prefix, scope.account_id)
    a, r = scope.account_id, scope.region
    return {
        "role": f"arn:aws:iam::{a}:role/{names.role_name}",
        "user": f"arn:aws:iam::{a}:user/{names.user_name}",
        "policy": f"arn:aws:iam::{a}:policy/{names.policy_name}",
        "aws-managed-policy": "arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess",
        "object": f"arn:aws:s3:::{names.models_bucket}/{names.model_key}",
        "bucket": f"arn:aws:s3:::{names.models_bucket}",
        "function": f"arn:aws:lambda:{r}:{a}:function:{names.function_name}",
        "log-group": f"arn:aws:logs:{r}:{a}:log-group:{names.log_group}:*",
        "rule": f"arn:aws:events:{r}:{a}:rule/{names.schedule_rule}",
        "repository": f"arn:aws:ecr:{r}:{a}:repository/{names.ecr_repository}",
        "any": "*",
    }


def simulate_for(
    iam: Any,
    principal_arn: str,
    policy: ParticipantPolicy,
    prefix: str,
    account_id: str,
    region: str,
) -> list[str]:
    """The policy's actions the simulator says ``principal_arn`` may not do (on an example
    resource of the prefix, with the conditions the policy sets); empty when all are allowed."""
    from helpers.iam.simulate import context_entries

    examples = _example_resources(Scope(_clean_prefix(prefix), account_id, region))
    own_policy = examples["policy"]
    kinds = {sid: kind for kind, sid in STATEMENT_IDS.items()}
    denied: list[str] = []
    for statement in policy.document["Statement"]:
        actions = statement["Action"]
        actions = [actions] if isinstance(actions, str) else list(actions)
        sid = statement["Sid"]
        context: dict[str, str] = {}
        if sid == "PassSeriesRolesToLambdaOnly":
            kind, context = "role", {"iam:PassedToService": LAMBDA_SERVICE}
        elif sid.startswith("AttachTo"):
            kind = "role" if "Roles" in sid else "user"
            context = {"iam:PolicyARN": own_policy}
        else:
            kind = kinds[sid]
        arguments: dict[str, Any] = {
            "PolicySourceArn": principal_arn,
            "ActionNames": actions,
            "ResourceArns": [examples[kind]],
        }
        if context:
            arguments["ContextEntries"] = context_entries(context)
        for page in iam.get_paginator("simulate_principal_policy").paginate(**arguments):
            denied.extend(
                result["EvalActionName"]
                for result in page["EvaluationResults"]
                if result["EvalDecision"] != "allowed"
            )
    return sorted(set(denied))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Print the IAM policy a workshop participant needs for the series."
    )
    parser.add_argument("--prefix", default=os.environ.get("SERIES_PREFIX", ""))
    parser.add_argument("--account-id", default="*", help="pin ARNs to one account (default *)")
    parser.add_argument("--region", default="*", help="pin ARNs to one region (default *)")
    parser.add_argument(
        "--sources", action="store_true", help="also print each action's calls (on stderr)"
    )
    parser.add_argument("--output", type=Path, help="also write the policy JSON to this file")
    args = parser.parse_args(argv)
    try:
        prefix = _clean_prefix(args.prefix)
        if not prefix:
            raise ConfigurationError(
                "Say whose policy it is: --prefix NAME (the participant's SERIES_PREFIX), e.g. "
                "`python -m helpers.participant_policy --prefix ann`."
            )
    except ConfigurationError as error:
        print(f"[participant-policy] {error}", file=sys.stderr)
        return 2
    print(
        f"[participant-policy] recording the series' calls on a private mock account "
        f"(about half a minute) for prefix {prefix!r}",
        file=sys.stderr,
    )
    policy, _ = generate(prefix, args.account_id, args.region)
    try:  # for `make doctor`, which checks the policy's actions without recording them
        from helpers.doctor import REQUESTS_CACHE

        save_requests(policy.requests, REQUESTS_CACHE)
    except OSError:
        pass
    if args.sources:
        print(sources_table(policy), file=sys.stderr)
    text = json.dumps(policy.document, indent=2)
    print(text)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n")
        print(f"[participant-policy] written to {args.output}", file=sys.stderr)
    return 0


__all__ = [
    "ACTION_TABLE",
    "ParticipantPolicy",
    "Request",
    "Scope",
    "build_policy",
    "generate",
    "iam_actions",
    "record_series",
    "requests_of",
    "run_series",
]


if __name__ == "__main__":
    sys.exit(main())
