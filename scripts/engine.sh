#!/usr/bin/env bash
# A running Docker engine for container-image functions (idempotent): installs docker.io and
# mmdebstrap with apt when missing, and starts dockerd without the default bridge network,
# whose private-range addresses these machines must not use: every container and build of the
# series runs with --network host or --network none. Needs root (or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[engine] %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
  say "Docker engine $(docker version --format '{{.Server.Version}}') is running"
  command -v mmdebstrap >/dev/null 2>&1 || { as_root apt-get update -qq; as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null; }
  exit 0
fi
if [ "$(id -u)" != 0 ] && ! command -v sudo >/dev/null 2>&1; then
  say "no Docker engine answers, and starting one needs root (or sudo). Start dockerd yourself." >&2
  exit 1
fi
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v mmdebstrap >/dev/null 2>&1 || missing+=(mmdebstrap)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} with apt-get"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
mkdir -p build
say "starting dockerd --bridge=none --iptables=false (log: build/dockerd.log)"
as_root sh -c 'nohup dockerd --bridge=none --iptables=false >build/dockerd.log 2>&1 &'
for _ in $(seq 1 60); do
  if docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
    say "Docker engine $(docker version --format '{{.Server.Version}}') is running"
    exit 0
  fi
  sleep 0.5
done
say "dockerd did not answer within 30 s; see build/dockerd.log" >&2
tail -n 20 build/dockerd.log >&2 || true
exit 1
