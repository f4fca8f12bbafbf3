//go:debug httpmuxgo121=0

// An independent C2SP tlog-witness client for samizdat's tests, to drive
// `samizdat witness serve`: sigsum-go's add-checkpoint request writer and HTTP client
// (pkg/requests, pkg/client), its Merkle tree and consistency proofs (pkg/merkle),
// its cosignature/v1 verifier (pkg/checkpoint), and x/mod's signed-note signer for the
// log's checkpoints. It plays a log of its own and submits good, stale (409), forked
// and bad-proof (422), unknown-origin (404) and wrongly signed (403) checkpoints.
//
// Usage:
//
//	client keygen -name NAME        prints "skey SKEY" and "vkey VKEY"
//	client run -skey SKEY -url URL -witness-vkey VKEY
//	client bench -skey SKEY -url URL -witness-vkey VKEY -n N
//
// `bench` (bench/run.sh) submits N checkpoints one after another, each one leaf larger,
// each with its consistency proof, verifies every cosignature, and prints
// "requests N seconds S".
//
// `run` prints "ok <step>" per step and exits 1 at the first step that goes otherwise.
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"sigsum.org/sigsum-go/pkg/api"
	"sigsum.org/sigsum-go/pkg/checkpoint"
	"sigsum.org/sigsum-go/pkg/client"
	"sigsum.org/sigsum-go/pkg/merkle"
	"sigsum.org/sigsum-go/pkg/requests"
	"sigsum.org/sigsum-go/pkg/types"
)

func fail(format string, a ...any) {
	fmt.Printf("FAIL "+format+"\n", a...)
	os.Exit(1)
}

type log struct {
	name   string
	signer note.Signer
	tree   merkle.Tree
}

func (l *log) add(prefix string, n int) {
	for i := 0; i < n; i++ {
		h := merkle.HashLeafNode([]byte(fmt.Sprintf("%s-%d-%d", prefix, l.tree.Size(), i)))
		l.tree.AddLeafHash(&h)
	}
}

// The signed checkpoint of the tree as it is, parsed back by sigsum-go.
func (l *log) checkpoint(origin string) checkpoint.Checkpoint {
	th := types.TreeHead{Size: l.tree.Size(), RootHash: l.tree.GetRootHash()}
	msg, err := note.Sign(&note.Note{Text: th.FormatCheckpoint(origin)}, l.signer)
	if err != nil {
		fail("sign: %v", err)
	}
	var cp checkpoint.Checkpoint
	if err := cp.FromASCII(strings.NewReader(string(msg))); err != nil {
		fail("parse own checkpoint: %v\n%s", err, msg)
	}
	return cp
}

func (l *log) proof(old uint64) types.ConsistencyProof {
	if old == 0 || old == l.tree.Size() {
		return types.ConsistencyProof{}
	}
	p, err := l.tree.ProveConsistency(old, l.tree.Size())
	if err != nil {
		fail("prove %d..%d: %v", old, l.tree.Size(), err)
	}
	return types.ConsistencyProof{Path: p}
}

