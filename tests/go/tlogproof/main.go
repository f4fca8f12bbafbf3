//go:debug httpmuxgo121=0

// An independent checker of samizdat's travelling proofs, for its tests: every
// proofs/<record>.tlog-proof of an unzipped evidence bundle is checked against its
// record in records.warc.gz and a C2SP tlog-policy, with Go's own parts: the record's
// leaf hash and inclusion proof by x/mod's sumdb/tlog (RecordHash, CheckRecord), the
// log's signature by x/mod's sumdb/note, and the witnesses' cosignatures by sigsum-go's
// cosignature/v1 verifier (pkg/checkpoint). The tlog-proof and policy lines are read
// here, by the specs, not by samizdat's code.
//
// Usage: tlogproof -dir BUNDLE_DIR -policy FILE
// Prints "ok <file> <index> <witnesses that cosigned>" per proof and "quorum holds", or
// "FAIL ..." and exits 1.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"sigsum.org/sigsum-go/pkg/checkpoint"
)

func fail(format string, a ...any) {
	fmt.Printf("FAIL "+format+"\n", a...)
	os.Exit(1)
}

type group struct {
	k       int
	members []string
}

type policy struct {
	logs      []string
	witnesses map[string]checkpoint.NoteVerifier
	groups    map[string]group
	quorum    string
}

func readPolicy(path string) policy {
	b, err := os.ReadFile(path)
	if err != nil {
		fail("policy: %v", err)
	}
	p := policy{witnesses: map[string]checkpoint.NoteVerifier{}, groups: map[string]group{}}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch f[0] {
		case "log":
			p.logs = append(p.logs, f[1])
		case "witness":
			var v checkpoint.NoteVerifier
			if err := v.FromString(f[2]); err != nil {
				fail("policy witness %s: %v", f[1], err)
			}
			p.witnesses[f[1]] = v
		case "group":
			k := len(f) - 3
			if f[2] == "any" {
				k = 1
			} else if f[2] != "all" {
				k, err = strconv.Atoi(f[2])
				if err != nil {
					fail("policy group %s: %v", f[1], err)
				}
			}
			p.groups[f[1]] = group{k: k, members: f[3:]}
		case "quorum":
			p.quorum = f[1]
		default:
			fail("policy: unknown line %q", line)
		}
	}
	return p
}

func (p policy) holds(name string, ok map[string]bool) bool {
	if name == "none" {
		return true
	}
	if g, is := p.groups[name]; is {
		n := 0
		for _, m := range g.members {
			if p.holds(m, ok) {
				n++
			}
		}
		return n >= g.k
	}
	return ok[name]
}

// Each record of the WARC file (one gzip member per record): its WARC-Record-ID and
// RFC 6962 leaf hash over the uncompressed member.
func readRecords(path string) map[string]tlog.Hash {
	f, err := os.Open(path)
	if err != nil {
		fail("records: %v", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	out := map[string]tlog.Hash{}
	zr, err := gzip.NewReader(br)
	if err != nil {
		fail("records: %v", err)
	}
	for {
		zr.Multistream(false)
		data, err := io.ReadAll(zr)
		if err != nil {
			fail("records: %v", err)
		}
		head := data[:bytes.Index(data, []byte("\r\n\r\n"))]
		for _, l := range strings.Split(string(head), "\r\n") {
			if v, ok := strings.CutPrefix(l, "WARC-Record-ID: "); ok {
				out[v] = tlog.RecordHash(data)
			}
		}
		if err := zr.Reset(br); err == io.EOF {
			return out
		} else if err != nil {
			fail("records: %v", err)
		}
	}
}

func main() {
	dir := flag.String("dir", "", "the unzipped bundle")
	policyPath := flag.String("policy", "", "a C2SP tlog-policy")
	flag.Parse()
	p := readPolicy(*policyPath)
	if len(p.logs) != 1 {
		fail("want one log in the policy, got %d", len(p.logs))
	}
	logV, err := note.NewVerifier(p.logs[0])
	if err != nil {
		fail("log vkey: %v", err)
	}
	records := readRecords(filepath.Join(*dir, "records.warc.gz"))
	files, _ := filepath.Glob(filepath.Join(*dir, "proofs", "*.tlog-proof"))
	sort.Strings(files)
	if len(files) == 0 {
		fail("no tlog-proofs")
	}
	if len(files) != len(records) {
		fail("%d tlog-proofs for %d records", len(files), len(records))
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			fail("%v", err)
		}
		head, cpText, found := strings.Cut(string(b), "\n\n")
		if !found {
			fail("%s: no blank line", file)
		}
		lines := strings.Split(head, "\n")
		if lines[0] != "c2sp.org/tlog-proof@v1" {
			fail("%s: first line %q", file, lines[0])
		}
		lines = lines[1:]
		var recordID string
		if e, ok := strings.CutPrefix(lines[0], "extra "); ok {
			raw, err := base64.StdEncoding.DecodeString(e)
			if err != nil {
				fail("%s: extra: %v", file, err)
			}
			recordID = string(raw)
			lines = lines[1:]
		}
		idxText, ok := strings.CutPrefix(lines[0], "index ")
		if !ok {
			fail("%s: no index line", file)
		}
		index, err := strconv.ParseInt(idxText, 10, 64)
		if err != nil {
			fail("%s: index: %v", file, err)
		}
		var proof tlog.RecordProof
		for _, l := range lines[1:] {
			h, err := tlog.ParseHash(l)
			if err != nil {
				fail("%s: proof line %q: %v", file, l, err)
			}
			proof = append(proof, h)
		}
		n, err := note.Open([]byte(cpText), note.VerifierList(logV))
		if err != nil {
			fail("%s: the log's signature: %v", file, err)
		}
		t := strings.Split(n.Text, "\n")
		size, err := strconv.ParseInt(t[1], 10, 64)
		if err != nil {
			fail("%s: checkpoint size: %v", file, err)
		}
		root, err := tlog.ParseHash(t[2])
		if err != nil {
			fail("%s: checkpoint root: %v", file, err)
		}
		leaf, ok := records[recordID]
		if !ok {
			fail("%s: no record %s in records.warc.gz", file, recordID)
		}
		if err := tlog.CheckRecord(proof, size, root, index, leaf); err != nil {
			fail("%s: inclusion of record %s at %d in %d: %v", file, recordID, index, size, err)
		}
		var cp checkpoint.Checkpoint
		if err := cp.FromASCII(strings.NewReader(cpText)); err != nil {
			fail("%s: checkpoint: %v", file, err)
		}
		sigs, err := checkpoint.CosignatureLinesFromASCII(strings.NewReader(cpText[strings.Index(cpText, "\n\n")+2:]))
		if err != nil {
			fail("%s: cosignature lines: %v", file, err)
		}
		cosigned := map[string]bool{}
		var names []string
		for name, w := range p.witnesses {
			if _, err := cp.VerifyCosignatureByKey(sigs, &w.PublicKey); err == nil {
				cosigned[name] = true
				names = append(names, name)
			}
		}
		sort.Strings(names)
		if !p.holds(p.quorum, cosigned) {
			fail("%s: the quorum %s does not hold (cosigned: %v)", file, p.quorum, names)
		}
		fmt.Printf("ok %s %d %s\n", filepath.Base(file), index, strings.Join(names, ","))
	}
	fmt.Println("quorum holds")
}
