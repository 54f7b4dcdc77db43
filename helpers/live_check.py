"""``make live-check``: every notebook run live, in order, then cleanup — always — and a report.

The instructor's pre-workshop check of an account (and, pointed at a running mock account, CI's
check of the whole live path). Before anything is created it refuses, in one line saying what to
set, when the mode is not live, the prefix or the opt-in is missing, the endpoint cannot be
reached or the credentials are refused. Then notebooks 1-10 run in live mode, each in a fresh
kernel; the check reads the account (what was left, the function's REPORT lines, the image's size);
notebook 11 cleans up, even when an earlier notebook failed or the run was interrupted; and if
anything of the prefix is still there, the check deletes it itself (``cleanup.delete_everything``)
and says so. Exit status 0 only when every notebook passed and the inventory after cleanup is
empty. Executed copies go to ``build/live-check/``.

How the notebooks run, and why not ``pytest --nbval-lax``: each notebook is executed with
:func:`helpers.series.run_notebook` (nbclient, the engine nbval drives). That is nbval's lax mode
for these notebooks: every cell must execute without error (the first error fails the notebook),
and no output is compared (none of the notebooks marks a cell ``NBVAL_CHECK_OUTPUT``, the only
cells ``--nbval-lax`` compares). Unlike nbval it stores the executed copy, which the report reads
(notebook 11's results, the ``skipped: …`` lines) and an instructor can open.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers.config import (
    BUILD_DIR,
    MODE_VARIABLE,
    PREFIX_VARIABLE,
    ConfigurationError,
    _clean_prefix,
    configured_region,
)
from helpers.live_check_report import (
    CheckResult,
    InvokeFigures,
    Observation,
    cleanup_rows,
    format_report,
    skipped_lines,
)
from helpers.series import NotebookRun, notebooks, run_notebook
from helpers.session import OPT_IN_VARIABLE

OUT_DIR = BUILD_DIR / "live-check"
CLEANUP_NOTEBOOK = "11_"
CREDENTIAL_ERRORS = frozenset(
    {
        "AuthFailure",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidAccessKeyId",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
    }
)
"""What STS answers for credentials it does not accept (expired, unknown, wrongly signed)."""

Runner = Callable[[Path], NotebookRun]


# -- refusals: one line each, before anything is created ---------------------------------------------
def settings_refusal(environ: dict[str, str] | None = None) -> str | None:
    """Mode, prefix and opt-in: what to set, or None when they let the check start."""
    environ = os.environ if environ is None else environ
    mode = environ.get(MODE_VARIABLE, "").strip().lower()
    if mode != "live":
        return (
            f"live-check runs the series against an account: set {MODE_VARIABLE}=live "
            f"(it is {mode or 'unset'}; `make series` is the mock run)."
        )
    given = environ.get(PREFIX_VARIABLE, "")
    try:
        prefix = _clean_prefix(given)
    except ConfigurationError:
        prefix = ""
    if not prefix:
        return (
            f"live-check needs a prefix: set {PREFIX_VARIABLE} to a short name with letters or "
            f"digits (e.g. {PREFIX_VARIABLE}=ci); every resource carries it, cleanup deletes only its own."
        )
    if environ.get(OPT_IN_VARIABLE, "").strip().lower() != "yes":
        return (
            f"live-check creates the series' resources: set {OPT_IN_VARIABLE}=yes "
            "(`make plan` lists them and the cost); notebook 11 deletes them again."
        )
    return None


def account_refusal(region: str | None = None, sts: Any = None) -> str | None:
    """Credentials present, endpoint reachable, credentials accepted (STS GetCallerIdentity).

    ``sts``: a client to ask instead of one from the standard configuration (tests)."""
    import botocore.exceptions

    if sts is None:
        from helpers.doctor import _aws_config
        from helpers.service_models import boto3_session

        session = boto3_session(region_name=region or configured_region("live"))
        if session.get_credentials() is None:
            return (
                "live-check found no AWS credentials: set AWS_PROFILE (after `aws sso login`) or "
                "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or export the lines "
                "`python -m helpers.mock` prints."
            )
        sts = session.client("sts", config=_aws_config())
    endpoint = sts.meta.endpoint_url
    try:
        sts.get_caller_identity()
    except (
        botocore.exceptions.EndpointConnectionError,
        botocore.exceptions.ConnectTimeoutError,
        botocore.exceptions.ReadTimeoutError,
    ) as error:
        return (
            f"live-check cannot reach {endpoint} ({type(error).__name__}): set AWS_ENDPOINT_URL "
            "to a running mock account's (`python -m helpers.mock` prints it) or unset it for AWS, "
            "and check the network."
        )
    except botocore.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in CREDENTIAL_ERRORS:
            return (
                f"live-check: {endpoint} refused the credentials ({code}): renew them "
                "(`aws sso login`, new access keys) or export the running mock account's lines again."
            )
        return (
            f"live-check: sts get-caller-identity failed at {endpoint} ({code}): set credentials "
            "that may call it, then run again."
        )
    except botocore.exceptions.BotoCoreError as error:  # an SSO token or profile that won't load
        return (
            f"live-check could not sign a request to {endpoint} ({type(error).__name__}: {error}): "
            "renew the credentials (`aws sso login`) or set AWS_PROFILE to a working profile."
        )
    return None


def refusal() -> str | None:
    """Why the check must not start (one line), or None."""
    return settings_refusal() or account_refusal()


# -- the run -----------------------------------------------------------------------------------------
def observe(account: Any) -> Observation:
    """The account before cleanup: what is left of the prefix, REPORT lines, the image's size."""
    from botocore.exceptions import ClientError

    from helpers import cleanup, invoke

    observation = Observation()
    found = cleanup.inventory(account)
    observation.left = list(zip(found["kind"], found["name"], strict=True))
    reports = []
    for function in (account.names.function_name, account.names.no_s3_function):
        try:
            lines = invoke.report_lines(account, function_name=function, limit=100_000)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceNotFoundException":
                observation.notes.append(f"REPORT lines of {function} not read: {error}")
            continue
        reports += [invoke.parse_report(line) for line in lines]
    observation.figures = InvokeFigures.from_reports(reports)
    try:
        observation.image_bytes = stored_image_bytes(account)
    except ClientError as error:
        observation.notes.append(f"image size not read ({error.response['Error']['Code']})")
    return observation


