"""Configuration: which account the series talks to (mock or live) and what things are called.

Everything a notebook needs to know about names comes from here, so no notebook hard-codes a
bucket or a role. In mock mode the names are the 2017 series' own; in live mode (issue: many
participants sharing one account) they carry a prefix and buckets are made globally unique.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

MODE_VARIABLE = "SERIES_MODE"
PREFIX_VARIABLE = "SERIES_PREFIX"
REGION_VARIABLE = "AWS_DEFAULT_REGION"
DEFAULT_REGION = "us-east-1"
MODES = ("mock", "live")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_CSV = PROJECT_ROOT / "data" / "binary.csv"
POLICIES_DIR = PROJECT_ROOT / "policies"
LAMBDA_PACKAGE_DIR = PROJECT_ROOT / "lambda_package"
BUILD_DIR = Path(os.environ.get("SERIES_BUILD_DIR") or PROJECT_ROOT / "build")
"""Build output (model, zip, executed notebooks); ``SERIES_BUILD_DIR`` moves it (tests do)."""

# The 2017 names (original-series.md). Live mode derives its own from these.
MODELS_BUCKET_2017 = "serverless-poc-models"
HANDLERS_BUCKET_2017 = "serverless-poc-handlers"
MODEL_KEY = "admission.rds"
POLICY_NAME_2017 = "ServerlessPOC"
ROLE_NAME_2017 = "ServerlessPOC"
FUNCTION_NAME_2017 = "ServerlessPOCAdmission"
# Made by the series beyond the 2017 steps: a learner user (permanent vs temporary credentials),
# the keep-warm schedule, and the container image repository (live mode).
USER_NAME = "ServerlessPOCLearner"
SCHEDULE_RULE_NAME = "ServerlessPOCKeepWarm"
ECR_REPOSITORY = "serverless-poc-admission"
# Notebook 9 (issue 13): the 2017 REST API, its API key and usage plan.
API_NAME_2017 = "ServerlessPOC"
API_KEY_NAME = "ServerlessPOCKey"
USAGE_PLAN_NAME = "ServerlessPOCPlan"


class ConfigurationError(ValueError):
    """A setting has a value the series cannot use; the message says which and what to set."""


def current_mode() -> str:
    """The mode from ``SERIES_MODE`` (default ``mock``), validated."""
    mode = os.environ.get(MODE_VARIABLE, "mock").strip().lower() or "mock"
    if mode not in MODES:
        raise ConfigurationError(
            f"{MODE_VARIABLE}={mode!r} is not a mode this series knows. "
            f"Set {MODE_VARIABLE}=mock (no AWS account needed) or {MODE_VARIABLE}=live."
        )
    return mode


def configured_region(mode: str) -> str:
    """``AWS_REGION``/``AWS_DEFAULT_REGION``; live mode then the profile's region (as the aws CLI
    reads it, so ``!aws`` cells look where the series works); else us-east-1."""
    for variable in ("AWS_REGION", REGION_VARIABLE):
        if os.environ.get(variable):
            return os.environ[variable]
    if mode == "live":
        import botocore.session

        profile_region = botocore.session.Session().get_config_variable("region")
        if profile_region:
            return profile_region
    return DEFAULT_REGION


def _clean_prefix(prefix: str) -> str:
    cleaned = re.sub(r"[^a-z0-9-]", "-", prefix.lower()).strip("-")
    if prefix and not cleaned:
        raise ConfigurationError(
            f"{PREFIX_VARIABLE}={prefix!r} has no letters or digits; use e.g. {PREFIX_VARIABLE}=alice."
        )
    return cleaned[:20]


@dataclass(frozen=True)
class Names:
    """The names of everything the series creates."""

    models_bucket: str
    handlers_bucket: str
    model_key: str
    policy_name: str
    role_name: str
    function_name: str
    user_name: str = USER_NAME
    schedule_rule: str = SCHEDULE_RULE_NAME
    ecr_repository: str = ECR_REPOSITORY
    log_group: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "log_group", f"/aws/lambda/{self.function_name}")

    # Counter-examples the notebooks create next to the real thing, and delete again.
    @property
    def demo_role(self) -> str:
        """Notebook 3: a role anyone in the account may assume, to show temporary credentials."""
        return f"{self.role_name}Demo"

    @property
    def untrusted_role(self) -> str:
        """Notebook 5: a role that does not trust Lambda (function creation must fail)."""
        return f"{self.role_name}NoTrust"

    @property
    def no_s3_role(self) -> str:
        """Notebook 7: a role with logging but without the S3 policy."""
        return f"{self.role_name}NoS3"

    @property
    def no_s3_function(self) -> str:
        """Notebook 7: the function running under :attr:`no_s3_role` (AccessDenied on the model)."""
        return f"{self.function_name}NoS3"

    @property
    def image_function(self) -> str:
        """Notebook 6 (mock mode): the container image run beside the zip, then deleted."""
        return f"{self.function_name}Image"

    @property
    def scratch_user(self) -> str:
        """Notebook 4: a short-lived user whose only permission is the policy under test."""
        return f"{self.user_name}PolicyCheck"

    @property
    def decoy_bucket(self) -> str:
        """Notebooks 4 and 5: a bucket that exists but is not the model's ("read another bucket")."""
        return self.models_bucket.replace(MODELS_BUCKET_2017, "serverless-poc-decoy", 1)

    @property
    def extra_roles(self) -> tuple[str, ...]:
        return (self.demo_role, self.untrusted_role, self.no_s3_role)

    # -- notebook 9: the API (properties, not fields: derived from the prefix the names carry)
    @property
    def _camel_prefix(self) -> str:
        return self.function_name.removesuffix(FUNCTION_NAME_2017)

    @property
    def api_name(self) -> str:
        """The REST API (2017: ``ServerlessPOC``)."""
        return f"{self._camel_prefix}{API_NAME_2017}"

    @property
    def api_key_name(self) -> str:
        """The API key callers send as ``x-api-key``."""
        return f"{self._camel_prefix}{API_KEY_NAME}"

    @property
    def usage_plan_name(self) -> str:
        """The usage plan: 10 requests/s, burst 20, 500 requests a day (2017's)."""
        return f"{self._camel_prefix}{USAGE_PLAN_NAME}"

    @property
    def demo_api_key_name(self) -> str:
        """Notebook 9: a second key, on a plan with a tiny quota, to show 429 without 500 calls."""
        return f"{self.api_key_name}QuotaDemo"

    @property
    def demo_usage_plan_name(self) -> str:
        """Notebook 9: the tiny-quota plan of :attr:`demo_api_key_name`."""
        return f"{self.usage_plan_name}QuotaDemo"


