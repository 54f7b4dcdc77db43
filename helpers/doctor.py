"""Pre-flight check: is this machine (and, in live mode, this AWS identity) ready for the series?

``python -m helpers.doctor`` (``make doctor``) prints one line per check — ``✔`` ready, ``!``
works with a caveat, ``✘`` will fail — and under every line that is not green, what to do. It
takes seconds and changes nothing: it reads versions, binds a port and lets it go, asks Docker
and (live mode) STS and the IAM policy simulator questions. It never crashes: a check that
cannot run is itself a red line saying why. Exit code 0 when nothing is red, 1 otherwise.

Written for an instructor walking a room of laptops: run it first, fix the red lines, then
``make series`` or ``make lab``.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers import browser, toolchain
from helpers.config import (
    BUILD_DIR,
    MODE_VARIABLE,
    PREFIX_VARIABLE,
    PROJECT_ROOT,
    ConfigurationError,
    _clean_prefix,
    configured_region,
    current_mode,
    names_for,
)

OK, WARN, FAIL = "ok", "warn", "fail"
SYMBOLS = {OK: "✔", WARN: "!", FAIL: "✘"}
COLOURS = {OK: "\033[32m", WARN: "\033[33m", FAIL: "\033[31m"}
RESET = "\033[0m"
LAB_PORT = 8888
DISK_FAIL_GB = 1.0
DISK_WARN_GB = 5.0
"""The venv and R need about 1 GB; the container image route about 3 GB more."""
R_TIMEOUT_S = 20
RPY2_TIMEOUT_S = 60
AWS_TIMEOUT_S = 10


@dataclass(frozen=True)
class Line:
    """One check's verdict: how it went, what was found, and (unless green) what to do."""

    status: str
    label: str
    detail: str
    fix: str = ""

    def render(self, colour: bool = False) -> str:
        symbol = SYMBOLS[self.status]
        if colour:
            symbol = f"{COLOURS[self.status]}{symbol}{RESET}"
        text = f"{symbol} {self.label}: {self.detail}"
        if self.fix and self.status != OK:
            text += f"\n    fix: {self.fix}"
        return text


Check = Callable[[], Iterable[Line]]


# -- this machine ----------------------------------------------------------------------------------
def check_python() -> Iterable[Line]:
    version = platform.python_version()
    verdict = toolchain.check_python(version)
    where = f"Python {version} ({sys.executable})"
    if verdict.status == "ok":
        yield Line(OK, "Python", f"{where}, in the tested range")
    else:
        yield Line(WARN if verdict.status == "untested" else FAIL, "Python", where, verdict.message)


