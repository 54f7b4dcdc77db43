"""Container-image functions in the mock account: the image that goes live, run under Lambda's limits.

These need a Docker engine. Without one they are skipped with the reason shown (``pytest -rs``);
CI starts an engine (``make engine``) and sets ``SERIES_REQUIRE_ENGINE=1``, which turns a
missing engine into a failure instead.
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import require_engine

from helpers.config import PROJECT_ROOT
from helpers.mock.awslambda.container import LABEL, cpu_share

MODEL_BUCKET = "serverless-poc-models"
EVENT_2017 = {"gre": "800", "gpa": "4", "rank": "1"}

# A custom runtime in a few lines: it answers every event with what the sandbox looks like from
# inside, after allocating ``allocate_mb`` MB if asked (pages touched, so they count).
PROBE = textwrap.dedent(
    """
    import json, os, pwd, urllib.request
    api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"

    def read(path):
        try:
            with open(path) as handle:
                return handle.read().strip()
        except OSError:
            return None

    def writable(path):
        try:
            with open(path, "w") as handle:
                handle.write("x")
            return True
        except OSError:
            return False

    while True:
        with urllib.request.urlopen(api + "next") as reply:
            request_id = reply.headers["Lambda-Runtime-Aws-Request-Id"]
            event = json.loads(reply.read() or b"{}")
        hold = b"x" * (int(event.get("allocate_mb", 0)) * 1024 * 1024)
        try:
            pwd.getpwuid(os.getuid())
            in_passwd = True
        except KeyError:
            in_passwd = False
        tmp = os.statvfs("/tmp")
        status = dict(line.split(":", 1) for line in read("/proc/self/status").splitlines())
        facts = {
            "uid": os.getuid(),
            "gid": os.getgid(),
            "in_passwd": in_passwd,
            "home": os.environ.get("HOME"),
            "root_writable": writable("/probe"),
            "task_writable": writable("/var/task/probe"),
            "tmp_writable": writable("/tmp/probe"),
            "tmp_mb": tmp.f_blocks * tmp.f_frsize // 2**20,
            "memory_limit": read("/sys/fs/cgroup/memory/memory.limit_in_bytes")
            or read("/sys/fs/cgroup/memory.max"),
            "capabilities": status["CapEff"].strip(),
            "variables": sorted(os.environ),
            "held": len(hold),
        }
        urllib.request.urlopen(
            urllib.request.Request(
                api + request_id + "/response", data=json.dumps(facts).encode(), method="POST"
            )
        )
    """
)


@pytest.fixture(scope="module", autouse=True)
def engine() -> None:
    require_engine("image functions")


@pytest.fixture(scope="module")
def admission_image() -> str:
    from helpers.image import build_image

    return build_image(log=lambda line: None)


@pytest.fixture(scope="module")
def admission_model(admission_model, mock_account, tmp_path_factory):
    """The model in the mock account's bucket (the session fixture's model, uploaded once)."""
    path = admission_model.save(tmp_path_factory.mktemp("model") / "admission.rds")
    s3 = mock_account.session().client("s3")
    s3.create_bucket(Bucket=MODEL_BUCKET)
    s3.upload_file(str(path), MODEL_BUCKET, "admission.rds")
    return admission_model


@pytest.fixture
def image_function(mock_session, mock_role, mock_name, admission_image):
    """make(memory=..., **create_kwargs) -> name of a new PackageType=Image function."""
    client = mock_session.client("lambda")

    def make(memory: int = 512, image: str | None = None, **kwargs) -> str:
        name = mock_name("img")
        client.create_function(
            FunctionName=name,
            Role=kwargs.pop("Role", None)
            or mock_role(
                policies=(
                    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                    "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
                )
            ),
            PackageType="Image",
            Code={"ImageUri": image or admission_image},
            MemorySize=memory,
            Timeout=kwargs.pop("Timeout", 30),
            **kwargs,
        )
        return name

    return make


def _invoke(client, name: str, event: dict) -> tuple[dict, dict, str]:
    reply = client.invoke(FunctionName=name, Payload=json.dumps(event), LogType="Tail")
    body = json.loads(reply["Payload"].read() or b"null")
    return reply, body, base64.b64decode(reply.get("LogResult", "")).decode()


def _containers(**labels: str) -> list[str]:
    filters = [f"--filter=label={key}={value}" for key, value in labels.items()]
    listed = subprocess.run(
        ["docker", "ps", "--all", "--quiet", f"--filter=label={LABEL}", *filters],
        capture_output=True,
        text=True,
        check=True,
    )
    return listed.stdout.split()


def _container_of(mock_account, name: str) -> dict:
    (info,) = mock_account.lambda_service.environments(name)
    found = subprocess.run(
        ["docker", "inspect", f"mock-lambda-{info.id}"], capture_output=True, text=True, check=True
    )
    return json.loads(found.stdout)[0]


def test_the_truth_table_comes_back_right_from_the_image(
    mock_account, mock_session, image_function, admission_model
):

    name = image_function(memory=512)
    client = mock_session.client("lambda")
    grid = [
        (gre, gpa, rank)
        for rank in (1, 2, 3, 4)
        for gre in (300, 560, 800)
        for gpa in (2.4, 3.4, 4.0)
    ]
    for gre, gpa, rank in grid:
        reply, body, _ = _invoke(
            client, name, {"gre": str(gre), "gpa": str(gpa), "rank": str(rank)}
        )
        assert "FunctionError" not in reply, body
        expected = admission_model.predict_one(gre, gpa, rank)
        assert body["probability"] == pytest.approx(expected, abs=1e-12), (gre, gpa, rank)
        assert body["result"] is (expected > 0.5)
    assert mock_account.lambda_service.live_environment_count(name) == 1  # warm reuse


def test_the_container_is_read_only_non_root_memory_and_cpu_limited(
    mock_account, mock_session, image_function, admission_model
):
    name = image_function(memory=512)
    _, body, log = _invoke(mock_session.client("lambda"), name, EVENT_2017)
    assert body["result"] is True and body["probability"] == pytest.approx(0.738, abs=5e-4)
    assert re.search(r"Init Duration: [\d.]+ ms", log) and "Max Memory Used" in log
    container = _container_of(mock_account, name)
    host = container["HostConfig"]
    assert container["State"]["Running"]
    assert host["ReadonlyRootfs"] is True
    assert container["Config"]["User"] == "993:990"
    assert host["Memory"] == host["MemorySwap"] == 512 * 2**20
    assert host["NanoCpus"] == round(cpu_share(512) * 1e9)
    assert host["CapDrop"] == ["ALL"] and host["NetworkMode"] == "host"
    assert host["Tmpfs"]["/tmp"].startswith("rw,exec,size=512m")
    environment = "\n".join(container["Config"]["Env"])
    assert "AWS_SECRET_ACCESS_KEY" in environment and "ASIA" in environment  # the role's keys
    assert "AKIAMOCKACCOUNTROOT0" not in environment


def test_from_inside_the_sandbox_looks_like_lambda(mock_session, image_function):
    name = image_function(
        memory=256,
        ImageConfig={"EntryPoint": ["python", "-c", PROBE]},
        EphemeralStorage={"Size": 600},
    )
    reply, facts, _ = _invoke(mock_session.client("lambda"), name, {})
    assert "FunctionError" not in reply, facts
    assert (facts["uid"], facts["gid"], facts["in_passwd"]) == (993, 990, False)
    assert facts["home"] in (None, "/")  # no home of its own (the engine sets HOME=/)
    assert (facts["root_writable"], facts["task_writable"], facts["tmp_writable"]) == (
        False,
        False,
        True,
    )
    assert 590 <= facts["tmp_mb"] <= 600
    assert int(facts["memory_limit"]) == 256 * 2**20
    assert int(facts["capabilities"], 16) == 0
    assert "AWS_LAMBDA_FUNCTION_NAME" in facts["variables"]
    assert "AWS_SESSION_TOKEN" in facts["variables"]
    assert not {"PYTHONPATH", "R_HOME", "TMPDIR", "DOCKER_HOST"} & set(facts["variables"])


def test_past_its_memory_the_container_is_killed_and_reported_like_lambda(
    mock_session, image_function
):
    name = image_function(memory=128, ImageConfig={"EntryPoint": ["python", "-c", PROBE]})
    client = mock_session.client("lambda")
    reply, facts, _ = _invoke(client, name, {"allocate_mb": 16})
    assert "FunctionError" not in reply and facts["held"] == 16 * 2**20
    reply, body, log = _invoke(client, name, {"allocate_mb": 300})
    assert reply["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.OutOfMemory"
    assert "signal: killed" in body["errorMessage"]
    assert "Max Memory Used: 128 MB" in log
    reply, facts, _ = _invoke(client, name, {})  # a new container takes over
    assert "FunctionError" not in reply


def test_an_image_uri_naming_no_local_image_is_a_clear_error_and_the_mock_keeps_serving(
    mock_session, image_function, admission_model
):
    client = mock_session.client("lambda")
    missing = image_function(image="serverless-poc-no-such-image:nothing")
    with pytest.raises(client.exceptions.InvalidParameterValueException) as failure:
        client.invoke(FunctionName=missing, Payload=b"{}")
    assert "serverless-poc-no-such-image:nothing does not exist" in str(failure.value)
    assert "make image" in str(failure.value)
    _, body, _ = _invoke(client, image_function(), EVENT_2017)
    assert body["result"] is True


def test_an_entry_point_that_exits_is_a_runtime_exit_error(mock_session, image_function):
    name = image_function(ImageConfig={"EntryPoint": ["sh", "-c", "echo leaving now; exit 3"]})
    reply, body, log = _invoke(mock_session.client("lambda"), name, EVENT_2017)
    assert reply["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"
    assert "Runtime exited with error: exit status 3" in body["errorMessage"]
    assert "leaving now" in log


def test_an_image_that_never_calls_the_runtime_api_hits_the_init_limit_then_the_timeout(
    mock_account, mock_session, image_function
):
    name = image_function(ImageConfig={"EntryPoint": ["sleep"], "Command": ["600"]}, Timeout=1)
    started = time.monotonic()
    reply, body, _ = _invoke(mock_session.client("lambda"), name, EVENT_2017)
    waited = time.monotonic() - started
    assert reply["FunctionError"] == "Unhandled"
    assert "Task timed out after 1.00 seconds" in body["errorMessage"]
    assert waited >= 10  # Lambda's INIT limit, then the function's timeout
    assert mock_account.lambda_service.live_environment_count(name) == 0


def test_retired_environments_take_their_containers_with_them(
    mock_account, mock_session, image_function, admission_model
):
    name = image_function()
    client = mock_session.client("lambda")
    _invoke(client, name, EVENT_2017)
    (info,) = mock_account.lambda_service.environments(name)
    client.update_function_configuration(FunctionName=name, Timeout=31)
    assert not subprocess.run(
        ["docker", "ps", "--all", "--quiet", "--filter", f"name=mock-lambda-{info.id}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


KILLED_MOCK = """
import json, sys, time
from helpers.mock import MockAccount
account = MockAccount()
session = account.start()
iam = session.client("iam")
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
         "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
