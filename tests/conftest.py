"""Fixtures shared by the test modules (the mock AWS account's are all named mock_*)."""

from __future__ import annotations

import gc
import io
import itertools
import json
import os
import shutil
import tempfile
import textwrap
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest

if TYPE_CHECKING:
    from helpers.mock import MockAccount

os.environ.setdefault("RPY2_CFFI_MODE", "ABI")
_SCRATCH: list[Path] = []
"""Folders this test process made outside pytest's tmp_path; removed when it ends."""

# Build output (model, zip, image context) goes to a folder of this test process, not the
# project's build/: two xdist workers (or two people's `make test`) never write the same
# function.zip, and a learner's build/ is left alone. Set before any helpers module is imported
# (helpers.config reads it once). Kernels started by the tests inherit it unless a test sets its own.
# xdist's workers inherit the controller's environment: what was set before the run is passed on
# in SERIES_TESTS_BUILD_DIR_GIVEN, and each process makes its own folder.
os.environ.setdefault("SERIES_TESTS_BUILD_DIR_GIVEN", os.environ.get("SERIES_BUILD_DIR", ""))
_BUILD_DIR_GIVEN = os.environ["SERIES_TESTS_BUILD_DIR_GIVEN"]
if not _BUILD_DIR_GIVEN:
    os.environ["SERIES_BUILD_DIR"] = tempfile.mkdtemp(
        prefix=f"series-tests-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-"
    )
    _SCRATCH.append(Path(os.environ["SERIES_BUILD_DIR"]))

# A test process holds hundreds of thousands of objects (moto's backends, botocore's models), and
# each of CPython's full collections walks them all: about 0.3 s, some twenty times per worker,
# for cycles that are few and short-lived here. Collecting the young generation every 10,000
# allocations instead of 700, and the oldest after 100 collections of the middle one instead of
# 10, cut the time spent in the collector from 4.7 s to 1.6 s over the IAM and API Gateway
# modules (three runs each, CPU 39.1 s -> 36.7 s median). The tests' own processes only.
gc.set_threshold(10_000, 10, 100)


# -- parallel runs (`make test`: pytest-xdist, -n 3 --dist loadfile) ------------------------------
#
# Work is handed to the workers in units ("scopes"): a test module (its module-scoped fixtures,
# e.g. the mock account, start once per unit), each notebook under nbval (its cells in order, in
# one kernel; every notebook runs alone, see _NbvalEnvironment), and each notebook-executing test
# on its own (independent; they would otherwise make a tail). Units are handed out longest first,
# from the estimates below: seconds each unit took in one `make test` on this 2-core machine
# (three workers, fresh clone; every unit of 4 s or more); anything not listed is shorter.

