#!/usr/bin/env bash
# bench/run.sh — samizdat benchmark harness (NOT run in CI). One run measures, on loopback:
#   a) capture of 10,000 ~2 KB pages served by nginx: samizdat (concurrency 32, no delay)
#      vs `wget --warc-file`, run back to back BENCH_CAPTURE_RUNS (1) times — pages/s, the
#      ratio of each run and their median, peak RSS (GNU time).  Targets: >= 4x wget,
#      < 150 MB. Then a profile (BENCH_PROFILE=1, needs `perf`, apt package linux-perf):
#      one more samizdat capture under `perf record`, its samples per thread
#      (samizdat-writer: the single writer; tokio-runtime-w: fetching, encoding records;
#      the blocking pool: parsing pages) and its top functions by self time, in the table's
#      footer and whole in bench/out/capture-profile.txt.
#   b) `samizdat verify` over >= 1 GB of WARC (captured from nginx) vs `zcat FILES | sha256sum`
#      — uncompressed MB/s.  Target: >= 1.0x.
#   c) `cargo run --release --example bench_log` lines (Merkle log), when that example exists.
#   d) `cargo run --release --example bench_web`: `samizdat serve` search p95 over
#      BENCH_WEB_POSTS (1,000,000) synthetic posts (target < 50 ms), post page p95 (< 20 ms),
#      post page requests/s.
#   e) `cargo run --release --example bench_watch`: `samizdat watch run --once` over
#      BENCH_WATCH_POSTS (100,000) watched Weibo posts and BENCH_WATCH_ACCOUNTS (1,000)
#      accounts against a loopback fixture server, politeness off, clock simulated with
#      SAMIZDAT_NOW: account polls, then three rounds of checks (first check, identical
#      answer, counts changed): checks/s, peak RSS (target < 300 MB), bytes added per check
#      to the WARC files, the index and the log (target for an identical answer < 2 KB).
#   f) hostile answers (issue 11), from a loopback Python server that generates them on the
#      fly: a BENCH_HOSTILE_BIG_MB (256) MiB page, a gzip bomb (BENCH_HOSTILE_BOMB_GB (10) GiB
#      of zeros from ~1/1000 of that on the wire), 20,000 nested <article>, 100,000 nested
#      <div>: peak RSS of `samizdat capture` of each (target < 150 MB), each next to
#      `wget --warc-file` of the same URL in the same run (GNU time).
#   g) `samizdat serve` under attack: peak RSS (VmHWM) under a flood of BENCH_SERVE_FLOOD (32)
#      concurrent bundle downloads of one post with a BENCH_SERVE_MB (128) MiB picture, in
#      BENCH_SERVE_WAVES (2) waves (target < 512 MB), 200s and 503s counted; the same flood
#      of the same bundle file from `python3 -m http.server`; then BENCH_SERVE_SLOW (500)
#      slowloris connections (half send a header byte every 0.5 s, half nothing) against
#      each: peak RSS, a normal request's latency meanwhile, how many the server closed.
# and prints a markdown table (also written to bench/out/results.md).
#
#   h) comments (issue 15): `samizdat capture --comments BENCH_COMMENTS` (2,000) of a Weibo post
#      whose comments a loopback Python server generates 20 a page (bench/comments_server.py),
#      politeness off: seconds, records and bytes per comment, peak RSS; next to wget fetching
#      the same pages into a WARC in the same run.
#   i) rendering (issue 16): bench/render_bench.py — `samizdat capture --render` of BENCH_RENDER_PAGES
#      (50) scripted pages ([browser] concurrency 1) vs `chromium --headless --screenshot` of the
#      same pages one after another, both with the sandbox on as an unprivileged user: seconds
#      per page, peak RSS of samizdat and of the browser's processes together (sampled /proc).
#   j) exports for research (issue 17): `samizdat export --csv` of BENCH_EXPORT_POSTS (1,000,000)
#      synthetic posts (built by examples/bench_web.rs --build-only) vs `sqlite3 -csv` of the
#      same posts table in the same run: seconds and peak RSS (GNU time).
#   k) witnesses (issue 18): add-checkpoint requests/s and peak RSS of `samizdat witness serve`
#      against sigsum-go's witness handler (tests/go/witness), both driven by sigsum-go's client
#      (tests/go/client bench) in sequence; samizdat's witness client (examples/bench_witness)
#      against sigsum-go's witness. litewitness is not reachable here (no Go module proxy, not
#      in Debian), so sigsum-go's witness, from Debian, is the peer.
#   l) Chinese platform readers (issue 19): `samizdat capture --no-media` of BENCH_CN_POSTS (200)
#      Xiaohongshu note pages and as many Douyin share pages, served by bench/cn_server.py from
#      the fixtures with ids substituted and BENCH_CN_PAD_KB (256) KB of inline script each (the
#      readers parse the embedded state out of pages that size), politeness off; next to
#      `wget --warc-file` of the same pages in the same run (GNU time).
# Env knobs:  BENCH_ONLY=capture,verify,log,web,watch,hostile,serve,comments,render,export,witness,cn (run only these sections; default all)
#             BENCH_HOSTILE_BIG_MB=256  BENCH_HOSTILE_BOMB_GB=10
#             BENCH_SERVE_MB=128  BENCH_SERVE_FLOOD=32  BENCH_SERVE_WAVES=2  BENCH_SERVE_SLOW=500
#             BENCH_WITNESS_N=2000
#             BENCH_PAGES=10000  BENCH_BIG_FILES=1100 (x 1 MiB)  BENCH_OUT=bench/out
#             BENCH_CAPTURE_RUNS=1 (a) runs)  BENCH_PROFILE=1 (a) perf profile; 0 skips it)
#             BENCH_WEB_POSTS=1000000  BENCH_WATCH_POSTS=100000  BENCH_WATCH_ACCOUNTS=1000
#             BENCH_WATCH_WARC_MAX_BYTES=N (e) with another [storage] warc_max_bytes than 1 GiB)
#             BENCH_WATCH_FROM=FILE (e) shows the lines of an earlier run, e.g. bench/out/watch.txt,
#             instead of running; the full-size watch run takes 10 to 60 minutes)
#             BENCH_SKIP_SAMIZDAT=1 (only the baselines: nginx, wget, zcat|sha256sum)
#             BENCH_KEEP=1 (keep the temp work dir)
#             SAMIZDAT_BIN=path (use this binary instead of building target/release/samizdat)
# Needs root or sudo for apt (nginx, wget, time) when they are missing. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${BENCH_OUT:-$ROOT/bench/out}
PAGES=${BENCH_PAGES:-10000}
BIG_FILES=${BENCH_BIG_FILES:-1100}
SKIP_SZ=${BENCH_SKIP_SAMIZDAT:-0}
SZ=${SAMIZDAT_BIN:-$ROOT/target/release/samizdat}
mkdir -p "$OUT"
ONLY=${BENCH_ONLY:-}
# want SECTION — true when SECTION runs (BENCH_ONLY unset, or SECTION listed in it)
want() { [[ -z $ONLY || ",$ONLY," == *",$1,"* ]]; }
NGINX_NEEDED=0
if want capture || want verify; then NGINX_NEEDED=1; fi

log() { echo "[bench] $*" >&2; }
now() { date +%s.%N; }
# calc EXPR — float arithmetic via python3
calc() { python3 -c "print($1)"; }
fmt() { python3 -c "import sys; v=float(sys.argv[1]); print(f'{v:,.1f}')" "$1"; }

