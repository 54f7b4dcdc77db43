"""The mock account's registry with the real Docker engine: login, push, pull, and a Lambda
function that runs an image it only knows from ECR.

These need a Docker engine. Without one they are skipped with the reason shown (``pytest -rs``);
``SERIES_REQUIRE_ENGINE=1`` turns a missing engine into a failure instead.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import textwrap

import pytest
from conftest import require_engine

from helpers import image, registry
from helpers.mock.awslambda.container import engine_problem

# A custom runtime in a few lines: every event comes back with a greeting.
RUNTIME = textwrap.dedent(
    """
    import json, os, urllib.request
    api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
    while True:
        with urllib.request.urlopen(api + "next") as reply:
            request_id = reply.headers["Lambda-Runtime-Aws-Request-Id"]
            event = json.loads(reply.read() or b"{}")
        answer = json.dumps({"hello": event.get("name"), "from": "the pushed image"}).encode()
        urllib.request.urlopen(
            urllib.request.Request(api + request_id + "/response", data=answer, method="POST")
        ).read()
    """
)


@pytest.fixture(scope="module", autouse=True)
def engine() -> None:
    require_engine("the registry's engine tests")


def _docker(*arguments: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *arguments], capture_output=True, text=True, **kwargs)


@pytest.fixture(scope="module")
def small_image(tmp_path_factory) -> str:
    """The series' offline base image plus a tiny runtime, built without the network."""
    settings = image.build_settings()
    if not settings.offline:
        settings = image.BuildSettings(base_image=image.offline_base_reference(), offline=True)
    image.ensure_base(settings, log=lambda line: None)
    context = tmp_path_factory.mktemp("small-image")
    (context / "runtime.py").write_text(RUNTIME)
    (context / "Dockerfile").write_text(
        f"FROM {settings.base_image}\n"
        "COPY runtime.py /var/task/runtime.py\n"
        'ENTRYPOINT ["python3", "/var/task/runtime.py"]\n'
    )
    reference = "serverless-poc-registry-test:small"
    built = _docker("build", "--network", "none", "--quiet", "--tag", reference, str(context))
    assert built.returncode == 0, built.stderr
    yield reference
    _docker("rmi", "--force", reference)


@pytest.fixture
def docker_config(tmp_path, monkeypatch) -> dict[str, str]:
    """A Docker client config of the test's own, so no login reaches ~/.docker."""
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    return {**os.environ, "DOCKER_CONFIG": str(tmp_path / "docker")}


def _login(session, env) -> str:
    data = session.client("ecr").get_authorization_token()["authorizationData"][0]
    user, password = base64.b64decode(data["authorizationToken"]).decode().split(":", 1)
    host = registry.registry_host(data["proxyEndpoint"])
    done = _docker("login", "--username", user, "--password-stdin", host, input=password, env=env)
    assert done.returncode == 0, done.stderr
    return host


def test_docker_login_push_and_pull(mock_session, mock_name, small_image, docker_config):
    ecr = mock_session.client("ecr")
    repository = mock_name("pushed")
    ecr.create_repository(repositoryName=repository)
    host = _login(mock_session, docker_config)
    target = f"{host}/{repository}:v1"
    assert _docker("tag", small_image, target).returncode == 0
    try:
        pushed = _docker("push", target, env=docker_config)
        assert pushed.returncode == 0, pushed.stderr
        (described,) = ecr.describe_images(repositoryName=repository)["imageDetails"]
        assert f"digest: {described['imageDigest']}" in pushed.stdout
        assert described["imageTags"] == ["v1"]

        assert _docker("rmi", target).returncode == 0
        pulled = _docker("pull", target, env=docker_config)
        assert pulled.returncode == 0, pulled.stderr
        ids = [
            _docker("image", "inspect", "--format", "{{.Id}}", name).stdout.strip()
            for name in (target, small_image)
        ]
        assert ids[0] == ids[1]
    finally:
        _docker("rmi", "--force", target)


def test_a_push_to_a_repository_ecr_lacks_fails(mock_session, small_image, docker_config):
    host = _login(mock_session, docker_config)
    target = f"{host}/no-such-repository:v1"
    _docker("tag", small_image, target)
    try:
        pushed = _docker("push", target, env=docker_config)
        assert pushed.returncode != 0
        assert "does not exist" in pushed.stderr or "name unknown" in pushed.stderr
    finally:
        _docker("rmi", "--force", target)


def test_a_push_without_login_is_refused(
    mock_account, mock_session, mock_name, small_image, docker_config
):
    repository = mock_name("nologin")
    mock_session.client("ecr").create_repository(repositoryName=repository)
    target = f"{mock_account.registry.host}/{repository}:v1"
    _docker("tag", small_image, target)
    try:
        pushed = _docker("push", target, env=docker_config)
        assert pushed.returncode != 0
        assert "no basic auth credentials" in pushed.stderr or "unauthorized" in pushed.stderr
    finally:
        _docker("rmi", "--force", target)


def test_live_mode_pushes_to_the_registry_and_lambda_runs_the_pushed_image(
    live, monkeypatch, mock_account, mock_role, small_image, docker_config
):
    """registry.ensure_image's live path against the mock account, then a function from it."""
    monkeypatch.setenv("SERIES_LIVE_CREATE", "yes")
    monkeypatch.setattr(registry, "engine_problem", engine_problem)
    monkeypatch.setattr(registry, "_built_image", lambda plan: small_image)
    uri = registry.ensure_image(live)
    plan = registry.image_plan(live)
    ecr = live.client("ecr")
    (repository,) = ecr.describe_repositories(repositoryNames=[plan.repository])["repositories"]
    assert uri == f"{repository['repositoryUri']}:{plan.tag}"
    (described,) = ecr.describe_images(repositoryName=plan.repository)["imageDetails"]
    assert described["imageTags"] == [plan.tag]
    assert _docker("image", "inspect", uri).returncode != 0  # the engine knows it only by the push
    pushed_tag = f"{mock_account.registry.host}/{plan.repository}:{plan.tag}"
    assert _docker("image", "inspect", pushed_tag).returncode != 0  # untagged after the push
    assert _docker("image", "inspect", small_image).returncode == 0  # the build's tag stays

    client = live.client("lambda")
    name = "registry-pulled-function"
    client.create_function(
        FunctionName=name,
        Role=mock_role(),
        PackageType="Image",
        Code={"ImageUri": uri},
        MemorySize=256,
        Timeout=30,
    )
    try:
        reply = client.invoke(FunctionName=name, Payload=json.dumps({"name": "registry"}))
        assert "FunctionError" not in reply, reply["Payload"].read()
        assert json.loads(reply["Payload"].read()) == {
            "hello": "registry",
            "from": "the pushed image",
        }
        pulled = f"{mock_account.registry.host}/{plan.repository}@{described['imageDigest']}"
        assert _docker("image", "inspect", pulled).returncode == 0
    finally:
        client.delete_function(FunctionName=name)
        pushed = f"{mock_account.registry.host}/{plan.repository}"
        _docker("rmi", "--force", f"{pushed}:{plan.tag}", f"{pushed}@{described['imageDigest']}")
