"""A mock AWS account that really runs Lambda functions: moto plus a Lambda service emulator.

``start_mock_account()`` (or ``with MockAccount() as account:``) starts moto on 127.0.0.1, points
boto3 and the aws CLI at it through the environment and runs invoked functions in awslambdaric
workers with their execution role's credentials. See docs/mock-account.md.

Layout, as moto's: one service a package (``awslambda``, ``apigateway``, ``s3website``, ``events``),
each with its backend apart from its wire layer; the account itself beside them (``account``:
start/stop, ``identity``: the root key, ``authorization`` and ``moto_patches``: IAM as AWS
enforces it, ``front_door``: what the server lets in).
"""

from .account import MockAccount, MockSession, current_mock_account, start_mock_account

__all__ = ["MockAccount", "MockSession", "current_mock_account", "start_mock_account"]