def stored_image_bytes(account: Any) -> int:
    """What the ECR repository stores: each image's layers and config, as its manifest lists them.

    The manifest's sizes are the compressed blobs the registry keeps (what ECR bills); read
    from it because DescribeImages' ``imageSizeInBytes`` is not that everywhere (moto, under the
    mock account, reports the config blob's size alone)."""
    ecr = account.client("ecr")
    repository = account.names.ecr_repository
    total = 0
    for image in ecr.describe_images(repositoryName=repository)["imageDetails"]:
        found = ecr.batch_get_image(
            repositoryName=repository, imageIds=[{"imageDigest": image["imageDigest"]}]
        )["images"]
        manifest = json.loads(found[0]["imageManifest"]) if found else {}
        blobs = [*manifest.get("layers", []), manifest.get("config", {})]
        listed = sum(int(blob.get("size", 0)) for blob in blobs)
        total += listed or int(image.get("imageSizeInBytes", 0))
    return total


def remaining(account: Any) -> list[tuple[str, str]]:
    """What of the prefix is left: ``cleanup.inventory`` (the series' names, yours by their tags),
    then anything else in the account tagged ``owner=<prefix>`` (the instructor's sweep, by tag)."""
    from helpers import cleanup, sweep

    found = cleanup.inventory(account)
    rows = list(zip(found["kind"], found["name"], strict=True))
    prefix = account.settings.prefix
    tagged = sweep.survey(account.session, account.region, owners=[prefix])
    tagged = tagged[tagged["owner"] == prefix]
    named = {name for _, name in rows}
    rows += [
        (kind, f"{name} (tagged owner={prefix})")
        for kind, name in zip(tagged["kind"], tagged["name"], strict=True)
        if name not in named
    ]
    return rows


