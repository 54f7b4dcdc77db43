#!/usr/bin/env bash
# Idempotent setup: R (from apt when missing), .venv with the pinned packages (installed by uv, or
# by pip where uv cannot be had), the helpers package installed editable, and a check that rpy2
# really talks to R. Quick when everything is already there (a stamp in the venv).
#   SETUP_INSTALLER=auto|uv|pip  which installer (default auto); VENV=dir  another venv location
#   bash scripts/setup.sh --uv-settings   the index settings uv gets from this machine's pip config
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*"; }
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}    # another location for experiments and benchmarks/bench_setup.py; default .venv
STAMP=$VENV/.setup-stamp
# The installer of step 2. auto (default): uv, pinned below, fetched from the package index into
# $VENV/.setup-tools (not into the venv's packages, not into the system Python); pip when uv cannot
# be had. uv / pip: that route only (benchmarks/bench_setup.py compares them).
UV_VERSION=0.13.9      # the pinned uv: the one place it is named
SETUP_INSTALLER=${SETUP_INSTALLER:-auto}
case "$SETUP_INSTALLER" in
  auto | uv | pip) ;;
  *)
    printf '[setup] SETUP_INSTALLER=%s is not an installer setup knows: use uv, pip or auto (the default: uv %s, pip when uv cannot be installed).\n' \
      "$SETUP_INSTALLER" "$UV_VERSION" >&2
    exit 2
    ;;
esac
seconds() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(seconds)" 'BEGIN { printf "%.1f", b - a }'; }

# The two install routes of step 2 ---------------------------------------------------------------
quiet_pip() { # pip, without its notes about local indexes that lack a package
  "$VENV/bin/python" -m pip --disable-pip-version-check "$@" 2>&1 \
    | { grep -v "^WARNING: Location .* is ignored" || true; }
  return "${PIPESTATUS[0]}"
}

# uv reads neither pip.conf nor PIP_*: give it this machine's pip settings (pip's own view of its
# config files and environment), at run time, as UV_* / SSL_* variables. Anything already set wins.
uv_settings() { # prints export lines; `bash scripts/setup.sh --uv-settings` shows them
  # the venv's pip when it has one; else the chosen Python's (the uv route's venv has no pip until
  # uv installs it; without a pip of its own, that Python fetched no uv and with_pip gave the venv one)
  local python=$VENV/bin/python
  compgen -G "$VENV/lib/python*/site-packages/pip" >/dev/null || python=$PYTHON
  "$python" -I - <<'PY'
import ast, os, shlex, subprocess, sys
listed = subprocess.run([sys.executable, "-m", "pip", "config", "list"],
                        capture_output=True, text=True, check=False).stdout
found = {}  # pip's order of precedence: the environment, then [install], then [global]
rank = {":env:": 3, "install": 2, "global": 1}
for line in listed.splitlines():
    key, _, value = line.partition("=")
    section, _, name = key.rpartition(".")
    if section in rank and value:
        try:  # pip prints repr(value)
            value = ast.literal_eval(value)
        except (SyntaxError, ValueError):
            value = value.strip().strip("'\"")
        if rank[section] >= found.get(name, (0, ""))[0]:
            found[name] = (rank[section], value)
value = {name: v for name, (_, v) in found.items()}
words = lambda name: " ".join(value.get(name, "").split())
out = {
    "UV_DEFAULT_INDEX": value.get("index-url", ""),
    "UV_INDEX": words("extra-index-url"),
    "UV_FIND_LINKS": ",".join(value.get("find-links", "").split()),
    "UV_CONSTRAINT": words("constraint"),
    "UV_INSECURE_HOST": words("trusted-host"),
    "UV_HTTP_TIMEOUT": value.get("default-timeout", value.get("timeout", "")),
    "SSL_CERT_FILE": value.get("cert", ""),
    "SSL_CLIENT_CERT": value.get("client-cert", ""),
    "HTTPS_PROXY": value.get("proxy", ""),
    "HTTP_PROXY": value.get("proxy", ""),
    "UV_NO_INDEX": "1" if value.get("no-index", "").lower() in ("1", "true", "yes", "on") else "",
    # pip takes the best version from all its indexes; uv, by default, stops at the first index
    # that has the package: a local index with older releases would hide the pinned one.
    "UV_INDEX_STRATEGY": "unsafe-best-match",
    "UV_PYTHON_DOWNLOADS": "never",
    "UV_NO_PROGRESS": "1",
}
for name, v in out.items():
    if v and not os.environ.get(name):
        print(f"export {name}={shlex.quote(v)}")
PY
}

