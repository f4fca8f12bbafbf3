"""Loopback Xiaohongshu and Douyin for bench/run.sh l): every note page
(/explore/<24 hex>) and share page (/share/video/<digits>/) is the fixture of
tests/fixtures/{xiaohongshu,douyin}/ with the id asked substituted and PAD_KB of inline
script added (real pages carry hundreds of KB of scripts around the state the readers
parse). Usage: cn_server.py PORT FIXTURES_DIR PAD_KB"""
import http.server, re, sys

port, fix, pad_kb = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
XHS_ID = "65f1a2b3c4d5e6f708192a3b"
DY_ID = "7301234567890123456"
xhs = open(f"{fix}/xiaohongshu/constructed_note_{XHS_ID}.html", encoding="utf-8").read()
dy = open(f"{fix}/douyin/constructed_share_video_{DY_ID}.html", encoding="utf-8").read()
pad = "<script>var pad=\"" + ("x" * 1023 + "\n") * pad_kb + "\";</script>"


def page(tmpl, old, new):
    body = tmpl.replace(old, new)
    return body.replace("</head>", pad + "</head>", 1).encode()


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        path = self.path.split("?")[0]
        m = re.fullmatch(r"/explore/([0-9a-f]{24})", path)
        d = re.fullmatch(r"/share/video/(\d{19})/", path)
        if m:
            body = page(xhs, XHS_ID, m.group(1))
        elif d:
            body = page(dy, DY_ID, d.group(1))
        else:
            body = b"not here"
        self.send_response(200 if (m or d) else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
