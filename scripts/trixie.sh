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
rm -rf "$WORK/repo"
git clone --quiet --no-hardlinks . "$WORK/repo"
git -C "$WORK/repo" checkout --quiet --detach "$(git rev-parse HEAD)"

# 3. pip's settings from this machine, at run time -------------------------------------------------
pip_setting() { # $1 = pip option name: PIP_<NAME> from the environment, else pip's own config
  local variable="PIP_${1^^}"
  variable=${variable//-/_}
  if [ -n "${!variable:-}" ]; then printf '%s' "${!variable}"; return; fi
  python3 -m pip config get "global.$1" 2>/dev/null || true
}
run_args=(--rm --network host --env LANG=C.UTF-8 --env TZ=UTC)
# bubblewrap (the mock's sandbox) needs, as root in a container: CAP_SYS_ADMIN (new PID/IPC/UTS
# and mount namespaces, its mounts), and a seccomp filter that lets it call pivot_root, which
# Docker's default profile refuses ("bwrap: pivot_root: Operation not permitted"). Seen on
# dockerd 20.10: no flag -> "Creating new namespace failed"; SYS_ADMIN alone -> pivot_root
# refused; seccomp=unconfined alone -> namespaces refused; both -> works. Not --privileged: it
# also hands over every device and capability (and some hosts refuse it: "unable to apply caps").
run_args+=(--cap-add SYS_ADMIN --security-opt seccomp=unconfined)
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
.venv/bin/python -m pip freeze --all --exclude-editable 2>/dev/null | grep -vE "^(pip|wheel)==" \
  | sort > build/installed.txt
grep -E "==" requirements.lock | sed "s/ *#.*//" | sort > build/locked.txt
comm -23 build/installed.txt build/locked.txt > build/unpinned.txt || true
exit $status'
say "running: ${steps[*]} in $IMAGE on a clean clone of $commit (logs: $WORK/*.log)"
mkdir -p "$WORK/repo/build"
started=$SECONDS
set +e
timeout "$TIMEOUT" docker run "${run_args[@]}" "$IMAGE" bash -c "$inside" trixie "${steps[@]}" | tee "$WORK/platform.txt"
set -e
elapsed=$((SECONDS - started))
for step in "${steps[@]}"; do cp -f "$WORK/repo/build/$step.log" "$WORK/$step.log" 2>/dev/null || true; done

# 5. Summary -----------------------------------------------------------------------------------
overall=PASS
echo
echo "== Debian 13 (trixie) container, commit $commit, $((elapsed / 60)) min $((elapsed % 60)) s"
for step in "${steps[@]}"; do
  line=$(grep -E "^$step " "$WORK/repo/build/steps.txt" 2>/dev/null | tail -n 1 || true)
  if [ -z "$line" ]; then
    printf '  make %-7s FAIL  (did not finish: see %s/%s.log; timeout %s)\n' "$step" "$WORK" "$step" "$TIMEOUT"
    overall=FAIL
    continue
  fi
  read -r _ code seconds <<<"$line"
  verdict=PASS
  [ "$code" = 0 ] || { verdict=FAIL; overall=FAIL; }
  printf '  make %-7s %s  (%s s, exit %s; log %s/%s.log)\n' "$step" "$verdict" "$seconds" "$code" "$WORK" "$step"
  if [ "$step" = test ]; then # pytest's closing lines: unit tests first, then nbval
    grep -E "^(=+ )?[0-9]+ (passed|failed|error)|^FAILED|^ERROR|^SKIPPED" "$WORK/test.log" | sed 's/^/      /' | head -n 40 || true
  fi
done
if [ -s "$WORK/repo/build/unpinned.txt" ]; then
  echo "  installed but not pinned by requirements.lock (resolved on Python 3.13 only):"
  sed 's/^/      /' "$WORK/repo/build/unpinned.txt"
fi
echo "== $overall"
[ "$overall" = PASS ]
