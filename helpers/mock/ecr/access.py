"""What the holder of a registry token may do: ECR's actions, judged by its IAM policies.

A ``docker push`` to ECR is authorized action by action for the identity that got the token
(``ecr:BatchCheckLayerAvailability``, ``InitiateLayerUpload``, ``UploadLayerPart``,
``CompleteLayerUpload``, ``PutImage``; a pull needs ``BatchGetImage`` and
``GetDownloadUrlForLayer``), on the repository's ARN. The identity's policies are read at each
request, as moto's enforcement reads them for API calls: a deleted key or user stops working, a
policy change applies at once. The root key is not limited by policies (identity.py). Repository
policies (resource-based) are not consulted.
"""

from __future__ import annotations

from typing import Any

from moto.iam import access_control
from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.sts.models import sts_backends

from ..identity import is_root_key, root_arn


class Holder:
    """The identity behind an access key, as moto's enforcement sees it (None: no such key)."""

    def __init__(self, account_id: str, access_key_id: str) -> None:
        self.account_id = account_id
        self.access_key_id = access_key_id
        self._key: Any = None
        if is_root_key(access_key_id):
            self.arn: str | None = root_arn(account_id)
            return
        headers: dict[str, str] = {}
        if access_key_id.startswith("ASIA"):
            for assumed in sts_backends[account_id]["global"].assumed_roles:
                if assumed.access_key_id == access_key_id:
                    headers["X-Amz-Security-Token"] = assumed.session_token
        try:
            self._key = access_control.create_access_key(account_id, "aws", access_key_id, headers)
            self.arn = self._key.arn
        except Exception:  # moto's CreateAccessKeyFailure: the key was deleted or never existed
            self.arn = None

    @property
    def exists(self) -> bool:
        return self.arn is not None

    def allowed(self, action: str, resource: str) -> bool:
        """Whether this identity may ``action`` on ``resource`` (an explicit Deny wins)."""
        if self.arn is None:
            return False
        if self._key is None:  # the account root
            return True
        permitted = False
        for policy in self._key.collect_policies():
            result = IAMPolicy(policy).is_action_permitted(action, resource)
            if result == PermissionResult.DENIED:
                return False
            permitted = permitted or result == PermissionResult.PERMITTED
        return permitted

    def denial(self, action: str, resource: str) -> str:
        """ECR's words for a denied registry request."""
        return (
            f"User: {self.arn} is not authorized to perform: {action} on resource: {resource} "
            f"because no identity-based policy allows the {action} action"
        )


def repository_arn(account_id: str, region: str, name: str) -> str:
    return f"arn:aws:ecr:{region}:{account_id}:repository/{name}"
