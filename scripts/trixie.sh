#!/usr/bin/env bash
# `make test-trixie`: the series on another machine. A clean clone of HEAD runs in a Debian 13
# (trixie: Python 3.13, R 4.5) container made from Debian packages, through the README's own
# commands (`make series`, `make test`, each running scripts/setup.sh from scratch).
#
#   scripts/trixie.sh [all|test|series|shell]     (default: all = series, then test)
#
# Needs a Docker engine (`make engine`) and mmdebstrap. The base image is built once per package
# list (its tag is a hash of suite + packages) from the Debian mirror this machine's apt uses, or
# DEBIAN_MIRROR. pip inside the container gets this machine's index settings and CA bundle at run
# time; nothing machine-specific is stored in the repository. Logs: build/trixie/*.log.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[trixie] %s\n' "$*"; }
fail() { printf '[trixie] %s\n' "$*" >&2; exit 2; }

WHAT=${1:-all}
case "$WHAT" in all | test | series | shell) ;; *) fail "usage: scripts/trixie.sh [all|test|series|shell]" ;; esac

SUITE=trixie
# What setup needs, from Debian: Python + venv, R (with headers: rpy2-rinterface builds against
# them), make (`R CMD config` during that build), gcc (setup installs it beside R), git (the
# clone's own commands), bubblewrap (the mock account's sandbox), procps (tests read `ps`).
PACKAGES=(python3 python3-venv make gcc git ca-certificates r-base-core bubblewrap procps)
MMDEBSTRAP_OPTIONS=(--variant=minbase --dpkgopt=path-exclude=/usr/share/man/* --dpkgopt=path-exclude=/usr/share/info/*)
WORK=build/trixie
REPO_IN_CONTAINER=/srv/r-lambda-series # not this machine's path: outputs must not depend on it
TIMEOUT=${TRIXIE_TIMEOUT:-45m}

# 0. Tools --------------------------------------------------------------------------------------
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 \
  || fail "no Docker engine answers. Start one with \`make engine\` (as root), then run this again."

# 1. The base image: Debian trixie from packages, reused while the package list is unchanged ----
tag=$(printf '%s\n' "$SUITE" "${PACKAGES[@]}" "${MMDEBSTRAP_OPTIONS[@]}" | sha256sum | cut -c1-12)
IMAGE=serverless-poc-trixie:$tag
mkdir -p "$WORK"
if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  say "base image $IMAGE is up to date"
else
  command -v mmdebstrap >/dev/null 2>&1 \
    || fail "building the Debian 13 base needs mmdebstrap: \`apt-get install mmdebstrap\` (or \`make engine\`)."
  mirror=${DEBIAN_MIRROR:-}
  if [ -z "$mirror" ]; then # the Debian mirror apt already uses here (never stored in the repo)
    mirror=$({ cat /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null || true; } \
      | sed -nE 's#^(deb[[:space:]]+(\[[^]]*\][[:space:]]+)?|URIs:[[:space:]]*)([^[:space:]]+/debian)/?([[:space:]].*)?$#\3#p' \
      | head -n 1 || true)
    mirror=${mirror:-http://deb.debian.org/debian}
  fi
  say "building $IMAGE: Debian $SUITE + ${PACKAGES[*]} (from $mirror; a minute or two)"
  started=$SECONDS
  rm -f "$WORK/base.tar"
  mmdebstrap --quiet "${MMDEBSTRAP_OPTIONS[@]}" --include="$(IFS=,; echo "${PACKAGES[*]}")" \
    "$SUITE" "$WORK/base.tar" "$mirror" \
    || fail "mmdebstrap could not build Debian $SUITE from $mirror. Is the mirror reachable, and does it carry $SUITE? Set DEBIAN_MIRROR to another."
  docker import --change 'ENV LANG=C.UTF-8' --change 'CMD ["bash"]' "$WORK/base.tar" "$IMAGE" >/dev/null
  rm -f "$WORK/base.tar"
  say "built $IMAGE in $((SECONDS - started)) s"
fi

# 2. A clean clone of HEAD (no .venv, no build/, no uncommitted changes) -------------------------
commit=$(git rev-parse --short HEAD)
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  say "note: the working tree has uncommitted changes; the container tests HEAD ($commit) only"
fi
# files the container made are root's: where this user cannot delete them, a container does
rm -rf "$WORK/repo" 2>/dev/null \
  || docker run --rm --network none --volume "$PWD/$WORK:/work" "$IMAGE" rm -rf /work/repo
git clone --quiet --no-hardlinks . "$WORK/repo"
git -C "$WORK/repo" checkout --quiet --detach "$(git rev-parse HEAD)"

# 3. pip's settings from this machine, at run time -------------------------------------------------
pip_setting() { # $1 = pip option name: PIP_<NAME> from the environment, else pip's own config
  local variable="PIP_${1^^}"
  variable=${variable//-/_}
  if [ -n "${!variable:-}" ]; then printf '%s' "${!variable}"; return; fi
  python3 -m pip config get "global.$1" 2>/dev/null || true
}
# Full assertion diffs in the logs (nbval's cell differences are otherwise cut short).
run_args=(--rm --network host --env LANG=C.UTF-8 --env TZ=UTC --env "PYTEST_ADDOPTS=-o verbosity_assertions=2")
# Root in a container is not root on a machine; the mock account needs two things of root:
# - bubblewrap (the sandbox of zip functions) creates PID/IPC/UTS and mount namespaces: that
#   needs CAP_SYS_ADMIN, and a seccomp filter that allows pivot_root, which Docker's default
#   profile refuses. Seen on dockerd 20.10: no flag -> "Creating new namespace failed";
#   SYS_ADMIN alone -> "pivot_root: Operation not permitted"; seccomp=unconfined alone ->
#   namespaces refused; both -> works.
# - the Runtime API answers only the environment's own worker, found by reading the worker's
#   /proc/PID/fd (helpers/mock/awslambda/peers.py). The worker runs as uid 993, and reading another
#   user's descriptors needs CAP_SYS_PTRACE, which Docker drops: without it every zip invoke
#   fails with "Runtime exited with error" (the worker is refused its next invocation).
# Not --privileged: it also hands over every device and capability, and some hosts refuse it
# ("unable to apply caps").
run_args+=(--cap-add SYS_ADMIN --cap-add SYS_PTRACE --security-opt seccomp=unconfined)
index=$(pip_setting index-url)
[ -n "$index" ] && run_args+=(--env "PIP_INDEX_URL=$index")
extra=""
for url in $(pip_setting extra-index-url); do # local file:// indexes are not in the container
  case "$url" in http://* | https://*) extra="$extra $url" ;; esac
done
[ -n "$extra" ] && run_args+=(--env "PIP_EXTRA_INDEX_URL=${extra# }")
cert=$(pip_setting cert)
cert=${cert:-${SSL_CERT_FILE:-}}
if [ -n "$cert" ] && [ -f "$cert" ]; then
  run_args+=(--volume "$(readlink -f "$cert"):/etc/ssl/pip-ca.pem:ro" --env PIP_CERT=/etc/ssl/pip-ca.pem)
fi
for variable in PIP_DEFAULT_TIMEOUT HTTP_PROXY HTTPS_PROXY NO_PROXY http_proxy https_proxy no_proxy; do
  [ -n "${!variable:-}" ] && run_args+=(--env "$variable=${!variable}")
done
mkdir -p "$WORK/pip-cache" # downloads kept between runs: a second run does not fetch again
run_args+=(--volume "$PWD/$WORK/repo:$REPO_IN_CONTAINER" --volume "$PWD/$WORK/pip-cache:/root/.cache/pip")
run_args+=(--workdir "$REPO_IN_CONTAINER")

if [ "$WHAT" = shell ]; then
  say "a shell in $IMAGE with the clone of $commit at $REPO_IN_CONTAINER (exit to leave)"
  exec docker run -it "${run_args[@]}" "$IMAGE" bash
fi

# 4. The README's commands, each logged; `make -k test` so nbval runs even when unit tests fail ----
steps=()
case "$WHAT" in all) steps=(series test) ;; *) steps=("$WHAT") ;; esac
inside='set -u
uname -sr; . /etc/os-release; echo "$PRETTY_NAME"; python3 --version; R --version | head -n 1
status=0
for step in "$@"; do
  started=$(date +%s)
  if [ "$step" = test ]; then make -k test > "build/$step.log" 2>&1; else make "$step" > "build/$step.log" 2>&1; fi
  code=$?
  echo "$step $code $(( $(date +%s) - started ))" >> build/steps.txt
  [ "$code" = 0 ] || status=1
done
# the lock pins every package: anything installed that it does not name was resolved unpinned
# (names compared as pip normalizes them: lower case, runs of - _ . as one -)
normalize() { sed -E "s/^([^=]*)==/\\L\\1==/; :a; s/^([^=]*)[_.]([^=]*==)/\\1-\\2/; ta"; }
.venv/bin/python -m pip freeze --all --exclude-editable 2>/dev/null | grep -vE "^(pip|wheel)==" \
  | normalize | sort > build/installed.txt
grep -E "==" requirements.lock | sed "s/ *#.*//" | normalize | sort > build/locked.txt
comm -23 build/installed.txt build/locked.txt > build/unpinned.txt || true
exit $status'
say "running: ${steps[*]} in $IMAGE on a clean clone of $commit (logs: $WORK/*.log)"
mkdir -p "$WORK/repo/build"
started=$SECONDS
set +e
# a named container, removed on the way out: stopping the client (Ctrl-C, timeout) alone would
# leave it running
name=serverless-poc-trixie-$$
trap 'docker rm -f "$name" >/dev/null 2>&1 || true' EXIT
timeout "$TIMEOUT" docker run --name "$name" --init "${run_args[@]}" "$IMAGE" bash -c "$inside" trixie "${steps[@]}" \
  | tee "$WORK/platform.txt"
set -e
elapsed=$((SECONDS - started))
for step in "${steps[@]}"; do cp -f "$WORK/repo/build/$step.log" "$WORK/$step.log" 2>/dev/null || true; done

# 5. Summary: per command PASS/FAIL, pytest's totals, what failed, why tests skipped ---------------
echo
echo "== Debian 13 (trixie) container, commit $commit, $((elapsed / 60)) min $((elapsed % 60)) s"
python3 - "$WORK" "$TIMEOUT" "${steps[@]}" <<'PY'
import re, sys
from collections import Counter
from pathlib import Path

work, timeout, steps = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
ansi = re.compile(r"\x1b\[[0-9;]*m")
done = {}
for line in (work / "repo/build/steps.txt").read_text().splitlines() if (work / "repo/build/steps.txt").exists() else []:
    step, code, seconds = line.split()
    done[step] = (int(code), seconds)


def _difference(body):
    """A failed cell's report: from nbval's 'Traceback:' to pytest's next '====' line."""
    lines = body.split("Traceback:", 1)[-1].strip().splitlines()
    ends = [i for i, line in enumerate(lines) if line.startswith("====")]
    return lines[: ends[0]] if ends else lines


ok = True
for step in steps:
    log = work / f"{step}.log"
    text = ansi.sub("", log.read_text(errors="replace")) if log.exists() else ""
    if step not in done:
        print(f"  make {step:<7} FAIL  (did not finish, timeout {timeout}: see {log})")
        ok = False
        continue
    code, seconds = done[step]
    ok &= code == 0
    print(f"  make {step:<7} {'PASS' if code == 0 else 'FAIL'}  ({seconds} s, exit {code}; log {log})")
    for total in re.findall(r"^=*\s*(\d+ (?:passed|failed|error)[^\n]*? in [\d.]+s[^\n=]*)", text, re.M):
        print(f"      pytest: {total.strip()}")
    failed = re.findall(r"^_+ ([^_ ].*?) _+$", text, re.M)  # FAILURES and ERRORS headers
    failed = list(dict.fromkeys(failed))
    for name in failed[:40]:
        print(f"      {name}" if name.startswith("ERROR") else f"      FAILED {name}")
    if len(failed) > 40:
        print(f"      ... and {len(failed) - 40} more (all in {work}/failed.txt)")
    if step == "test":
        (work / "failed.txt").write_text("".join(f"{name}\n" for name in failed))
        # each notebook cell's difference, stored output against this machine's, for reading
        sections = re.split(r"^_+ (notebooks/\S+::Cell \d+) _+$", text, flags=re.M)
        diffs = [
            f"#### {name}\n" + "\n".join(_difference(body)[:60])
            for name, body in zip(sections[1::2], sections[2::2])
        ]
        legend = "In pytest's diffs below, '+' lines are the stored output, '-' lines this container's.\n\n"
        if diffs:
            (work / "nbval-diffs.txt").write_text(legend + "\n\n".join(diffs) + "\n")
        else:
            (work / "nbval-diffs.txt").unlink(missing_ok=True)
        if diffs:
            print(f"      nbval differences, cell by cell: {work}/nbval-diffs.txt")
    for match in re.finditer(r"^\s+(failed)\s+[\d.]+ s\s+(\S+)", text, re.M):  # make series
        print(f"      FAILED {match.group(2)}")
    reasons = Counter(m.group(1) for m in re.finditer(r"^SKIPPED \[\d+\] [^:]+:\d+: (.*)$", text, re.M))
    for reason, count in reasons.items():
        print(f"      skipped {count}: {reason[:160]}")
unpinned = work / "repo/build/unpinned.txt"
if unpinned.exists() and unpinned.read_text().strip():
    print("  installed but not pinned by requirements.lock (resolved on this Python only):")
    for line in unpinned.read_text().split():
        print(f"      {line}")
print(f"== {'PASS' if ok else 'FAIL'}")
sys.exit(0 if ok else 1)
PY
