#!/usr/bin/env bash
# The numbers a closing note of an architecture round reports, from the working tree:
#   - integration test binaries (each tests/*.rs, and each tests/*/main.rs, is one binary
#     that cargo links and runs on its own);
#   - `.expect(`, `panic!(` (and, for information, `.unwrap()`) in src/ outside tests:
#     `#[cfg(test)]` items (a test module, or a single function) are left out by matching
#     their braces, and so are comment lines and the DER reader's own `expect(tag)` (it
#     returns a Result: only `.expect("message")` is Option/Result::expect);
#   - the size of target/release/samizdat, if it has been built.
# Usage: scripts/counts.sh [-v]   (-v also lists the files with the most of them)
set -euo pipefail
cd "$(dirname "$0")/.."

bins=0
for f in tests/*.rs tests/*/main.rs; do
    [ -e "$f" ] && bins=$((bins + 1))
done
echo "integration test binaries: $bins"

python3 - "${1:-}" <<'EOF'
import os, re, sys

def strip_cfg_test(src):
    """src without the items that follow a #[cfg(test)] attribute (up to their matching
    closing brace, or their ending semicolon)."""
    out, i = [], 0
    while True:
        j = src.find("#[cfg(test)]", i)
        if j < 0:
            out.append(src[i:])
            return "".join(out)
        out.append(src[i:j])
        k, depth = j + len("#[cfg(test)]"), 0
        while k < len(src):
            c = src[k]
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    k += 1
                    break
            elif c == ";" and depth == 0:
                k += 1
                break
            k += 1
        i = k

def expects(code):
    """`.expect(` with a message (a string literal or `format!`): Option/Result::expect.
    The DER reader's own `expect(tag)` returns a Result and is not counted."""
    return len(re.findall(r'\.expect\(\s*(?:"|&?format!)', code))

pats = {
    "expect": expects,
    "panic": lambda code: len(re.findall(r"\bpanic!\(", code)),
    "unwrap": lambda code: len(re.findall(r"\.unwrap\(\)", code)),
}
total = dict.fromkeys(pats, 0)
per = {}
for d, _, files in os.walk("src"):
    for f in files:
        if not f.endswith(".rs"):
            continue
        p = os.path.join(d, f)
        body = strip_cfg_test(open(p, encoding="utf-8").read())
        code = "\n".join(l for l in body.splitlines() if not l.lstrip().startswith("//"))
        c = {k: count(code) for k, count in pats.items()}
        for k in c:
            total[k] += c[k]
        if any(c.values()):
            per[p] = c
print(f"src outside tests: expect( {total['expect']}, panic!( {total['panic']}"
      f" (unwrap() {total['unwrap']})")
if sys.argv[1:] == ["-v"]:
    for p, c in sorted(per.items(), key=lambda x: -sum(x[1].values())):
        print(f"  {p}: expect {c['expect']}, panic {c['panic']}, unwrap {c['unwrap']}")
EOF

bin=target/release/samizdat
if [ -f "$bin" ]; then
    bytes=$(stat -c %s "$bin")
    echo "release binary: $bytes bytes ($((bytes / 1000000)) MB) $bin"
else
    echo "release binary: not built ($bin)"
fi