def r_version(timeout: float = R_TIMEOUT_S) -> str:
    """R's version as ``Rscript`` on PATH reports it ("4.2.2"); raises when there is none."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        raise FileNotFoundError("no Rscript on PATH")
    done = subprocess.run(
        [rscript, "--vanilla", "-e", "cat(as.character(getRversion()))"],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"Rscript exited with {done.returncode}: {tail}")
    return done.stdout.strip()


def check_r() -> Iterable[Line]:
    try:
        version = r_version()
    except FileNotFoundError:
        yield Line(
            FAIL,
            "R",
            "not found on PATH",
            "`make setup` installs it on Debian/Ubuntu (r-base-core, as root or with sudo); "
            "elsewhere install R >= 4.2 or use conda (`conda env create -f environment.yml`), "
            "then open a new terminal.",
        )
        return
    except (RuntimeError, subprocess.TimeoutExpired) as error:
        yield Line(
            FAIL,
            "R",
            f"Rscript is on PATH but does not answer ({error})",
            "Run `Rscript -e 'getRversion()'` to see R's own error; a broken or half-installed "
            "R is best reinstalled (`make setup` on Debian/Ubuntu, or conda).",
        )
        return
    verdict = toolchain.check_r(version)
    pins = " ".join(f"{name}=={pin}" for name, pin in toolchain.TESTED_RPY2.items())
    oldest, newest = toolchain.R_OLDEST, toolchain.R_NEWEST
    tested = f"R {oldest[0]}.{oldest[1]}-{newest[0]}.{newest[1]}"
    if verdict.status == "ok":
        yield Line(OK, "R", f"R {version}, fits the rpy2 pins ({pins}: {tested})")
    else:
        status = WARN if verdict.status == "untested" else FAIL
        yield Line(
            status, "R", f"R {version}; the rpy2 pins are tested with {tested}", verdict.message
        )


RPY2_PROBE = (
    "import rpy2.robjects as ro, json; "
    "print(json.dumps({'two': float(ro.r('1 + 1')[0]), 'r': ro.r('R.version.string')[0]}))"
)


def check_rpy2() -> Iterable[Line]:
    """rpy2 installed at the pinned versions, and talking to R (in a child: R may crash)."""
    installed = {}
    for name in toolchain.TESTED_RPY2:
        try:
            installed[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed[name] = None
    if installed.get("rpy2") is None:
        yield Line(
            FAIL,
            "rpy2",
            f"not installed in {sys.executable}",
            "Run `make setup` (it creates .venv with the pinned packages), or use the Python "
            "that has them: `make doctor PY=/path/to/python`.",
        )
        return
    off_pin = {
        name: version
        for name, version in installed.items()
        if version != toolchain.TESTED_RPY2[name]
    }
    environment = {**os.environ, "RPY2_CFFI_MODE": os.environ.get("RPY2_CFFI_MODE", "ABI")}
    try:
        done = subprocess.run(
            [sys.executable, "-c", RPY2_PROBE],
            capture_output=True,
            text=True,
            timeout=RPY2_TIMEOUT_S,
            check=False,
            env=environment,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        yield Line(FAIL, "rpy2", f"no answer from R within {RPY2_TIMEOUT_S} s", RPY2_FIX)
        return
    if done.returncode:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        tail = lines[-1] if lines else f"exit status {done.returncode}"
        yield Line(FAIL, "rpy2", f"rpy2 {installed['rpy2']} cannot talk to R: {tail}", RPY2_FIX)
        return
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    shown = ", ".join(f"{name} {version}" for name, version in installed.items())
    if answer.get("two") != 2.0:
        yield Line(FAIL, "rpy2", f"{shown}: R answered 1 + 1 = {answer.get('two')}", RPY2_FIX)
    elif off_pin:
        pins = " ".join(f"{name}=={pin}" for name, pin in toolchain.TESTED_RPY2.items())
        yield Line(
            WARN,
            "rpy2",
            f"{shown} talks to {answer['r']}, but is not the pinned version",
            f"The series is tested with {pins} (requirements.lock); `make setup` installs them.",
        )
    else:
        yield Line(OK, "rpy2", f"{shown} talks to {answer['r']}")


RPY2_FIX = (
    "`.venv/bin/python -m rpy2.situation` shows which R rpy2 finds; unset R_HOME or point it at "
    "the R you want (`R RHOME`). `symbol 'R_getVar' not found` means an rpy2 newer than the pins "
    "on R 4.2: run `make setup`. README: 'When R or rpy2 misbehave'."
)


def check_disk(folder: Path = PROJECT_ROOT) -> Iterable[Line]:
    free_gb = shutil.disk_usage(folder).free / 1e9
    detail = f"{free_gb:.1f} GB free in {folder}"
    if free_gb < DISK_FAIL_GB:
        yield Line(
            FAIL,
            "disk",
            detail,
            f"Setup (.venv, R) needs about {DISK_FAIL_GB:.0f} GB; free some space "
            "(`make clean` removes build output).",
        )
    elif free_gb < DISK_WARN_GB:
        yield Line(
            WARN,
            "disk",
            detail,
            f"Enough for the series; building the container image (`make image`) needs about "
            f"{DISK_WARN_GB - DISK_FAIL_GB:.0f} GB more.",
        )
    else:
        yield Line(OK, "disk", detail)


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether ``host:port`` can be bound now (the socket is closed again at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def check_ports() -> Iterable[Line]:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        yield Line(OK, "ports", f"the mock account can listen on 127.0.0.1 (tried port {port})")
    except OSError as error:
        yield Line(
            FAIL,
            "ports",
            f"cannot listen on 127.0.0.1: {error}",
            "The mock account serves on the loopback interface; check that `lo` is up "
            "(`ip addr show lo`) and no security policy forbids binding sockets.",
        )
    if port_free(LAB_PORT):
        yield Line(OK, "JupyterLab port", f"{LAB_PORT} is free")
    else:
        yield Line(
            WARN,
            "JupyterLab port",
            f"{LAB_PORT} is taken (another Jupyter?)",
            "`make lab` then picks the next free port and prints its URL; or stop the other "
            "server (`jupyter server list`), or `make lab LAB_ARGS=--port=8890`.",
        )


def check_bubblewrap() -> Iterable[Line]:
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        yield Line(
            WARN,
            "bubblewrap",
            "not found: the mock account runs functions unsandboxed (they can read your files)",
            "`sudo apt-get install bubblewrap` (make setup does this on Debian/Ubuntu); on "
            "macOS there is none (docs/mock-account.md, 'Who can reach the account').",
        )
        return
    done = subprocess.run(
        [bwrap, "--ro-bind", "/", "/", "--unshare-pid", "--", "true"],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode:
        tail = (done.stderr.strip().splitlines() or ["no message"])[-1]
        yield Line(
            WARN,
            "bubblewrap",
            f"{bwrap} cannot make a sandbox here ({tail}); functions run unsandboxed",
            "This Linux forbids unprivileged namespaces (e.g. `sysctl "
            "kernel.unprivileged_userns_clone=1`, or AppArmor's "
            "`kernel.apparmor_restrict_unprivileged_userns=0` on Ubuntu 24.04), or run as root.",
        )
    else:
        yield Line(OK, "bubblewrap", f"{bwrap} makes the mock's function sandbox")


def engine_problem() -> str | None:
    """The mock's own answer (``helpers.mock.awslambda.container``); without the series' packages (no
    .venv yet), the same question asked directly."""
    try:
        from helpers.mock.awslambda.container import engine_problem as problem
    except ImportError:
        try:
            done = subprocess.run(
                ["docker", "version", "--format", "{{.Server.Version}}"],
                capture_output=True,
                text=True,
                timeout=20,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"No Docker engine answers here ({error}); `make engine` starts one (as root)."
        if done.returncode == 0:
            return None
        return "No Docker engine answers here; `make engine` starts one (as root)."
    return problem()


def check_docker(mode: str) -> Iterable[Line]:
    problem = engine_problem()
    if problem is None:
        yield Line(OK, "Docker", "an engine answers: the container-image route runs here")
        return
    image_given = os.environ.get("SERIES_IMAGE_URI", "").strip()
    if mode == "live" and not image_given:
        yield Line(
            FAIL,
            "Docker",
            "no engine, and SERIES_IMAGE_URI is not set: live mode cannot get the function's image",
            f"{problem} Or set SERIES_IMAGE_URI to an image an instructor pushed "
            "(docs/live-mode.md, 'A shared image').",
        )
    else:
        where = "live mode uses SERIES_IMAGE_URI" if mode == "live" else "mock mode runs the zip"
        yield Line(WARN, "Docker", f"no engine ({where}; notebook 6 skips the image)", problem)


# -- the mode and, live, the AWS identity ------------------------------------------------------------
def check_mode() -> Iterable[Line]:
    try:
        mode = current_mode()
    except ConfigurationError as error:
        yield Line(FAIL, "mode", f"{MODE_VARIABLE}={os.environ.get(MODE_VARIABLE)!r}", str(error))
        return
    if mode == "mock":
        yield Line(OK, "mode", "mock: the embedded AWS account, no AWS account needed")
        return
    yield Line(OK, "mode", f"live, region {configured_region('live')}")
    yield from check_live()


def _aws_config() -> Any:
    from botocore.config import Config

    return Config(
        connect_timeout=AWS_TIMEOUT_S,
        read_timeout=AWS_TIMEOUT_S,
        retries={"total_max_attempts": 2},
    )


def check_live() -> Iterable[Line]:
    """Live mode: credentials and caller, prefix, opt-in, and the participant policy's actions."""
    from helpers.service_models import boto3_session

    prefix_lines, prefix = _prefix_lines()
    region = configured_region("live")
    session = boto3_session(region_name=region)
    if session.get_credentials() is None:
        yield Line(
            FAIL,
            "AWS credentials",
            "none found",
            "Configure them the standard way: `aws configure`, `aws sso login --profile NAME` "
            "and `export AWS_PROFILE=NAME`, or the AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY "
            "variables; or run with SERIES_MODE=mock.",
        )
        yield from prefix_lines
        yield from _opt_in_lines()
        return
    try:
        identity = session.client("sts", config=_aws_config()).get_caller_identity()
    except Exception as error:
        yield Line(
            FAIL,
            "AWS caller",
            f"sts get-caller-identity failed: {_error_text(error)}",
            "Expired credentials? `aws sso login` again or renew the keys; check the region "
            "and the network.",
        )
        yield from prefix_lines
        yield from _opt_in_lines()
        return
    arn = identity["Arn"]
    if arn.endswith(":root"):
        yield Line(
            WARN,
            "AWS caller",
            f"{arn} (the account root)",
            "Run as an IAM user or an Identity Center role: the root cannot assume roles, "
            "which notebook 3 does.",
        )
    else:
        yield Line(OK, "AWS caller", f"{arn} in account {identity['Account']}")
    yield from prefix_lines
    yield from _opt_in_lines()
    if prefix:
        yield from check_participant_policy(session, identity, prefix, region)