uv_bin=$VENV/.setup-tools/uv-$UV_VERSION/bin/uv
fetch_uv() { # the pinned uv into $VENV/.setup-tools with the chosen Python's own pip, if it has one
  rm -rf "$VENV/.setup-tools"
  mkdir -p "$VENV"
  "$PYTHON" -m pip --disable-pip-version-check install -q --no-deps \
    --target "$VENV/.setup-tools/uv-$UV_VERSION" "uv==$UV_VERSION" > "$VENV/.setup-uv.log" 2>&1
}
get_uv() { # the pinned uv, from the package index; 0 when it runs
  "$uv_bin" --version >/dev/null 2>&1 && return 0
  # fetch_uv ran already (started before step 1), else now; failing that, the venv's own pip
  # (ensurepip: with_pip), as the pip route has it
  if [ -z "${uv_fetch:-}" ]; then fetch_uv && "$uv_bin" --version >/dev/null 2>&1 && return 0; fi
  rm -rf "$VENV/.setup-tools"
  with_pip && quiet_pip install -q --no-deps --target "$VENV/.setup-tools/uv-$UV_VERSION" \
    "uv==$UV_VERSION" > "$VENV/.setup-uv.log" \
    || { tail -n 2 "$VENV/.setup-uv.log" | cut -c1-240 >&2; return 1; }
  "$uv_bin" --version >/dev/null 2>&1
}
with_pip() { # the venv gets pip from this Python's ensurepip, as `python -m venv` gives it
  [ -x "$VENV/bin/pip" ] || "$VENV/bin/python" -m ensurepip >/dev/null
}

install_with_pip() {
  say "installing pinned packages into $VENV with pip (a minute or two the first time)"
  local t
  t=$(seconds)
  with_pip || return 1
  # SETUP_PIP_LOG=file: pip's timestamped log (benchmarks/bench_setup.py reads it)
  quiet_pip install -q ${SETUP_PIP_LOG:+--progress-bar off --log "$SETUP_PIP_LOG"} -r requirements.lock || return 1
  t_lock=$(elapsed "$t"); t=$(seconds)
  quiet_pip install -q --no-deps --no-build-isolation -e . || return 1
  t_helpers=$(elapsed "$t")
}

uv_logged() { # uv, each line of its report with the time it was printed, appended to a log
  local log=$1
  shift
  env -u PYTHONDONTWRITEBYTECODE "$uv_bin" "$@" 2>&1 \
    | while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done >> "$log"
  return "${PIPESTATUS[0]}"
}

