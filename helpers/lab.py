"""One mock account per Lab session: ``make lab`` (``python -m helpers.lab``) and the kernels that attach.

Without this, each notebook's kernel starts a private mock account, and ``make mock`` in a
terminal is yet another: nothing a learner does in one place is visible in another, unlike a real
account. The launcher starts one :class:`~helpers.mock.MockAccount` in its own process, puts the
account's variables (``AWS_ENDPOINT_URL``, the owner's ``AWS_ACCESS_KEY_ID`` and
``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``) and the marker :data:`SHARED_ACCOUNT_VARIABLE`
into its environment, and runs ``jupyter lab notebooks`` as its child. Every kernel and every
terminal of that Lab inherits them: ``helpers.session.connect()`` attaches to the advertised
account (:func:`lab_account_session`) instead of starting one, and ``aws`` in a terminal talks to
it as it is. When Jupyter exits, is stopped (SIGTERM, SIGHUP, Ctrl-C) or loses the launcher, the
account stops; nothing is left running.

The secret is the account root's, drawn afresh at each start. It travels only through the
environment of the launcher's own processes (readable by this user only, like any process
environment); it is never printed or written to a file.

Where no account is advertised (``make series``, nbval, CI, a kernel started any other way) the
marker is absent and each kernel keeps its private account, catching up as before. In live mode
the launcher starts no account and runs Jupyter unchanged.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import boto3

    from helpers.mock.awslambda.roles import RoleCredentials
    from helpers.session import Account

SHARED_ACCOUNT_VARIABLE = "SERIES_MOCK_ACCOUNT"
"""Set by ``make lab`` to the shared account's endpoint; its absence means "no Lab account"."""
ACCOUNT_VARIABLES = (
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
)
"""What a terminal (or any process) needs to reach the account, as ``make mock`` prints them."""
STOP_GRACE_S = 20.0
"""How long Jupyter may take to shut its kernels down after SIGTERM before it is killed."""
ANSWER_TIMEOUT_S = 5.0


class LabAccountUnavailable(RuntimeError):
    """The Lab session advertises a shared mock account, and this process cannot use it."""


# -- attaching (in a kernel) ------------------------------------------------------------------------
def lab_account_session(region: str) -> boto3.Session | None:
    """A session on the Lab session's shared account, or None when there is none to attach to.

    None when the marker is absent (each kernel then starts its private account, as before) or
    when a mock account already runs in this process (a test's, say: it keeps precedence).
    Otherwise the account must answer to the owner's key in this environment; if it does not, a
    :class:`LabAccountUnavailable` says what happened and what to do.
    """
    endpoint = os.environ.get(SHARED_ACCOUNT_VARIABLE, "").strip()
    if not endpoint:
        return None
    from helpers.mock import MockSession, current_mock_account

    if current_mock_account() is not None:
        return None
    key_id = os.environ.get("AWS_ACCESS_KEY_ID", "")
    secret = os.environ.get("AWS_SECRET_ACCESS_KEY", "")
    if not key_id or not secret:
        raise LabAccountUnavailable(
            f"{SHARED_ACCOUNT_VARIABLE}={endpoint} says this kernel belongs to a `make lab` session, "
            "but AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY is missing from its environment (removed "
            "in a cell?). Restart the kernel from JupyterLab (Kernel → Restart Kernel) so it inherits "
            f"the Lab's variables again, or remove {SHARED_ACCOUNT_VARIABLE} from os.environ and "
            "connect again to give this kernel a private account."
        )
    session = MockSession(
        endpoint, aws_access_key_id=key_id, aws_secret_access_key=secret, region_name=region
    )
    _check_owner_answers(session, endpoint)
    os.environ["AWS_ENDPOINT_URL"] = endpoint  # a `!aws` cell talks to the same account
    return session