def _prefix_lines() -> tuple[list[Line], str]:
    given = os.environ.get(PREFIX_VARIABLE, "")
    try:
        prefix = _clean_prefix(given)
        names_for("live", prefix, "123456789012")
    except ConfigurationError as error:
        return [Line(FAIL, "prefix", f"{PREFIX_VARIABLE}={given!r}", str(error))], ""
    if prefix != given:
        return [
            Line(
                WARN,
                "prefix",
                f"{PREFIX_VARIABLE}={given!r} is used as {prefix!r}",
                f"Names allow lower-case letters, digits and '-': set {PREFIX_VARIABLE}={prefix} "
                "to see what the series will use.",
            )
        ], prefix
    return [Line(OK, "prefix", f"{PREFIX_VARIABLE}={prefix}")], prefix


def _opt_in_lines() -> list[Line]:
    from helpers.session import OPT_IN_VARIABLE

    if os.environ.get(OPT_IN_VARIABLE, "").lower() == "yes":
        return [Line(OK, "creating", f"{OPT_IN_VARIABLE}=yes: the notebooks may create resources")]
    return [
        Line(
            WARN,
            "creating",
            f"{OPT_IN_VARIABLE} is not yes: every creating call will be refused",
            f"Look at `make plan` first, then `export {OPT_IN_VARIABLE}=yes` (reading and "
            "notebook 11's deletes work without it).",
        )
    ]