install_with_uv() {
  say "installing pinned packages into $VENV with uv $UV_VERSION (SETUP_INSTALLER=pip for pip)"
  local t settings pip_wanted=() log=$VENV/.setup-uv.log status=0
  t=$(seconds)
  settings=$(uv_settings) || return 1
  eval "$settings"
  # The venv is made without pip (ensurepip alone takes seconds); uv installs the pip version
  # ensurepip would have given it, from the index, with the lock.
  if ! compgen -G "$VENV/lib/python*/site-packages/pip" >/dev/null; then
    pip_wanted=("pip==$("$VENV/bin/python" -I -c 'import ensurepip; print(ensurepip.version())')") \
      || pip_wanted=(pip)
  fi
  # The lock in two parts: the tools no kernel imports (TOOLS: large downloads) go in last,
  # fetched meanwhile into uv's cache (a scratch --target), so that what a kernel imports can be
  # compiled while they download. --no-deps: the lock pins every package, so uv fetches exactly
  # those without resolving their dependencies again (a second of metadata requests); `uv pip
  # check` at the end confirms that they fit together. uv's report (resolved / prepared /
  # installed, each timed) goes to $log, each line with the time it was printed
  # (benchmarks/bench_setup.py reads it); its summary is shown.
  local tools=$VENV/.setup-lock-tools.txt rest=$VENV/.setup-lock-rest.txt
  grep -iE "^($TOOLS)==" requirements.lock > "$tools" || true
  grep -viE "^($TOOLS)==" requirements.lock > "$rest"
  : > "$log"
  uv_logged "$log.tools" pip install --python "$VENV/bin/python" --no-deps \
    --target "$VENV/.setup-tools-fetch" -r "$tools" &
  local fetch_tools=$!
  uv_logged "$log" pip install --python "$VENV/bin/python" --no-deps -r "$rest" "${pip_wanted[@]}" \
    || status=$?
  if [ "$status" != 0 ]; then
    wait "$fetch_tools" || true
    rm -rf "$VENV/.setup-tools-fetch" "$tools" "$rest"
    cut -d' ' -f2- "$log" | tail -n 25 >&2
    return 1
  fi
  t_lock=$(elapsed "$t"); t=$(seconds)
  # No --compile-bytecode: compiling all ~12,000 modules up front took longer than the whole
  # install (benchmarks/bench_setup.py). What a notebook kernel imports is compiled now, once, so
  # that a first kernel is as quick as after pip (which compiles everything), even where
  # PYTHONDONTWRITEBYTECODE=1 stops Python writing .pyc files later (the Makefile unexports it; a
  # shell of one's own may not). Two processes share the two halves (and the cores); one of them
  # is step 3's check that rpy2 talks to R. helpers/ is imported from this checkout while uv
  # installs it editable, and the tools, meanwhile.
  local check=$VENV/.setup-check.$$
  env -u PYTHONDONTWRITEBYTECODE "$VENV/bin/python" -c "$KERNEL_IMPORTS_R" > "$check" 2>/dev/null &
  local r_imports=$!
  env -u PYTHONDONTWRITEBYTECODE "$VENV/bin/python" -c "$KERNEL_IMPORTS_AWS" >/dev/null 2>&1 &
  local aws_imports=$!
  "$uv_bin" pip install -q --python "$VENV/bin/python" --no-deps --no-build-isolation -e . \
    >> "$log" 2>&1 || status=$?
  # the tools from uv's cache (or fetched now, if fetching them meanwhile failed), then the check
  wait "$fetch_tools" || true
  rm -rf "$VENV/.setup-tools-fetch"
  [ "$status" != 0 ] || uv_logged "$log" pip install --python "$VENV/bin/python" --no-deps -r "$tools" \
    || status=$?
  [ "$status" != 0 ] || uv_logged "$log" pip check --python "$VENV/bin/python" || status=$?
  # a half that failed runs again, now that everything is in (it may have needed a tool); the
  # check's own failure is reported by step 3, which runs it again when this did not pass
  wait "$aws_imports" || env -u PYTHONDONTWRITEBYTECODE "$VENV/bin/python" -c "$KERNEL_IMPORTS_AWS" \
    >/dev/null 2>&1 || say "note: importing what a kernel imports (AWS side) failed"
  if wait "$r_imports" || env -u PYTHONDONTWRITEBYTECODE "$VENV/bin/python" -c "$KERNEL_IMPORTS_R" \
    > "$check" 2>/dev/null; then
    rpy2_version=$(tail -n 1 "$check")
  fi
  rm -f "$check" "$tools" "$rest"
  if [ "$status" != 0 ]; then
    cut -d' ' -f2- "$log" | tail -n 25 >&2
    return 1
  fi
  say "uv: $(cut -d' ' -f2- "$log" | grep -E '^(Resolved|Prepared|Installed|Checked) ' | paste -sd ';' | sed 's/;/; /g')"
  t_helpers=$(elapsed "$t")
}
# The lock's largest downloads with few files that no notebook kernel imports (JupyterLab,
# Playwright with its driver, ruff's binary): installed last (install_with_uv). Fetching a package
# meanwhile costs a second install of its files (the scratch --target): packages of thousands of
# small files (awscli, jedi, cfn-lint, sympy) were no faster so. A name missing here costs time only.
TOOLS="playwright|jupyterlab|ruff"
RPY2_CHECK='import rpy2.robjects as ro; assert ro.r("1 + 1")[0] == 2
from importlib.metadata import version; print(version("rpy2"))'
KERNEL_IMPORTS_R="import pandas, matplotlib.pyplot, ipykernel.kernelapp, nbclient
$RPY2_CHECK"
KERNEL_IMPORTS_AWS="import boto3, moto.server, helpers.session, helpers.deploy, helpers.invoke, \
helpers.calls, helpers.mock.account"