LEARNER_COPY_RUNS = (
    "tests/test_exercises.py::test_on_the_learner_copy_every_check_fails_and_nothing_else"
)
ESTIMATED_SECONDS = {
    "tests/test_mock_image.py": 53,
    "tests/test_mock_registry_engine.py": 20,
    "tests/test_lab_account.py": 19,
    "tests/test_api_gateway_helpers.py": 19,
    "notebooks/07_invoking.ipynb": 17,
    "tests/test_page_in_browser.py": 15,
    "notebooks/10_page_and_cors.ipynb": 13,
    "notebooks/06_packaging.ipynb": 12,
    "tests/test_mock_lambda_limits.py": 12,
    "tests/test_participant_policy.py": 11,
    "tests/test_live_shared_account.py": 11,
    "tests/test_setup_script.py": 11,
    "tests/test_live_mode.py": 10,
    "tests/test_mock_async_and_logs.py": 9,
    "tests/test_sweep.py": 8,
    "tests/test_mock_account.py": 8,
    "tests/test_iam_roles.py": 8,
    "tests/test_mock_schedules.py": 8,
    "notebooks/09_api_gateway.ipynb": 8,
    "notebooks/08_cost.ipynb": 8,
    "tests/test_calls.py": 7,
    "notebooks/02_model_in_r.ipynb": 6,
    "tests/test_live_check.py": 6,
    "notebooks/01_setup_and_modes.ipynb": 6,
    "notebooks/11_cleanup.ipynb": 6,
    "tests/test_iam_enforcement.py": 6,
    "notebooks/04_policy_json.ipynb": 5,
    "tests/test_mock_boundary.py": 5,
    "notebooks/03_iam_concepts.ipynb": 5,
    "tests/test_iam_evaluate.py": 5,
    "tests/test_mock_apigateway_authorization.py": 5,
    "notebooks/05_role_creation.ipynb": 5,
    "tests/test_mock_lambda_invoke.py": 5,
    "tests/test_mock_logs_cli.py": 4,
    "tests/test_mock_iam.py": 4,
    "tests/test_live_least_privilege.py": 4,
    f"{LEARNER_COPY_RUNS}[07]": 18,
    f"{LEARNER_COPY_RUNS}[06]": 15,
    f"{LEARNER_COPY_RUNS}[10]": 14,
    f"{LEARNER_COPY_RUNS}[08]": 10,
    f"{LEARNER_COPY_RUNS}[09]": 10,
    f"{LEARNER_COPY_RUNS}[04]": 8,
    f"{LEARNER_COPY_RUNS}[03]": 7,
    f"{LEARNER_COPY_RUNS}[05]": 6,
}


def work_unit(nodeid: str) -> str:
    """The scope an xdist worker runs as a whole (see above)."""
    if nodeid.startswith(LEARNER_COPY_RUNS):
        return nodeid
    return nodeid.split("::", 1)[0]


def _estimate(unit: str) -> float:
    return ESTIMATED_SECONDS.get(unit) or ESTIMATED_SECONDS.get(unit.split("[", 1)[0], 1.0)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """--dist loadfile, with the work units above (module, nbval, one notebook run)."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class SeriesScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    config.option.loadscopereorder = False  # the workers' collection order is longest first
    return SeriesScheduling(config, log)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under xdist, order the work units longest first (stable: a unit's tests keep their order)."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    first_seen: dict[str, int] = {}
    for item in items:
        first_seen.setdefault(work_unit(item.nodeid), len(first_seen))
    items.sort(
        key=lambda item: (
            -_estimate(work_unit(item.nodeid)),
            first_seen[work_unit(item.nodeid)],
        )
    )


class _NbvalEnvironment:
    """nbval's kernels (`make test` collects notebooks/ beside tests/) run each notebook alone.

    Every notebook gets mock mode and a build folder of its own, new and empty, under the
    series' build folder (``build/nbval/<notebook>-<pid>/``; the project's build/ unless
    SERIES_BUILD_DIR was set before the run). Its kernel starts its own empty mock account, so a
    notebook that silently relied on an earlier one's files or state fails here. The stored
    outputs show paths under ``build/``: notebooks/sanitize.cfg maps the private folder back.
    """

    def __init__(self) -> None:
        self.saved: dict[str, str | None] = {}
        self.build_dirs: dict[str, Path] = {}

    def build_dir_for(self, notebook: str) -> Path:
        """The notebook's private build folder, made (empty) when its first cell is set up."""
        if notebook not in self.build_dirs:
            from helpers.config import PROJECT_ROOT

            base = Path(_BUILD_DIR_GIVEN) if _BUILD_DIR_GIVEN else PROJECT_ROOT / "build"
            # <notebook>-<this process's id>: unique among concurrent runs, and digits only, so
            # no other sanitizer rule (a duration such as "3s") can rewrite part of the name.
            folder = base / "nbval" / f"{Path(notebook).stem}-{os.getpid()}"
            shutil.rmtree(folder, ignore_errors=True)  # left by a killed run of the same id
            folder.mkdir(parents=True)
            self.build_dirs[notebook] = folder
        return self.build_dirs[notebook]

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):  # before nbval starts the notebook's kernel
        notebook = item.nodeid.split("::", 1)[0]
        if notebook.endswith(".ipynb"):
            build_dir = str(self.build_dir_for(notebook))
            for name, value in (("SERIES_MODE", "mock"), ("SERIES_BUILD_DIR", build_dir)):
                self.saved.setdefault(name, os.environ.get(name))
                os.environ[name] = value

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_teardown(self, item, nextitem):
        for name, value in self.saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self.saved.clear()
        notebook = item.nodeid.split("::", 1)[0]
        next_notebook = nextitem.nodeid.split("::", 1)[0] if nextitem is not None else None
        if notebook in self.build_dirs and next_notebook != notebook:
            shutil.rmtree(self.build_dirs[notebook], ignore_errors=True)


