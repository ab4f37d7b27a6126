#!/usr/bin/env bash
# Starts Debian's dockerd in the background when no Docker engine answers, and waits until it
# does (at most 30 s). The container-fault tests and benches need it; nothing else does.
# Idempotent: an engine that already answers is left alone.
set -euo pipefail

log() { printf 'start-dockerd: %s\n' "$*"; }

if docker info >/dev/null 2>&1; then
  log "a Docker engine already answers"
  exit 0
fi
if ! command -v dockerd >/dev/null 2>&1; then
  log "dockerd is not installed (Debian package docker.io); run scripts/install-test-deps.sh" >&2
  exit 1
fi

logfile="${TMPDIR:-/tmp}/faultline-dockerd.log"
# setsid: the engine outlives this script and the shell that ran it (the test run needs it).
setsid dockerd >"$logfile" 2>&1 </dev/null &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    log "dockerd is up (log: $logfile)"
    exit 0
  fi
  sleep 0.5
done
log "dockerd did not answer within 30 s; its log follows" >&2
tail -n 30 "$logfile" >&2 || true
exit 1
