"""The mock account's unrestricted admin: the account root.

On AWS the root user of an account is not limited by identity policies. The mock account gives
its root one access key: a fixed key id (``AKIAMOCKACCOUNTROOT0``) and a secret drawn afresh each
time an account starts (``new_root_secret``), held by that ``MockAccount`` and handed to the moto
patches while it runs. Nothing importable holds the secret, so neither another local process nor a
function's handler (which may import this module) can sign as the root; only the account's owner,
who gets it from ``MockAccount.session()``/``environment()`` or the lines
``python -m helpers.mock`` prints, can.

Requests signed with the root key are authenticated (signature checked) and then allowed without
policy evaluation; every other key (IAM users' ``AKIA…``, assumed roles' ``ASIA…``) is checked
against its policies by moto's IAM enforcement.
"""

from __future__ import annotations

import secrets

from botocore.credentials import Credentials

ACCOUNT_ID = "123456789012"
ROOT_ACCESS_KEY_ID = "AKIAMOCKACCOUNTROOT0"

_AWS_SECRET_ALPHABET = str.maketrans("-_", "+/")


def new_root_secret() -> str:
    """A fresh root secret: 40 random characters shaped like an AWS secret access key.

    ``token_urlsafe(30)`` is 240 random bits as 40 URL-safe base64 characters; mapping ``-``/``_``
    to ``+``/``/`` gives AWS's alphabet, so credential scanners (tests/test_no_secrets.py) that
    look for AWS-shaped secrets recognise it if it ever leaks into an output.
    """
    return secrets.token_urlsafe(30).translate(_AWS_SECRET_ALPHABET)


def root_arn(account_id: str = ACCOUNT_ID, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account_id}:root"


def is_root_key(access_key_id: str) -> bool:
    return access_key_id == ROOT_ACCESS_KEY_ID


class RootAccessKey:
    """Stands in for moto's ``IAMUserAccessKey`` when the root key signs a request.

    It has the same interface (``arn``, ``create_credentials``, ``collect_policies``) so moto's
    signature check runs unchanged, against the running account's secret; the authorization step
    is skipped for it in moto_patches.
    """

    def __init__(self, account_id: str, partition: str, secret_access_key: str) -> None:
        self.account_id = account_id
        self.partition = partition
        self._secret_access_key = secret_access_key

    @property
    def arn(self) -> str:
        return root_arn(self.account_id, self.partition)

    def create_credentials(self) -> Credentials:
        return Credentials(ROOT_ACCESS_KEY_ID, self._secret_access_key)

    def collect_policies(self) -> list[str]:
        return [
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
        ]

    def __repr__(self) -> str:
        return f"RootAccessKey({self.arn})"
