"""The steps of the IAM lessons (notebooks 3 and 4) that take more than a few lines.

Notebook 3 gives a learner user permanent credentials that live only as long as one cell, sees
the deprecated 2017 user policy refused, attaches a read-only one that is all its key needs, and
assumes a short-lived demo role for temporary credentials.
Notebook 4 lints the broken policies and checks the learner's fix of one of them. Everything
takes boto3 clients or sessions (or the connected account), so mock and live mode run the same
code; the retries only wait in a live account, where a new key, role or attachment takes a few
seconds to apply.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions
import pandas as pd

from helpers.config import Names
from helpers.iam import (
    PermanentCredentials,
    TemporaryCredentials,
    assume_role_credentials,
    available_policies,
    create_user_with_access_key,
    delete_user,
    evaluate,
    evaluate_trust,
    key_kind,
    lint_policy,
    load_policy,
    mask_key_id,
)
from helpers.iam.errors import IamStateError
from helpers.iam.findings import ERROR, Finding
from helpers.least_privilege import DENIED_CODES
from helpers.ownership import require_owned
from helpers.session import Account

# The 2017 author's user policies and what replaces each today (aws-facts.md, IAM).
USER_POLICIES_2017 = (
    "AWSLambdaFullAccess",
    "AmazonAPIGatewayAdministrator",
    "AmazonCognitoPowerUser",
)
REPLACEMENTS = {"AWSLambdaFullAccess": "AWSLambda_FullAccess"}
USER_POLICIES_TODAY = tuple(REPLACEMENTS.get(name, name) for name in USER_POLICIES_2017)
# What notebook 3 attaches to the learner: its key only lists Lambda functions, so read-only
# suffices. AWSLambda_FullAccess would also let the key create and change functions and pass
# (iam:PassRole) any role of the account to them — run code with that role's permissions.
LEARNER_POLICY = "AWSLambda_ReadOnlyAccess"

DEMO_ROLE_SUFFIX = "Demo"
# What parliament reports when a statement is accepted by IAM but does not do what was meant.
_SILENT_MISTAKES = ("UNKNOWN_ACTION", "RESOURCE_MISMATCH")


def managed_policy_arn(name: str, partition: str = "aws") -> str:
    """``AWSLambda_FullAccess`` -> ``arn:aws:iam::aws:policy/AWSLambda_FullAccess``."""
    return f"arn:{partition}:iam::aws:policy/{name}"


def _error_text(error: botocore.exceptions.ClientError) -> str:
    details = error.response.get("Error", {})
    return f"{details.get('Code', '?')}: {details.get('Message', '')}".strip()


def attach_user_policies(iam: Any, user_name: str, policy_names: Sequence[str]) -> pd.DataFrame:
    """Attach each AWS managed policy to the user; one row each: attached, or IAM's refusal.

    A refusal is a row, not an exception, so a notebook can show the deprecated
    ``AWSLambdaFullAccess`` being refused next to the policies that attach.
    """
    rows = []
    for name in policy_names:
        arn = managed_policy_arn(name)
        try:
            iam.attach_user_policy(UserName=user_name, PolicyArn=arn)
            result, message = "attached", ""
        except botocore.exceptions.ClientError as error:
            result, message = "refused", _error_text(error)
        rows.append({"policy": name, "result": result, "IAM says": message})
    return pd.DataFrame(rows).set_index("policy")


@contextmanager
def learner_access_key(account: Account) -> Iterator[PermanentCredentials]:
    """The learner user (``names.user_name``) with a new access key that lives only as long as
    the ``with`` block.

    A user left by an earlier run is deleted first (if it is this learner's: a re-run starts
    from scratch, without keys a killed kernel left behind); the new one carries the account's
    tags. When the block ends — normally or by an error — the key is deleted and the policies
    attached to the user are removed, so a failure half-way leaves no usable permanent key. The
    user itself stays (notebook 11 deletes it).
    """
    iam, user_name = account.client("iam"), account.names.user_name
    require_owned(account, "IAM user", user_name)
    delete_user(iam, user_name)
    try:
        yield create_user_with_access_key(iam, user_name, tags=account.tags)
    finally:
        _strip_user(iam, user_name)


def _strip_user(iam: Any, user_name: str) -> None:
    """Delete the user's access keys and remove its policies; the user stays."""
    try:
        keys = iam.list_access_keys(UserName=user_name)["AccessKeyMetadata"]
    except iam.exceptions.NoSuchEntityException:
        return  # creating the user failed: nothing to remove
    for key in keys:
        iam.delete_access_key(UserName=user_name, AccessKeyId=key["AccessKeyId"])
    for policy in iam.list_attached_user_policies(UserName=user_name)["AttachedPolicies"]:
        iam.detach_user_policy(UserName=user_name, PolicyArn=policy["PolicyArn"])
    for policy_name in iam.list_user_policies(UserName=user_name)["PolicyNames"]:
        iam.delete_user_policy(UserName=user_name, PolicyName=policy_name)


