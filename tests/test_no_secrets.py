"""No credential ever reaches a stored output: notebooks, exports, docs, or the function's logs."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.config import PROJECT_ROOT

PATTERNS = {
    "unmasked access key id": re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),
    "secret access key (40 characters)": re.compile(
        # not inside a dotted name or a URL path: "amazon.com/singlesignon/latest/APIReference/API_…",
        # nor a log group: "/aws/lambda/CiServerlessPOCAdmissionNoS3" is 40 (SERIES_PREFIX=ci)
        r"(?<![A-Za-z0-9/+.])(?!/aws/)[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=_.])"
    ),
    "session token (long base64)": re.compile(r"[A-Za-z0-9/+]{100,}={0,2}"),
    "named secret with a value": re.compile(
        r"(?i)(secret_?access_?key|session_?token)[\"']?\s*[:=]\s*[\"']?(?!\*)[A-Za-z0-9/+=]{16,}"
    ),
}
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")
# The mock account's root key is fake and public by design (docs/mock-account.md shows it, and
# `python -m helpers.mock` prints it for `export`); it only opens the local mock account.
ALLOWED = {"AKIAMOCKACCOUNTROOT0"}


def findings(text: str) -> list[str]:
    return [
        f"{name}: {match.group(0)[:12]}…"
        for name, rx in PATTERNS.items()
        for match in rx.finditer(text)
        if match.group(0) not in ALLOWED
    ]


def notebook_texts(path: Path) -> Iterator[tuple[str, str]]:
    """Every stored output of a notebook, as text (images left out: they are pixels)."""
    notebook = json.loads(path.read_text())
    for index, cell in enumerate(notebook["cells"]):
        for output in cell.get("outputs", []):
            parts = [output.get("text", "")]
            parts += ["".join(tb) for tb in [output.get("traceback", [])]]
            for mime, value in output.get("data", {}).items():
                if mime not in IMAGE_TYPES:
                    parts.append(value if isinstance(value, str) else "".join(value))
            yield (
                f"{path.name} cell {index}",
                "".join(part if isinstance(part, str) else "".join(part) for part in parts),
            )


SCANNED_NOTEBOOK_FOLDERS = (
    PROJECT_ROOT / "notebooks",
    PROJECT_ROOT / "build" / "executed",  # make series
    PROJECT_ROOT / "build" / "live-check",  # make live-check
)


def stored_texts() -> Iterator[tuple[str, str]]:
    for folder in SCANNED_NOTEBOOK_FOLDERS:
        for path in sorted(folder.glob("*.ipynb")):
            yield from notebook_texts(path)
    for path in [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]:
        yield path.name, path.read_text()


def test_the_scanner_catches_each_kind_of_secret():
    """A control: the patterns do fire on credentials shaped like AWS's."""
    samples = {
        "AKIAIOSFODNN7EXAMPLE": "unmasked access key id",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY": "secret access key (40 characters)",
        "FwoGZXIvYXdzE" + "A" * 120: "session token (long base64)",
        'aws_secret_access_key = "abcdefghijklmnopqrst"': "named secret with a value",
    }
    for sample, kind in samples.items():
        assert any(found.startswith(kind) for found in findings(f"before {sample} after")), kind
    assert findings("AKIA************MPLE and ASIA…WXYZ, sha256 " + "ab" * 32) == []
    url = "https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_PutInlinePolicy.html"
    assert findings(url) == []
    assert findings("logGroupName=/aws/lambda/CiServerlessPOCAdmissionNoS3 ") == []


@pytest.mark.parametrize(("where", "text"), list(stored_texts()), ids=lambda value: str(value)[:40])
def test_no_stored_output_holds_a_credential(where, text):
    assert findings(text) == [], f"{where} shows what looks like a credential"


def test_the_functions_logs_hold_no_credential(mock_account, mock_session, mock_zip, mock_role):
    """A handler that prints its environment's key id (masked) leaves no secret in CloudWatch Logs."""
    code = mock_zip(
        {
            "app.py": (
                "import os\n"
                "def handler(event, context):\n"
                "    key = os.environ['AWS_ACCESS_KEY_ID']\n"
                "    print('running with', key[:4] + '*' * 12 + key[-4:])\n"
                "    return {'ok': True}\n"
            )
        }
    )
    lam = mock_session.client("lambda")
    lam.create_function(
        FunctionName="secrets-check",
        Runtime="python3.12",
        Handler="app.handler",
        Role=mock_role(),
        Code={"ZipFile": code},
    )
    response = lam.invoke(FunctionName="secrets-check", LogType="Tail")
    assert json.loads(response["Payload"].read()) == {"ok": True}
    events = mock_session.client("logs").filter_log_events(logGroupName="/aws/lambda/secrets-check")
    text = "\n".join(event["message"] for event in events["events"])
    assert "running with ASIA" in text
    assert findings(text) == []
