"""Exercises of notebooks 6-7: the function and role the learner changed, judged in the account."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from helpers.exercises.core import (
    LIVE_SETTLE_S,
    TEST_EVENT,
    ExerciseNotDone,
    _a,
    _decide,
    require_attempt,
)

# --------------------------------------------------------------------------- notebook 6


def check_memory_doubled(account: Any, resized: object) -> str:
    """Notebook 6: the learner doubled the function's MemorySize and called it afterwards.

    Why: memory is the one size knob of a Lambda function (it also buys CPU); changing it is an
    UpdateFunctionConfiguration, and the REPORT line of the next call shows what the call got.
    """
    from helpers import deploy
    from helpers.invoke import Invocation

    names = account.names
    base = deploy.function_configuration(names, "", deploy.package_type(account))["MemorySize"]
    wanted = 2 * base
    have = account.client("lambda").get_function_configuration(FunctionName=names.function_name)
    memory = have["MemorySize"]
    if memory == base:
        raise ExerciseNotDone(
            f"{names.function_name} still has {base} MB: set MemorySize={wanted} with "
            "update_function_configuration, wait until the update is done "
            "(deploy.wait_until_ready), then call the function."
        )
    if memory != wanted:
        raise ExerciseNotDone(
            f"{names.function_name} has {memory} MB; the task asks for double {base} MB, {wanted} MB."
        )
    require_attempt(
        resized, "resized", "call the function after the update, resized = invoke.invoke(...)"
    )
    if not isinstance(resized, Invocation):
        raise ExerciseNotDone(
            f"`resized` is {_a(resized)}, not a call's result: keep what "
            "invoke.invoke(account, event) returns."
        )
    if not resized.ok:
        raise ExerciseNotDone(f"the call after the update failed: {resized.payload}")
    seen = resized.report.get("memory_mb")
    if seen is None:
        raise ExerciseNotDone(
            "the call has no REPORT line: call invoke.invoke with its default log_tail=True."
        )
    if seen != wanted:
        raise ExerciseNotDone(
            f"that call ran with {seen:.0f} MB: it was made before the update finished. Call the "
            "function again once deploy.wait_until_ready has returned."
        )
    return f"Done: {names.function_name} has {wanted} MB, and the next call ran with {wanted} MB."


# --------------------------------------------------------------------------- notebook 7


def check_role_repaired(account: Any, invoke_timeout_s: float | None = None) -> str:
    """Notebook 7: the learner gave the no-S3 role read access to the model, and only that.

    Why: a missing policy is the commonest Lambda fault; the fix is on the role (AttachRolePolicy),
    not on the function, and the function then answers without being redeployed. The check reads
    the role's policies and calls the function itself (waiting a little in a live account, where
    an IAM change takes seconds to apply).
    """
    from botocore.exceptions import ClientError

    from helpers import invoke
    from helpers.iam import role_policies

    names = account.names
    try:
        documents = role_policies(account.client("iam"), names.no_s3_role)
    except ClientError as error:
        raise ExerciseNotDone(
            f"cannot read the role {names.no_s3_role}: {error.response['Error']['Message']}. Run "
            "section 7 again from its first cell, which creates it."
        ) from None
    model_arn = f"arn:aws:s3:::{names.models_bucket}/{names.model_key}"
    if not _decide("s3:GetObject", model_arn, documents)[0]:
        held = (
            f"'s policies ({', '.join(documents)}) do not allow"
            if documents
            else " has no policies, so nothing allows"
        )
        raise ExerciseNotDone(
            f"the role {names.no_s3_role}{held} s3:GetObject on {model_arn}. "
            f"Attach the policy that does (the customer managed policy {names.policy_name}) to "
            "the role."
        )
    if _decide("s3:PutObject", model_arn, documents)[0]:
        raise ExerciseNotDone(
            "the role may now overwrite the model too: attach the policy that only reads it "
            f"({names.policy_name}) instead, and detach the broader one."
        )
    timeout = LIVE_SETTLE_S if invoke_timeout_s is None else invoke_timeout_s
    if account.settings.is_mock and invoke_timeout_s is None:
        timeout = 0.0
    call = _until(
        lambda: invoke.invoke(account, TEST_EVENT, function_name=names.no_s3_function),
        lambda answer: answer.ok,
        timeout,
    )
    if not call.ok:
        message = call.error_message() or {}
        raise ExerciseNotDone(
            f"the role allows reading the model, but {names.no_s3_function} still answers "
            f"{message.get('errorType', call.function_error)}: {message.get('message', call.payload)}"
        )
    result = call.payload.get("result") if isinstance(call.payload, dict) else call.payload
    return f"Done: {names.no_s3_function} answers (result {result}) with its repaired role."


def undo_role_repair(account: Any) -> list[str]:
    """Notebook 7: detach what an earlier run's repair attached to the no-S3 role.

    Why: in a live account the role outlives the kernel; if a run stopped between the repair and
    the clean-up, the counter-example would start repaired and could not fail as it must. Returns
    the ARNs detached (none in mock mode, where each kernel starts with an empty account).
    """
    from helpers.iam import BASIC_EXECUTION_POLICY_ARN
    from helpers.iam.roles import attached_policy_arns
    from helpers.ownership import require_owned

    iam = account.client("iam")
    role = account.names.no_s3_role
    try:
        attached = attached_policy_arns(iam, role)
    except iam.exceptions.NoSuchEntityException:
        return []
    require_owned(account, "IAM role", role)
    extra = [arn for arn in attached if arn != BASIC_EXECUTION_POLICY_ARN]
    for arn in extra:
        iam.detach_role_policy(RoleName=role, PolicyArn=arn)
    return extra


def _until(call: Callable[[], Any], done: Callable[[Any], bool], timeout_s: float) -> Any:
    """``call()`` until ``done(answer)`` or ``timeout_s`` passed; the last answer."""
    deadline = time.monotonic() + timeout_s
    while True:
        answer = call()
        if done(answer) or time.monotonic() >= deadline:
            return answer
        time.sleep(3)
