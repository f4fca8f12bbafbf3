#!/usr/bin/env bash
# setup-go.sh — the independent Go implementations the witness tests run against.
#
# Go 1.23 and sigsum-go come from Debian bookworm-backports (the Go module proxy is not
# reachable here); x/mod's sumdb/note from bookworm. tests/go/witness is built in GOPATH
# mode against Debian's Go sources into .cache/go/witness (again only when its source is
# newer), and tests/go/client and tests/go/tlogproof likewise. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
log() { echo "[setup-go] $*"; }
SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
GO=/usr/lib/go-1.23/bin/go
PKGS=(golang-1.23-go golang-sigsum-sigsum-go-dev golang-golang-x-mod-dev golang-golang-x-net-dev golang-golang-x-text-dev)

missing=()
for p in "${PKGS[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    log "adding bookworm-backports to apt's sources"
    $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  fi
  log "apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -t bookworm-backports "${missing[@]}" >/dev/null
fi

OUT=$ROOT/.cache/go
mkdir -p "$OUT"
for prog in witness client tlogproof; do
  src=$ROOT/tests/go/$prog
  if [[ ! -x $OUT/$prog || $src/main.go -nt $OUT/$prog ]]; then
    log "building tests/go/$prog"
    (cd "$src" && GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=$OUT/cache \
      "$GO" build -o "$OUT/$prog" .)
  fi
done
log "ready in $OUT"