def _error_text(error: Exception) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        details = response["Error"]
        return f"{details.get('Code')}: {details.get('Message', '')}".strip()
    return f"{type(error).__name__}: {error}"


REQUESTS_CACHE = BUILD_DIR / "participant-policy" / "requests.json"


def check_participant_policy(
    session: Any, identity: dict[str, str], prefix: str, region: str
) -> Iterable[Line]:
    """Ask the policy simulator whether the caller may do what the participant policy allows."""
    from helpers import participant_policy

    requests = participant_policy.cached_requests(REQUESTS_CACHE)
    if requests is None:
        yield Line(
            WARN,
            "participant policy",
            "not checked: its recorded calls are not cached here",
            "Run `make participant-policy PREFIX=" + prefix + "` once (about 20 s, no AWS "
            "calls), then `make doctor` again.",
        )
        return
    account_id = identity["Account"]
    policy = participant_policy.build_policy(requests, prefix, account_id=account_id, region=region)
    try:
        from helpers.least_privilege import caller_principal_arn

        iam = session.client("iam", config=_aws_config())
        principal = caller_principal_arn(iam, identity["Arn"])
        denied = participant_policy.simulate_for(iam, principal, policy, prefix, account_id, region)
    except Exception as error:
        yield Line(
            WARN,
            "participant policy",
            f"the policy simulator could not be asked: {_error_text(error)}",
            "The caller needs iam:SimulatePrincipalPolicy (the participant policy has it); "
            "without it, nothing is known about the rest — the series itself may still work.",
        )
        return
    total = len(policy.actions())
    if denied:
        shown = ", ".join(denied[:8]) + (f" … (+{len(denied) - 8})" if len(denied) > 8 else "")
        yield Line(
            FAIL,
            "participant policy",
            f"{len(denied)} of {total} actions the series needs are denied: {shown}",
            "Attach the participant policy to this user or permission set: "
            f"`make participant-policy PREFIX={prefix}` prints it (policies/participant/README.md).",
        )
    else:
        yield Line(OK, "participant policy", f"all {total} actions the series needs are allowed")