def _check_owner_answers(session: boto3.Session, endpoint: str) -> None:
    """GetCallerIdentity with the owner's key: the account is there, and this is its owner."""
    import botocore.config
    import botocore.exceptions

    from helpers.mock.identity import root_arn

    quick = botocore.config.Config(
        connect_timeout=ANSWER_TIMEOUT_S,
        read_timeout=ANSWER_TIMEOUT_S,
        retries={"total_max_attempts": 1},
    )
    try:
        arn = session.client("sts", config=quick).get_caller_identity()["Arn"]
    except botocore.exceptions.EndpointConnectionError as error:
        raise LabAccountUnavailable(
            f"This kernel belongs to a `make lab` session whose mock account ({endpoint}) no longer "
            "answers: the launcher that held it has stopped, and the account's state went with it. "
            "Start the Lab again with `make lab` (its new account starts empty; each notebook "
            f"catches up), or remove {SHARED_ACCOUNT_VARIABLE} from os.environ and connect again to "
            "give this kernel a private account."
        ) from error
    except botocore.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        raise LabAccountUnavailable(
            f"The Lab session's mock account ({endpoint}) refused this kernel's key ({code}): "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY here are not its owner's (changed in a cell, "
            "or this kernel outlived an earlier Lab). Restart the kernel from JupyterLab "
            "(Kernel → Restart Kernel) so it inherits the Lab's variables again."
        ) from error
    if arn != root_arn():
        raise LabAccountUnavailable(
            f"The Lab session's mock account answers this kernel as {arn}, not as its owner "
            f"({root_arn()}): the key in AWS_ACCESS_KEY_ID was changed in this kernel. The series "
            "acts as the account's owner; restart the kernel from JupyterLab (Kernel → Restart "
            "Kernel) to get the Lab's variables back."
        )


def is_shared(account: Account) -> bool:
    """Whether ``account`` is the Lab session's shared mock account (not this kernel's own)."""
    return account.settings.is_mock and account.mock is None


def lambda_role_credentials(account: Account, role_arn: str, session_name: str) -> RoleCredentials:
    """The role's temporary credentials as Lambda gets them, after Lambda's trust check.

    A kernel's own account checks and mints them in-process (``helpers.mock.awslambda.roles``). A kernel
    attached to the Lab's account has no account in its process: it reads the trust policy over
    the wire, judges it with the same evaluator, and asks the account's STS as the owner (the
    mock lets its root assume any role; AWS's root cannot). That session is the account's
    plumbing, like in-process minting, so its calls are not among the ones a cell shows.
    """
    from helpers.mock.awslambda.errors import InvalidParameterValue
    from helpers.mock.awslambda.roles import (
        CANNOT_ASSUME,
        LAMBDA_SERVICE_PRINCIPAL,
        RoleCredentials,
        check_lambda_can_assume,
        mint_credentials,
        trust_allows_service,
    )

    if not is_shared(account):
        check_lambda_can_assume(account.account_id, role_arn)
        return mint_credentials(account.account_id, account.region, role_arn, session_name)
    plumbing = _owner_session(account)
    try:
        role = plumbing.client("iam").get_role(RoleName=role_arn.rsplit("/", 1)[-1])["Role"]
    except plumbing.client("iam").exceptions.NoSuchEntityException as error:
        raise InvalidParameterValue(CANNOT_ASSUME) from error
    trust = role["AssumeRolePolicyDocument"]
    if not trust_allows_service(trust, LAMBDA_SERVICE_PRINCIPAL, account.account_id):
        raise InvalidParameterValue(CANNOT_ASSUME)
    assumed = plumbing.client("sts").assume_role(
        RoleArn=role_arn, RoleSessionName=session_name[:64]
    )["Credentials"]
    return RoleCredentials(
        assumed["AccessKeyId"], assumed["SecretAccessKey"], assumed["SessionToken"]
    )


def _owner_session(account: Account) -> boto3.Session:
    """A session with the account's own key that no call recorder is attached to."""
    from helpers.mock import MockSession

    frozen = account.session.get_credentials().get_frozen_credentials()
    return MockSession(
        os.environ.get(SHARED_ACCOUNT_VARIABLE) or os.environ["AWS_ENDPOINT_URL"],
        aws_access_key_id=frozen.access_key,
        aws_secret_access_key=frozen.secret_key,
        region_name=account.region,
    )


