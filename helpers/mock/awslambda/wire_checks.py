"""Checks the Lambda API makes on its requests (wire), and moto skips.

Function names, Invoke's parameters, the JSON types of request bodies and how deeply they nest.
Constraints (patterns, lengths, enums) are read from the Lambda API model shipped with botocore,
as AWS publishes them; messages follow AWS's wording so a learner can search them. A function's
configuration (timeout, memory, runtime, environment) is checked in configuration_checks.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from botocore.model import OperationNotFoundError, Shape

from helpers.service_models import service_model

from ..door_checks import MAX_JSON_DEPTH, deeper_than_allowed, json_depth
from .errors import InvalidRequestContent, ValidationError

PLAIN_NAME_MAX_LENGTH = 64
"""A function name given without ARN parts is at most 64 characters (the model's max is the ARN's)."""


@cache
def known_runtimes() -> tuple[str, ...]:
    """The Runtime enum of the Lambda API model shipped with botocore."""
    return tuple(service_model("lambda").shape_for("Runtime").enum)


@cache
def _input_member(operation: str, member: str) -> Shape | None:
    try:
        shape = service_model("lambda").operation_model(operation).input_shape
    except OperationNotFoundError:
        return None
    return shape.members.get(member) if shape is not None else None


@cache
def _pattern(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


def check_member(operation: str, member: str, value: Any, field: str) -> None:
    """The model's enum, length and pattern constraints on one string parameter (AWS's wording)."""
    shape = _input_member(operation, member)
    if shape is None or not isinstance(value, str):
        return
    problem = _constraint(value, shape)
    if problem:
        raise ValidationError(value, field, problem)


# -- function names ------------------------------------------------------------------------------
_NAME_PARTS = re.compile(
    r"(?P<arn>arn:(?P<partition>aws[a-zA-Z-]*)?:lambda:)?"
    r"(?:(?P<region>(?:eusc-)?[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):)?"
    r"(?:(?P<account>\d{12}):)?"
    r"(?P<prefix>function:)?"
    r"(?P<name>[a-zA-Z0-9_.-]+)"
    r"(?::(?P<qualifier>\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9_-]+))?"
)
"""The parts of the model's FunctionName pattern (same structure, so the same reading as AWS's)."""


@dataclass(frozen=True)
class FunctionRef:
    """A FunctionName as the API reads it: name, ARN or partial ARN, maybe with a qualifier."""

    name: str
    qualifier: str | None = None
    account_id: str | None = None
    region: str | None = None

    @property
    def qualified_name(self) -> str:
        """``name`` or ``name:qualifier``: the form moto resolves."""
        return f"{self.name}:{self.qualifier}" if self.qualifier else self.name


def parse_function_name(value: Any, operation: str) -> FunctionRef:
    """Check a FunctionName against ``operation``'s constraints and split it into its parts."""
    if not isinstance(value, str):
        raise ValidationError(value, "functionName", "Member must not be null")
    check_member(operation, "FunctionName", value, "functionName")
    match = _NAME_PARTS.fullmatch(value)
    if match is None:  # the model's pattern passed but not ours: an older botocore model
        raise ValidationError(
            value,
            "functionName",
            "Member must satisfy regular expression pattern: " + _NAME_PARTS.pattern,
        )
    plain = not any(match.group(part) for part in ("arn", "region", "account", "prefix"))
    if plain and len(match.group("name")) > PLAIN_NAME_MAX_LENGTH:
        raise ValidationError(
            value,
            "functionName",
            f"Member must have length less than or equal to {PLAIN_NAME_MAX_LENGTH}",
        )
    return FunctionRef(
        name=match.group("name"),
        qualifier=match.group("qualifier"),
        account_id=match.group("account"),
        region=match.group("region"),
    )


# -- Invoke ----------------------------------------------------------------------------------------
def check_invoke_parameters(
    invocation_type: str | None, log_type: str | None, qualifier: str | None
) -> None:
    """Invoke's header and query parameters (X-Amz-Invocation-Type, X-Amz-Log-Type, Qualifier)."""
    check_member("Invoke", "InvocationType", invocation_type, "invocationType")
    check_member("Invoke", "LogType", log_type, "logType")
    check_member("Invoke", "Qualifier", qualifier, "qualifier")


def too_deep(payload: bytes | str, *, is_payload: bool = True) -> InvalidRequestContent:
    """The error for a JSON document nested deeper than can be parsed (AWS's limit is 1,000)."""
    text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload
    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        detail = f"Document nesting depth ({depth}) exceeds the maximum allowed ({MAX_JSON_DEPTH})"
    else:
        detail = (
            f"Document nesting depth ({depth}) is more than the mock account's Python JSON parser "
            f"can take (Lambda allows {MAX_JSON_DEPTH}); nest less deeply"
        )
    return InvalidRequestContent(detail, payload=is_payload)


# -- request bodies against the API model ---------------------------------------------------------
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "blob": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "long": (int,),
    "float": (int, float),
    "double": (int, float),
    "timestamp": (int, float, str),
    "structure": (Mapping,),
    "map": (Mapping,),
    "list": (list,),
}
_NUMBERS = ("integer", "long", "float", "double")


