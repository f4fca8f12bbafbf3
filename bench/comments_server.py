"""Loopback Weibo for bench/run.sh h): one post with BENCH_COMMENTS comments, 20 a page
through hotflow's max_id, each comment shaped like tests/fixtures/weibo/thread/ (recorded
shape, generated text). Usage: comments_server.py PORT FIXTURES_DIR N"""
import copy, http.server, json, sys

port, fix, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
MID = "4645748019299849"
PER = 20
pages = (n + PER - 1) // PER
tmpl = json.load(open(f"{fix}/thread/constructed_hotflow_page3.json"))
one = tmpl["data"]["data"][0]
static = {
    f"/statuses/show?id={MID}": "constructed_statuses_show_4645748019299849.json",
    f"/statuses/extend?id={MID}": "m_statuses_extend_4645748019299849.json",
    f"/detail/{MID}": "constructed_detail_4645748019299849.html",
    f"/api/statuses/repostTimeline?id={MID}&page=1": "thread/constructed_repostTimeline_none.json",
}


def page(k):
    out = copy.deepcopy(tmpl)
    items = []
    for i in range(k * PER, min(n, (k + 1) * PER)):
        c = copy.deepcopy(one)
        cid = 4645790000100000 + i
        c.update(id=cid, rootid=cid, rootidstr=str(cid), mid=str(cid), idstr=str(cid),
                 floor_number=i + 1, like_count=i % 97,
                 text=f"第{i + 1}条评论：这张银行卡也被冻结了，反诈中心没有给任何说明。comment {i + 1}")
        items.append(c)
    out["data"]["data"] = items
    out["data"]["total_number"] = n
    out["data"]["max"] = pages
    out["data"]["max_id"] = k + 1 if k + 1 < pages else 0
    return json.dumps(out, ensure_ascii=False).encode()


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        p = self.path
        body, ctype = None, "application/json; charset=utf-8"
        if p in static:
            body = open(f"{fix}/{static[p]}", "rb").read()
            if p.startswith("/detail/"):
                ctype = "text/html; charset=utf-8"
        elif p.startswith(f"/comments/hotflow?id={MID}&mid={MID}&"):
            q = dict(kv.split("=", 1) for kv in p.split("?", 1)[1].split("&"))
            body = page(int(q.get("max_id", "0")))
        if body is None:
            self.send_response(404)
            self.send_header("content-length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
