//go:debug httpmuxgo121=0

// An independent C2SP tlog-witness for samizdat's tests: sigsum-go's add-checkpoint
// HTTP handler and request parser (pkg/server, pkg/requests), its consistency-proof
// check and cosignature/v1 signer (pkg/types), and x/mod's signed-note verifier for
// the log's checkpoint signature. Adapted from sigsum-go's cmd/sigsum-witness (BSD-2),
// which only accepts sigsum-style origins; this one witnesses the log named by
// -log-vkey. State (the size and root it last cosigned) is written atomically.
//
// Usage: witness -listen 127.0.0.1:0 -log-vkey VKEY -name NAME -seed HEX -state FILE
// Prints "vkey <witness vkey>" and "listening on http://ADDR" on stdout.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"sigsum.org/sigsum-go/pkg/api"
	"sigsum.org/sigsum-go/pkg/checkpoint"
	"sigsum.org/sigsum-go/pkg/crypto"
	"sigsum.org/sigsum-go/pkg/requests"
	"sigsum.org/sigsum-go/pkg/server"
	"sigsum.org/sigsum-go/pkg/types"
)

type witness struct {
	mu       sync.Mutex
	signer   *crypto.Ed25519Signer
	name     string
	keyId    checkpoint.KeyId
	origin   string
	verifier note.Verifier
	state    string
	th       types.TreeHead
}

func (w *witness) load() error {
	b, err := os.ReadFile(w.state)
	if os.IsNotExist(err) {
		w.th = types.NewEmptyTreeHead()
		return nil
	}
	if err != nil {
		return err
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return fmt.Errorf("bad state file")
	}
	size, err := strconv.ParseUint(f[0], 10, 64)
	if err != nil {
		return err
	}
	root, err := crypto.HashFromBase64(f[1])
	if err != nil {
		return err
	}
	w.th = types.TreeHead{Size: size, RootHash: root}
	return nil
}

func (w *witness) store(th types.TreeHead) error {
	tmp := w.state + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(f, "%d %s\n", th.Size, base64.StdEncoding.EncodeToString(th.RootHash[:])); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	f.Close()
	return os.Rename(tmp, w.state)
}

func (w *witness) AddCheckpoint(_ context.Context, req requests.AddCheckpoint) ([]checkpoint.CosignatureLine, error) {
	if req.Checkpoint.Origin != w.origin {
		return nil, api.ErrNotFound
	}
	// The log's signature, checked by x/mod's note package over the checkpoint text.
	text := req.Checkpoint.TreeHead.FormatCheckpoint(req.Checkpoint.Origin)
	sig := append(append([]byte{}, req.Checkpoint.KeyId[:]...), req.Checkpoint.Signature[:]...)
	msg := text + "\n\u2014 " + req.Checkpoint.Origin + " " + base64.StdEncoding.EncodeToString(sig) + "\n"
	if _, err := note.Open([]byte(msg), note.VerifierList(w.verifier)); err != nil {
		return nil, api.ErrForbidden.WithError(err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.th.Size != req.OldSize {
		return nil, api.ErrConflict.WithOldSize(w.th.Size)
	}
	if err := req.Proof.Verify(&w.th, &req.Checkpoint.TreeHead); err != nil {
		return nil, api.ErrUnprocessableEntity
	}
	cs, err := req.Checkpoint.TreeHead.Cosign(w.signer, w.origin, uint64(time.Now().Unix()))
	if err != nil {
		return nil, err
	}
	if err := w.store(req.Checkpoint.TreeHead); err != nil {
		return nil, err
	}
	w.th = req.Checkpoint.TreeHead
	return []checkpoint.CosignatureLine{{KeyName: w.name, KeyId: w.keyId, Cosignature: cs}}, nil
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address")
	logVkey := flag.String("log-vkey", "", "the log's verifier key (C2SP vkey)")
	name := flag.String("name", "witness.test/sigsum-go", "the witness's key name")
	seed := flag.String("seed", "", "the witness's Ed25519 seed, hex")
	state := flag.String("state", "", "state file")
	flag.Parse()
	v, err := note.NewVerifier(*logVkey)
	if err != nil {
		log.Fatal(err)
	}
	signer, err := crypto.SignerFromHex(*seed)
	if err != nil {
		log.Fatal(err)
	}
	pub := signer.Public()
	w := &witness{signer: signer, name: *name, keyId: checkpoint.NewWitnessKeyId(*name, &pub),
		origin: v.Name(), verifier: v, state: *state}
	if err := w.load(); err != nil {
		log.Fatal(err)
	}
	// The witness's vkey: name+keyid+base64(0x04 || pub).
	kid := sha256.Sum256(append(append([]byte(*name+"\n"), 0x04), pub[:]...))
	fmt.Printf("vkey %s+%s+%s\n", *name, hex.EncodeToString(kid[:4]),
		base64.StdEncoding.EncodeToString(append([]byte{0x04}, pub[:]...)))
	_ = binary.BigEndian
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	os.Stdout.Sync()
	log.Fatal(http.Serve(ln, server.NewWitness(&server.Config{}, w)))
}
