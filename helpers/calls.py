"""The AWS calls behind each cell: recorded through botocore's event system, shown as CLI v2.

The helpers do the AWS work in a few lines (``deploy.ensure_function`` …), which is good for
reading and bad for learning what AWS was asked. So every session the series connects carries
two botocore hooks (``before-parameter-build`` and ``after-call``) that record each API call:
service, operation, parameters and the error code if AWS refused it. In a notebook, after each
cell that made calls, a compact block lists them in order as ``service.Operation`` with the
parameters that name things, and the equivalent AWS CLI v2 command — collapsed in HTML, a few lines
in plain text. Copied into a terminal (from the repository's top folder, with the same
``AWS_*`` variables), the commands repeat the step.

The block is made to be compared by nbval: each distinct call appears once (polling and retries
vary from run to run), secrets are masked, pagination tokens and timestamps are left out, file
contents are shown as the file they came from.
"""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import threading
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from botocore import xform_name

from helpers.config import PROJECT_ROOT

POLICIES_DIR = PROJECT_ROOT / "policies"
SECRET_PARAMETER = re.compile(r"secret|password|token|credential", re.IGNORECASE)
LEFT_OUT = re.compile(
    r"^(NextToken|nextToken|Marker|StartingToken|ContinuationToken|[Ss]tartTime|[Ee]ndTime"
    r"|Checksum.*)$"
)
"""Parameters that change from run to run and don't describe the step: pagination and clocks."""
MASK = "****"
NOT_SENT = "not sent"
ACCESS_KEY_ID = re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b")
"""An access key id names a credential: shown as ``AKIA****`` (it also changes on every run)."""
CLI_SERVICE = {"s3": "s3api"}
"""The CLI's command for a service where it differs from botocore's name (``aws s3`` is the
high-level file commands; the API operations are under ``aws s3api``)."""
BLOB_FILES = {"ZipFile": "build/function.zip"}
"""Where a blob parameter's bytes come from when the call doesn't say (the series' own zip)."""


@dataclass(frozen=True)
class Call:
    """One API call: what was asked, and the error code if AWS refused it."""

    service: str
    operation: str
    parameters: tuple[tuple[str, str], ...]  # (parameter, value as shown), in request order
    cli: str
    error: str = ""

    @property
    def name(self) -> str:
        return f"{self.service}.{self.operation}"

    def key(self) -> tuple[str, str, tuple[tuple[str, str], ...]]:
        return (self.service, self.operation, self.parameters)


@dataclass
class CallLog:
    """The calls recorded since the last :meth:`take`, thread-safe (s3transfer uploads in threads)."""

    calls: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, call: Call) -> int:
        with self._lock:
            self.calls.append(call)
            return len(self.calls) - 1

    def mark_error(self, index: int, code: str) -> None:
        with self._lock:
            if 0 <= index < len(self.calls):
                self.calls[index] = _with_error(self.calls[index], code)

    def take(self) -> list[Call]:
        with self._lock:
            taken, self.calls = self.calls, []
            return taken


def _with_error(call: Call, code: str) -> Call:
    return Call(call.service, call.operation, call.parameters, call.cli, code)


LOG = CallLog()
"""The process's call log: every session the series connects writes to it."""


