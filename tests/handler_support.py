"""Shared set-up for the handler tests: import lambda_package/handler.py and give it a model in S3.

The handler is deployed as a top-level module ``handler`` (Lambda's ``handler.lambda_handler``),
so tests import it from its file rather than as part of a package.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import boto3

HANDLER_FILE = Path(__file__).resolve().parent.parent / "lambda_package" / "handler.py"
BUCKET = "serverless-poc-models"
KEY = "admission.rds"


def import_handler() -> ModuleType:
    """The handler module, imported once per test process (as Lambda imports it once per environment)."""
    if "handler" in sys.modules and getattr(sys.modules["handler"], "__file__", "") == str(
        HANDLER_FILE
    ):
        return sys.modules["handler"]
    spec = importlib.util.spec_from_file_location("handler", HANDLER_FILE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["handler"] = module
    spec.loader.exec_module(module)
    return module


def fresh_environment(handler: ModuleType, s3_client, cache_dir: Path) -> None:
    """Reset the handler to a new execution environment: no cached model, an empty /tmp."""
    import tempfile

    handler._model = None
    handler._s3 = s3_client
    tempfile.tempdir = str(cache_dir)


def upload_model(model_path: Path, bucket: str = BUCKET, key: str = KEY) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    s3.upload_file(str(model_path), bucket, key)


def context(request_id: str = "test-request-id") -> SimpleNamespace:
    return SimpleNamespace(aws_request_id=request_id)
