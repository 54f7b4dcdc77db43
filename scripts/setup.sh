#!/usr/bin/env bash
# Idempotent setup: R (from apt when missing), .venv with the pinned packages, the helpers package
# installed editable, and a check that rpy2 really talks to R. Quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*"; }
PYTHON=${PYTHON:-python3}
VENV=.venv
STAMP=$VENV/.setup-stamp

# 1. R -------------------------------------------------------------------------------------------
if ! command -v R >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    say "R is missing: installing r-base-core with apt-get (about 30 MB)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends r-base-core gcc >/dev/null
  elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1; then
    say "R is missing: installing r-base-core with sudo apt-get (about 30 MB)"
    sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends r-base-core gcc >/dev/null
  else
    cat >&2 <<'MSG'
[setup] R was not found and apt-get is not usable here.
        Install R >= 4.2 yourself, or use conda:  conda env create -f environment.yml && conda activate r-lambda-series
        then run this command again (with R on PATH).
MSG
    exit 1
  fi
fi
say "R: $(R --version | head -n 1)"

# 1a. R and Python in the ranges the pins are tested for (helpers/toolchain.py states the rule;
#     stdlib only, so it runs before .venv exists). Out of range: a message saying what to do.
#     The Python checked is the one .venv has, or will be created with.
venv_python=$PYTHON
[ -x "$VENV/bin/python" ] && venv_python=$VENV/bin/python
r_version=$(Rscript --vanilla -e 'cat(as.character(getRversion()))' 2>/dev/null || true)
"$venv_python" -I helpers/toolchain.py r "${r_version:-unknown}" || exit 1
"$venv_python" -I helpers/toolchain.py python "$("$venv_python" -c 'import platform; print(platform.python_version())')" || exit 1

# 1b. bubblewrap: the mock account's sandbox for zip functions (Linux; optional elsewhere) ---------
if [ "$(uname -s)" = Linux ] && ! command -v bwrap >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    say "installing bubblewrap (the mock account's sandbox for functions)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null; } \
      || say "bubblewrap could not be installed: functions will run unsandboxed (docs/mock-account.md)"
  elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1; then
    say "installing bubblewrap with sudo (the mock account's sandbox for functions)"
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null \
      || say "bubblewrap could not be installed: functions will run unsandboxed (docs/mock-account.md)"
  else
    say "bubblewrap is not installed: functions will run unsandboxed (docs/mock-account.md)"
  fi
fi

# 2. .venv with pinned packages ------------------------------------------------------------------
want=$(cat requirements.lock pyproject.toml | sha256sum | cut -c1-16)
if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV with $($PYTHON --version)"
  "$PYTHON" -m venv "$VENV"
fi
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$want" ]; then
  say "installing pinned packages into $VENV (a minute or two the first time)"
  pip_quiet() { "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$@" 2>&1 \
      | { grep -v "^WARNING: Location .* is ignored" || true; }; return "${PIPESTATUS[0]}"; }
  pip_quiet -r requirements.lock
  pip_quiet --no-deps --no-build-isolation -e .
  echo "$want" > "$STAMP"
else
  say "$VENV is up to date"
fi

# 3. rpy2 really talks to R ----------------------------------------------------------------------
export RPY2_CFFI_MODE=${RPY2_CFFI_MODE:-ABI}
if ! "$VENV/bin/python" -c 'import rpy2.robjects as ro; assert ro.r("1 + 1")[0] == 2' 2>/tmp/rpy2-check.$$; then
  cat /tmp/rpy2-check.$$ >&2; rm -f /tmp/rpy2-check.$$
  cat >&2 <<'MSG'
[setup] rpy2 could not talk to R. Run `.venv/bin/python -m rpy2.situation` to see which R it found.
        Usual causes: an R outside the range the rpy2 pins are tested for (the rule and what to do:
        docs/other-machines.md; README, "When R or rpy2 misbehave"), or R_HOME pointing to another R.
MSG
  exit 1
fi
rm -f /tmp/rpy2-check.$$
say "rpy2 $("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("rpy2"))') talks to R: ok"
