"""Execution roles: the trust check Lambda makes and the credentials it hands to the function.

moto neither validates trust policies nor can it assume a role whose trust names a ``Service``
principal (it crashes). The mock account therefore checks the trust policy itself, exactly for
what Lambda needs (``sts:AssumeRole`` by ``lambda.amazonaws.com``), and then mints the role's
temporary credentials through moto's STS backend in-process, as the Lambda service would. Requests
signed with those ``ASIA…`` keys are then allowed or denied by the role's own policies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.iam.models import iam_backends
from moto.sts.models import sts_backends

from .errors import InvalidParameterValue

LAMBDA_SERVICE_PRINCIPAL = "lambda.amazonaws.com"
CANNOT_ASSUME = "The role defined for the function cannot be assumed by Lambda."
CREDENTIALS_DURATION_S = 43_200


@dataclass(frozen=True)
class RoleCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str


def trust_allows_service(
    trust_policy: str | dict[str, Any], service: str, account_id: str | None = None
) -> bool:
    """Whether a trust policy lets ``service`` call sts:AssumeRole (explicit Deny wins).

    The series' policy evaluator decides (``helpers.iam``); a document IAM could not even parse
    lets nobody in.
    """
    from helpers.iam import IamHelperError, evaluate_trust
    from helpers.iam.documents import parse_document

    try:
        context = {"aws:SourceAccount": account_id} if account_id else None
        return evaluate_trust(parse_document(trust_policy), service, context=context).allowed
    except (IamHelperError, ValueError, TypeError, AttributeError):
        return False


def _iam(account_id: str):
    return iam_backends[account_id]["aws"]


def check_lambda_can_assume(account_id: str, role_arn: str) -> None:
    """Raise Lambda's InvalidParameterValueException unless Lambda could assume the role."""
    try:
        role = _iam(account_id).get_role_by_arn(role_arn)
    except Exception as error:  # moto raises its own NotFound types
        raise InvalidParameterValue(CANNOT_ASSUME) from error
    if not trust_allows_service(
        role.assume_role_policy_document, LAMBDA_SERVICE_PRINCIPAL, account_id
    ):
        raise InvalidParameterValue(CANNOT_ASSUME)


def mint_credentials(
    account_id: str, region: str, role_arn: str, session_name: str
) -> RoleCredentials:
    """Temporary credentials of the role, as Lambda gives an execution environment."""
    assumed = sts_backends[account_id]["global"].assume_role(
        region_name=region,
        role_session_name=session_name[:64],
        role_arn=role_arn,
        policy=None,
        duration=CREDENTIALS_DURATION_S,
        external_id=None,
    )
    return RoleCredentials(assumed.access_key_id, assumed.secret_access_key, assumed.session_token)


def _role_policies(account_id: str, role_name: str) -> list[Any]:
    backend = _iam(account_id)
    policies: list[Any] = []
    for name in backend.list_role_policies(role_name):
        policies.append(backend.get_role_policy(role_name, name)[1])
    attached, _ = backend.list_attached_role_policies(role_name)
    policies.extend(attached)
    return policies


def role_allows(account_id: str, role_arn: str, action: str, resource: str = "*") -> bool:
    """Whether the role's identity policies allow ``action`` on ``resource`` (Deny wins)."""
    try:
        policies = _role_policies(account_id, role_arn.split("/")[-1])
    except Exception:
        return False
    allowed = False
    for policy in policies:
        result = IAMPolicy(policy).is_action_permitted(action, resource)
        if result == PermissionResult.DENIED:
            return False
        allowed = allowed or result == PermissionResult.PERMITTED
    return allowed