# -- recording ------------------------------------------------------------------------------------
def record_calls(session: Any, log: CallLog = LOG) -> None:
    """Record every API call made through ``session`` (a boto3 session) into ``log``."""
    events = session.events

    def before(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        # "not sent" until the request leaves: a call refused before sending (invalid
        # parameters, live mode's opt-in) must not look as if AWS had answered it.
        context["series_call"] = log.add(_with_error(describe(model, params), NOT_SENT))

    def sending(context: dict[str, Any], **_: Any) -> None:
        if "series_call" in context:
            log.mark_error(context["series_call"], "")

    def after(http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any):
        status = getattr(http_response, "status_code", 200)
        if "series_call" in context and status >= 300:
            code = (parsed or {}).get("Error", {}).get("Code") or str(status)
            log.mark_error(context["series_call"], code)

    # provide-client-params comes before botocore adds its own defaults (checksums, encodings,
    # idempotency tokens), so what is recorded is what the caller asked for, on any botocore.
    events.register("provide-client-params", before, unique_id="series-calls-before")
    events.register("before-call", sending, unique_id="series-calls-sending")
    events.register("after-call", after, unique_id="series-calls-after")


def describe(model: Any, params: dict[str, Any]) -> Call:
    """A :class:`Call` from an operation model and the parameters it was called with."""
    service = model.service_model.service_name
    members = model.input_shape.members if model.input_shape is not None else {}
    shown: list[tuple[str, str]] = []
    cli_words = ["aws", CLI_SERVICE.get(service, service), xform_name(model.name, "-")]
    outfile = None
    for name, value in params.items():
        shape = members.get(name)
        if shape is None or LEFT_OUT.match(name) or shape.metadata.get("idempotencyToken"):
            continue
        secret = bool(SECRET_PARAMETER.search(name)) and shape.type_name == "string"
        if isinstance(value, str) and ACCESS_KEY_ID.search(value):
            value = ACCESS_KEY_ID.sub(lambda found: found.group(1) + MASK, value)
        text = MASK if secret else _plain(value, shape)
        if isinstance(value, str) or shape.type_name in ("integer", "long", "boolean"):
            shown.append((name, _short(text)))
        cli_words.extend(_cli_option(service, model.name, name, value, shape, masked=secret))
    if service == "lambda" and model.name == "Invoke":
        cli_words.insert(3, "--cli-binary-format raw-in-base64-out")
        outfile = "response.json"
    if service == "s3" and model.name == "PutObject" and "--body" not in cli_words:
        cli_words.extend(["--body", shlex.quote(str(params.get("Key", "file")).rsplit("/", 1)[-1])])
    if outfile:
        cli_words.append(outfile)
    return Call(service, model.name, tuple(shown), " ".join(cli_words))


def _plain(value: Any, shape: Any) -> str:
    if shape.type_name == "boolean":
        return "true" if value else "false"
    return str(value)


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cli_option(
    service: str, operation: str, name: str, value: Any, shape: Any, masked: bool
) -> list[str]:
    """The CLI v2 words for one parameter (``--role-name ServerlessPOCRole``)."""
    option = "--" + xform_name(name, "-")
    kind = shape.type_name
    if masked:
        return [option, MASK]
    if kind == "boolean":
        return [option if value else "--no-" + option[2:]]
    if kind in ("integer", "long", "float", "double"):
        return [option, str(value)]
    if kind == "blob":
        argument = _blob(name, value, service, operation)
        return [option, argument] if argument else []
    if name == "Code" and isinstance(value, dict) and "ZipFile" in value:
        return ["--zip-file", _blob("ZipFile", value["ZipFile"], service, operation)]
    if kind == "list" and all(isinstance(item, str) for item in value):
        return [option, *(shlex.quote(item) for item in value)] if value else []
    if kind in ("list", "map", "structure"):
        return [option, shlex.quote(json.dumps(_jsonable(value), separators=(",", ":")))]
    if kind == "timestamp":
        return [option, str(value)]
    return [option, _string_argument(name, str(value))]


def _jsonable(value: Any) -> Any:
    """A parameter structure as JSON for the CLI; bytes inside it show as their size."""
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value):,} bytes>"
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _string_argument(name: str, value: str) -> str:
    """A string parameter as the CLI takes it; a policy document from ``policies/`` as its file."""
    if name.endswith(("PolicyDocument", "Policy")) and value.lstrip().startswith("{"):
        source = policy_file(value)
        if source is not None:
            return f"file://{source.relative_to(PROJECT_ROOT).as_posix()}"
        with contextlib.suppress(ValueError):
            value = json.dumps(json.loads(value), separators=(",", ":"))
    return shlex.quote(value)


def _blob(name: str, value: Any, service: str, operation: str) -> str:
    """A blob parameter: inline JSON for an invoke payload, else the file it was read from."""
    if service == "lambda" and operation == "Invoke" and isinstance(value, (bytes, str)):
        text = value.decode() if isinstance(value, bytes) else value
        return shlex.quote(text)
    path = _file_name(value)
    if service == "s3" and name == "Body":  # s3api put-object --body takes a path, not fileb://
        return shlex.quote(path) if path else ""
    return "fileb://" + (path or BLOB_FILES.get(name, xform_name(name, "-") + ".bin"))