def pytest_configure(config):
    # Registered as a plugin, not left in this conftest: a conftest's runtest hooks only see the
    # items under its folder, and the notebooks are not under tests/.
    if config.getoption("nbval", default=False):
        config.pluginmanager.register(_NbvalEnvironment(), "series-nbval-environment")


def _default_session_on_the_shared_loader(**kwargs) -> None:
    """``boto3.setup_default_session`` on helpers.service_models' loader: moto's ``mock_aws``
    drops boto3's default session at every start, and each new one parsed the service models of
    its clients again (about 4 s of CPU in test_handler.py alone)."""
    from helpers import service_models

    boto3.DEFAULT_SESSION = service_models.boto3_session(**kwargs)


boto3.setup_default_session = _default_session_on_the_shared_loader


@pytest.fixture(scope="session")
def admission_model():
    """The admission model, fitted once per test session."""
    from helpers import r_model

    return r_model.train()


@pytest.fixture(scope="session")
def model_file(admission_model, tmp_path_factory) -> Path:
    """``admission.rds`` written once per test session."""
    return admission_model.save(tmp_path_factory.mktemp("model") / "admission.rds")


@pytest.fixture
def aws_test_credentials(monkeypatch):
    """Fake credentials and no endpoint override, so in-process moto never reaches a real account."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def restore_tempdir():
    saved = tempfile.tempdir
    yield
    tempfile.tempdir = saved


MOCK_LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
MOCK_BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"

_names = itertools.count(1)


def _zip(files: dict[str, str | bytes]) -> bytes:
    """A deployment package from {path: source}; sources are dedented."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in files.items():
            archive.writestr(
                path, textwrap.dedent(content) if isinstance(content, str) else content
            )
    return buffer.getvalue()


@pytest.fixture(scope="session")
def mock_zip() -> Callable[[dict[str, str | bytes]], bytes]:
    """Build a deployment package: mock_zip({"handler.py": source}) -> zip bytes."""
    return _zip


@pytest.fixture(scope="module")
def mock_account(request) -> Iterator[MockAccount]:
    """A running mock account per test module (schedules run 60x faster).

    Module scope, not session: moto's settings and backends are process-wide, and other test
    modules use in-process ``mock_aws`` with their own IAM settings. A module whose handlers must
    reach this machine's files (gates and logs in tmp_path) sets ``MOCK_SANDBOX = False``.
    """
    from helpers.mock import MockAccount

    account = MockAccount(time_scale=60, sandbox=getattr(request.module, "MOCK_SANDBOX", True))
    account.start()
    try:
        yield account
    finally:
        account.stop()


@pytest.fixture
def mock_session(mock_account: MockAccount) -> boto3.Session:
    return mock_account.session()


@pytest.fixture
def mock_name() -> Callable[[str], str]:
    """Unique resource names, so tests sharing the session account do not collide."""
    return lambda prefix: f"{prefix}{next(_names)}"