def function_container(function_name: str) -> str:
    """The Docker container of the function's one execution environment, found in the engine.

    A private account knows its environments (``lambda_service.environments``); a kernel attached
    to the Lab's account does not, so it asks the engine for the running ``mock-lambda-…``
    container whose ``AWS_LAMBDA_FUNCTION_NAME`` is the function's.
    """
    listed = subprocess.run(
        ["docker", "ps", "--filter", "name=^mock-lambda-", "--format", "{{.Names}}"],
        capture_output=True,
        text=True,
        check=True,
    )
    wanted = f"AWS_LAMBDA_FUNCTION_NAME={function_name}"
    found = []
    for name in listed.stdout.split():
        variables = subprocess.run(
            ["docker", "inspect", "--format", "{{json .Config.Env}}", name],
            capture_output=True,
            text=True,
            check=False,
        )
        if variables.returncode == 0 and wanted in json.loads(variables.stdout or "[]"):
            found.append(name)
    if len(found) != 1:
        raise RuntimeError(
            f"Expected one running container of {function_name} in the Docker engine, found "
            f"{len(found)}: another kernel of this Lab may be running the same notebook. Run the "
            "cell again when it has finished."
        )
    return found[0]


# -- what a notebook shows about terminals ----------------------------------------------------------
def terminal_access(account: Account) -> str:
    """Which account a terminal reaches from here, and how: for notebook 1."""
    if not account.settings.is_mock:
        return (
            "Live mode: a terminal reaches your AWS account with the same configuration as this "
            "kernel (profile, region, credentials); `aws sts get-caller-identity` shows who you are."
        )
    if is_shared(account):
        return (
            f"This kernel uses the Lab session's mock account at {os.environ['AWS_ENDPOINT_URL']}, "
            "started by `make lab`.\nEvery kernel and every terminal of this Lab (File → New → "
            "Terminal) already has its variables: in a terminal, `aws s3 ls` lists what the "
            "notebooks made, and what you make there, the notebooks see."
        )
    return (
        "This kernel's mock account is its own: Jupyter was not started with `make lab`, so no "
        "terminal shares it.\nTo use the aws command line against a mock account from a terminal:\n"
        "  - start the Lab with `make lab`: one account serves every notebook and every terminal "
        "of the Lab (File → New → Terminal), and its terminals already have the variables;\n"
        "  - or run `make mock` in a terminal and paste the four lines it prints after `export` "
        "in another (that account is a third one, empty, with nothing of the notebooks')."
    )


def in_a_terminal(command: str) -> str:
    """Run ``command`` as a fresh terminal with only the account's four variables would, and show it.

    The environment is the ``PATH``, ``HOME`` and locale of this process plus
    :data:`ACCOUNT_VARIABLES`, nothing else: what a terminal of the Lab, or one where ``make
    mock``'s lines were exported, has. The secret is passed, never shown.
    """
    terminal = {
        name: os.environ[name]
        for name in ("PATH", "HOME", "LANG", "LC_ALL", *ACCOUNT_VARIABLES)
        if name in os.environ
    }
    shown = [
        f"{name}={'<secret, not shown>' if name == 'AWS_SECRET_ACCESS_KEY' else terminal.get(name, '')}"
        for name in ACCOUNT_VARIABLES
    ]
    done = subprocess.run(
        command.split(), env=terminal, capture_output=True, text=True, timeout=60, check=False
    )
    answer = (done.stdout + done.stderr).rstrip()
    return "\n".join(["# the terminal's variables", *shown, f"$ {command}", answer])


# -- the launcher (``python -m helpers.lab``) -------------------------------------------------------
def jupyter_command(extra: list[str], folder: str = "notebooks") -> list[str]:
    """``jupyter lab FOLDER`` with this interpreter (``--allow-root`` when run as root)."""
    root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    return [sys.executable, "-m", "jupyter", "lab", folder, *root, *extra]


def _dies_with_launcher(command: list[str]) -> list[str]:
    """``command`` prefixed so the kernel sends it SIGTERM if the launcher dies (Linux setpriv).

    A launcher killed with SIGKILL cannot stop Jupyter itself; without this, Jupyter and its
    kernels would go on talking to an account that is gone.
    """
    setpriv = shutil.which("setpriv")
    if sys.platform != "linux" or setpriv is None:
        return command
    return [setpriv, "--pdeathsig", "TERM", "--", *command]


