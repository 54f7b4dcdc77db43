"""make doctor: one line per check, a fix under every line that is not green, never a crash."""

from __future__ import annotations

import io
import sys

import pytest

from helpers import doctor
from helpers import participant_policy as pp


def _run(**kwargs) -> tuple[int, str]:
    out = io.StringIO()
    code = doctor.main([], out=out, **kwargs)
    return code, out.getvalue()


def _green() -> list[doctor.Line]:
    return [doctor.Line(doctor.OK, "green", "fine")]


def _yellow() -> list[doctor.Line]:
    return [doctor.Line(doctor.WARN, "yellow", "works, but", "do this")]


def _red() -> list[doctor.Line]:
    return [doctor.Line(doctor.FAIL, "red", "broken", "do that")]


def test_exit_code_is_zero_without_red_lines_and_one_with(monkeypatch):
    monkeypatch.setattr(doctor, "CHECKS", [("a", _green), ("b", _yellow)])
    code, printed = _run()
    assert code == 0
    assert "✔ green: fine" in printed and "! yellow: works, but\n    fix: do this" in printed
    monkeypatch.setattr(doctor, "CHECKS", [("a", _green), ("c", _red)])
    code, printed = _run()
    assert code == 1
    assert "✘ red: broken\n    fix: do that" in printed
    assert "\033[" not in printed  # not a terminal: no colour


def test_a_check_that_raises_is_a_red_line_and_the_rest_still_run(monkeypatch):
    def broken() -> list[doctor.Line]:
        raise KeyError("surprise")

    monkeypatch.setattr(doctor, "CHECKS", [("broken one", broken), ("a", _green)])
    code, printed = _run()
    assert code == 1
    assert "✘ broken one: the check itself failed (KeyError: 'surprise')" in printed
    assert "✔ green: fine" in printed


def test_this_machine_passes_in_mock_mode(monkeypatch):
    monkeypatch.setenv("SERIES_MODE", "mock")
    code, printed = _run()
    lines = printed.splitlines()
    assert any(line.startswith("✔ Python:") for line in lines)
    assert any(line.startswith("✔ rpy2:") and "talks to R" in line for line in lines)
    assert any(line.startswith("✔ mode: mock") for line in lines)
    assert code == (1 if "✘" in printed else 0)


def test_without_r_docker_or_bubblewrap_on_path_it_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no R, no docker, no bwrap
    monkeypatch.setenv("SERIES_MODE", "mock")
    monkeypatch.delenv("R_HOME", raising=False)
    code, printed = _run()
    assert code == 1
    assert "✘ R: not found on PATH\n    fix: `make setup` installs it" in printed
    assert "! bubblewrap: not found" in printed
    assert "! Docker: no engine (mock mode runs the zip" in printed
    assert "there is no `docker` command" in printed


