"""Customer managed policies and roles, created idempotently so a notebook cell can be re-run.

Re-running "create the ServerlessPOC policy" must not fail with EntityAlreadyExists nor create a
second policy: when the document is unchanged nothing happens; when it changed, a new default
version is made (IAM keeps at most 5 versions, so the oldest non-default ones are pruned first).
All functions take a boto3 IAM client, so the same code runs against moto or a real account.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from helpers.config import Names
from helpers.iam.documents import (
    canonical,
    load_policy,
    parse_document,
    policy_json,
    require_valid,
)
from helpers.iam.errors import IamStateError
from helpers.iam.evaluate import evaluate_trust

LAMBDA_SERVICE = "lambda.amazonaws.com"
BASIC_EXECUTION_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
MAX_POLICY_VERSIONS = 5

PolicyChange = Literal["created", "new-version", "unchanged"]


@dataclass(frozen=True)
class PolicyResult:
    """What ``ensure_policy`` did: the ARN, the default version, and created/new-version/unchanged."""

    arn: str
    default_version: str
    change: PolicyChange
    pruned_versions: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoleResult:
    """What ``ensure_role`` did: the ARN, whether it created the role or updated its trust policy."""

    arn: str
    name: str
    created: bool
    trust_updated: bool


@dataclass(frozen=True)
class RoleSetup:
    """Everything ``setup_lambda_role`` made: the policy, the role and the newly attached ARNs."""

    policy: PolicyResult
    role: RoleResult
    newly_attached: tuple[str, ...]


def tag_list(tags: Mapping[str, str] | None) -> list[dict[str, str]]:
    """``{"project": "serverless-poc"}`` -> IAM's ``[{"Key": "project", "Value": ...}]``."""
    return [{"Key": str(k), "Value": str(v)} for k, v in (tags or {}).items()]


def find_customer_policy(iam: Any, name: str) -> dict[str, Any] | None:
    """The customer managed policy called ``name`` (any path), or None."""
    for page in iam.get_paginator("list_policies").paginate(Scope="Local"):
        for policy in page["Policies"]:
            if policy["PolicyName"] == name:
                return policy
    return None


def _version_order(version: Mapping[str, Any]) -> tuple[Any, int]:
    # CreateDate can tie when versions are made within a second; v2 < v10 by number, not text.
    number = version["VersionId"].lstrip("v")
    return version["CreateDate"], int(number) if number.isdigit() else 0


def _prune_versions(iam: Any, arn: str, keep: int) -> tuple[str, ...]:
    """Delete the oldest non-default versions so that at most ``keep - 1`` remain (room for one)."""
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    old = sorted((v for v in versions if not v["IsDefaultVersion"]), key=_version_order)
    excess = len(versions) - (keep - 1)
    pruned = tuple(v["VersionId"] for v in old[: max(excess, 0)])
    for version_id in pruned:
        iam.delete_policy_version(PolicyArn=arn, VersionId=version_id)
    return pruned


def ensure_policy(
    iam: Any,
    name: str,
    document: Mapping[str, Any],
    *,
    description: str = "",
    tags: Mapping[str, str] | None = None,
    keep_versions: int = MAX_POLICY_VERSIONS,
) -> PolicyResult:
    """Create the customer managed policy, or make ``document`` its new default version if changed.

    The document is grammar-checked first, so a broken policy fails here with a message that
    says what to fix, not later with a bare MalformedPolicyDocument.
    """
    require_valid(document, "identity", name)
    existing = find_customer_policy(iam, name)
    if existing is None:
        kwargs: dict[str, Any] = {"PolicyName": name, "PolicyDocument": policy_json(document)}
        if description:
            kwargs["Description"] = description
        if tags:
            kwargs["Tags"] = tag_list(tags)
        policy = iam.create_policy(**kwargs)["Policy"]
        return PolicyResult(policy["Arn"], policy["DefaultVersionId"], "created")
    arn = existing["Arn"]  # tags are set on create only: re-tagging would change what it says
    current = iam.get_policy_version(PolicyArn=arn, VersionId=existing["DefaultVersionId"])
    if canonical(parse_document(current["PolicyVersion"]["Document"])) == canonical(dict(document)):
        return PolicyResult(arn, existing["DefaultVersionId"], "unchanged")
    pruned = _prune_versions(iam, arn, keep_versions)
    version = iam.create_policy_version(
        PolicyArn=arn, PolicyDocument=policy_json(document), SetAsDefault=True
    )["PolicyVersion"]
    return PolicyResult(arn, version["VersionId"], "new-version", pruned)


def ensure_role(
    iam: Any,
    name: str,
    trust_policy: Mapping[str, Any],
    *,
    description: str = "",
    tags: Mapping[str, str] | None = None,
) -> RoleResult:
    """Create the role with this trust policy, or bring an existing role's trust policy in line."""
    require_valid(trust_policy, "trust", f"trust policy of {name}")
    try:
        role = iam.get_role(RoleName=name)["Role"]
    except iam.exceptions.NoSuchEntityException:
        kwargs: dict[str, Any] = {
            "RoleName": name,
            "AssumeRolePolicyDocument": policy_json(trust_policy),
        }
        if description:
            kwargs["Description"] = description
        if tags:
            kwargs["Tags"] = tag_list(tags)
        role = iam.create_role(**kwargs)["Role"]
        return RoleResult(role["Arn"], name, created=True, trust_updated=False)
    current = parse_document(role["AssumeRolePolicyDocument"])
    if canonical(current) == canonical(dict(trust_policy)):
        return RoleResult(role["Arn"], name, created=False, trust_updated=False)
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=policy_json(trust_policy))
    return RoleResult(role["Arn"], name, created=False, trust_updated=True)