def names_for(mode: str, prefix: str = "", account_id: str = "") -> Names:
    """Names for a mode. Mock: the 2017 names. Live or prefixed: ``prefix`` + unique buckets."""
    prefix = _clean_prefix(prefix)
    if mode == "live" and not prefix:
        raise ConfigurationError(
            f"Live mode needs {PREFIX_VARIABLE}: every resource name carries it, and the series "
            "changes or deletes only what is tagged with it, so learners sharing an account never "
            f"touch each other's resources. Set it to your name, e.g. `export {PREFIX_VARIABLE}=alice`, "
            "and start Jupyter (or the command) again."
        )
    if mode == "mock" and not prefix:
        return Names(
            models_bucket=MODELS_BUCKET_2017,
            handlers_bucket=HANDLERS_BUCKET_2017,
            model_key=MODEL_KEY,
            policy_name=POLICY_NAME_2017,
            role_name=ROLE_NAME_2017,
            function_name=FUNCTION_NAME_2017,
        )
    camel = "".join(part.capitalize() for part in prefix.split("-") if part)
    bucket_suffix = f"-{account_id}" if account_id else ""
    bucket_prefix = f"{prefix}-" if prefix else ""
    return Names(
        models_bucket=f"{bucket_prefix}{MODELS_BUCKET_2017}{bucket_suffix}",
        handlers_bucket=f"{bucket_prefix}{HANDLERS_BUCKET_2017}{bucket_suffix}",
        model_key=MODEL_KEY,
        policy_name=f"{camel}{POLICY_NAME_2017}",
        role_name=f"{camel}{ROLE_NAME_2017}",
        function_name=f"{camel}{FUNCTION_NAME_2017}",
        user_name=f"{camel}{USER_NAME}",
        schedule_rule=f"{camel}{SCHEDULE_RULE_NAME}",
        ecr_repository=f"{bucket_prefix}{ECR_REPOSITORY}",
    )


@dataclass(frozen=True)
class Settings:
    """Mode, region and prefix, read once from the environment."""

    mode: str
    region: str
    prefix: str

    @classmethod
    def from_environment(cls) -> Settings:
        mode = current_mode()
        return cls(
            mode=mode,
            region=configured_region(mode),
            prefix=_clean_prefix(os.environ.get(PREFIX_VARIABLE, "")),
        )

    @property
    def is_mock(self) -> bool:
        return self.mode == "mock"
