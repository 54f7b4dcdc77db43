"""AWS Lambda handler: will this applicant be admitted? (the 2017 series' handler, for Python 3).

Event: ``{"gre": "800", "gpa": "4", "rank": "1"}`` — strings as in the 2017 console test, or numbers.
Result: ``{"result": true, "probability": 0.738...}`` (``result`` keeps the 2017 contract).

What changed since 2017, and why:
- The model is downloaded from S3 to /tmp once per execution environment and read with ``readRDS``
  once; 2017 re-read it on every call.
- Inputs are checked in Python before R sees them. In 2017 a non-numeric gre became NA in R and the
  caller silently got ``false``; a numeric rank or rank "5" failed with an R message.
- A NaN probability is an error, never "not admitted".
- A keep-warm ping from an EventBridge schedule loads the model and returns ``{"warm": true}``
  instead of failing as an invalid applicant.
- Errors are raised with a JSON message (compact, so API Gateway can match ``"httpStatus":400``)
  carrying errorType, httpStatus, request_id and a message saying what to fix. Bad input is 400;
  faults that are not the caller's (model missing, S3 access denied, R failure) are 500 and say
  what the function's owner should check.

API Gateway's Lambda *proxy* integration (what AWS recommends today) hands the function the whole
HTTP request (``requestContext``, ``queryStringParameters`` …) and expects an HTTP response back:
``{"statusCode": ..., "headers": {...}, "body": "<JSON text>"}``. For such an event the handler
reads gre/gpa/rank from the query string and answers 200 with the result, 400 for bad input and
500 for faults, each with ``Content-Type`` and ``Access-Control-Allow-Origin`` (so a browser can
read errors too, which 2017's page never could). Any other event keeps the non-proxy contract:
the result dict, or the JSON error raised.

Configuration (environment variables): ``MODEL_BUCKET`` (default ``serverless-poc-models``),
``MODEL_KEY`` (default ``admission.rds``). R and rpy2 come from the runtime (container image).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import threading
from typing import Any

import boto3
import botocore.exceptions

os.environ.setdefault("RPY2_CFFI_MODE", "ABI")
import contextlib

import rpy2.robjects as ro

DEFAULT_BUCKET = "serverless-poc-models"
DEFAULT_KEY = "admission.rds"
GRE_RANGE = (200.0, 800.0)
GPA_RANGE = (0.0, 4.0)
RANKS = ("1", "2", "3", "4")

_R_LOCK = threading.Lock()  # rpy2 is not thread-safe; Lambda calls one at a time, tests may not.
_s3 = boto3.client("s3")  # one client per execution environment, as in 2017
_model: Any = None  # the glm, read once per execution environment
_predict = ro.r(
    """function(fit, gre, gpa, rank) {
         newdata <- data.frame(gre = gre, gpa = gpa, rank = factor(rank, levels = fit$xlevels$rank))
         as.numeric(stats::predict(fit, newdata = newdata, type = "response"))
       }"""
)


class HandlerError(Exception):
    """Base of the errors this handler raises; its message is the JSON an API can map."""

    http_status = 500

    def __init__(self, message: str, request_id: str = "") -> None:
        self.detail = message
        payload = {
            "errorType": type(self).__name__,
            "httpStatus": self.http_status,
            "request_id": request_id,
            "message": message,
        }
        super().__init__(json.dumps(payload, separators=(",", ":")))


class BadRequest(HandlerError):
    """The event is not a valid applicant: the caller must fix it."""

    http_status = 400


class ModelUnavailable(HandlerError):
    """The model could not be fetched or read: the function's owner must fix it."""


class PredictionFailed(HandlerError):
    """R failed or produced no probability for valid input: the model is at fault."""


def model_location() -> tuple[str, str]:
    return os.environ.get("MODEL_BUCKET", DEFAULT_BUCKET), os.environ.get("MODEL_KEY", DEFAULT_KEY)