def _file_name(value: Any) -> str | None:
    """The path of the file behind a stream (s3transfer wraps it), relative to the project."""
    for attribute in ("name", "_fileobj", "_stream"):
        inner = getattr(value, attribute, None)
        if isinstance(inner, str):
            path = Path(inner)
            try:
                return path.resolve().relative_to(PROJECT_ROOT).as_posix()
            except ValueError:
                return path.name
        if inner is not None and inner is not value:
            found = _file_name(inner)
            if found:
                return found
    return None


def policy_file(document: str) -> Path | None:
    """The file in ``policies/`` holding this policy document (compared as JSON), if any."""
    try:
        wanted = json.loads(document)
    except ValueError:
        return None
    for path in sorted(POLICIES_DIR.glob("*.json")):
        try:
            if json.loads(path.read_text()) == wanted:
                return path
        except ValueError:
            continue
    return None


# -- showing --------------------------------------------------------------------------------------
def distinct(calls: list[Call]) -> list[Call]:
    """Each distinct call once, in the order first made (polls and retries vary between runs).

    A call that failed once and succeeded later keeps the first outcome seen.
    """
    seen: dict[tuple[str, str, tuple[tuple[str, str], ...]], Call] = {}
    for call in calls:
        seen.setdefault(call.key(), call)
    return list(seen.values())


@dataclass(frozen=True)
class CallsBlock:
    """What a cell shows: its AWS calls, as plain text (compared by nbval) and collapsed HTML."""

    calls: tuple[Call, ...]

    def summary(self) -> str:
        count = len(self.calls)
        return f"AWS calls made by this cell ({count} distinct, in order; CLI v2 equivalents)"

    def __repr__(self) -> str:
        lines = [self.summary() + ":"]
        for number, call in enumerate(self.calls, 1):
            parameters = ", ".join(f"{name}={value}" for name, value in call.parameters)
            refused = f"  -> {call.error}" if call.error else ""
            lines.append(f"{number:>3}. {call.name}({parameters}){refused}")
            lines.append(f"     $ {call.cli}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            "<tr>"
            f"<td>{number}</td><td><code>{escape(call.name)}</code></td>"
            f"<td>{escape(', '.join(f'{n}={v}' for n, v in call.parameters))}</td>"
            f"<td>{escape(call.error or 'ok')}</td>"
            f"<td><code>{escape(call.cli)}</code></td>"
            "</tr>"
            for number, call in enumerate(self.calls, 1)
        )
        names = ", ".join(escape(call.name) for call in self.calls[:4])
        more = f" … (+{len(self.calls) - 4})" if len(self.calls) > 4 else ""
        return (
            '<details class="aws-calls"><summary>AWS calls made by this cell: '
            f"<code>{names}</code>{more}</summary>"
            "<table><thead><tr><th>#</th><th>call</th><th>parameters</th><th>result</th>"
            "<th>AWS CLI v2</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></details>"
        )


def block(calls: list[Call]) -> CallsBlock | None:
    """The block for a cell's calls, or None when it made none."""
    shown = distinct(calls)
    return CallsBlock(tuple(shown)) if shown else None


_shown_in: Any = None


def show_after_each_cell(log: CallLog = LOG) -> bool:
    """In IPython, display each cell's calls after it runs; returns whether it is switched on.

    Called by ``session.connect``: the calls of a cell are those recorded between the start and
    the end of that cell (including the connecting call itself, in the cell that connects).
    """
    global _shown_in
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    if _shown_in is shell:
        return True

    def before_cell(*_: Any) -> None:
        log.take()

    def after_cell(*_: Any) -> None:
        shown = block(log.take())
        if shown is not None:
            from IPython.display import display

            display(shown)

    shell.events.register("pre_run_cell", before_cell)
    shell.events.register("post_run_cell", after_cell)
    _shown_in = shell
    return True


SWITCH_VARIABLE = "SERIES_SHOW_CALLS"


def switched_on() -> bool:
    """Whether sessions record their calls (on unless ``SERIES_SHOW_CALLS=0``)."""
    import os

    return os.environ.get(SWITCH_VARIABLE, "1").strip().lower() not in ("0", "no", "false", "off")
