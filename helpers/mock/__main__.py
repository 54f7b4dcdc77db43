"""``python -m helpers.mock``: run the mock account in the foreground for a terminal.

Prints ``NAME=value`` lines ready for ``export`` (or ``eval "$(…)"`` from another shell's copy),
then serves until Ctrl-C or SIGTERM and shuts down cleanly (workers killed, port freed).

The secret key in those lines is the account root's, drawn afresh at every start: printing it
here, to the terminal of whoever started the account, is the only way it leaves this process.
Whoever has the lines is the account's root until it stops; do not paste them where others read.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .account import MockAccount


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.mock", description=__doc__)
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="schedule clock speed (60: a minute per second)",
    )
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=300.0,
        help="seconds an idle execution environment stays warm",
    )
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument(
        "--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)"
    )
    args = parser.parse_args(argv)

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    account = MockAccount(
        time_scale=args.time_scale,
        idle_timeout_s=args.idle_timeout,
        region=args.region,
        port=args.port,
    )
    account.start()
    try:
        for name, value in account.environment().items():
            print(f"{name}={value}")
        print(f"# mock AWS account {account.account_id} serving; Ctrl-C to stop", file=sys.stderr)
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        account.stop()
        print("# mock AWS account stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