def _field(path: str, name: str) -> str:
    """AWS names a member in messages by its lowerCamel path: ``environment.variables``."""
    name = name[:1].lower() + name[1:]
    return f"{path}.{name}" if path else name


def _shown(value: Any) -> Any:
    """A value as AWS's (Java) messages print it: lists as ``[a, b]``."""
    if isinstance(value, list):
        return "[" + ", ".join(str(_shown(item)) for item in value) + "]"
    return value


def _constraint(value: Any, shape: Shape) -> str | None:
    """The first of ``shape``'s own constraints that ``value`` fails, in AWS's wording."""
    meta = shape.metadata
    if shape.type_name in _NUMBERS:
        if "min" in meta and value < meta["min"]:
            return f"Member must have value greater than or equal to {meta['min']}"
        if "max" in meta and value > meta["max"]:
            return f"Member must have value less than or equal to {meta['max']}"
        return None
    if shape.type_name not in ("string", "list", "map"):
        return None
    enum = getattr(shape, "enum", None)
    if enum and value not in enum:
        return "Member must satisfy enum value set: [" + ", ".join(enum) + "]"
    if "min" in meta and len(value) < meta["min"]:
        return f"Member must have length greater than or equal to {meta['min']}"
    if "max" in meta and len(value) > meta["max"]:
        return f"Member must have length less than or equal to {meta['max']}"
    compiled = (
        _pattern(meta["pattern"]) if shape.type_name == "string" and "pattern" in meta else None
    )
    if compiled is not None and not compiled.fullmatch(value):
        return f"Member must satisfy regular expression pattern: {meta['pattern']}"
    return None


def _walk(value: Any, shape: Shape, field: str, sensitive: bool = False) -> None:
    """Check one parsed JSON value against its shape: JSON type (InvalidRequestContent), then
    required members, constraints, and the same for what it contains (ValidationException)."""
    sensitive = sensitive or bool(shape.metadata.get("sensitive"))
    expected = _JSON_TYPES.get(shape.type_name)
    if expected is None:
        return
    if not isinstance(value, expected) or (shape.type_name in _NUMBERS and isinstance(value, bool)):
        raise InvalidRequestContent(
            f"{field or 'the body'} must be a JSON {shape.type_name}, not {type(value).__name__}",
            payload=False,
        )
    problem = _constraint(value, shape)
    if problem:
        raise ValidationError(_shown(value), field, problem, sensitive=sensitive)
    if shape.type_name == "structure":
        _walk_members(value, shape, field, sensitive)
    elif shape.type_name == "list":
        for item in value:
            if item is None:
                continue
            try:
                _walk(item, shape.member, field, sensitive)
            except ValidationError:
                inner = _constraint(item, shape.member)
                if inner is None:
                    raise
                raise ValidationError(
                    _shown(value),
                    field,
                    f"Member must satisfy constraint: [{inner}]",
                    sensitive=sensitive,
                ) from None
    elif shape.type_name == "map":
        for key, item in value.items():
            key_problem = _constraint(key, shape.key)
            if key_problem:
                raise ValidationError(
                    None,
                    field,
                    f"Map keys must satisfy constraint: [{key_problem}]",
                    sensitive=True,
                )
            if item is not None:
                _walk(item, shape.value, field, sensitive)


def _walk_members(
    value: Mapping[str, Any], shape: Shape, path: str, sensitive: bool, *, body: bool = False
) -> None:
    for name, member in shape.members.items():
        if body and member.serialization.get("location"):
            continue  # path, query and header members are checked where they are read
        field = _field(path, name)
        item = value.get(name)
        if item is None:
            if name in shape.required_members:
                raise ValidationError(None, field, "Member must not be null")
            continue
        _walk(item, member, field, sensitive)


def check_request_body(operation: str, body: bytes | str | None) -> None:
    """A JSON request body must parse, be an object and satisfy the operation's input shape.

    Operations whose body is a raw payload (Invoke, InvokeAsync) are not checked here.
    """
    try:
        shape = service_model("lambda").operation_model(operation).input_shape
    except OperationNotFoundError:
        return
    if shape is None or shape.serialization.get("payload"):
        return
    if not any(not m.serialization.get("location") for m in shape.members.values()):
        return
    data: Any = {}
    if body and body.strip():
        if deeper_than_allowed(body if isinstance(body, str) else body.decode("utf-8", "replace")):
            raise too_deep(body, is_payload=False)
        try:
            data = json.loads(body)
        except RecursionError:
            raise too_deep(body, is_payload=False) from None
        except ValueError as error:
            raise InvalidRequestContent(str(error), payload=False) from None
    check_body(operation, data)


def check_body(operation: str, data: Any) -> None:
    """A parsed JSON body against the model: JSON types, required members, patterns, lengths,
    ranges and enums (AWS's wording; the first problem found). Unknown members are ignored."""
    try:
        shape = service_model("lambda").operation_model(operation).input_shape
    except OperationNotFoundError:
        return
    if shape is None:
        return
    if not isinstance(data, Mapping):
        raise InvalidRequestContent(
            f"the request body must be a JSON object, not {type(data).__name__}", payload=False
        )
    _walk_members(data, shape, "", False, body=True)