def check_chromium() -> Iterable[Line]:
    """Notebook 10 drives the web page in a real browser: the one ``helpers.browser`` picks
    (Debian's chromium-headless-shell, else chromium), through Playwright."""
    wanted = os.environ.get(browser.CHROMIUM_VARIABLE, "").strip()
    try:
        found = browser.chromium_path()
    except browser.BrowserMissing:
        yield Line(
            FAIL,
            "chromium",
            f"{wanted} does not exist" if wanted else "not found (headless shell or chromium)",
            "Notebook 10 opens the page in it: `sudo apt-get install chromium-headless-shell` "
            "(make setup does this on Debian as root), or set SERIES_CHROMIUM to a Chromium or "
            "Chrome binary.",
        )
        return
    done = subprocess.run(
        [found, "--headless", "--no-sandbox", "--version"],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    version = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    if done.returncode or not version:
        tail = (done.stderr.strip().splitlines() or ["no message"])[-1]
        yield Line(
            FAIL,
            "chromium",
            f"{found} does not start ({tail})",
            f"Reinstall it (`sudo apt-get install --reinstall {Path(found).name}`) or point "
            "SERIES_CHROMIUM at another Chromium.",
        )
    else:
        yield Line(OK, "chromium", f"{version} ({found}), for notebook 10's page")


CHECKS: list[tuple[str, Check]] = [
    ("Python", check_python),
    ("R", check_r),
    ("rpy2", check_rpy2),
    ("disk", check_disk),
    ("ports", check_ports),
    ("bubblewrap", check_bubblewrap),
    ("Docker", lambda: check_docker(_mode_or_mock())),
    ("chromium", check_chromium),
    ("mode", check_mode),
]


def _mode_or_mock() -> str:
    try:
        return current_mode()
    except ConfigurationError:
        return "mock"


def run_checks(checks: Iterable[tuple[str, Check]] | None = None) -> Iterable[Line]:
    """Every check's lines; a check that raises becomes a red line naming it and the error."""
    for label, check in checks if checks is not None else CHECKS:
        try:
            yield from check()
        except Exception as error:
            yield Line(
                FAIL,
                label,
                f"the check itself failed ({type(error).__name__}: {error})",
                "Run `make doctor` again; if it persists, report it with this line.",
            )


def main(argv: list[str] | None = None, out: Any = None) -> int:
    """Print every check's line; exit 1 if any is red."""
    out = out or sys.stdout
    colour = hasattr(out, "isatty") and out.isatty() and not os.environ.get("NO_COLOR")
    print(f"Pre-flight check for the series ({PROJECT_ROOT})", file=out, flush=True)
    red = 0
    for line in run_checks():
        print(line.render(colour), file=out, flush=True)
        red += line.status == FAIL
    print(
        "ready: nothing red" if not red else f"{red} red line(s): fix them, then run it again",
        file=out,
    )
    return 1 if red else 0


if __name__ == "__main__":
    sys.exit(main())