def run_with_shared_account(
    child: list[str],
    *,
    time_scale: float,
    idle_timeout_s: float,
    region: str,
    stop_grace_s: float = STOP_GRACE_S,
) -> int:
    """Start the account, run ``child`` with its variables, stop the account when ``child`` ends.

    SIGTERM and SIGHUP are passed on to the child (Jupyter shuts its kernels down), which is
    killed if it has not exited after ``stop_grace_s``. Ctrl-C reaches the child from the terminal
    by itself (Jupyter asks to confirm); the launcher waits for it. Returns the child's exit code.
    """
    from helpers.mock import MockAccount

    account = MockAccount(time_scale=time_scale, idle_timeout_s=idle_timeout_s, region=region)
    account.start()  # exports ACCOUNT_VARIABLES into this process's environment
    os.environ[SHARED_ACCOUNT_VARIABLE] = account.endpoint_url
    stopping: list[float] = []
    process: subprocess.Popen[bytes] | None = None

    def pass_on(signum: int, _frame: FrameType | None) -> None:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
        if not stopping:
            stopping.append(time.monotonic())

    def let_the_child_decide(_signum: int, _frame: FrameType | None) -> None:
        """Ctrl-C: the terminal delivered it to the child too."""

    previous = {
        signum: signal.signal(signum, handler)
        for signum, handler in (
            (signal.SIGTERM, pass_on),
            (signal.SIGHUP, pass_on),
            (signal.SIGINT, let_the_child_decide),
        )
    }
    try:
        _say(
            f"mock AWS account {account.account_id} at {account.endpoint_url} serves this Lab "
            "session: every kernel and terminal started from it; it stops when the Lab stops"
        )
        process = subprocess.Popen(_dies_with_launcher(child))
        if stopping:  # told to stop while the child was starting
            process.send_signal(signal.SIGTERM)
        while True:
            try:
                return process.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                if stopping and time.monotonic() - stopping[0] > stop_grace_s:
                    process.kill()
    finally:
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        account.stop()
        os.environ.pop(SHARED_ACCOUNT_VARIABLE, None)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _say("mock AWS account stopped")


def _say(message: str) -> None:
    print(f"[lab] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.lab [--time-scale N] [JUPYTER OPTIONS…] [-- COMMAND…]``."""
    import argparse

    from helpers.config import ConfigurationError, configured_region, current_mode
    from helpers.session import DEFAULT_TIME_SCALE, TIME_SCALE_VARIABLE

    arguments = list(sys.argv[1:] if argv is None else argv)
    child: list[str] = []
    if "--" in arguments:
        at = arguments.index("--")
        arguments, child = arguments[:at], arguments[at + 1 :]
    parser = argparse.ArgumentParser(
        prog="python -m helpers.lab",
        allow_abbrev=False,  # a Jupyter option must never be taken for one of ours
        description="Start JupyterLab on the series' notebooks with one mock AWS account that "
        "every kernel and terminal of the session shares (live mode: no account, Jupyter as is). "
        "Options it does not know go to `jupyter lab`; after `--`, a command to run instead.",
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=float(os.environ.get(TIME_SCALE_VARIABLE) or DEFAULT_TIME_SCALE),
        help=f"schedule clock speed (default: ${TIME_SCALE_VARIABLE} or {DEFAULT_TIME_SCALE:g}, "
        "as a kernel's own account)",
    )
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=300.0,
        help="seconds an idle execution environment stays warm",
    )
    parser.add_argument(
        "--notebooks",
        default="notebooks",
        help="the folder to open (default: notebooks; the learner copies: build/learner)",
    )
    known, jupyter_options = parser.parse_known_args(arguments)
    if not os.path.isdir(known.notebooks):
        _say(
            f"{known.notebooks} is not a folder here. The series' notebooks are in notebooks/; "
            "learner copies are written by `make learner` to build/learner."
        )
        return 2
    if child and jupyter_options:
        parser.error(
            f"options {' '.join(jupyter_options)} would go to `jupyter lab`, but `--` replaced it "
            f"with `{' '.join(child)}`; put them after `--` instead."
        )
    command = child or jupyter_command(jupyter_options, known.notebooks)
    try:
        mode = current_mode()
        region = configured_region(mode)
    except ConfigurationError as error:
        _say(str(error))
        return 2
    if mode != "mock":
        return subprocess.call(command)
    if os.environ.get(SHARED_ACCOUNT_VARIABLE):
        _say(
            f"already inside a Lab session ({SHARED_ACCOUNT_VARIABLE} is set): using its account "
            "instead of starting another"
        )
        return subprocess.call(command)
    return run_with_shared_account(
        command,
        time_scale=known.time_scale,
        idle_timeout_s=known.idle_timeout,
        region=region,
    )


if __name__ == "__main__":
    sys.exit(main())