func main() {
	if len(os.Args) < 2 {
		fail("usage: client keygen|run ...")
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	name := fs.String("name", "", "log name (keygen)")
	skey := fs.String("skey", "", "the log's note signer key")
	url := fs.String("url", "", "the witness's submission prefix")
	wvkey := fs.String("witness-vkey", "", "the witness's verifier key")
	n := fs.Int("n", 1000, "submissions (bench)")
	fs.Parse(os.Args[2:])
	if os.Args[1] == "keygen" {
		s, v, err := note.GenerateKey(rand.Reader, *name)
		if err != nil {
			fail("keygen: %v", err)
		}
		fmt.Printf("skey %s\nvkey %s\n", s, v)
		return
	}
	signer, err := note.NewSigner(*skey)
	if err != nil {
		fail("skey: %v", err)
	}
	var wv checkpoint.NoteVerifier
	if err := wv.FromString(*wvkey); err != nil {
		fail("witness vkey: %v", err)
	}
	origin := signer.Name()
	cli := client.New(client.Config{URL: *url, UserAgent: "samizdat-test-client"})
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Second)
	defer cancel()

	submit := func(old uint64, proof types.ConsistencyProof, cp checkpoint.Checkpoint) ([]checkpoint.CosignatureLine, error) {
		return cli.AddCheckpoint(ctx, requests.AddCheckpoint{OldSize: old, Proof: proof, Checkpoint: cp})
	}
	cosigned := func(step string, lines []checkpoint.CosignatureLine, err error, cp checkpoint.Checkpoint) {
		if err != nil {
			fail("%s: %v", step, err)
		}
		cs, err := cp.VerifyCosignatureByKey(lines, &wv.PublicKey)
		if err != nil {
			fail("%s: the cosignature does not verify: %v", step, err)
		}
		if lines[0].KeyName != wv.Name {
			fail("%s: cosigned as %q, want %q", step, lines[0].KeyName, wv.Name)
		}
		now := uint64(time.Now().Unix())
		if cs.Timestamp+300 < now || cs.Timestamp > now+300 {
			fail("%s: cosignature time %d is not now (%d)", step, cs.Timestamp, now)
		}
		fmt.Printf("ok %s %d\n", step, cp.TreeHead.Size)
	}
	refused := func(step string, err error, status int) {
		if err == nil {
			fail("%s: cosigned, want %d", step, status)
		}
		if got := api.ErrorStatusCode(err); got != status {
			fail("%s: %v (status %d), want %d", step, err, got, status)
		}
		fmt.Printf("ok %s %d\n", step, status)
	}

	if os.Args[1] == "bench" {
		l := &log{name: origin, signer: signer, tree: merkle.NewTree()}
		old := uint64(0)
		start := time.Now()
		for i := 0; i < *n; i++ {
			l.add("b", 1)
			cp := l.checkpoint(origin)
			lines, err := submit(old, l.proof(old), cp)
			if err != nil {
				fail("bench submission %d: %v", i, err)
			}
			if _, err := cp.VerifyCosignatureByKey(lines, &wv.PublicKey); err != nil {
				fail("bench submission %d: %v", i, err)
			}
			old = cp.TreeHead.Size
		}
		fmt.Printf("requests %d seconds %.3f\n", *n, time.Since(start).Seconds())
		return
	}
	l := &log{name: origin, signer: signer, tree: merkle.NewTree()}
	l.add("a", 5)
	cp5 := l.checkpoint(origin)
	lines, err := submit(0, l.proof(0), cp5)
	cosigned("first", lines, err, cp5)

	// The same checkpoint again: the witness is at 5, the request is.
	lines, err = submit(5, l.proof(5), cp5)
	cosigned("same", lines, err, cp5)

	l.add("a", 3)
	cp8 := l.checkpoint(origin)
	_, err = submit(0, l.proof(0), cp8)
	if old, ok := api.ErrorConflictOldSize(err); !ok || old != 5 {
		fail("stale: %v, want 409 with size 5", err)
	}
	fmt.Println("ok stale 409 5")
	lines, err = submit(5, l.proof(5), cp8)
	cosigned("extend", lines, err, cp8)

	// Another history under the same key and origin.
	fork := &log{name: origin, signer: signer, tree: merkle.NewTree()}
	fork.add("fork", 8)
	_, err = submit(8, fork.proof(8), fork.checkpoint(origin))
	refused("fork-same-size", err, 422)
	fork.add("fork", 4)
	_, err = submit(8, fork.proof(8), fork.checkpoint(origin))
	refused("fork-larger", err, 422)

	l.add("a", 4)
	cp12 := l.checkpoint(origin)
	bad := l.proof(8)
	bad.Path[0][0] ^= 1
	_, err = submit(8, bad, cp12)
	refused("bad-proof", err, 422)

	// A checkpoint of this origin signed by another key.
	s2, _, _ := note.GenerateKey(rand.Reader, origin)
	other, _ := note.NewSigner(s2)
	stranger := &log{name: origin, signer: other, tree: l.tree}
	_, err = submit(8, l.proof(8), stranger.checkpoint(origin))
	refused("foreign-key", err, 403)

	// A log the witness does not know.
	s3, _, _ := note.GenerateKey(rand.Reader, "unknown.test/log")
	unk, _ := note.NewSigner(s3)
	u := &log{name: "unknown.test/log", signer: unk, tree: merkle.NewTree()}
	u.add("u", 2)
	_, err = submit(0, u.proof(0), u.checkpoint("unknown.test/log"))
	refused("unknown-log", err, 404)

	// Nothing refused moved the state: the true log goes on from 8.
	lines, err = submit(8, l.proof(8), cp12)
	cosigned("after-refusals", lines, err, cp12)
}