@pytest.fixture
def mock_user(
    mock_session: boto3.Session, mock_name: Callable[[str], str]
) -> Callable[..., boto3.Session]:
    """mock_user(*statements) -> a boto3 session of a new IAM user allowed exactly these statements."""
    from helpers.service_models import boto3_session

    iam = mock_session.client("iam")

    def make(*statements: dict) -> boto3.Session:
        name = mock_name("user")
        iam.create_user(UserName=name)
        document = {"Version": "2012-10-17", "Statement": list(statements)}
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(document))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return boto3_session(
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
            region_name=mock_session.region_name,
        )

    return make


@pytest.fixture
def mock_role(mock_session: boto3.Session, mock_name: Callable[[str], str]) -> Callable[..., str]:
    """Create an execution role: make(policies=[...], inline={...}, trust=...) -> role ARN."""
    iam = mock_session.client("iam")

    def make(
        policies: tuple[str, ...] = (MOCK_BASIC_EXECUTION,),
        inline: dict[str, Any] | None = None,
        trust: dict[str, Any] | None = None,
    ) -> str:
        name = mock_name("role")
        arn = iam.create_role(
            RoleName=name, AssumeRolePolicyDocument=json.dumps(trust or MOCK_LAMBDA_TRUST)
        )["Role"]["Arn"]
        for policy in policies:
            iam.attach_role_policy(RoleName=name, PolicyArn=policy)
        if inline:
            iam.put_role_policy(
                RoleName=name, PolicyName="inline", PolicyDocument=json.dumps(inline)
            )
        return arn

    return make


@pytest.fixture
def mock_function(
    mock_session: boto3.Session, mock_role: Callable[..., str], mock_name: Callable[[str], str]
) -> Callable[..., str]:
    """Create a function from handler source: make(source, **create_function_kwargs) -> name."""
    client = mock_session.client("lambda")

    def make(
        source: str | None = None,
        *,
        files: dict[str, str | bytes] | None = None,
        role: str | None = None,
        **kwargs: Any,
    ) -> str:
        name = mock_name("fn")
        package = _zip(files if files is not None else {"handler.py": source or ""})
        client.create_function(
            FunctionName=name,
            Runtime=kwargs.pop("Runtime", "python3.12"),
            Role=role or mock_role(),
            Handler=kwargs.pop("Handler", "handler.lambda_handler"),
            Code={"ZipFile": package},
            **kwargs,
        )
        return name

    return make


LIVE_PREFIX = "alice"


@pytest.fixture
def live(mock_account, monkeypatch):
    """A live-mode Account whose 'AWS' is the mock endpoint; cleans up whatever it made."""
    from helpers import cleanup, registry, session

    monkeypatch.setenv("SERIES_MODE", "live")
    monkeypatch.setenv("SERIES_PREFIX", LIVE_PREFIX)
    monkeypatch.delenv("SERIES_LIVE_CREATE", raising=False)
    monkeypatch.delenv("SERIES_IMAGE_URI", raising=False)
    monkeypatch.setattr(registry, "engine_problem", lambda: "there is no Docker engine (test).")
    session.disconnect()
    account = session.connect()
    yield account
    monkeypatch.setenv("SERIES_LIVE_CREATE", "yes")
    cleanup.delete_everything(account)
    session.disconnect()


def pytest_unconfigure(config):
    for folder in _SCRATCH:
        shutil.rmtree(folder, ignore_errors=True)


def require_engine(what: str) -> None:
    """Skip (saying ``what`` could not run, and why) when no Docker engine answers; CI sets
    SERIES_REQUIRE_ENGINE=1, which makes a missing engine a failure instead."""
    from helpers.mock.awslambda.container import engine_problem

    problem = engine_problem()
    if problem:
        if os.environ.get("SERIES_REQUIRE_ENGINE") == "1":
            pytest.fail(f"SERIES_REQUIRE_ENGINE=1 but {problem}")
        pytest.skip(f"{what} could not run here: {problem}")
