#!/usr/bin/env bash
# CI's run of the live path: `make live-check` in live mode against a freshly started mock account.
#
# Starts `python -m helpers.mock` in the background, exports the NAME=value lines it prints
# (AWS_ENDPOINT_URL, the account's root key, the region), runs
# `SERIES_MODE=live SERIES_PREFIX=ci SERIES_LIVE_CREATE=yes make live-check`, stops the account
# (also on failure or Ctrl-C) and exits with live-check's status. SERIES_PREFIX may be given.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export RPY2_CFFI_MODE=${RPY2_CFFI_MODE:-ABI}

scratch=$(mktemp -d)
account_pid=""
stop_account() {
    if [ -n "$account_pid" ] && kill -0 "$account_pid" 2>/dev/null; then
        kill -TERM "$account_pid" && wait "$account_pid" 2>/dev/null
    fi
    rm -rf "$scratch"
}
trap stop_account EXIT
trap 'exit 130' INT TERM

"$PY" -m helpers.mock >"$scratch/variables" 2>"$scratch/log" &
account_pid=$!
for _ in $(seq 120); do  # the account prints its lines once it serves (a few seconds)
    grep -q '^AWS_DEFAULT_REGION=' "$scratch/variables" && break
    if ! kill -0 "$account_pid" 2>/dev/null; then
        echo "[live-check-mock] the mock account did not start:" >&2
        cat "$scratch/log" >&2
        exit 1
    fi
    sleep 0.5
done
if ! grep -q '^AWS_DEFAULT_REGION=' "$scratch/variables"; then
    echo "[live-check-mock] the mock account printed no variables within 60 s" >&2
    exit 1
fi
set -a
# shellcheck disable=SC1091
. "$scratch/variables"
set +a
echo "[live-check-mock] mock account at $AWS_ENDPOINT_URL (pid $account_pid)"

SERIES_MODE=live SERIES_PREFIX=${SERIES_PREFIX:-ci} SERIES_LIVE_CREATE=yes make live-check
status=$?
echo "[live-check-mock] make live-check exited with $status"
exit "$status"
