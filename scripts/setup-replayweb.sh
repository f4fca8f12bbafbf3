#!/usr/bin/env bash
# setup-replayweb.sh — the ReplayWeb.page viewer and a browser driver for tests/it/replay.rs.
#
#  * <repo>/.cache/replayweb/viewer: the static viewer (index.html, ui.js, sw.js) unpacked
#    from `npm pack replaywebpage@$RWP` (`npm install replaywebpage` fails: one of its
#    dependencies' versions is not in the registry; the packed tarball needs none of them).
#  * <repo>/.cache/replayweb/node_modules/puppeteer-core: drives Debian's chromium
#    (PUPPETEER_SKIP_DOWNLOAD=1: no browser is downloaded).
#
# Idempotent: does nothing (beyond checking) when both are already there.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DIR=${REPLAYWEB_DIR:-$ROOT/.cache/replayweb}
RWP=2.5.3
PPTR=23.11.1
export PUPPETEER_SKIP_DOWNLOAD=1

log() { echo "[setup-replayweb] $*"; }

command -v npm >/dev/null 2>&1 || { log "ERROR: npm (Node 18+) is needed"; exit 1; }
mkdir -p "$DIR"

if [[ -f "$DIR/viewer/index.html" && -f "$DIR/viewer/sw.js" && -f "$DIR/viewer/ui.js" \
      && "$(cat "$DIR/viewer/.version" 2>/dev/null)" == "$RWP" ]]; then
  log "ok: replaywebpage $RWP in $DIR/viewer"
else
  log "npm pack replaywebpage@$RWP"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "replaywebpage@$RWP" >/dev/null)
  rm -rf "$DIR/viewer"
  mkdir -p "$DIR/viewer"
  tar -xzf "$tmp"/replaywebpage-*.tgz -C "$DIR/viewer" --strip-components=1
  rm -rf "$tmp"
  for f in index.html ui.js sw.js; do
    [[ -f "$DIR/viewer/$f" ]] || { log "ERROR: $f not in the replaywebpage package"; exit 1; }
  done
  echo "$RWP" >"$DIR/viewer/.version"
fi

if [[ "$(node -p "require('$DIR/node_modules/puppeteer-core/package.json').version" 2>/dev/null)" == "$PPTR" ]]; then
  log "ok: puppeteer-core $PPTR"
else
  log "npm install puppeteer-core@$PPTR"
  [[ -f "$DIR/package.json" ]] || echo '{"private": true}' >"$DIR/package.json"
  (cd "$DIR" && npm install --silent --no-audit --no-fund "puppeteer-core@$PPTR")
fi
log "replayweb ready in $DIR"