def managed_policy_document(iam: Any, name: str) -> dict[str, Any]:
    """The current (default version's) document of an AWS managed policy, read from IAM."""
    arn = managed_policy_arn(name)
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    return json.loads(document) if isinstance(document, str) else document


def policies_today(iam: Any) -> pd.DataFrame:
    """The 2017 user policies, today's name of each, and whether IAM has it (read-only calls)."""
    rows = []
    for old_name in USER_POLICIES_2017:
        name = REPLACEMENTS.get(old_name, old_name)
        try:
            found = iam.get_policy(PolicyArn=managed_policy_arn(name))["Policy"]
            exists, attachable = "yes", "yes" if found.get("IsAttachable", True) else "no"
        except botocore.exceptions.ClientError as error:
            exists, attachable = _error_text(error), "no"
        rows.append(
            {"2017 policy": old_name, "today": name, "exists": exists, "attachable": attachable}
        )
    return pd.DataFrame(rows).set_index("2017 policy")


def learner_requests(names: Names, account_id: str) -> list[tuple[str, str, str]]:
    """(label, action, resource): what the learner's key does, and what a key must never do."""
    role_arn = f"arn:aws:iam::{account_id}:role/{names.role_name}"
    function_arn = f"arn:aws:lambda:*:{account_id}:function:{names.function_name}"
    return [
        ("list functions (the lesson's call)", "lambda:ListFunctions", "*"),
        ("change a function's code", "lambda:UpdateFunctionCode", function_arn),
        ("create a function", "lambda:CreateFunction", function_arn),
        ("pass a role to Lambda", "iam:PassRole", role_arn),
    ]


def compare_policies(
    documents: Mapping[str, Mapping[str, Any]], requests: Sequence[tuple[str, str, str]]
) -> pd.DataFrame:
    """The local evaluator's decision for each request (rows) under each policy (columns).

    ``iam:PassRole`` is evaluated as passing the role to Lambda (``iam:PassedToService``), the
    way ``CreateFunction`` passes the function's role.
    """
    context = {"iam:PassedToService": "lambda.amazonaws.com"}
    table = {
        label: [
            evaluate(action, resource, dict(document), context=context).decision
            for _, action, resource in requests
        ]
        for label, document in documents.items()
    }
    return pd.DataFrame(table, index=pd.Index([r[0] for r in requests], name="request"))


def demo_role_name(names: Names) -> str:
    """The short-lived role of notebook 3 (``ServerlessPOCDemo``, with the live prefix)."""
    return f"{names.role_name}{DEMO_ROLE_SUFFIX}"