def model_path() -> str:
    """Where the model is cached: /tmp on Lambda (``TMPDIR`` when the runtime sets one)."""
    return os.path.join(tempfile.gettempdir(), os.path.basename(model_location()[1]) or "model.rds")


def parse_applicant(event: Any) -> tuple[float, float, str]:
    """Validate an event and return (gre, gpa, rank label); raise ValueError saying what is wrong."""
    if isinstance(event, str):
        try:
            event = json.loads(event)
        except ValueError:
            raise ValueError(
                'the event is not JSON; send an object like {"gre": "800", "gpa": "4", "rank": "1"}'
            ) from None
    if not isinstance(event, dict):
        raise ValueError(
            f"the event must be a JSON object with gre, gpa and rank, not {type(event).__name__}"
        )
    missing = [name for name in ("gre", "gpa", "rank") if event.get(name) in (None, "")]
    if missing:
        raise ValueError(
            f"missing field(s): {', '.join(missing)}; send gre (200-800), gpa (0-4) and rank (1-4)"
        )
    gre = _number(event["gre"], "gre", GRE_RANGE)
    gpa = _number(event["gpa"], "gpa", GPA_RANGE)
    return gre, gpa, _rank(event["rank"])


def _number(value: Any, name: str, bounds: tuple[float, float]) -> float:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (ValueError, OverflowError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if not low <= number <= high:
        raise ValueError(f"{name} must be between {low:g} and {high:g}, got {value!r}")
    return number


def _rank(value: Any) -> str:
    label = None
    if isinstance(value, str):
        label = value.strip()
    elif isinstance(value, int) and not isinstance(value, bool):
        label = str(value)
    elif isinstance(value, float) and value.is_integer():
        label = str(int(value))
    if label not in RANKS:
        raise ValueError(f"rank must be one of 1, 2, 3, 4 (the college's prestige), got {value!r}")
    return label


def load_model(request_id: str = "") -> Any:
    """The glm, from /tmp if this environment already downloaded it, else from S3 (once)."""
    global _model
    if _model is not None:
        return _model
    bucket, key = model_location()
    path = model_path()
    if not os.path.exists(path):
        _download(bucket, key, path, request_id)
    try:
        with _R_LOCK, ro.default_converter.context():
            model = ro.r["readRDS"](path)
    except Exception as error:  # an unreadable file must not stay cached for the next call
        _remove(path)
        raise ModelUnavailable(
            f"s3://{bucket}/{key} is not a readable R model ({_first_line(error)}); "
            "upload one made with saveRDS(glm(...)).",
            request_id,
        ) from error
    _model = model
    return model


def _download(bucket: str, key: str, path: str, request_id: str) -> None:
    partial = f"{path}.partial"
    try:
        # One GetObject (the model is ~45 KB): no transfer manager, no extra HeadObject request.
        body = _s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        with open(partial, "wb") as file:
            file.write(body)
    except botocore.exceptions.ClientError as error:
        _remove(partial)
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchKey", "NoSuchBucket", "NotFound"):
            message = (
                f"the model s3://{bucket}/{key} does not exist; upload admission.rds there or set "
                "MODEL_BUCKET/MODEL_KEY to where it is"
            )
        elif code in ("403", "AccessDenied", "Forbidden"):
            # S3 hides a missing object behind 403 from callers without s3:ListBucket on the
            # bucket, so AccessDenied has two possible causes; name both.
            message = (
                f"S3 answered AccessDenied for s3://{bucket}/{key}. Either the function's role "
                f"lacks s3:GetObject on arn:aws:s3:::{bucket}/{key} (attach a policy that allows "
                "it to the execution role), or the object does not exist: without s3:ListBucket "
                "on the bucket, S3 reports a missing object as AccessDenied, not 404 (upload "
                "admission.rds there, or set MODEL_BUCKET/MODEL_KEY to where it is)"
            )
        else:
            message = f"could not download s3://{bucket}/{key}: {code or error}"
        raise ModelUnavailable(message, request_id) from error
    except botocore.exceptions.BotoCoreError as error:
        _remove(partial)
        raise ModelUnavailable(
            f"could not reach S3 to download s3://{bucket}/{key}: {error}", request_id
        ) from error
    os.replace(partial, path)


def predict(gre: float, gpa: float, rank: str, request_id: str = "") -> float:
    model = load_model(request_id)
    try:
        with _R_LOCK, ro.default_converter.context():
            probability = float(_predict(model, gre, gpa, rank)[0])
    except Exception as error:
        raise PredictionFailed(
            f"R could not predict for gre={gre:g}, gpa={gpa:g}, rank={rank}: {_first_line(error)}",
            request_id,
        ) from error
    if not math.isfinite(probability):
        raise PredictionFailed(
            f"the model returned no probability (NA) for gre={gre:g}, gpa={gpa:g}, rank={rank}; "
            "check that the model was fitted with rank as a factor with levels 1-4",
            request_id,
        )
    return probability


def is_keep_warm(event: Any) -> bool:
    """An EventBridge schedule's ping (``"detail-type": "Scheduled Event"``), not an applicant."""
    return (
        isinstance(event, dict)
        and event.get("source") == "aws.events"
        and event.get("detail-type") == "Scheduled Event"
    )


PROXY_HEADERS = {"Content-Type": "application/json", "Access-Control-Allow-Origin": "*"}
"""Headers of every proxy response: JSON, readable by a page on any origin (errors included)."""


def is_proxy_event(event: Any) -> bool:
    """An API Gateway proxy event (REST ``AWS_PROXY`` or HTTP API), not an applicant."""
    return isinstance(event, dict) and (
        "requestContext" in event or ("queryStringParameters" in event and "httpMethod" in event)
    )


def proxy_response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    """What a proxy integration must return: status, headers and the body as a *string*."""
    return {
        "statusCode": status,
        "headers": dict(PROXY_HEADERS),
        "body": json.dumps(body, separators=(",", ":")),
    }


def proxy_handler(event: dict[str, Any], request_id: str) -> dict[str, Any]:
    """Answer an API Gateway proxy event with an HTTP response (never raise: a raised error
    would reach the caller as API Gateway's bare 502, without CORS headers or a reason)."""
    query = event.get("queryStringParameters") or {}
    try:
        gre, gpa, rank = parse_applicant(query)
    except ValueError as error:
        return proxy_response(400, json.loads(str(BadRequest(str(error), request_id))))
    try:
        probability = predict(gre, gpa, rank, request_id)
    except HandlerError as error:
        print(f"ERROR {error}")  # the function's log keeps the fault for its owner
        return proxy_response(error.http_status, json.loads(str(error)))
    except Exception as error:  # a fault nobody foresaw: still an HTTP answer, logged
        print(f"ERROR unexpected {type(error).__name__}: {_first_line(error)}")
        fault = HandlerError(
            f"unexpected {type(error).__name__}; see the function's log", request_id
        )
        return proxy_response(500, json.loads(str(fault)))
    return proxy_response(200, {"result": probability > 0.5, "probability": probability})


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    """Entry point (``handler.lambda_handler``)."""
    request_id = getattr(context, "aws_request_id", "") or ""
    if is_proxy_event(event):
        return proxy_handler(event, request_id)
    if is_keep_warm(event):  # keep this environment (and its loaded model) warm; predict nothing
        load_model(request_id)
        print(f"keep-warm ping from {', '.join(event.get('resources') or ['a schedule'])}")
        return {"warm": True}
    try:
        gre, gpa, rank = parse_applicant(event)
    except ValueError as error:
        raise BadRequest(str(error), request_id) from None
    probability = predict(gre, gpa, rank, request_id)
    return {"result": probability > 0.5, "probability": probability}


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
