"""``python -m helpers.participant_policy --prefix NAME``: print (and save) the policy."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from helpers.config import (
    ConfigurationError,
    _clean_prefix,
)
from helpers.participant.policy import MANAGED_POLICY_LIMIT, policy_size
from helpers.participant.recording import generate, sources_table
from helpers.participant.simulator import save_requests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Print the IAM policy a workshop participant needs for the series."
    )
    parser.add_argument("--prefix", default=os.environ.get("SERIES_PREFIX", ""))
    parser.add_argument("--account-id", default="*", help="pin ARNs to one account (default *)")
    parser.add_argument("--region", default="*", help="pin ARNs to one region (default *)")
    parser.add_argument(
        "--sources", action="store_true", help="also print each action's calls (on stderr)"
    )
    parser.add_argument("--output", type=Path, help="also write the policy JSON to this file")
    args = parser.parse_args(argv)
    try:
        prefix = _clean_prefix(args.prefix)
        if not prefix:
            raise ConfigurationError(
                "Say whose policy it is: --prefix NAME (the participant's SERIES_PREFIX), e.g. "
                "`python -m helpers.participant_policy --prefix ann`."
            )
    except ConfigurationError as error:
        print(f"[participant-policy] {error}", file=sys.stderr)
        return 2
    print(
        f"[participant-policy] recording the series' calls on a private mock account "
        f"(about half a minute) for prefix {prefix!r}",
        file=sys.stderr,
    )
    policy, _ = generate(prefix, args.account_id, args.region)
    try:  # for `make doctor`, which checks the policy's actions without recording them
        from helpers.doctor import REQUESTS_CACHE

        save_requests(policy.requests, REQUESTS_CACHE)
    except OSError:
        pass
    if args.sources:
        print(sources_table(policy), file=sys.stderr)
    text = json.dumps(policy.document, indent=2)
    print(text)
    size = policy_size(policy.document)
    verdict = (
        "fits one managed policy"
        if size <= MANAGED_POLICY_LIMIT
        else "too big for one managed policy: split its statements into two"
    )
    print(
        f"[participant-policy] {size:,} characters without white space; a managed policy may "
        f"have {MANAGED_POLICY_LIMIT:,}: {verdict}",
        file=sys.stderr,
    )
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n")
        print(f"[participant-policy] written to {args.output}", file=sys.stderr)
    return 0
