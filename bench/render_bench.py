#!/usr/bin/env python3
"""bench/render_bench.py SAMIZDAT_BIN WORKDIR [PAGES] — section i) of bench/run.sh (issue 16).

Serves PAGES (50) scripted pages on loopback (each: a style sheet, a picture, a script that
writes the post's text), then
  1. `samizdat capture --render` of all of them in one run, [browser] concurrency 1;
  2. the peer: `chromium --headless --screenshot` of each page, one after another, in the same
     run, as an unprivileged user with its sandbox on (as samizdat runs it when root).
For each: wall seconds per page, and the peak RSS, sampled every 100 ms from /proc, of
samizdat's own process and of every browser process together (the browser's RSS summed over
its processes: shared pages are counted in each, for both alike).
Prints `key value` lines.
"""
import http.server
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import threading
import time

SZ, WORK = sys.argv[1], sys.argv[2]
PAGES = int(sys.argv[3]) if len(sys.argv) > 3 else 50

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a5f6a0d10000000049454e44ae426082"
)
CSS = b"body{font-family:sans-serif;background:#f6f6ff;margin:2em} p{line-height:1.5}"


def page(i):
    text = " ".join(["All my bank cards were frozen after a work call, post %d." % i] * 20)
    return (
        "<!doctype html><html><head><title>Post %d</title><link rel=stylesheet href=/style.css>"
        "</head><body><article id=a></article><img src=/pic.png width=200 height=120>"
        "<script>document.getElementById('a').innerHTML='<p>%s</p>'</script></body></html>"
        % (i, text)
    ).encode()


class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/style.css":
            body, ct = CSS, "text/css"
        elif self.path == "/pic.png":
            body, ct = PNG, "image/png"
        elif self.path.startswith("/p/"):
            body, ct = page(int(self.path[3:])), "text/html; charset=utf-8"
        else:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", ct)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
port = srv.server_address[1]
urls = ["http://page.example/p/%d" % i for i in range(PAGES)]


def procs():
    """(pid, ppid, rss KiB, cmdline) of every process."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read().rsplit(")", 1)[1].split()
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open("/proc/%s/status" % d) as f:
                rss = next((int(l.split()[1]) for l in f if l.startswith("VmRSS:")), 0)
        except (OSError, StopIteration, IndexError):
            continue
        out.append((int(d), int(st[1]), rss, cmd))
    return out


def sample(main_pid, own_is_browser, stop, peaks):
    """Peak RSS of `main_pid` and of its descendants (the browser's processes)."""
    while not stop.is_set():
        ps = procs()
        kids = {}
        for pid, ppid, _rss, _cmd in ps:
            kids.setdefault(ppid, []).append(pid)
        tree, todo = set(), [main_pid]
        while todo:
            x = todo.pop()
            for k in kids.get(x, []):
                if k not in tree:
                    tree.add(k)
                    todo.append(k)
        own = sum(r for pid, _, r, _ in ps if pid == main_pid)
        browser = sum(r for pid, _, r, _ in ps if pid in tree)
        if own_is_browser:
            browser += own
        peaks["own"] = max(peaks["own"], own)
        peaks["browser"] = max(peaks["browser"], browser)
        time.sleep(0.1)


def run(cmd, own_is_browser, **kw):
    peaks = {"own": 0, "browser": 0}
    stop = threading.Event()
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    th = threading.Thread(target=sample, args=(p.pid, own_is_browser, stop, peaks))
    th.start()
    _, err = p.communicate()
    stop.set()
    th.join()
    return time.time() - t0, p.returncode, peaks, err.decode(errors="replace")


# 1. samizdat.
ar = os.path.join(WORK, "render-archive")
shutil.rmtree(ar, ignore_errors=True)
subprocess.run([SZ, "--archive", ar, "init"], check=True, stdout=subprocess.DEVNULL)
with open(os.path.join(ar, "samizdat.toml"), "a") as f:
    f.write(
        '\n[http]\nper_host_delay_ms = 0\n[http.hosts]\n"page.example" = "http://127.0.0.1:%d"\n'
        "[browser]\nconcurrency = 1\n" % port
    )
s, rc, peaks, err = run(
    [SZ, "--archive", ar, "--quiet", "capture", "--render", "--no-media"] + urls,
    False,
)
print("render_pages", PAGES)
print("render_sz_exit", rc)
print("render_sz_s_per_page", "%.3f" % (s / PAGES))
print("render_sz_rss_mb", "%.1f" % (peaks["own"] / 1024))
print("render_sz_browser_rss_mb", "%.1f" % (peaks["browser"] / 1024))
if rc != 0:
    sys.stderr.write(err[-2000:])

# 2. chromium --headless --screenshot, as the same unprivileged user.
exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
user = "nobody"
prof = tempfile.mkdtemp(prefix="bench-chromium-")
shots = tempfile.mkdtemp(prefix="bench-shots-")
pw = pwd.getpwnam(user)
for d in (prof, shots):
    os.chown(d, pw.pw_uid, pw.pw_gid)


def demote():
    os.setgroups([])
    os.setgid(pw.pw_gid)
    os.setuid(pw.pw_uid)


root = os.geteuid() == 0
t0 = time.time()
peak_browser = 0
fails = 0
for i in range(PAGES):
    # The peer has no host override: it is sent to the loopback address itself.
    u = "http://127.0.0.1:%d/p/%d" % (port, i)
    cmd = [
        exe,
        "--headless=new",
        "--disable-gpu",
        "--hide-scrollbars",
        "--user-data-dir=%s/p%d" % (prof, i),
        "--window-size=1280,800",
        "--screenshot=%s/%d.png" % (shots, i),
        u,
    ]
    _s, rc, peaks, _err = run(
        cmd,
        True,
        preexec_fn=demote if root else None,
        env={"HOME": prof, "PATH": os.environ.get("PATH", "")},
    )
    peak_browser = max(peak_browser, peaks["browser"])
    fails += rc != 0 or not os.path.exists("%s/%d.png" % (shots, i))
peer_s = time.time() - t0
print("render_peer_s_per_page", "%.3f" % (peer_s / PAGES))
print("render_peer_rss_mb", "%.1f" % (peak_browser / 1024))
print("render_peer_failed", fails)
shutil.rmtree(prof, ignore_errors=True)
shutil.rmtree(shots, ignore_errors=True)
srv.shutdown()