def _guarded(step: Callable[[], Any], notes: list[str], what: str) -> Any:
    """Run a step of the check's own; a failure becomes a note, never the end of the run."""
    try:
        return step()
    except Exception as error:  # the report must still come, and cleanup still run
        notes.append(f"{what} failed: {type(error).__name__}: {error}")
        return None


def run_check(
    paths: list[Path],
    runner: Runner,
    connect: Callable[[], Any],
    out_dir: Path = OUT_DIR,
    progress: Callable[[str], None] = print,
) -> CheckResult:
    """Notebooks in order, then the cleanup notebook — always — and what the report needs."""
    from helpers import cleanup

    started = time.perf_counter()
    series = [path for path in paths if not path.name.startswith(CLEANUP_NOTEBOOK)]
    cleanup_paths = [path for path in paths if path.name.startswith(CLEANUP_NOTEBOOK)]
    runs: list[NotebookRun] = []
    notes: list[str] = []
    observation = Observation()

    def run(path: Path) -> None:
        progress(f"  running {path.name} …")
        try:
            outcome = runner(path)
        except Exception as error:  # a runner that breaks is a failed notebook, not a stop
            outcome = NotebookRun(path.stem, "failed", 0.0, f"{type(error).__name__}: {error}")
        progress(f"  {outcome.status:<7} {outcome.seconds:6.1f} s  {path.name}")
        runs.append(outcome)

    try:
        for path in series:
            run(path)
        account = _guarded(connect, notes, "connecting to read the account")
        if account is not None:
            observed = _guarded(lambda: observe(account), notes, "reading the account")
            observation = observed or observation
    finally:  # even on Ctrl-C: the account is never left dirty
        for path in cleanup_paths:
            run(path)
        account = _guarded(connect, notes, "connecting for the inventory")
        left = _guarded(lambda: remaining(account), notes, "the inventory")
        fallback: list[tuple[str, str]] = []
        if left is None or left:
            progress("  something is left: live-check runs cleanup.delete_everything itself")
            deleted = _guarded(lambda: cleanup.delete_everything(account), notes, "cleanup")
            if deleted is not None:
                fallback = list(zip(deleted.index, deleted["result"], strict=True))
            left = _guarded(lambda: remaining(account), notes, "the inventory")
    inventory_after = [("inventory", "could not be read")] if left is None else left
    stored = {path.stem: out_dir / path.name for path in paths}
    return CheckResult(
        runs=runs,
        observation=observation,
        cleanup_rows=[row for path in cleanup_paths for row in cleanup_rows(stored[path.stem])],
        inventory_after=inventory_after,
        skipped=[(stem, line) for stem, copy in stored.items() for line in skipped_lines(copy)],
        seconds=time.perf_counter() - started,
        fallback_rows=fallback,
        notes=notes,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="folder for executed copies")
    args = parser.parse_args(argv)
    refused = refusal()
    if refused:
        print(refused, file=sys.stderr)
        return 2
    from helpers import session

    paths = notebooks()
    account = session.connect()  # reads only: who and where, for the report's first line
    endpoint = account.client("sts").meta.endpoint_url
    print(
        f"live-check: {len(paths)} notebooks, live mode, prefix {account.settings.prefix}, "
        f"account {account.account_id} ({account.caller_arn}), region {account.region}, "
        f"endpoint {endpoint}",
        flush=True,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    for stale in args.out.glob("*.ipynb"):  # the report reads this run's copies, never older ones
        stale.unlink()
    result = run_check(
        paths,
        runner=lambda path: run_notebook(path, store_to=args.out),
        connect=session.connect,
        out_dir=args.out,
        progress=lambda line: print(line, flush=True),
    )
    print()
    print(format_report(result))
    print(f"\nExecuted copies: {args.out}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
