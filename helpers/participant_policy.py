"""The IAM policy a workshop participant needs: ``python -m helpers.participant_policy --prefix ann``.

The work is in :mod:`helpers.participant` (one concern a module: ``actions`` maps operations to
IAM actions, ``requests`` finds the resource a request acts on, ``policy`` scopes and builds the
document, ``steps`` are the series' steps as the notebooks make them, ``recording`` runs them
on a private mock account and keeps every call, ``simulator`` serves
``make doctor``, ``cli`` prints it); this module is its entry point and keeps its names together.
"""

from __future__ import annotations

import sys

from helpers.participant.actions import (
    ACCOUNT_WIDE,
    ACTION_TABLE,
    LAMBDA_SERVICE,
    LIVE_ONLY_CALLS,
    PUSH_ACTIONS,
    RECORDING_PREFIX,
    ActionRule,
    iam_actions,
)
from helpers.participant.cli import main
from helpers.participant.policy import (
    MANAGED_POLICY_LIMIT,
    STATEMENT_IDS,
    ParticipantPolicy,
    Scope,
    UnscopedCall,
    build_policy,
    policy_size,
)
from helpers.participant.recording import (
    Recording,
    StepResult,
    generate,
    live_style_account,
    log_writer,
    record_series,
    run_series,
    series_steps,
    sources_table,
)
from helpers.participant.requests import Request, _resource, requests_of
from helpers.participant.simulator import cached_requests, save_requests, simulate_for

__all__ = [
    "ACCOUNT_WIDE",
    "ACTION_TABLE",
    "LAMBDA_SERVICE",
    "LIVE_ONLY_CALLS",
    "MANAGED_POLICY_LIMIT",
    "PUSH_ACTIONS",
    "RECORDING_PREFIX",
    "STATEMENT_IDS",
    "ActionRule",
    "ParticipantPolicy",
    "Recording",
    "Request",
    "Scope",
    "StepResult",
    "UnscopedCall",
    "_resource",
    "build_policy",
    "cached_requests",
    "generate",
    "iam_actions",
    "live_style_account",
    "log_writer",
    "main",
    "policy_size",
    "record_series",
    "requests_of",
    "run_series",
    "save_requests",
    "series_steps",
    "simulate_for",
    "sources_table",
]

if __name__ == "__main__":
    sys.exit(main())
