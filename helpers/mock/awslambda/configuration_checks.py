"""Checks Lambda makes on a function's configuration, and moto skips (backend).

Timeout 1–900 s, memory 128–10,240 MB, a runtime Lambda knows and still accepts for new or
updated functions, Runtime and Handler for zip packages, the environment-variable rules, a code
source, no NUL where a process takes the string. Enums, patterns and the body's types come from
the Lambda API model (wire_checks.py); messages follow AWS's wording so a learner can search them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .errors import InvalidParameterValue, ValidationError
from .wire_checks import check_body, check_member, known_runtimes, parse_function_name

TIMEOUT_RANGE = (1, 900)
MEMORY_RANGE = (128, 10_240)
ENVIRONMENT_LIMIT_BYTES = 4096

BLOCKED_RUNTIMES = frozenset(
    {
        "python2.7",
        "python3.6",
        "python3.7",
        "python3.8",
        "nodejs",
        "nodejs4.3",
        "nodejs4.3-edge",
        "nodejs6.10",
        "nodejs8.10",
        "nodejs10.x",
        "nodejs12.x",
        "nodejs14.x",
        "nodejs16.x",
        "java8",
        "dotnetcore1.0",
        "dotnetcore2.0",
        "dotnetcore2.1",
        "dotnetcore3.1",
        "dotnet6",
        "go1.x",
        "ruby2.5",
        "ruby2.7",
        "provided",
    }
)
"""Runtimes past the "block function create/update" date of Lambda's deprecation policy."""

RESERVED_VARIABLES = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)


def check_runtime(runtime: Any) -> None:
    if runtime not in known_runtimes():
        raise ValidationError(
            runtime,
            "runtime",
            "Member must satisfy enum value set: [" + ", ".join(known_runtimes()) + "]",
        )
    if runtime in BLOCKED_RUNTIMES:
        raise InvalidParameterValue(
            f"The runtime parameter of {runtime} is no longer supported for creating or updating "
            "AWS Lambda functions. We recommend you use a supported runtime while creating or "
            "updating functions."
        )


def check_range(value: Any, field: str, bounds: tuple[int, int]) -> None:
    low, high = bounds
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError(value, field, "Member must be an integer")
    if value < low:
        raise ValidationError(
            value, field, f"Member must have value greater than or equal to {low}"
        )
    if value > high:
        raise ValidationError(value, field, f"Member must have value less than or equal to {high}")


ENVIRONMENT_KEY_PATTERN = "[a-zA-Z]([a-zA-Z0-9_])+"


def check_environment(environment: Mapping[str, Any] | None) -> None:
    variables = (environment or {}).get("Variables") or {}
    if any(not re.fullmatch(ENVIRONMENT_KEY_PATTERN, key) for key in variables):
        raise ValidationError(
            None,
            "environment.variables",
            "Map keys must satisfy constraint: [Member must satisfy regular expression pattern: "
            f"{ENVIRONMENT_KEY_PATTERN}]",
            sensitive=True,
        )
    with_nul = sorted(k for k, v in variables.items() if "\0" in str(v))
    if with_nul:
        raise InvalidParameterValue(
            "Lambda was unable to configure your environment variables because the values of "
            f"{', '.join(with_nul)} contain a NUL character, which no process environment can "
            "hold. Remove it (or base64-encode the value)."
        )
    reserved = sorted(k for k in variables if k in RESERVED_VARIABLES)
    if reserved:
        raise InvalidParameterValue(
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided contains reserved keys that are currently not supported "
            f"for modification. Reserved keys used in this request: {', '.join(reserved)}"
        )
    measured = json.dumps(variables, separators=(",", ":"))
    if len(measured.encode()) > ENVIRONMENT_LIMIT_BYTES:
        raise InvalidParameterValue(
            "Lambda was unable to configure your environment variables because the environment "
            f"variables you have provided exceeded the 4KB limit. String measured: {measured}"
        )


def check_process_strings(config: Mapping[str, Any]) -> None:
    """Strings that become a process's arguments (Handler, ImageConfig, ImageUri) hold no NUL.

    Lambda's patterns let a NUL through; a process cannot take one, so the mock refuses it here
    rather than failing at every invoke.
    """
    image_config = config.get("ImageConfig") or {}
    code = config.get("Code") if isinstance(config.get("Code"), Mapping) else config
    values = [
        config.get("Handler"),
        image_config.get("WorkingDirectory"),
        *(image_config.get("EntryPoint") or []),
        *(image_config.get("Command") or []),
        code.get("ImageUri"),
    ]
    if any(isinstance(value, str) and "\0" in value for value in values):
        raise InvalidParameterValue(
            "The function's handler, image URI or image configuration contains a NUL character, "
            "which the mock account cannot pass to a process. Remove it."
        )


def check_code_source(code: Mapping[str, Any], package_type: str | None = "Zip") -> None:
    """A package to deploy: ZipFile, S3Bucket with S3Key, or (for images) ImageUri."""
    if package_type == "Image":
        present = bool(code.get("ImageUri"))
    else:
        present = bool(code.get("ZipFile") or (code.get("S3Bucket") and code.get("S3Key")))
        present = present or bool(code.get("ImageUri"))
    if not present:
        raise InvalidParameterValue("Please provide a source for function code.")


def check_configuration(config: Mapping[str, Any], *, creating: bool) -> None:
    """Validate the configuration fields present in a CreateFunction/UpdateFunctionConfiguration body."""
    operation = "CreateFunction" if creating else "UpdateFunctionConfiguration"
    check_body(operation, config)
    if creating:
        parse_function_name(config.get("FunctionName"), "CreateFunction")
        check_code_source(config.get("Code") or {}, config.get("PackageType", "Zip"))
    package_type = config.get("PackageType", "Zip")
    if (
        creating
        and package_type == "Zip"
        and (not config.get("Runtime") or not config.get("Handler"))
    ):
        raise InvalidParameterValue(
            "Runtime and Handler are mandatory parameters for functions created with deployment "
            "packages."
        )
    if "Runtime" in config and config["Runtime"] is not None:
        check_runtime(config["Runtime"])
    if "Timeout" in config:
        check_range(config["Timeout"], "timeout", TIMEOUT_RANGE)
    if "MemorySize" in config:
        check_range(config["MemorySize"], "memorySize", MEMORY_RANGE)
    if config.get("Handler") is not None:
        check_member(operation, "Handler", config["Handler"], "handler")
    if "Environment" in config:
        check_environment(config["Environment"])
    check_process_strings(config)