def test_an_r_that_does_not_answer_is_red_with_what_to_try(monkeypatch, tmp_path):
    fake = tmp_path / "Rscript"
    fake.write_text("#!/bin/sh\necho 'Fatal error: R home directory is not defined' >&2\nexit 2\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    (line,) = doctor.check_r()
    assert line.status == doctor.FAIL
    assert "R home directory is not defined" in line.detail and "Rscript -e" in line.fix


def test_live_mode_without_credentials_is_red_and_says_how_to_configure(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("SERIES_MODE", "live")
    monkeypatch.delenv("SERIES_PREFIX", raising=False)
    monkeypatch.delenv("SERIES_LIVE_CREATE", raising=False)
    monkeypatch.setattr(doctor, "CHECKS", [("mode", doctor.check_mode)])
    code, printed = _run()
    assert code == 1
    assert "✘ AWS credentials: none found\n    fix: Configure them" in printed
    assert "✘ prefix: SERIES_PREFIX=''" in printed and "export SERIES_PREFIX=alice" in printed
    assert "! creating: SERIES_LIVE_CREATE is not yes" in printed


def test_live_mode_without_docker_or_an_image_uri_is_red(monkeypatch):
    monkeypatch.setattr(doctor, "engine_problem", lambda: "No Docker engine is running here.")
    monkeypatch.delenv("SERIES_IMAGE_URI", raising=False)
    (line,) = doctor.check_docker("live")
    assert line.status == doctor.FAIL and "SERIES_IMAGE_URI" in line.fix
    monkeypatch.setenv("SERIES_IMAGE_URI", "111122223333.dkr.ecr.us-east-1.amazonaws.com/x:1")
    (line,) = doctor.check_docker("live")
    assert line.status == doctor.WARN


def test_live_against_the_mock_names_the_caller_and_a_simulator_failure_is_yellow(
    mock_account, monkeypatch, tmp_path
):
    """The mock stands in for AWS (its root is the caller); moto has no policy simulator."""
    monkeypatch.setenv("SERIES_MODE", "live")
    monkeypatch.setenv("SERIES_PREFIX", "ann")
    monkeypatch.setenv("SERIES_LIVE_CREATE", "yes")
    monkeypatch.setattr(doctor, "CHECKS", [("mode", doctor.check_mode)])
    monkeypatch.setattr(doctor, "REQUESTS_CACHE", tmp_path / "requests.json")
    code, printed = _run()
    assert "! AWS caller: arn:aws:iam::123456789012:root (the account root)" in printed
    assert "✔ prefix: SERIES_PREFIX=ann" in printed
    assert "✔ creating: SERIES_LIVE_CREATE=yes" in printed
    assert "! participant policy: not checked" in printed
    assert "make participant-policy PREFIX=ann" in printed
    assert code == 0

    caller = pp.Request("sts:GetCallerIdentity", "*", "sts.GetCallerIdentity")
    pp.save_requests([caller], tmp_path / "requests.json")
    code, printed = _run()
    assert "! participant policy: the policy simulator could not be asked" in printed
    assert code == 0


class _Paginator:
    def __init__(self, denied: set[str]):
        self.denied = denied
        self.calls: list[dict] = []

    def paginate(self, **arguments):
        self.calls.append(arguments)
        yield {
            "EvaluationResults": [
                {
                    "EvalActionName": action,
                    "EvalDecision": "implicitDeny" if action in self.denied else "allowed",
                }
                for action in arguments["ActionNames"]
            ]
        }


class _Iam:
    def __init__(self, denied: set[str]):
        self.paginator = _Paginator(denied)

    def get_paginator(self, name: str) -> _Paginator:
        assert name == "simulate_principal_policy"
        return self.paginator


def _policy() -> pp.ParticipantPolicy:
    requests = [
        pp.Request("sts:GetCallerIdentity", "*", "sts.GetCallerIdentity"),
        pp.Request(
            "iam:CreateRole", "arn:aws:iam::1:role/RecordingServerlessPOC", "iam.CreateRole"
        ),
        pp.Request(
            "iam:PassRole",
            "arn:aws:iam::1:role/RecordingServerlessPOC",
            "lambda.CreateFunction",
            (("iam:PassedToService", "lambda.amazonaws.com"),),
        ),
    ]
    return pp.build_policy(requests, "ann")


def test_the_simulator_is_asked_per_statement_with_the_policy_conditions():
    iam = _Iam(denied={"iam:PassRole"})
    denied = pp.simulate_for(
        iam, "arn:aws:iam::1:user/ann", _policy(), "ann", "111122223333", "us-east-1"
    )
    assert denied == ["iam:PassRole"]
    passing = next(c for c in iam.paginator.calls if c["ActionNames"] == ["iam:PassRole"])
    assert passing["ResourceArns"] == ["arn:aws:iam::111122223333:role/AnnServerlessPOC"]
    assert passing["ContextEntries"][0]["ContextKeyName"] == "iam:PassedToService"


def test_denied_actions_are_a_red_line_that_says_where_the_policy_is(monkeypatch, tmp_path):
    pp.save_requests(_policy().requests, tmp_path / "requests.json")
    monkeypatch.setattr(doctor, "REQUESTS_CACHE", tmp_path / "requests.json")

    class Session:
        def client(self, service, **_):
            return _Iam(denied={"iam:CreateRole"})

    identity = {"Account": "111122223333", "Arn": "arn:aws:iam::111122223333:user/ann"}
    (line,) = doctor.check_participant_policy(Session(), identity, "ann", "us-east-1")
    assert line.status == doctor.FAIL
    assert "iam:CreateRole" in line.detail
    assert "make participant-policy PREFIX=ann" in line.fix


@pytest.mark.parametrize("version", ["3.9.18", "3.11.7", "3.99.0"])
def test_the_python_line_follows_the_toolchain_rule(monkeypatch, version):
    monkeypatch.setattr(doctor.platform, "python_version", lambda: version)
    (line,) = doctor.check_python()
    expected = {"3.9.18": doctor.FAIL, "3.11.7": doctor.OK, "3.99.0": doctor.WARN}[version]
    assert line.status == expected
    assert sys.executable in line.detail


def test_without_chromium_it_is_red_and_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no chromium
    monkeypatch.delenv("SERIES_CHROMIUM", raising=False)
    monkeypatch.setattr(doctor.browser, "HEADLESS_SHELL", str(tmp_path / "no-shell"))
    monkeypatch.setattr(doctor.browser, "DEFAULT_CHROMIUM", str(tmp_path / "no-chromium"))
    (line,) = doctor.check_chromium()
    assert line.status == doctor.FAIL
    assert line.detail == "not found (headless shell or chromium)"
    assert "apt-get install chromium-headless-shell" in line.fix and "SERIES_CHROMIUM" in line.fix


def test_a_chromium_that_does_not_start_is_red_with_its_message(monkeypatch, tmp_path):
    fake = tmp_path / "chromium"
    fake.write_text(
        "#!/bin/sh\necho 'error while loading shared libraries: libnss3.so' >&2\nexit 127\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("SERIES_CHROMIUM", str(fake))
    (line,) = doctor.check_chromium()
    assert line.status == doctor.FAIL
    assert "libnss3.so" in line.detail and "--reinstall chromium" in line.fix
    monkeypatch.setenv("SERIES_CHROMIUM", str(tmp_path / "nowhere"))
    (line,) = doctor.check_chromium()
    assert line.status == doctor.FAIL and line.detail.endswith("nowhere does not exist")
