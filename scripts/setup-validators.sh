#!/usr/bin/env bash
# setup-validators.sh — install the third-party tools the test suite needs.
#
#  * Debian packages (via apt, only when a command is missing):
#      openssl    — RFC 3161 test TSA
#      util-linux — prlimit (resource-limit tests)
#  * A Python venv at <repo>/.venv with pinned independent WARC verifiers:
#      warcio, cdxj-indexer, wacz, pywb, and aiosmtpd (the SMTP server of the alert tests)
#
# Idempotent: does nothing (beyond checking) when everything is already there.
# Usage: scripts/setup-validators.sh        (VENV=... to use another venv path)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${VENV:-$ROOT/.venv}
PINS=(warcio==1.8.1 cdxj-indexer==1.5.0 wacz==0.6.0 pywb==2.10.0 aiosmtpd==1.4.6)

log() { echo "[setup-validators] $*"; }

# ---- Debian packages -------------------------------------------------------
# command -> Debian package that provides it
declare -A APT_FOR=([openssl]=openssl [prlimit]=util-linux)
missing=()
for cmd in "${!APT_FOR[@]}"; do
  if command -v "$cmd" >/dev/null 2>&1; then
    log "ok: $cmd ($(command -v "$cmd"))"
  else
    missing+=("${APT_FOR[$cmd]}")
  fi
done
if ((${#missing[@]})); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  log "apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

# ---- Python venv with pinned verifiers ------------------------------------
have_pins() {
  [[ -x "$VENV/bin/python" ]] || return 1
  "$VENV/bin/python" - "${PINS[@]}" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version, PackageNotFoundError
for pin in sys.argv[1:]:
    name, want = pin.split("==")
    try:
        if version(name) != want:
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
PY
}

if have_pins; then
  log "ok: $VENV already has ${PINS[*]}"
else
  if [[ -e "$VENV" ]] && ! "$VENV/bin/python" -c pass >/dev/null 2>&1; then
    log "removing broken venv $VENV"
    rm -rf "$VENV"
  fi
  if [[ ! -x "$VENV/bin/python" ]]; then
    log "python3 -m venv $VENV"
    if ! python3 -m venv "$VENV"; then
      # Debian's python3 needs python3-venv (ensurepip) for this.
      rm -rf "$VENV"
      log "apt-get install python3-venv"
      SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo
      $SUDO apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv
      python3 -m venv "$VENV"
    fi
  fi
  log "pip install ${PINS[*]} into $VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${PINS[@]}"
  have_pins || { log "ERROR: pins not satisfied after install"; exit 1; }
fi

for tool in warcio cdxj-indexer wacz wb-manager wayback; do
  [[ -x "$VENV/bin/$tool" ]] || { log "ERROR: $VENV/bin/$tool missing"; exit 1; }
done
"$ROOT/scripts/setup-browser.sh"
"$ROOT/scripts/setup-replayweb.sh"
"$ROOT/scripts/setup-go.sh"
log "validators ready in $VENV"
