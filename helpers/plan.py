"""Plan mode: what the series would create in a live account, and the calls it would make.

``python -m helpers.plan`` (``make plan``) prints the resources (with your ``SERIES_PREFIX``),
the estimated cost, and every creating API call of the series in order, with its AWS CLI v2
equivalent — without touching your account. It gets the calls by running the series' steps against a private mock account that uses
the live names and the live route (container image), and recording each creating call.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import pandas as pd

from helpers import calls
from helpers.config import (
    DEFAULT_REGION,
    ConfigurationError,
    Names,
    Settings,
    _clean_prefix,
    configured_region,
    names_for,
)
from helpers.service_models import boto3_session
from helpers.session import Account, is_creating
from helpers.web_page import site_bucket_name

PLACEHOLDER_ACCOUNT = "111122223333"


def resources(names: Names) -> pd.DataFrame:
    """Everything the series creates in a live account, by name, and the notebook that creates it.

    (Mock mode also creates the 2017 handlers bucket for the zip; live mode uses the image.)
    """
    rows = [
        ("S3 bucket", names.models_bucket, 2, "the model admission.rds"),
        ("IAM user + access key", names.user_name, 3, "permanent credentials"),
        ("IAM role", names.demo_role, 3, "temporary credentials (deleted in 3)"),
        (
            "IAM user + access key",
            names.scratch_user,
            4,
            "tries the policy under test (deleted in 4)",
        ),
        ("S3 bucket", names.decoy_bucket, 4, "another bucket the role must not read"),
        ("IAM policy", names.policy_name, 5, "s3:GetObject on the model"),
        ("IAM role", names.role_name, 5, "the function's execution role"),
        ("IAM role", names.untrusted_role, 5, "counter-example (deleted in 5)"),
        ("ECR repository", names.ecr_repository, 6, "the container image (live mode)"),
        ("Lambda function", names.function_name, 6, "the admission function"),
        ("log group", names.log_group, 7, "written by the function"),
        (
            "IAM role + function",
            f"{names.no_s3_role}, {names.no_s3_function}",
            7,
            "counter-example (deleted in 7)",
        ),
        ("EventBridge rule", names.schedule_rule, 7, "keep-warm schedule (deleted in 7)"),
        # Notebook 9 (helpers.api): the 2017 REST API in front of the function.
        ("REST API", names.api_name, 9, "/admit (non-proxy) and /admit-proxy, stage prod"),
        (
            "Lambda permission",
            f"{names.function_name} (2 statements)",
            9,
            "apigateway.amazonaws.com may invoke, per method (SourceArn)",
        ),
        ("API key", names.api_key_name, 9, "sent as x-api-key"),
        ("usage plan", names.usage_plan_name, 9, "10 requests/s, burst 20, 500 a day"),
        ("API key + usage plan", names.demo_usage_plan_name, 9, "3 calls a day: shows 429"),
        # Notebook 10 (helpers.web_page, helpers.cors): the page, and CORS on the API.
        ("S3 bucket", site_bucket_name(names), 10, "the web page (S3 website, public read)"),
        ("OPTIONS method", f"{names.api_name} /admit, /admit-proxy", 10, "CORS preflight answers"),
    ]
    return pd.DataFrame(rows, columns=["kind", "name", "notebook", "purpose"])


def live_account_id() -> str | None:
    """The live account's id from a read-only STS call, or None without credentials."""
    try:
        session = boto3_session()
        if session.get_credentials() is None:
            return None
        return session.client("sts", region_name=DEFAULT_REGION).get_caller_identity()["Account"]
    except Exception:
        return None