if [ "${1:-}" = --uv-settings ]; then # what uv gets from this machine's pip settings
  uv_settings
  exit
fi

# A fresh or stale venv and uv wanted: uv is fetched meanwhile (step 2 waits for it) --------------
want=$(cat requirements.lock pyproject.toml | sha256sum | cut -c1-16)
uv_fetch=
if [ "$SETUP_INSTALLER" != pip ] && [ "$(cat "$STAMP" 2>/dev/null || true)" != "$want" ] \
  && ! "$uv_bin" --version >/dev/null 2>&1; then
  fetch_uv &
  uv_fetch=$!
  trap 'kill "$uv_fetch" 2>/dev/null || true' EXIT # when setup stops before step 2
fi

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

# 1b. What the series uses beside Python and R, from apt when missing and we may (root, or sudo);
#     without one, setup goes on and says what will not work.
install_optional() { # package, what it is for, what happens without it, [apt-get flags]
  local package=$1 why=$2 without=$3
  shift 3
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    say "installing $package ($why)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" "$package" >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" "$package" >/dev/null; } \
      || say "$package could not be installed: $without"
  elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1; then
    say "installing $package with sudo ($why)"
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" "$package" >/dev/null \
      || say "$package could not be installed: $without"
  else
    say "$package is not installed: $without"
  fi
}
# bubblewrap: the mock account's sandbox for zip functions (Linux; optional elsewhere)
if [ "$(uname -s)" = Linux ] && ! command -v bwrap >/dev/null 2>&1; then
  install_optional bubblewrap "the mock account's sandbox for functions" \
    "functions will run unsandboxed (docs/mock-account.md)" --no-install-recommends
fi
# curl: notebook 9 calls the API with it, as a learner would (its stored output shows curl's answer)
if ! command -v curl >/dev/null 2>&1; then
  install_optional curl "notebook 9 calls the API with it" \
    "notebook 9 says so instead of showing curl's answer (install curl)" --no-install-recommends
fi
# chromium-headless-shell: notebook 10 drives the web page in a real browser (Debian's Chromium
# build for automation, through Playwright; about half the CPU of `chromium --headless` per page,
# benchmarks/bench_browser.py). helpers/browser.py falls back to chromium where it is missing.
if [ "$(uname -s)" = Linux ] && ! command -v chromium-headless-shell >/dev/null 2>&1 \
  && [ -z "${SERIES_CHROMIUM:-}" ]; then
  install_optional chromium-headless-shell "notebook 10 opens the web page in it; once" \
    "notebook 10 needs it or chromium (sudo apt-get install chromium-headless-shell, or SERIES_CHROMIUM=path)"
  if ! command -v chromium-headless-shell >/dev/null 2>&1 && ! command -v chromium >/dev/null 2>&1; then
    install_optional chromium "notebook 10 opens the web page in it, headless; once" \
      "notebook 10 needs it (sudo apt-get install chromium, or SERIES_CHROMIUM=path)"
  fi