def account_trust_policy(account_id: str, partition: str = "aws") -> dict[str, Any]:
    """A trust policy naming the account: IAM principals of the account whose own policies allow
    ``sts:AssumeRole`` on the role may assume it (the account delegates the decision to them)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TrustThisAccount",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def assume_when_ready(
    sts: Any,
    role_arn: str,
    session_name: str,
    *,
    attempts: int = 10,
    delay_s: float = 2.0,
    duration_seconds: int = 900,
) -> TemporaryCredentials:
    """``assume_role_credentials``, retried while a just-created role is not yet assumable.

    In a live account a new role (or a changed trust policy) takes a few seconds to apply; the
    mock account answers at once, so there it never waits.
    """
    for attempt in range(attempts):
        try:
            return assume_role_credentials(
                sts, role_arn, session_name, duration_seconds=duration_seconds
            )
        except IamStateError:
            if attempt == attempts - 1:
                raise
            time.sleep(delay_s)
    raise AssertionError("unreachable")  # pragma: no cover


def credentials_table(**credentials: PermanentCredentials | TemporaryCredentials) -> pd.DataFrame:
    """Permanent and temporary credentials side by side, with every secret left out.

    Columns: access key id (masked), what its prefix says, secret, session token, expires.
    """
    rows = []
    for label, creds in credentials.items():
        temporary = isinstance(creds, TemporaryCredentials)
        rows.append(
            {
                "credentials": label,
                "access key id": mask_key_id(creds.access_key_id),
                "kind": key_kind(creds.access_key_id),
                "secret access key": "(hidden)",
                "session token": "yes (hidden)" if temporary else "none",
                "expires": creds.expiration.isoformat()
                if temporary
                else "never (until the key is deleted)",
            }
        )
    return pd.DataFrame(rows).set_index("credentials")


def call_outcome(call: Callable[[], Any]) -> str:
    """Make one real request: ``allowed``, ``denied (<code>)``, or the other error code AWS
    answered (e.g. ``InvalidClientTokenId`` for a deleted key)."""
    try:
        call()
    except botocore.exceptions.ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", "error"))
        return f"denied ({code})" if code in DENIED_CODES else code
    return "allowed"


def outcome_when_settled(
    call: Callable[[], Any],
    expected: str,
    *,
    attempts: int = 15,
    delay_s: float = 2.0,
) -> str:
    """``call_outcome``, retried until it starts with ``expected`` (``allowed``/``denied``).

    For live accounts, where a new access key or a just-attached policy works only after a few
    seconds; in the mock account the first answer is final. Returns the last outcome, so a
    notebook's assert shows what really happened if it never settles.
    """
    outcome = call_outcome(call)
    for _ in range(attempts - 1):
        if outcome.startswith(expected):
            break
        time.sleep(delay_s)
        outcome = call_outcome(call)
    return outcome


def trust_table(
    trust_policies: Mapping[str, Mapping[str, Any]], principals: Sequence[str]
) -> pd.DataFrame:
    """Who may assume which role: one row per principal, one column per trust policy, each cell
    the local evaluator's decision for ``sts:AssumeRole`` (trust policies only; the caller's own
    identity policy must allow ``sts:AssumeRole`` too when the trust policy names an account)."""
    table = {
        label: [evaluate_trust(dict(document), principal).decision for principal in principals]
        for label, document in trust_policies.items()
    }
    return pd.DataFrame(table, index=pd.Index(list(principals), name="principal"))


# --------------------------------------------------------------------------- notebook 4


def policy_kind(name: str) -> str:
    """The kind a policy file is meant as: ``trust`` when its name says so, else ``identity``."""
    return "trust" if "trust" in name.rsplit("/", 1)[-1] else "identity"


def findings_by_policy(policies: Mapping[str, tuple[Mapping[str, Any], str]]) -> pd.DataFrame:
    """``lint_policy`` on each ``{label: (document, kind)}``, as one table with a policy column.

    A policy without findings still gets a row (issue ``-``), so the table shows it was checked.
    """
    rows = []
    for label, (document, kind) in policies.items():
        findings = lint_policy(dict(document), kind)  # type: ignore[arg-type]
        if not findings:
            rows.append(
                {
                    "policy": label,
                    "source": "-",
                    "issue": "-",
                    "severity": "-",
                    "detail": "no findings",
                }
            )
        for f in findings:
            rows.append(
                {
                    "policy": label,
                    "source": f.source,
                    "issue": f.issue,
                    "severity": f.severity,
                    "detail": f.detail,
                }
            )
    return pd.DataFrame(rows, columns=["policy", "source", "issue", "severity", "detail"])


def broken_policies_report(names: Names | None = None) -> pd.DataFrame:
    """One row per file in ``policies/broken/``: its kind and what the linters find.

    ``grammar`` and ``parliament`` list the issue codes each tool reports; ``errors`` says
    whether any is an ERROR (IAM would reject or misread the document).
    """
    rows = []
    for name in available_policies():
        if not name.startswith("broken/"):
            continue
        kind = policy_kind(name)
        findings = lint_policy(load_policy(name, names), kind)  # type: ignore[arg-type]
        rows.append(
            {
                "file": name.removeprefix("broken/") + ".json",
                "kind": kind,
                "grammar": ", ".join(f.issue for f in findings if f.source == "grammar") or "-",
                "parliament": ", ".join(f.issue for f in findings if f.source == "parliament")
                or "-",
                "errors": any(f.severity == ERROR for f in findings),
            }
        )
    return pd.DataFrame(rows).set_index("file")


@dataclass(frozen=True)
class ExerciseStatus:
    """Whether the learner's policy does the job: lint-clean, reads the model, nothing more."""

    fixed: bool
    problems: tuple[str, ...]
    findings: tuple[Finding, ...] = field(default=(), repr=False)

    def __str__(self) -> str:
        if self.fixed:
            return "Fixed: no linter findings, the model is readable, and nothing else is allowed."
        return "Not fixed yet:\n" + "\n".join(f"- {problem}" for problem in self.problems)


def exercise_status(document: Mapping[str, Any], names: Names) -> ExerciseStatus:
    """Check a fix of a broken ServerlessPOC policy without raising, whatever the document holds.

    Fixed means: no grammar ERROR, none of parliament's "accepted but wrong" findings, the local
    evaluator allows ``s3:GetObject`` on the model, and denies overwriting it.
    """
    model_arn = f"arn:aws:s3:::{names.models_bucket}/{names.model_key}"
    findings = tuple(lint_policy(dict(document), "identity"))
    problems = [
        f"{f.source} {f.issue}: {f.detail}"
        for f in findings
        if f.severity == ERROR or f.issue in _SILENT_MISTAKES
    ]
    if not any(f.severity == ERROR for f in findings):
        read = evaluate("s3:GetObject", model_arn, dict(document))
        if not read.allowed:
            problems.append(f"reading the model is not allowed: {read.explanation}")
        write = evaluate("s3:PutObject", model_arn, dict(document))
        if write.allowed:
            problems.append(
                "overwriting the model is allowed too: that is more than the function needs"
            )
    return ExerciseStatus(not problems, tuple(problems), findings)