def recorded_calls(
    settings: Settings, names: Names, account_id: str = PLACEHOLDER_ACCOUNT
) -> pd.DataFrame:
    """Run the series' creating steps on a private mock account with live names; record calls.

    ARNs in the commands carry ``account_id`` (yours, or a placeholder), not the mock's.
    """
    from helpers import deploy, packaging, schedule
    from helpers.catchup import CatchUp
    from helpers.iam import create_user_with_access_key
    from helpers.mock import MockAccount

    log = calls.CallLog()
    rows: list[dict[str, Any]] = []

    def creating_calls() -> None:
        for call in log.take():
            if is_creating(call.operation):
                target = ", ".join(
                    f"{name}={value}"
                    for name, value in call.parameters
                    if name.endswith(("Name", "Bucket", "Key", "Id")) or name in ("Rule", "name")
                )
                rows.append(
                    {
                        "service": call.service,
                        "operation": call.operation,
                        "target": target,
                        "cli": call.cli.replace(mock.account_id, account_id),
                    }
                )

    saved = os.environ.get("SERIES_IMAGE_URI")
    with MockAccount(region=settings.region) as mock:
        session = mock.session()
        calls.record_calls(session, log)
        account = Account(
            settings, session, mock.account_id, "arn:aws:iam::plan:user/you", names, mock
        )
        plan_image = f"{names.ecr_repository} (built from lambda_package/Dockerfile)"
        os.environ["SERIES_IMAGE_URI"] = "planned.dkr.ecr.local/" + names.ecr_repository + ":plan"
        try:
            state = CatchUp(account)
            deploy.upload_model(account, _model_stand_in())
            create_user_with_access_key(account.client("iam"), names.user_name)
            state.role_arn = deploy.setup_role(account).role.arn
            creating_calls()
            repository = f"repositoryName={names.ecr_repository}"
            rows.append(
                {
                    "service": "ecr",
                    "operation": "CreateRepository",
                    "target": repository,
                    "cli": f"aws ecr create-repository --repository-name {names.ecr_repository}",
                }
            )
            rows.append(
                {
                    "service": "docker",
                    "operation": "build + push",
                    "target": plan_image,
                    "cli": "# make image, then docker tag + docker push (docs/container-image.md)",
                }
            )
            deploy.ensure_function(account, packaging.build_function_zip(), state.role_arn)
            schedule.ensure_keep_warm_schedule(account)
            creating_calls()
            _plan_api(account)
            creating_calls()
            _plan_page(account)
            creating_calls()
        finally:
            if saved is None:
                os.environ.pop("SERIES_IMAGE_URI", None)
            else:
                os.environ["SERIES_IMAGE_URI"] = saved
    return pd.DataFrame(rows)


def _plan_api(account: Account) -> None:
    """Notebook 9's creating calls: the API, its permissions, stage, key and usage plans."""
    from helpers import api

    built = api.ensure_admission_api(account)
    api.access.ensure_demo_access(account, built.api_id, built.stage)


def _plan_page(account: Account) -> None:
    """Notebook 10's creating calls: CORS on the API, the site bucket, its website and the page."""
    from helpers import api, cors, web_page

    built = api.ensure_admission_api(account)
    cors.enable_cors(account, built.api_id)
    web_page.publish(account, built.url, "API_KEY")


def _model_stand_in():
    """The model file: the real one if it was built, else a placeholder of the same name."""
    from helpers.config import BUILD_DIR

    path = BUILD_DIR / "admission.rds"
    if not path.is_file():
        path = BUILD_DIR / "plan" / "admission.rds"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"placeholder for the plan")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="What the series would do in live mode.")
    parser.add_argument("--prefix", default=os.environ.get("SERIES_PREFIX", ""))
    parser.add_argument("--region", default=configured_region("live"))
    args = parser.parse_args(argv)

    try:
        prefix = _clean_prefix(args.prefix)
        names_for("live", prefix, PLACEHOLDER_ACCOUNT)
    except ConfigurationError as error:
        print(f"[plan] {error}", file=sys.stderr)
        return 2
    account_id = live_account_id()
    settings = Settings(mode="live", region=args.region, prefix=prefix)
    names = names_for("live", settings.prefix, account_id or PLACEHOLDER_ACCOUNT)
    from helpers.costs import series_live_estimate

    pd.set_option("display.width", 140)
    pd.set_option("display.max_colwidth", 70)
    who = (
        f"account {account_id}"
        if account_id
        else f"no credentials found: account shown as {PLACEHOLDER_ACCOUNT}"
    )
    print(f"Plan for live mode — {who}, region {args.region}, prefix {settings.prefix or '(none)'}")
    print(
        "Nothing below has been created. Set SERIES_LIVE_CREATE=yes to let the notebooks create it.\n"
    )
    print("Resources the series creates:")
    print(resources(names).to_string(index=False))
    estimate = series_live_estimate()
    print("\nEstimated cost of running the series once:")
    print(estimate.to_string(index=False))
    from helpers.costs import FRONT_DOOR_SOURCES, REST_API_PRICE_PER_MILLION

    print(
        f"API Gateway (notebook 9): ${REST_API_PRICE_PER_MILLION:.2f} per million REST API calls; "
        f"the series makes a few dozen (under $0.001). Source: {FRONT_DOOR_SOURCES[0]} "
        "(re-check before teaching)."
    )
    print("\nCreating calls, in order (notebooks 2-7 and 9; counter-examples left out):")
    planned = recorded_calls(settings, names, account_id or PLACEHOLDER_ACCOUNT)
    print(planned.drop(columns="cli").to_string(index=False))
    print("\nThe same calls as AWS CLI v2 commands (run from the repository's top folder):")
    print(
        "\n".join(
            f"  {command}" if command.startswith("#") else f"  $ {command}"
            for command in planned["cli"]
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
