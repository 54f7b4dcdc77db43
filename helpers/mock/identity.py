"""The mock account's unrestricted admin: the account root.

On AWS the root user of an account is not limited by identity policies. The mock account gives
its root one fixed access key. Requests signed with it are authenticated (signature checked) and
then allowed without policy evaluation; every other key (IAM users' ``AKIA…``, assumed roles'
``ASIA…``) is checked against its policies by moto's IAM enforcement.
"""

from __future__ import annotations

from botocore.credentials import Credentials

ACCOUNT_ID = "123456789012"
ROOT_ACCESS_KEY_ID = "AKIAMOCKACCOUNTROOT0"
ROOT_SECRET_ACCESS_KEY = "mock-account-root-secret-do-not-use-on-aws"


def root_arn(account_id: str = ACCOUNT_ID, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account_id}:root"


def is_root_key(access_key_id: str) -> bool:
    return access_key_id == ROOT_ACCESS_KEY_ID


class RootAccessKey:
    """Stands in for moto's ``IAMUserAccessKey`` when the root key signs a request.

    It has the same interface (``arn``, ``create_credentials``, ``collect_policies``) so moto's
    signature check runs unchanged; the authorization step is skipped for it in moto_patches.
    """

    def __init__(self, account_id: str, partition: str) -> None:
        self.account_id = account_id
        self.partition = partition

    @property
    def arn(self) -> str:
        return root_arn(self.account_id, self.partition)

    def create_credentials(self) -> Credentials:
        return Credentials(ROOT_ACCESS_KEY_ID, ROOT_SECRET_ACCESS_KEY)

    def collect_policies(self) -> list[str]:
        return [
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
        ]