fi

# 2. .venv with pinned packages ------------------------------------------------------------------
# Both routes: the venv is made by this Python's own venv module, the same requirements.lock goes
# in with its pins, sdists (rpy2-rinterface) are built in ABI mode in an isolated build environment,
# helpers/ is installed editable with the venv's own setuptools (no network), and the venv has pip
# (learners may `pip install`). The pip route is the classic one: `python -m venv` with ensurepip,
# pip installs. The uv route makes the venv without ensurepip (uv adds the same pip, in parallel
# with the rest) and is faster: parallel downloads, no second resolver pass over a complete lock,
# and .pyc files written for what a notebook kernel imports rather than for every module (pip
# compiles all ~12,000 at install).
export RPY2_CFFI_MODE=${RPY2_CFFI_MODE:-ABI}
t_setup=$(seconds)
if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV with $($PYTHON --version)"
  if [ "$SETUP_INSTALLER" = pip ]; then
    "$PYTHON" -m venv "$VENV"
  else # pip comes with the packages (install_with_uv), or from ensurepip if it falls back (with_pip)
    "$PYTHON" -m venv --without-pip "$VENV"
  fi
fi
t_venv=$(elapsed "$t_setup")

if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$want" ]; then
  route=$SETUP_INSTALLER
  t_uv=0 t_lock=0 t_helpers=0 rpy2_version=
  if [ "$route" != pip ]; then
    t=$(seconds)
    [ -z "$uv_fetch" ] || wait "$uv_fetch" || true # get_uv below says why it failed, if it did
    if get_uv; then
      route=uv
    elif [ "$route" = uv ]; then
      say "stop: uv $UV_VERSION could not be installed from the package index (above); SETUP_INSTALLER=pip installs with pip" >&2
      exit 1
    else
      say "uv $UV_VERSION could not be installed from the package index (above): installing with pip instead (slower)"
      route=pip
    fi
    t_uv=$(elapsed "$t")
  fi
  if [ "$route" = uv ] && ! install_with_uv; then
    if [ "$SETUP_INSTALLER" = uv ]; then
      say "stop: uv could not install requirements.lock (above); SETUP_INSTALLER=pip installs with pip" >&2
      exit 1
    fi
    say "uv could not install requirements.lock (above): installing with pip instead (slower)"
    route=pip
    rpy2_version=
  fi
  if [ "$route" = pip ] && ! install_with_pip; then
    say "stop: pip could not install requirements.lock (above)" >&2
    exit 1
  fi
  echo "$want" > "$STAMP"
  say "installed with $route in $(elapsed "$t_setup") s: venv $t_venv s, uv $t_uv s, requirements.lock $t_lock s, helpers $t_helpers s"
else
  say "$VENV is up to date"
fi

# 3. rpy2 really talks to R (the uv route checked it while compiling a kernel's imports) -----------
if [ -z "${rpy2_version:-}" ] && ! rpy2_version=$("$VENV/bin/python" -c "$RPY2_CHECK" 2>/tmp/rpy2-check.$$); then
  cat /tmp/rpy2-check.$$ >&2; rm -f /tmp/rpy2-check.$$
  printf '[setup] rpy2 could not talk to R. Run `%s/bin/python -m rpy2.situation` to see which R it found.\n' "$VENV" >&2
  cat >&2 <<'MSG'
        Usual causes: an R outside the range the rpy2 pins are tested for (the rule and what to do:
        docs/other-machines.md; README, "When R or rpy2 misbehave"), or R_HOME pointing to another R.
MSG
  exit 1
fi
rm -f /tmp/rpy2-check.$$
say "rpy2 $rpy2_version talks to R: ok"