# ---- tools -----------------------------------------------------------------
if [[ $NGINX_NEEDED == 1 ]]; then
  declare -A APT_FOR=([nginx]=nginx [wget]=wget [/usr/bin/time]=time [zcat]=gzip [sha256sum]=coreutils [curl]=curl)
else
  declare -A APT_FOR=([/usr/bin/time]=time [curl]=curl)
fi
if want hostile; then APT_FOR[wget]=wget; APT_FOR[curl]=curl; fi
if want export; then APT_FOR[sqlite3]=sqlite3; fi
missing=()
for c in "${!APT_FOR[@]}"; do
  command -v "$c" >/dev/null 2>&1 || [[ -x /usr/sbin/$c ]] || missing+=("${APT_FOR[$c]}")
done
if ((${#missing[@]})); then
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo
  log "apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

if [[ $SKIP_SZ != 1 && -z ${SAMIZDAT_BIN:-} ]]; then
  log "cargo build --release"
  cargo build --release --bin samizdat >&2
fi

# ---- work dir, cleanup ------------------------------------------------------
WORK=$(mktemp -d -t samizdat-bench.XXXXXX)
chmod 755 "$WORK"
NGINX_PID=""
cleanup() {
  for p in ${FIX_PID:-} ${SV_PID:-} ${PEER_PID:-}; do kill "$p" 2>/dev/null || true; done
  if [[ -n $NGINX_PID ]]; then kill "$NGINX_PID" 2>/dev/null || true; wait "$NGINX_PID" 2>/dev/null || true; fi
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
log "work dir $WORK"

WGET_PPS="" WGET_RSS="" WGET_RESP="" BASE_MBS="" UNCOMP=0
SZ_PPS="" SZ_RSS="" SZ_OK="" SZ_VERIFY_MBS="" SZ_VERIFY_RC=""
CAP_RATIOS=()   # a) one samizdat/wget ratio per run (set here: the table reads it always)
CAP_PROFILE=""  # a) the perf summary file, when one was made
if [[ $NGINX_NEEDED == 1 ]]; then
# ---- content ------------------------------------------------------------------
log "generating $PAGES small pages and $BIG_FILES x 1 MiB pages"
python3 - "$WORK/www" "$PAGES" "$BIG_FILES" <<'PY'
import base64, os, random, sys
root, pages, big = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(f"{root}/p", exist_ok=True); os.makedirs(f"{root}/big", exist_ok=True)
words = "archive evidence record capture post user weibo censor deleted screenshot digest merkle log signed".split()
rnd = random.Random(1)
for i in range(pages):
    para = " ".join(rnd.choice(words) for _ in range(260))
    html = (f"<!doctype html><html><head><meta charset=utf-8><title>Page {i}</title>"
            f'<meta property="og:title" content="Bench page {i}"></head>'
            f"<body><article><h1>Bench page {i}</h1><p>{para}</p></article></body></html>\n")
    with open(f"{root}/p/{i:05d}.html", "w") as f: f.write(html)
head = b"<!doctype html><html><head><meta charset=utf-8><title>Big</title></head><body><pre>\n"
tail = b"</pre></body></html>\n"
for i in range(big):
    # random-ish: base64 of random bytes (compresses to ~75 %), 1 MiB total
    n = (1 << 20) - len(head) - len(tail)
    body = base64.encodebytes(os.urandom(n * 3 // 4 + 3))[:n]
    with open(f"{root}/big/{i:04d}.html", "wb") as f: f.write(head + body + tail)
PY
chmod -R a+rX "$WORK/www"

# ---- nginx on 127.0.0.1 ----------------------------------------------------------
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
mkdir -p "$WORK/nginx/tmp"
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on; tcp_nopush on; tcp_nodelay on;
  keepalive_timeout 65; keepalive_requests 100000;
  types { text/html html; }
  default_type application/octet-stream;
  client_body_temp_path $WORK/nginx/tmp/body; proxy_temp_path $WORK/nginx/tmp/proxy;
  fastcgi_temp_path $WORK/nginx/tmp/fcgi; uwsgi_temp_path $WORK/nginx/tmp/uwsgi; scgi_temp_path $WORK/nginx/tmp/scgi;
  server { listen 127.0.0.1:$PORT; root $WORK/www; }
}
EOF
"$NGINX" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" -g 'daemon off;' 2>>"$WORK/nginx/error.log" &
NGINX_PID=$!
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/p/00000.html" && break; sleep 0.1; done
curl -sf -o /dev/null "http://127.0.0.1:$PORT/p/00000.html" || { cat "$WORK/nginx/error.log" >&2; log "nginx did not start"; exit 1; }
log "nginx pid $NGINX_PID on 127.0.0.1:$PORT"

seq -f "http://127.0.0.1:$PORT/p/%05g.html" 0 $((PAGES - 1)) >"$WORK/urls.txt"
seq -f "http://127.0.0.1:$PORT/big/%04g.html" 0 $((BIG_FILES - 1)) >"$WORK/urls-big.txt"

# rss_mb TIME_V_OUTPUT — "Maximum resident set size (kbytes)" in MB
rss_mb() { awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$1"; }

mkdir -p "$WORK/wget"
# sz_config DIR — the samizdat.toml used for all samizdat runs
sz_config() {
  mkdir -p "$1"
  cat >"$1/samizdat.toml" <<EOF
[http]
concurrency = 32
per_host_delay_ms = 0
timeout_ms = 60000
max_body_bytes = 16777216
EOF
}
# sz_ok JSONL — number of result lines without an error
sz_ok() {
  python3 - "$1" <<'PY'
import json, sys
ok = 0
for line in open(sys.argv[1]):
    line = line.strip()
    if not line: continue
    try: r = json.loads(line)
    except ValueError: continue
    if not r.get("error"): ok += 1
print(ok)
PY
}

# ---- a) capture: wget and samizdat in the same run, BENCH_CAPTURE_RUNS times ---------------
# capture_wget N / capture_sz N — one timed run each; they set WGET_PPS / SZ_PPS (and RSS).
# cpu_s TIMEFILE — user + system seconds of a `/usr/bin/time -v` run (less noisy than the
# wall clock when other work shares the cores).
cpu_s() { awk -F': ' '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$1" 2>/dev/null || echo "?"; }
capture_wget() {
  local d="$WORK/wget/run$1"; mkdir -p "$d"
  log "a) run $1: wget --warc-file over $PAGES pages"
  local t0 t1; t0=$(now)
  ( cd "$d" && /usr/bin/time -v -o "$d/time.txt" \
      wget -q -i "$WORK/urls.txt" --warc-file="$d/small" -O /dev/null ) || log "wget exited non-zero"
  t1=$(now)
  WGET_S=$(calc "$t1 - $t0")
  WGET_PPS=$(calc "$PAGES / $WGET_S")
  WGET_RSS=$(rss_mb "$d/time.txt")
  WGET_RESP=$(zcat "$d/small.warc.gz" | grep -ac '^WARC-Type: response' || true)
  log "wget: ${WGET_S}s, $WGET_RESP responses, RSS ${WGET_RSS} MB, CPU $(cpu_s "$d/time.txt") s (user+system)"
  rm -rf "$d"
}
capture_sz() {
  local A="$WORK/sz-small$1"; sz_config "$A"
  "$SZ" --archive "$A" init >&2
  log "a) run $1: samizdat capture --from urls.txt --no-media (concurrency 32)"
  local t0 t1; t0=$(now)
  /usr/bin/time -v -o "$A.time" \
    "$SZ" --archive "$A" --json capture --from "$WORK/urls.txt" --no-media >"$A.jsonl" \
    || log "samizdat capture exited non-zero"
  t1=$(now)
  SZ_S=$(calc "$t1 - $t0")
  SZ_OK=$(sz_ok "$A.jsonl")
  SZ_PPS=$(calc "$SZ_OK / $SZ_S")
  SZ_RSS=$(rss_mb "$A.time")
  log "samizdat: ${SZ_S}s, $SZ_OK ok, RSS ${SZ_RSS} MB, CPU $(cpu_s "$A.time") s (user+system)"
  rm -rf "$A"
}
CAP_RUNS=${BENCH_CAPTURE_RUNS:-1}
if want capture; then
  for r in $(seq "$CAP_RUNS"); do
    capture_wget "$r"
    if [[ $SKIP_SZ != 1 ]]; then
      capture_sz "$r"
      CAP_RATIOS+=("$(calc "$SZ_PPS / $WGET_PPS")")
      log "a) run $r: samizdat / wget = $(calc "round($SZ_PPS / $WGET_PPS, 2)")x"
    fi
  done
fi
# The profile: one more samizdat capture of the same pages under `perf record` (sampled,
# not timed), summed per thread (the writer thread, tokio's workers, the blocking pool where
# pages are parsed) and per function. BENCH_PROFILE=0 skips it.
if want capture && [[ $SKIP_SZ != 1 && ${BENCH_PROFILE:-1} == 1 ]]; then
  if command -v perf >/dev/null 2>&1; then
    P="$WORK/sz-profile"; sz_config "$P"
    "$SZ" --archive "$P" init >&2
    log "a) profile: perf record of one more samizdat capture"
    if perf record -F 999 -o "$WORK/perf.data" -- \
         "$SZ" --archive "$P" --json capture --from "$WORK/urls.txt" --no-media >/dev/null 2>"$WORK/perf.err"; then
      {
        echo "per thread (share of samples):"
        (perf report -i "$WORK/perf.data" --stdio --sort comm --percent-limit 1 2>/dev/null || true) | grep -E '^ +[0-9]' || true
        echo "per function (self time, top 40):"
        (perf report -i "$WORK/perf.data" --stdio --sort comm,sym 2>/dev/null || true) | grep -E '^ +[0-9]' | head -40 || true
      } >"$OUT/capture-profile.txt"
      CAP_PROFILE="$OUT/capture-profile.txt"
      cat "$CAP_PROFILE" >&2
    else
      log "perf record failed: $(tail -1 "$WORK/perf.err")"
    fi
    rm -rf "$P"
  else
    log "a) profile skipped: no perf (apt-get install linux-perf)"
  fi
fi

# ---- b) verify throughput -------------------------------------------------------------
if want verify; then
if [[ $SKIP_SZ != 1 ]]; then
  B="$WORK/sz-big"; sz_config "$B"
  "$SZ" --archive "$B" init >&2
  log "b) capturing $BIG_FILES x 1 MiB pages with samizdat for the verify benchmark"
  "$SZ" --archive "$B" --json capture --from "$WORK/urls-big.txt" --no-media >"$WORK/sz-big.jsonl" \
    || log "samizdat capture (big) exited non-zero"
  mapfile -t VFILES < <(find "$B/warc" -name '*.warc.gz' 2>/dev/null | sort)
else
  log "b) (samizdat skipped) capturing $BIG_FILES x 1 MiB pages with wget for the baseline"
  ( cd "$WORK/wget" && wget -q -i "$WORK/urls-big.txt" --warc-file="$WORK/wget/big" -O /dev/null ) || log "wget exited non-zero"
  VFILES=("$WORK/wget/big.warc.gz")
fi
((${#VFILES[@]})) || { log "no WARC files to verify"; exit 1; }
cat "${VFILES[@]}" >/dev/null   # warm the page cache for both contenders
UNCOMP=$(zcat "${VFILES[@]}" | wc -c)
COMP=$(cat "${VFILES[@]}" | wc -c)
log "verify set: ${#VFILES[@]} files, $(calc "$COMP/1e6") MB compressed, $(calc "$UNCOMP/1e6") MB uncompressed"
t0=$(now); zcat "${VFILES[@]}" | sha256sum >/dev/null; t1=$(now)
BASE_S=$(calc "$t1 - $t0")
BASE_MBS=$(calc "$UNCOMP / 1e6 / $BASE_S")
log "zcat | sha256sum: ${BASE_S}s = $(fmt "$BASE_MBS") MB/s"
if [[ $SKIP_SZ != 1 ]]; then
  t0=$(now)
  set +e; "$SZ" --archive "$B" verify >"$WORK/verify.out" 2>&1; SZ_VERIFY_RC=$?; set -e
  t1=$(now)
  VER_S=$(calc "$t1 - $t0")
  SZ_VERIFY_MBS=$(calc "$UNCOMP / 1e6 / $VER_S")
  log "samizdat verify: exit $SZ_VERIFY_RC, ${VER_S}s = $(fmt "$SZ_VERIFY_MBS") MB/s"
fi
fi # want verify
fi # NGINX_NEEDED

# ---- c) Merkle log micro-benchmarks --------------------------------------------------------
LOG_LINES=()
if ! want log; then
  :
elif [[ -f examples/bench_log.rs || -f examples/bench_log/main.rs ]]; then
  log "c) cargo run --release --example bench_log"
  if out=$(cargo run -q --release --example bench_log 2>"$WORK/bench_log.err"); then
    mapfile -t LOG_LINES < <(grep -E '^[a-z0-9_]+ +[0-9.eE+-]+' <<<"$out")
  else
    log "bench_log failed:"; cat "$WORK/bench_log.err" >&2
  fi
else
  log "c) examples/bench_log.rs not there yet: skipped"
fi

# ---- d) web archive: search and post page over synthetic posts -----------------------------
WEB_LINES=()
WEB_POSTS=${BENCH_WEB_POSTS:-1000000}
if ! want web; then
  :
elif [[ -f examples/bench_web.rs && $SKIP_SZ != 1 ]]; then
  log "d) cargo run --release --example bench_web -- --posts $WEB_POSTS"
  if out=$(cargo run -q --release --example bench_web -- --posts "$WEB_POSTS" 2>"$WORK/bench_web.err"); then
    mapfile -t WEB_LINES < <(grep -E '^[a-z0-9_]+ +[0-9.eE+-]+' <<<"$out")
  else
    log "bench_web failed:"; tail -20 "$WORK/bench_web.err" >&2
  fi
else
  log "d) bench_web skipped"
fi

# ---- e) watch: checks/s, peak RSS, bytes per check -------------------------------------------
declare -A W=()
WATCH_POSTS=${BENCH_WATCH_POSTS:-100000}
WATCH_ACCOUNTS=${BENCH_WATCH_ACCOUNTS:-1000}
if ! want watch; then
  :
elif [[ -n ${BENCH_WATCH_FROM:-} ]]; then
  log "e) watch lines from $BENCH_WATCH_FROM (not run)"
  while read -r name val _; do
    [[ $name =~ ^[a-z0-9_]+$ ]] && W[$name]=$val
  done <"$BENCH_WATCH_FROM"
elif [[ -f examples/bench_watch.rs && $SKIP_SZ != 1 ]]; then
  log "e) cargo run --release --example bench_watch -- --posts $WATCH_POSTS --accounts $WATCH_ACCOUNTS"
  cargo build -q --release --example bench_watch >&2
  mkdir -p "$WORK/watch"
  if out=$(cargo run -q --release --example bench_watch -- --posts "$WATCH_POSTS" \
      --accounts "$WATCH_ACCOUNTS" --bin "$SZ" --work "$WORK/watch" 2> >(tee "$WORK/bench_watch.err" >&2)); then
    printf '%s\n' "$out" >"$OUT/watch.txt"
    while read -r name val _; do
      [[ $name =~ ^[a-z0-9_]+$ ]] && W[$name]=$val
    done <<<"$out"
  else
    log "bench_watch failed:"; tail -20 "$WORK/bench_watch.err" >&2
  fi
else
  log "e) bench_watch skipped"
fi

# ---- f) hostile answers: peak RSS of one capture each, next to wget ---------------------------
# rows: name|samizdat MB|samizdat exit|samizdat s|wget MB|wget exit|wget s
HOSTILE_ROWS=()
if want hostile && [[ $SKIP_SZ != 1 ]]; then
  HBIG=${BENCH_HOSTILE_BIG_MB:-256}
  HBOMB=${BENCH_HOSTILE_BOMB_GB:-10}
  HPORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  log "f) hostile server on 127.0.0.1:$HPORT (page $HBIG MiB, gzip bomb $HBOMB GiB inflated)"
  python3 - "$HPORT" "$HBIG" "$HBOMB" >"$WORK/hostile-server.log" 2>&1 <<'PY' &
import http.server, sys, zlib
port, big_mb, bomb_gb = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
CHUNK = 1 << 16
para = b"<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.</p>\n"
filler = (para * (CHUNK // len(para) + 1))[:CHUNK]
head = b"<!doctype html><html><head><title>Big</title></head><body><article>\n"
first = (head + filler)[:CHUNK]
# One gzip member of 64 MiB of zeros, repeated: members concatenate (RFC 1952).
c = zlib.compressobj(9, zlib.DEFLATED, 31)
member = c.compress(bytes(64 << 20)) + c.flush()
def nested(tag, n):
    return (b"<!doctype html><html><body>" + f"<{tag}>".encode() * n +
            b"<p>text at the bottom of a deep page</p>" + f"</{tag}>".encode() * n + b"</body></html>")
pages = {"/nested-article": nested("article", 20000), "/nested-div": nested("div", 100000)}
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        try:
            if self.path == "/big":
                n = (big_mb << 20) // CHUNK
                self.send_response(200); self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(n * CHUNK)); self.end_headers()
                self.wfile.write(first)
                for _ in range(n - 1): self.wfile.write(filler)
            elif self.path == "/bomb":
                n = (bomb_gb << 30) // (64 << 20)
                self.send_response(200); self.send_header("Content-Type", "text/html")
                self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(n * len(member))); self.end_headers()
                for _ in range(n): self.wfile.write(member)
            elif self.path in pages:
                b = pages[self.path]
                self.send_response(200); self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(b))); self.end_headers()
                self.wfile.write(b)
            else:
                self.send_response(404); self.send_header("Content-Length", "0"); self.end_headers()
        except (BrokenPipeError, ConnectionResetError):
            pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
  HOSTILE_PID=$!
  for _ in $(seq 200); do curl -sf -o /dev/null "http://127.0.0.1:$HPORT/nested-div" && break; sleep 0.1; done
  hrss() { awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$1"; }
  for what in big bomb nested-article nested-div; do
    u="http://127.0.0.1:$HPORT/$what"
    H="$WORK/hostile-$what"; mkdir -p "$H"
    printf '[http]\nper_host_delay_ms = 0\ntimeout_ms = 600000\n' >"$H/samizdat.toml"
    "$SZ" --archive "$H" init >/dev/null 2>&1
    t0=$(now)
    set +e
    /usr/bin/time -v -o "$H.time" "$SZ" --archive "$H" --json capture --no-media "$u" >"$H.jsonl" 2>"$H.err"
    src=$?
    set -e
    t1=$(now); ss=$(calc "$t1 - $t0")
    mkdir -p "$H-wget"
    t0=$(now)
    set +e
    ( cd "$H-wget" && /usr/bin/time -v -o "$H-wget.time" wget -q --warc-file="$H-wget/out" -O /dev/null "$u" )
    wrc=$?
    set -e
    t1=$(now); ws=$(calc "$t1 - $t0")
    HOSTILE_ROWS+=("$what|$(hrss "$H.time")|$src|$ss|$(hrss "$H-wget.time")|$wrc|$ws")
    log "f) $what: samizdat $(hrss "$H.time") MB (exit $src, ${ss}s), wget $(hrss "$H-wget.time") MB (exit $wrc, ${ws}s)"
  done
  kill "$HOSTILE_PID" 2>/dev/null || true; wait "$HOSTILE_PID" 2>/dev/null || true
fi

# ---- g) serve under a bundle flood and slowloris ---------------------------------------------
declare -A SV=()
if want serve && [[ $SKIP_SZ != 1 ]]; then
  SV_MB=${BENCH_SERVE_MB:-128} SV_FLOOD=${BENCH_SERVE_FLOOD:-32} SV_WAVES=${BENCH_SERVE_WAVES:-2}
  SV_SLOW=${BENCH_SERVE_SLOW:-500}
  F="$WORK/serve"; mkdir -p "$F/www" "$F/peer"
  python3 - "$F/www" "$SV_MB" <<'PY'
import sys
root, mb = sys.argv[1], int(sys.argv[2])
open(f"{root}/big.html", "w").write("<!doctype html><html lang=en><head><title>Big</title></head><body><article>"
  "<h1>A post with a big picture</h1><p>Every download of this post's evidence bundle carries the picture below.</p>"
  "<img src=\"/big.png\" alt=big></article></body></html>\n")
with open(f"{root}/big.png", "wb") as f:
    for _ in range(mb): f.write(b"x" * (1 << 20))
PY
  FPORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  ( cd "$F/www" && exec python3 -m http.server -b 127.0.0.1 "$FPORT" ) >/dev/null 2>&1 &
  FIX_PID=$!
  for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$FPORT/big.html" && break; sleep 0.1; done
  A="$F/archive"; mkdir -p "$A"
  printf '[http]\nper_host_delay_ms = 0\ntimeout_ms = 120000\n[serve]\nheader_read_timeout_ms = 2000\nidle_timeout_ms = 10000\n' >"$A/samizdat.toml"
  "$SZ" --archive "$A" init >&2
  log "g) capturing a post with a $SV_MB MiB picture"
  ID=$("$SZ" --archive "$A" --json capture "http://127.0.0.1:$FPORT/big.html" | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["post_id"])')
  kill "$FIX_PID" 2>/dev/null || true; wait "$FIX_PID" 2>/dev/null || true
  "$SZ" --archive "$A" export "$ID" --bundle "$F/peer/bundle.zip" >&2
  IDQ=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$ID")
  # attack KIND HOST:PORT PATH PID — prints "name value" lines
  attack() {
    python3 - "$@" <<'PY'
import http.client, socket, sys, threading, time
kind, addr, path, pid = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
host, port = addr.rsplit(":", 1); port = int(port)
def hwm():
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmHWM:"): return int(l.split()[1]) / 1024
def get(p, out):
    try:
        c = http.client.HTTPConnection(host, port, timeout=300); c.request("GET", p); r = c.getresponse()
        n = 0
        while True:
            b = r.read(1 << 16)
            if not b: break
            n += len(b)
        out.append((r.status, n)); c.close()
    except Exception as e: out.append(("error", 0))
if kind == "flood":
    n, waves = int(sys.argv[5]), int(sys.argv[6]); out = []; t0 = time.time()
    for _ in range(waves):
        ts = [threading.Thread(target=get, args=(path, out)) for _ in range(n)]
        [t.start() for t in ts]; [t.join() for t in ts]
    ok = [b for s, b in out if s == 200]
    print("flood_s", round(time.time() - t0, 2)); print("flood_200", len(ok))
    print("flood_503", sum(1 for s, _ in out if s == 503)); print("flood_other", sum(1 for s, _ in out if s not in (200, 503)))
    print("flood_mb_sent", round(sum(ok) / 2**20)); print("peak_rss_mb", round(hwm(), 1))
else:
    n = int(sys.argv[5]); socks = []
    for i in range(n):
        s = socket.create_connection((host, port)); s.setblocking(False); socks.append(s)
    head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
    closed = set(); t0 = time.time(); lat = None
    for step in range(24):   # 12 s, a byte every 0.5 s from half of them
        for i, s in enumerate(socks):
            if i in closed: continue
            try:
                if s.recv(1024) == b"": closed.add(i); continue
            except BlockingIOError: pass
            except OSError: closed.add(i); continue
            if i % 2 == 0:
                try: s.send(head[step:step + 1])
                except OSError: closed.add(i)
        if step == 2:
            t = time.time(); out = []; get("/", out); lat = (time.time() - t) * 1000
            print("normal_request_status", out[0][0])
        time.sleep(0.5)
    print("normal_request_ms", round(lat, 1)); print("slow_closed_by_server", len(closed))
    print("peak_rss_mb", round(hwm(), 1))
    for s in socks: s.close()
PY
  }
  SPORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  "$SZ" --archive "$A" serve --listen "127.0.0.1:$SPORT" 2>"$F/serve.err" &
  SV_PID=$!
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$SPORT/" && break; sleep 0.1; done
  log "g) bundle flood: $SV_WAVES x $SV_FLOOD concurrent downloads from samizdat serve"
  while read -r k v; do SV[sz_$k]=$v; done < <(attack flood "127.0.0.1:$SPORT" "/api/posts/$IDQ/bundle" "$SV_PID" "$SV_FLOOD" "$SV_WAVES")
  kill "$SV_PID"; wait "$SV_PID" 2>/dev/null || true
  "$SZ" --archive "$A" serve --listen "127.0.0.1:$SPORT" 2>>"$F/serve.err" &
  SV_PID=$!
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$SPORT/" && break; sleep 0.1; done
  log "g) slowloris: $SV_SLOW connections against samizdat serve"
  while read -r k v; do SV[szslow_$k]=$v; done < <(attack slow "127.0.0.1:$SPORT" / "$SV_PID" "$SV_SLOW")
  kill "$SV_PID"; wait "$SV_PID" 2>/dev/null || true
  PPORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  ( cd "$F/peer" && exec python3 -m http.server -b 127.0.0.1 "$PPORT" ) >/dev/null 2>&1 &
  PEER_PID=$!
  for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$PPORT/" && break; sleep 0.1; done
  log "g) the same flood of the same bundle file from python3 -m http.server"
  while read -r k v; do SV[py_$k]=$v; done < <(attack flood "127.0.0.1:$PPORT" /bundle.zip "$PEER_PID" "$SV_FLOOD" "$SV_WAVES")
  log "g) slowloris against python3 -m http.server"
  while read -r k v; do SV[pyslow_$k]=$v; done < <(attack slow "127.0.0.1:$PPORT" / "$PEER_PID" "$SV_SLOW")
  kill "$PEER_PID" 2>/dev/null || true; wait "$PEER_PID" 2>/dev/null || true
  for k in "${!SV[@]}"; do echo "$k ${SV[$k]}"; done | sort >"$OUT/serve.txt"
fi

# ---- h) a post with BENCH_COMMENTS comments (issue 15), next to wget of the same pages ----------
declare -A CM=()
if want comments && [[ $SKIP_SZ != 1 ]]; then
  CN=${BENCH_COMMENTS:-2000}
  CPORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  python3 "$ROOT/bench/comments_server.py" "$CPORT" "$ROOT/tests/fixtures/weibo" "$CN" >"$WORK/comments-server.log" 2>&1 &
  CPID=$!
  for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$CPORT/detail/4645748019299849" && break; sleep 0.1; done
  CAR="$WORK/comments-archive"; mkdir -p "$CAR"
  printf '[http]\nper_host_delay_ms = 0\nmax_retries = 0\n[http.hosts]\n"m.weibo.cn" = "http://127.0.0.1:%s"\n' "$CPORT" >"$CAR/samizdat.toml"
  log "h) capture of a post with $CN comments (politeness off)"
  t0=$(now)
  /usr/bin/time -v "$SZ" --archive "$CAR" --json capture --no-media --comments "$CN" \
    https://m.weibo.cn/detail/4645748019299849 >"$WORK/comments.json" 2>"$WORK/comments.time" || true
  t1=$(now)
  CM[s]=$(calc "$t1 - $t0")
  CM[rss]=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$WORK/comments.time")
  read -r CM[listed] CM[records] < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r.get("comments",{}).get("listed",0), len(r["record_ids"]))' "$WORK/comments.json")
  CM[bytes]=$(du -sb "$CAR/warc" "$CAR/index.sqlite" "$CAR/log" 2>/dev/null | awk '{s+=$1} END {print s}')
  # The peer: wget fetching the same pages one after another into a WARC.
  pages=$(( (CN + 19) / 20 ))
  {
    echo "http://127.0.0.1:$CPORT/detail/4645748019299849"
    echo "http://127.0.0.1:$CPORT/comments/hotflow?id=4645748019299849&mid=4645748019299849&max_id_type=0"
    for k in $(seq 1 $((pages - 1))); do echo "http://127.0.0.1:$CPORT/comments/hotflow?id=4645748019299849&mid=4645748019299849&max_id=$k&max_id_type=0"; done
  } >"$WORK/comments-urls.txt"
  t0=$(now)
  (cd "$WORK" && wget -q -i comments-urls.txt -O /dev/null --warc-file=comments-wget --no-warc-keep-log) || true
  t1=$(now)
  CM[wget_s]=$(calc "$t1 - $t0")
  kill "$CPID" 2>/dev/null || true; wait "$CPID" 2>/dev/null || true
  for k in "${!CM[@]}"; do echo "$k ${CM[$k]}"; done | sort >"$OUT/comments.txt"
fi

declare -A RB=()
if want render && [[ $SKIP_SZ != 1 ]]; then
  log "i) rendering ${BENCH_RENDER_PAGES:-50} pages: samizdat capture --render vs chromium --headless --screenshot"
  while read -r k v; do [[ -n $k ]] && RB[$k]=$v; done < <(python3 "$ROOT/bench/render_bench.py" "$SZ" "$WORK" "${BENCH_RENDER_PAGES:-50}" 2>"$WORK/render.log")
  for k in "${!RB[@]}"; do echo "$k ${RB[$k]}"; done | sort >"$OUT/render.txt"
fi

declare -A EX=()
if want export && [[ $SKIP_SZ != 1 ]]; then
  EN=${BENCH_EXPORT_POSTS:-1000000}
  EAR="$WORK/export-archive"
  log "j) building $EN synthetic posts for the export"
  cargo run --release --quiet --example bench_web -- --posts "$EN" --archive "$EAR" --build-only >&2
  log "j) samizdat export --csv of $EN posts"
  t0=$(now)
  /usr/bin/time -v "$SZ" --archive "$EAR" --quiet export --csv "$WORK/export.csv" 2>"$WORK/export.time" >/dev/null || true
  t1=$(now)
  EX[s]=$(calc "$t1 - $t0"); EX[rss]=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$WORK/export.time")
  EX[rows]=$(python3 -c 'import csv,sys; print(sum(1 for _ in csv.reader(open(sys.argv[1], newline="", encoding="utf-8"))) - 1)' "$WORK/export.csv")
  t0=$(now)
  /usr/bin/time -v sqlite3 -csv "$EAR/index.sqlite" "SELECT id, platform, platform_id, url, author_id, author_name, created_at, state, text FROM posts WHERE thread_of IS NULL ORDER BY last_captured DESC, id" >"$WORK/export-sqlite.csv" 2>"$WORK/export-sqlite.time" || true
  t1=$(now)
  EX[peer_s]=$(calc "$t1 - $t0"); EX[peer_rss]=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$WORK/export-sqlite.time")
  for k in "${!EX[@]}"; do echo "$k ${EX[$k]}"; done | sort >"$OUT/export.txt"
fi


# ---- l) Chinese platform readers (issue 19): Xiaohongshu notes and Douyin share pages --------
declare -A CNB=()
if want cn && [[ $SKIP_SZ != 1 ]]; then
  CNN=${BENCH_CN_POSTS:-200}
  CNPAD=${BENCH_CN_PAD_KB:-256}
  NPORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  python3 "$ROOT/bench/cn_server.py" "$NPORT" "$ROOT/tests/fixtures" "$CNPAD" >"$WORK/cn-server.log" 2>&1 &
  NPID=$!
  for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$NPORT/explore/000000000000000000000001" && break; sleep 0.1; done
  NAR="$WORK/cn-archive"; mkdir -p "$NAR"
  printf '[http]\nper_host_delay_ms = 0\nmax_retries = 0\n[http.hosts]\n"www.xiaohongshu.com" = "http://127.0.0.1:%s"\n"www.iesdouyin.com" = "http://127.0.0.1:%s"\n' "$NPORT" "$NPORT" >"$NAR/samizdat.toml"
  : >"$WORK/cn-urls.txt"; : >"$WORK/cn-wget-urls.txt"
  for i in $(seq 1 "$CNN"); do
    x=$(printf '%024x' "$i"); d=$(printf '73%017d' "$i")
    echo "https://www.xiaohongshu.com/explore/$x?xsec_token=AB%3D" >>"$WORK/cn-urls.txt"
    echo "https://www.douyin.com/video/$d" >>"$WORK/cn-urls.txt"
    echo "http://127.0.0.1:$NPORT/explore/$x?xsec_token=AB%3D" >>"$WORK/cn-wget-urls.txt"
    echo "http://127.0.0.1:$NPORT/share/video/$d/" >>"$WORK/cn-wget-urls.txt"
  done
  log "l) capture of $CNN Xiaohongshu notes and $CNN Douyin share pages (${CNPAD} KB of script each), politeness off"
  t0=$(now)
  /usr/bin/time -v "$SZ" --archive "$NAR" --json capture --no-media $(cat "$WORK/cn-urls.txt") >"$WORK/cn.json" 2>"$WORK/cn.time" || true
  t1=$(now)
  CNB[s]=$(calc "$t1 - $t0")
  CNB[rss]=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$WORK/cn.time")
  CNB[captured]=$(grep -c '"status":"captured"' "$WORK/cn.json" || true)
  t0=$(now)
  (cd "$WORK" && /usr/bin/time -v wget -q -i cn-wget-urls.txt -O /dev/null --warc-file=cn-wget --no-warc-keep-log 2>"$WORK/cn-wget.time") || true
  t1=$(now)
  CNB[wget_s]=$(calc "$t1 - $t0")
  CNB[wget_rss]=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$WORK/cn-wget.time")
  kill "$NPID" 2>/dev/null || true; wait "$NPID" 2>/dev/null || true
  for k in "${!CNB[@]}"; do echo "$k ${CNB[$k]}"; done | sort >"$OUT/cn.txt"
fi

declare -A WB=()
if want witness && [[ $SKIP_SZ != 1 ]]; then
  WN=${BENCH_WITNESS_N:-2000}
  log "k) witnesses: building the Go witness and client (scripts/setup-go.sh) and examples/bench_witness"
  bash "$ROOT/scripts/setup-go.sh" >&2
  cargo build --release --quiet --example bench_witness >&2
  GOW=$ROOT/.cache/go/witness
  GOC=$ROOT/.cache/go/client
  KEYS=$("$GOC" keygen -name bench.test/log)
  LSKEY=$(sed -n 's/^skey //p' <<<"$KEYS")
  LVKEY=$(sed -n 's/^vkey //p' <<<"$KEYS")
  hwm_mb() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
  secs_of() { awk '/^requests/ {print $4}' "$1"; }
  # The server side: the same sequential client (sigsum-go's, tests/go/client bench) against
  # `samizdat witness serve` and against sigsum-go's witness handler (tests/go/witness).
  WW=$WORK/witness
  "$SZ" --archive "$WW" witness init --name bench.test/samizdat >"$WORK/w.vkey" 2>/dev/null
  printf '[[witness.logs]]\nvkey = "%s"\n' "$LVKEY" >"$WW/samizdat.toml"
  WPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$SZ" --archive "$WW" witness serve --listen "127.0.0.1:$WPORT" 2>"$WORK/wserve.log" &
  WPID=$!
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$WPORT/" && break; sleep 0.05; done
  log "k) $WN add-checkpoint requests to samizdat witness serve"
  "$GOC" bench -skey "$LSKEY" -url "http://127.0.0.1:$WPORT" -witness-vkey "$(cat "$WORK/w.vkey")" -n "$WN" >"$WORK/wb-sz.txt"
  WB[serve_rps]=$(calc "$WN / $(secs_of "$WORK/wb-sz.txt")")
  WB[serve_rss]=$(hwm_mb "$WPID")
  kill "$WPID"; wait "$WPID" 2>/dev/null || true
  "$GOW" -listen 127.0.0.1:0 -log-vkey "$LVKEY" -name bench.test/go -seed "$(python3 -c "import os; print(os.urandom(32).hex())")" -state "$WORK/go-witness.state" >"$WORK/gow.out" 2>/dev/null &
  GPID=$!
  for _ in $(seq 100); do [[ -f $WORK/gow.out && $(wc -l <"$WORK/gow.out") -ge 2 ]] && break; sleep 0.05; done
  GVKEY=$(sed -n 's/^vkey //p' "$WORK/gow.out")
  GURL=$(sed -n 's/^listening on //p' "$WORK/gow.out")
  log "k) $WN add-checkpoint requests to sigsum-go's witness"
  "$GOC" bench -skey "$LSKEY" -url "$GURL" -witness-vkey "$GVKEY" -n "$WN" >"$WORK/wb-go.txt"
  WB[go_rps]=$(calc "$WN / $(secs_of "$WORK/wb-go.txt")")
  WB[go_rss]=$(hwm_mb "$GPID")
  kill "$GPID"; wait "$GPID" 2>/dev/null || true
  # The client side: samizdat's witness client (a record appended and the checkpoint
  # submitted, N times; submissions timed) and sigsum-go's client, each against a fresh
  # sigsum-go witness.
  WA=$WORK/witnessed
  "$SZ" --archive "$WA" init --origin bench.test/archive >"$WORK/a.vkey" 2>/dev/null
  "$GOW" -listen 127.0.0.1:0 -log-vkey "$(cat "$WORK/a.vkey")" -name bench.test/go2 -seed "$(python3 -c "import os; print(os.urandom(32).hex())")" -state "$WORK/go-witness2.state" >"$WORK/gow2.out" 2>/dev/null &
  GPID=$!
  for _ in $(seq 100); do [[ -f $WORK/gow2.out && $(wc -l <"$WORK/gow2.out") -ge 2 ]] && break; sleep 0.05; done
  printf '[http]\nper_host_delay_ms = 0\n\n[[log.witnesses]]\nvkey = "%s"\nurl = "%s"\n' \
    "$(sed -n 's/^vkey //p' "$WORK/gow2.out")" "$(sed -n 's/^listening on //p' "$WORK/gow2.out")" >"$WA/samizdat.toml"
  log "k) $WN submissions by samizdat's witness client"
  "$ROOT/target/release/examples/bench_witness" "$WA" "$WN" >"$WORK/wb-client.txt"
  WB[client_sps]=$(awk '/^client_submissions_per_s/ {print $2}' "$WORK/wb-client.txt")
  kill "$GPID"; wait "$GPID" 2>/dev/null || true
  WB[go_client_sps]=${WB[go_rps]}
  for k in "${!WB[@]}"; do echo "$k ${WB[$k]}"; done | sort >"$OUT/witness.txt"
fi

# ---- table ---------------------------------------------------------------------------------------
# verdict VALUE OP TARGET  -> ✅ / ❌ / n/a
verdict() { [[ -z $1 ]] && { echo "n/a"; return; }; python3 -c "import sys; print('✅' if float(sys.argv[1]) $2 float(sys.argv[3]) else '❌')" "$1" "$2" "$3"; }
ratio() { [[ -z $1 || -z $2 ]] && { echo ""; return; }; calc "$1 / $2"; }
show() { [[ -z $1 ]] && echo "n/a" || fmt "$1"; }
showx() { [[ -z $1 ]] && echo "n/a" || echo "$(python3 -c "import sys; print(f'{float(sys.argv[1]):.2f}')" "$1")x"; }
# The median of the runs' ratios (each run: wget and samizdat back to back).
CAP_RATIO=""
if ((${#CAP_RATIOS[@]})); then
  CAP_RATIO=$(python3 -c "import statistics,sys; print(statistics.median(map(float, sys.argv[1:])))" "${CAP_RATIOS[@]}")
fi
VER_RATIO=$(ratio "$SZ_VERIFY_MBS" "$BASE_MBS")
{
  echo "## samizdat benchmark — $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo
  echo "| benchmark | samizdat | baseline | ratio | target | ok |"
  echo "|---|---:|---:|---:|---|:-:|"
  if want capture; then
  runs=""; for x in "${CAP_RATIOS[@]}"; do runs+="$(showx "$x") "; done
  echo "| a) capture $PAGES × ~2 KB pages, pages/s, last run (ok: ${SZ_OK:-n/a}; wget responses: $WGET_RESP) | $(show "$SZ_PPS") | wget --warc-file $(fmt "$WGET_PPS") | | | |"
  echo "| a) capture ratio samizdat / wget, median of $CAP_RUNS run(s): ${runs:-n/a} | | | $(showx "$CAP_RATIO") | ≥ 4x | $(verdict "$CAP_RATIO" '>=' 4) |"
  echo "| a) capture peak RSS, MB | $(show "$SZ_RSS") | wget $(show "$WGET_RSS") | | < 150 MB | $(verdict "$SZ_RSS" '<' 150) |"
  fi
  if want verify; then
  echo "| b) verify $(calc "round($UNCOMP/1e6)") MB of WARC, uncompressed MB/s (exit ${SZ_VERIFY_RC:-n/a}) | $(show "$SZ_VERIFY_MBS") | zcat\|sha256sum $(fmt "$BASE_MBS") | $(showx "$VER_RATIO") | ≥ 1.0x | $(verdict "$VER_RATIO" '>=' 1.0) |"
  fi
  for l in "${LOG_LINES[@]}"; do
    read -r name val _ <<<"$l"
    echo "| c) $name | $val | | | | |"
  done
  if want log; then ((${#LOG_LINES[@]})) || echo "| c) bench_log | n/a | | | | |"; fi
  for l in "${WEB_LINES[@]}"; do
    read -r name val _ <<<"$l"
    case $name in
      search_p95_ms) echo "| d) search p95 over $WEB_POSTS posts, ms | $val | | | < 50 ms | $(verdict "$val" '<' 50) |" ;;
      post_page_p95_ms) echo "| d) post page p95, ms | $val | | | < 20 ms | $(verdict "$val" '<' 20) |" ;;
      *) echo "| d) $name | $val | | | | |" ;;
    esac
  done
  if want web; then ((${#WEB_LINES[@]})) || echo "| d) bench_web | n/a | | | | |"; fi
  if want watch; then
    if ((${#W[@]})); then
      wn() { python3 -c "import sys; print(f'{float(sys.argv[1]):,.0f}')" "${W[$1]:-0}"; }
      wp=$(wn watch_posts) wa=$(wn watch_accounts)
      wmax=$(python3 -c "import sys; print(f'{int(sys.argv[1]) / 2**30:g} GiB')" "${W[watch_warc_max_bytes]:-1073741824}")
      echo "| e) watch: $wp posts, $wa accounts, concurrency ${W[watch_concurrency]:-?}, warc_max_bytes $wmax; total $(show "${W[total_s]:-}") s | | | | | |"
      echo "| e) watch seed ($wp posts captured through the library), captures/s | $(show "${W[seed_captures_per_s]:-}") | | | | |"
      ex=""; [[ ${W[watch_poll_exit]:-0} == 0 ]] || ex=", CLI exit ${W[watch_poll_exit]}: incomplete"
      echo "| e) watch poll: $(wn watch_poll_polls) accounts polled in $(show "${W[watch_poll_wall_s]:-}") s ($(wn watch_poll_captured) new posts captured, $(wn watch_poll_failed) failed$ex), polls/s | $(show "${W[watch_poll_polls_per_s]:-}") | | | | |"
      echo "| e) watch poll: peak RSS, MB | $(show "${W[watch_poll_peak_rss_mb]:-}") | | | < 300 MB | $(verdict "${W[watch_poll_peak_rss_mb]:-}" '<' 300) |"
      for r in first identical changed; do
        case $r in
          first) what="first check (answer = capture's)" ;;
          identical) what="identical answer" ;;
          changed) what="counts changed" ;;
        esac
        ex=""; [[ ${W[watch_${r}_exit]:-0} == 0 ]] || ex=", CLI exit ${W[watch_${r}_exit]}: incomplete"
        echo "| e) watch $what: $(wn watch_${r}_checks) checks in $(show "${W[watch_${r}_wall_s]:-}") s ($(wn watch_${r}_failed) failed$ex), checks/s | $(show "${W[watch_${r}_checks_per_s]:-}") | | | | |"
        echo "| e) watch $what: peak RSS, MB | $(show "${W[watch_${r}_peak_rss_mb]:-}") | | | < 300 MB | $(verdict "${W[watch_${r}_peak_rss_mb]:-}" '<' 300) |"
        label="e) watch $what: bytes added per check (WARC $(wn watch_${r}_warc_bytes_per_check) + index $(wn watch_${r}_index_bytes_per_check) + log $(wn watch_${r}_log_bytes_per_check); $(show "${W[watch_${r}_records_per_check]:-}") records)"
        if [[ $r == identical ]]; then
          echo "| $label | $(wn watch_${r}_total_bytes_per_check) | | | < 2 KB (2,048 B) | $(verdict "${W[watch_${r}_total_bytes_per_check]:-}" '<' 2048) |"
        else
          echo "| $label | $(wn watch_${r}_total_bytes_per_check) | | | | |"
        fi
      done
    else
      echo "| e) bench_watch | n/a | | | | |"
    fi
  fi
  for r in "${HOSTILE_ROWS[@]}"; do
    IFS='|' read -r what srss src ss wrss wrc ws <<<"$r"
    case $what in
      big) label="a ${HBIG} MiB page" ;;
      bomb) label="a gzip bomb (${HBOMB} GiB inflated)" ;;
      nested-article) label="20,000 nested <article>" ;;
      nested-div) label="100,000 nested <div>" ;;
    esac
    echo "| f) capture of $label: peak RSS, MB (exit $src, $(show "$ss") s; wget exit $wrc, $(show "$ws") s) | $(show "$srss") | wget --warc-file $(show "$wrss") | | < 150 MB | $(verdict "$srss" '<' 150) |"
  done
  if want hostile; then ((${#HOSTILE_ROWS[@]})) || echo "| f) hostile | n/a | | | | |"; fi
  if want serve; then
    if ((${#SV[@]})); then
      echo "| g) serve: bundle flood, $SV_WAVES × $SV_FLOOD downloads of a post with a $SV_MB MiB picture (${SV[sz_flood_200]} × 200, ${SV[sz_flood_503]} × 503 + Retry-After, ${SV[sz_flood_other]} other; ${SV[sz_flood_s]} s), peak RSS, MB | ${SV[sz_peak_rss_mb]} | python3 -m http.server, same file: ${SV[py_peak_rss_mb]} (${SV[py_flood_200]} × 200, ${SV[py_flood_s]} s) | | < 512 MB | $(verdict "${SV[sz_peak_rss_mb]}" '<' 512) |"
      echo "| g) serve: $SV_SLOW slowloris connections: peak RSS, MB (closed by the server within 12 s: ${SV[szslow_slow_closed_by_server]}; a normal request meanwhile: ${SV[szslow_normal_request_status]} in ${SV[szslow_normal_request_ms]} ms) | ${SV[szslow_peak_rss_mb]} | python3 -m http.server: ${SV[pyslow_peak_rss_mb]} (closed ${SV[pyslow_slow_closed_by_server]}; normal request ${SV[pyslow_normal_request_status]} in ${SV[pyslow_normal_request_ms]} ms) | | < 512 MB | $(verdict "${SV[szslow_peak_rss_mb]}" '<' 512) |"
    else
      echo "| g) serve | n/a | | | | |"
    fi
  fi
  if want comments; then
    if ((${#CM[@]})); then
      per=$(calc "${CM[bytes]} / max(1, ${CM[listed]})")
      echo "| h) a post with ${CM[listed]} comments read (${CM[records]} records, $(show "$(calc "${CM[records]} / max(1, ${CM[listed]})")") a comment; $(show "$per") B a comment of WARC + index + log; peak RSS $(show "${CM[rss]}") MB), s | $(show "${CM[s]}") | wget --warc-file of the same pages $(show "${CM[wget_s]}") | $(showx "$(ratio "${CM[wget_s]}" "${CM[s]}")") | | |"
    else
      echo "| h) comments | n/a | | | | |"
    fi
  fi
  if want render; then
    if ((${#RB[@]})); then
      echo "| i) render ${RB[render_pages]} scripted pages (exit ${RB[render_sz_exit]}; peer failures ${RB[render_peer_failed]}), s per page | ${RB[render_sz_s_per_page]} | chromium --headless --screenshot ${RB[render_peer_s_per_page]} | $(showx "$(ratio "${RB[render_sz_s_per_page]}" "${RB[render_peer_s_per_page]}")") | | |"
      echo "| i) render peak RSS of the browser's processes (summed), MB | $(show "${RB[render_sz_browser_rss_mb]}") | chromium $(show "${RB[render_peer_rss_mb]}") | $(showx "$(ratio "${RB[render_sz_browser_rss_mb]}" "${RB[render_peer_rss_mb]}")") | | |"
      echo "| i) render peak RSS of samizdat itself, MB | $(show "${RB[render_sz_rss_mb]}") | | | | |"
    else
      echo "| i) render | n/a | | | | |"
    fi
  fi
  if want export; then
    if ((${#EX[@]})); then
      echo "| j) export --csv of ${EX[rows]} posts (rows read back), s | $(show "${EX[s]}") | sqlite3 -csv of the posts table $(show "${EX[peer_s]}") | $(showx "$(ratio "${EX[s]}" "${EX[peer_s]}")") | | |"
      echo "| j) export --csv peak RSS, MB | $(show "${EX[rss]}") | sqlite3 $(show "${EX[peer_rss]}") | $(showx "$(ratio "${EX[rss]}" "${EX[peer_rss]}")") | flat | |"
    else
      echo "| j) export | n/a | | | | |"
    fi
  fi
  if want witness; then
    if ((${#WB[@]})); then
      echo "| k) witness serve: add-checkpoint requests/s, one client in sequence ($WN, each one leaf larger, with its proof) | $(show "${WB[serve_rps]}") | sigsum-go witness $(show "${WB[go_rps]}") | $(showx "$(ratio "${WB[serve_rps]}" "${WB[go_rps]}")") | | |"
      echo "| k) witness serve peak RSS, MB | $(show "${WB[serve_rss]}") | sigsum-go witness $(show "${WB[go_rss]}") | $(showx "$(ratio "${WB[serve_rss]}" "${WB[go_rss]}")") | | |"
      echo "| k) witness client: submissions/s to sigsum-go's witness (read the checkpoint, prove, verify and keep the cosignature) | $(show "${WB[client_sps]}") | sigsum-go client $(show "${WB[go_client_sps]}") | $(showx "$(ratio "${WB[client_sps]}" "${WB[go_client_sps]}")") | | |"
    else
      echo "| k) witness | n/a | | | | |"
    fi
  fi
  if want cn; then
    if ((${#CNB[@]})); then
      echo "| l) capture of $CNN Xiaohongshu notes + $CNN Douyin share pages (${CNPAD} KB of script each; ${CNB[captured]} captured), s | $(show "${CNB[s]}") | wget --warc-file of the same pages $(show "${CNB[wget_s]}") | $(showx "$(ratio "${CNB[s]}" "${CNB[wget_s]}")") | | |"
      echo "| l) that capture's peak RSS, MB | $(show "${CNB[rss]}") | wget $(show "${CNB[wget_rss]}") | $(showx "$(ratio "${CNB[rss]}" "${CNB[wget_rss]}")") | | |"
    else
      echo "| l) Chinese platform readers | n/a | | | | |"
    fi
  fi
  if [[ -n $CAP_PROFILE ]]; then
    echo
    echo "a) capture profile (perf record, one more run; whole list in $CAP_PROFILE):"
    echo
    echo '```'
    sed -n '/^per thread/,/^per function/p' "$CAP_PROFILE" | grep -v '^per function'
    sed -n '/^per function/,$p' "$CAP_PROFILE" | head -16 || true
    echo '```'
  fi
} | tee "$OUT/results.md"
