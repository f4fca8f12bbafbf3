#!/usr/bin/env bash
# setup-browser.sh — install headless Chromium, CJK fonts, setpriv (util-linux: the
# browser's parent-death signal) and pdftotext (poppler-utils: the report test) for the
# browser tests (tests/it/web.rs, tests/it/render.rs), via apt, only when missing.
# Idempotent.
set -euo pipefail
log() { echo "[setup-browser] $*"; }
need=()
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  log "ok: chromium ($(command -v chromium || command -v chromium-browser))"
else
  need+=(chromium)
fi
if dpkg -s fonts-noto-cjk >/dev/null 2>&1; then
  log "ok: fonts-noto-cjk"
else
  need+=(fonts-noto-cjk)
fi
command -v setpriv >/dev/null 2>&1 || need+=(util-linux)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
command -v pgrep >/dev/null 2>&1 || need+=(procps)
if ((${#need[@]})); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  log "apt-get install ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
