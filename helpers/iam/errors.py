"""Exceptions of the IAM helpers.

Each message says what happened, why it matters and what to do, because the reader is usually
a learner looking at a notebook traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from helpers.iam.findings import Finding


class IamHelperError(Exception):
    """Base class, so a notebook can catch every IAM helper error at once."""


class PolicyFileError(IamHelperError):
    """A policy file is missing or is not valid JSON."""


class PolicyGrammarError(IamHelperError):
    """A policy breaks the IAM policy grammar, so IAM would refuse it; ``findings`` lists why."""

    def __init__(self, message: str, findings: Sequence[Finding]) -> None:
        super().__init__(message)
        self.findings = tuple(findings)


class UnsupportedConditionError(IamHelperError):
    """The local evaluator met a Condition it cannot evaluate; it refuses to guess."""


class IamStateError(IamHelperError):
    """The account is in a state the helper cannot fix alone (limits, missing managed policies)."""