client = session.client("lambda")
client.create_function(FunctionName="busy", Role=role, PackageType="Image",
                       Code={"ImageUri": sys.argv[1]}, Timeout=300,
                       ImageConfig={"EntryPoint": ["sleep"], "Command": ["600"]})
client.invoke(FunctionName="busy", InvocationType="Event", Payload=b"{}")
print(account.lambda_service._reaper.label, flush=True)
time.sleep(600)
"""


def test_no_container_outlives_a_killed_mock_account(admission_image):
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_MOCK, admission_image],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(PROJECT_ROOT),
    )
    try:
        label = process.stdout.readline().strip()
        assert label, "the mock account did not start"
        deadline = time.monotonic() + 30
        while not _containers(**{LABEL: label}) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _containers(**{LABEL: label}), "no container was started"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    deadline = time.monotonic() + 30
    while _containers(**{LABEL: label}) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _containers(**{LABEL: label}) == []


def test_an_engine_out_of_disk_space_is_a_lambda_shaped_error():
    from helpers.mock.awslambda.container import _create_error
    from helpers.mock.awslambda.errors import ImageUnusable

    error = _create_error(
        "big:1",
        "Error response from daemon: write /var/lib/docker/tmp/x: no space left on device\n",
    )
    assert isinstance(error, ImageUnusable)
    assert error.code == 400 and "no room to start big:1" in error.message


def test_a_handler_only_its_owner_may_read_is_still_readable_by_lambdas_user(admission_image):
    from helpers import image

    settings = image.build_settings()
    context = image.stage_context(settings)
    (context / "handler.py").chmod(0o600)  # e.g. a umask 077 checkout
    reference = "serverless-poc-admission-test:private-handler"
    env = {**os.environ, "DOCKER_BUILDKIT": "0"}
    built = subprocess.run(
        image.build_command(settings, reference, context), capture_output=True, text=True, env=env
    )
    assert built.returncode == 0, built.stderr[-2000:]
    try:
        sandbox = ["--network", "none", "--read-only", "--user", "993:990"]
        probe = ["-c", "print(len(open('handler.py').read()))"]
        read = subprocess.run(
            ["docker", "run", "--rm", *sandbox, "--entrypoint", "python", reference, *probe],
            capture_output=True,
            text=True,
        )
        assert read.returncode == 0, read.stderr
        assert int(read.stdout) > 1000
    finally:
        subprocess.run(["docker", "rmi", "--force", reference], capture_output=True)


def test_a_local_process_cannot_use_a_containers_runtime_api(
    mock_account, mock_session, image_function, admission_model
):
    import urllib.error
    import urllib.request

    name = image_function()
    client = mock_session.client("lambda")
    _invoke(client, name, EVENT_2017)
    (environment,) = mock_account.lambda_service.environments(name)
    url = f"http://{environment.runtime_api}/2018-06-01/runtime/invocation/next"
    if os.geteuid():
        pytest.skip("only root can see whose socket it is (the container's processes are not ours)")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=5)
    assert refused.value.code == 403
    _, body, _ = _invoke(client, name, EVENT_2017)
    assert body["result"] is True