def attached_policy_arns(iam: Any, role_name: str) -> list[str]:
    """ARNs of the managed policies attached to the role."""
    return [
        p["PolicyArn"]
        for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name)
        for p in page["AttachedPolicies"]
    ]


def attach_policies(iam: Any, role_name: str, policy_arns: Iterable[str]) -> list[str]:
    """Attach each policy not yet attached; return the ones attached now (empty on a re-run)."""
    already = set(attached_policy_arns(iam, role_name))
    attached = []
    for arn in policy_arns:
        if arn in already:
            continue
        try:
            iam.attach_role_policy(RoleName=role_name, PolicyArn=arn)
        except iam.exceptions.NoSuchEntityException as error:
            hint = (
                " In moto, AWS managed policies exist only with MOTO_IAM_LOAD_MANAGED_POLICIES=true "
                "set before the mock starts."
                if ":aws:policy/" in arn
                else ""
            )
            raise IamStateError(
                f"Cannot attach {arn} to role {role_name}: the policy does not exist or is not "
                "attachable. Check the ARN (AWS managed policies live under arn:aws:iam::aws:policy/, "
                "and deprecated ones such as AWSLambdaFullAccess can no longer be attached; use "
                f"AWSLambda_FullAccess).{hint}"
            ) from error
        already.add(arn)
        attached.append(arn)
    return attached


def setup_lambda_role(
    iam: Any,
    names: Names,
    *,
    tags: Mapping[str, str] | None = None,
    extra_policy_arns: Sequence[str] = (),
) -> RoleSetup:
    """Part II in one call: the ServerlessPOC policy, the role trusting Lambda, both attached."""
    policy = ensure_policy(
        iam,
        names.policy_name,
        load_policy("serverless_poc", names),
        description=f"Read the model objects in {names.models_bucket}",
        tags=tags,
    )
    role = ensure_role(
        iam,
        names.role_name,
        load_policy("lambda_trust_policy", names),
        description=f"Execution role of {names.function_name}",
        tags=tags,
    )
    attached = attach_policies(
        iam, names.role_name, [policy.arn, BASIC_EXECUTION_POLICY_ARN, *extra_policy_arns]
    )
    return RoleSetup(policy, role, tuple(attached))


def delete_role(iam: Any, role_name: str) -> bool:
    """Detach/delete everything hanging off the role, then the role. False if it did not exist."""
    try:
        iam.get_role(RoleName=role_name)
    except iam.exceptions.NoSuchEntityException:
        return False
    for arn in attached_policy_arns(iam, role_name):
        iam.detach_role_policy(RoleName=role_name, PolicyArn=arn)
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=role_name):
        for policy_name in page["PolicyNames"]:
            iam.delete_role_policy(RoleName=role_name, PolicyName=policy_name)
    profiles = iam.list_instance_profiles_for_role(RoleName=role_name)["InstanceProfiles"]
    for profile in profiles:
        iam.remove_role_from_instance_profile(
            InstanceProfileName=profile["InstanceProfileName"], RoleName=role_name
        )
    iam.delete_role(RoleName=role_name)
    return True


def delete_policy(iam: Any, policy_arn: str) -> bool:
    """Detach the policy from every user/group/role, delete its versions, then it. False if absent."""
    try:
        iam.get_policy(PolicyArn=policy_arn)
    except iam.exceptions.NoSuchEntityException:
        return False
    entities = iam.list_entities_for_policy(PolicyArn=policy_arn)
    for role in entities.get("PolicyRoles", []):
        iam.detach_role_policy(RoleName=role["RoleName"], PolicyArn=policy_arn)
    for user in entities.get("PolicyUsers", []):
        iam.detach_user_policy(UserName=user["UserName"], PolicyArn=policy_arn)
    for group in entities.get("PolicyGroups", []):
        iam.detach_group_policy(GroupName=group["GroupName"], PolicyArn=policy_arn)
    for version in iam.list_policy_versions(PolicyArn=policy_arn)["Versions"]:
        if not version["IsDefaultVersion"]:
            iam.delete_policy_version(PolicyArn=policy_arn, VersionId=version["VersionId"])
    iam.delete_policy(PolicyArn=policy_arn)
    return True


def teardown_lambda_role(iam: Any, names: Names) -> dict[str, bool]:
    """Undo ``setup_lambda_role``: role first (it holds the attachment), then the policy."""
    role_deleted = delete_role(iam, names.role_name)
    policy = find_customer_policy(iam, names.policy_name)
    policy_deleted = delete_policy(iam, policy["Arn"]) if policy else False
    return {"role": role_deleted, "policy": policy_deleted}


def trust_allows_service(
    trust_policy: Mapping[str, Any] | str, service: str = LAMBDA_SERVICE
) -> bool:
    """Does this trust policy let ``service`` (e.g. ``lambda.amazonaws.com``) assume the role?

    moto does not check trust policies with Service principals, so mock mode checks them here.
    """
    return evaluate_trust(parse_document(trust_policy), service).allowed
