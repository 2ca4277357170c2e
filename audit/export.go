package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"passnum/ledger"
	"passnum/voucher"
)

// The export file (docs/ledger.md, "Export file") is JSON Lines: a header,
// the signing keys, the sealed events in sequence order each followed by
// the checkpoints at its position, and an end line with the counts.
const (
	exportFormat  = "passnum-ledger-export"
	exportVersion = 1
	// exportTime is how times are written: UTC, exactly six fractional
	// digits, the layout of the chain's canonical form.
	exportTime = "2006-01-02T15:04:05.000000Z"
	// maxExportLine bounds one line of an export file when reading it.
	maxExportLine = 16 << 20
)

// ExportSummary says what an export wrote.
type ExportSummary struct {
	Events      int64 // sealed events written
	Checkpoints int64
	Unsealed    int64 // events left out: not sealed when the export began
	LastSeq     int64 // the chain position the export stops at
}

// Exporter writes the auditor's export of the sealed ledger. Only DB is
// required.
type Exporter struct {
	DB *ledger.DB // its clock gives the header's exported_at
	// PageSize is how many events one query reads (keyset pagination by
	// seq); default 5,000. Memory stays flat whatever the ledger size.
	PageSize int
	// Progress, if set, is called after each page with the events written
	// so far and the number the export will write at most.
	Progress func(done, total int64)
}

// Export streams the sealed ledger to w as JSON Lines, reading events in
// pages by sequence number: it never loads them all.
func Export(ctx context.Context, db *ledger.DB, w io.Writer) (ExportSummary, error) {
	return (&Exporter{DB: db}).Export(ctx, w)
}

// Export writes the export to w. It runs no long transaction (on SQLite a
// transaction would block every writer); instead it fixes the chain
// position to stop at first: sealed events never change, so every page
// read afterwards agrees with the header, and events sealed meanwhile are
// simply not part of this export.
func (e *Exporter) Export(ctx context.Context, w io.Writer) (ExportSummary, error) {
	var sum ExportSummary
	pageSize := e.PageSize
	if pageSize <= 0 {
		pageSize = 5000
	}
	db := e.DB.Read(ctx)
	// A checkpoint is written in the transaction that seals the events it
	// covers, so reading the events' head first and the checkpoints' next
	// never stops before an event a checkpoint vouches for. A checkpoint
	// past the last event (a deleted tail) is exported too: the verifier
	// must see it.
	var eventHead, checkpointHead int64
	if err := db.Raw(`SELECT COALESCE(MAX(seq), 0) FROM events`).Scan(&eventHead).Error; err != nil {
		return sum, fmt.Errorf("read the chain head: %w", err)
	}
	if err := db.Raw(`SELECT COALESCE(MAX(seq), 0) FROM checkpoints`).Scan(&checkpointHead).Error; err != nil {
		return sum, fmt.Errorf("read the last checkpoint: %w", err)
	}
	sum.LastSeq = max(eventHead, checkpointHead)
	var keys []ledger.SigningKey
	if err := db.Order("id").Find(&keys).Error; err != nil {
		return sum, fmt.Errorf("read signing keys: %w", err)
	}
	// Counted after reading the keys: a key whose event is not in the export
	// then always shows in this count (a key and its event commit together).
	if err := db.Raw(`SELECT COUNT(*) FROM events WHERE seq IS NULL OR seq > ?`, sum.LastSeq).Scan(&sum.Unsealed).Error; err != nil {
		return sum, fmt.Errorf("count unsealed events: %w", err)
	}

	bw := bufio.NewWriterSize(w, 64<<10)
	line, err := json.Marshal(exportHeader{Kind: "header", Format: exportFormat, Version: exportVersion,
		ExportedAt: e.DB.Now().Format(exportTime), LastSeq: sum.LastSeq, Unsealed: sum.Unsealed})
	if err != nil {
		return sum, err
	}
	writeLine(bw, line)
	for _, k := range keys {
		line, err := json.Marshal(exportKey{Kind: "key", ID: k.ID, PublicKey: base64.StdEncoding.EncodeToString(k.PublicKey), Status: k.Status})
		if err != nil {
			return sum, err
		}
		writeLine(bw, line)
	}

	head := make([]byte, sha256.Size)
	var buf []byte
	var after int64 // the last position written: events and checkpoints up to it are out
	for {
		var page []ledger.Event
		if err := db.Where("seq > ? AND seq <= ?", after, sum.LastSeq).Order("seq").Limit(pageSize).Find(&page).Error; err != nil {
			return sum, fmt.Errorf("read events after #%d: %w", after, err)
		}
		upTo := sum.LastSeq // the last page takes every checkpoint left
		if len(page) == pageSize {
			upTo = *page[len(page)-1].Seq
		}
		var cps []ledger.Checkpoint
		if err := db.Where("seq > ? AND seq <= ?", after, upTo).Order("seq").Find(&cps).Error; err != nil {
			return sum, fmt.Errorf("read checkpoints after #%d: %w", after, err)
		}
		next := 0
		writeCheckpoints := func(through int64) {
			for ; next < len(cps) && cps[next].Seq <= through; next++ {
				buf = appendCheckpoint(buf[:0], &cps[next])
				writeLine(bw, buf)
				sum.Checkpoints++
			}
		}
		for i := range page {
			ev := &page[i]
			writeCheckpoints(*ev.Seq - 1) // only in a ledger with missing events
			buf = appendEvent(buf[:0], ev)
			writeLine(bw, buf)
			writeCheckpoints(*ev.Seq)
			sum.Events++
			head = ev.Hash
		}
		writeCheckpoints(upTo)
		if e.Progress != nil {
			e.Progress(sum.Events, sum.LastSeq)
		}
		if len(page) < pageSize {
			break
		}
		after = upTo
	}
	line, err = json.Marshal(exportEnd{Kind: "end", Events: sum.Events, Checkpoints: sum.Checkpoints, Head: hex.EncodeToString(head)})
	if err != nil {
		return sum, err
	}
	writeLine(bw, line)
	if err := bw.Flush(); err != nil {
		return sum, fmt.Errorf("write the export: %w", err)
	}
	return sum, nil
}

func writeLine(w *bufio.Writer, line []byte) {
	w.Write(line) // a bufio.Writer keeps its first error for Flush
	w.WriteByte('\n')
}

type exportHeader struct {
	Kind       string `json:"kind"`
	Format     string `json:"format"`
	Version    int    `json:"version"`
	ExportedAt string `json:"exported_at"`
	LastSeq    int64  `json:"last_seq"`
	Unsealed   int64  `json:"unsealed"`
}

type exportKey struct {
	Kind      string            `json:"kind"`
	ID        int16             `json:"id"`
	PublicKey string            `json:"public_key"` // standard base64
	Status    voucher.KeyStatus `json:"status"`
}

// exportEvent is an event line as read back. Export writes it by hand
// (appendEvent) so that data goes out byte for byte as stored: the chain
// hashes those bytes, and encoding/json would compact and re-escape them.
type exportEvent struct {
	Kind       string          `json:"kind"`
	Seq        int64           `json:"seq"`
	ID         int64           `json:"id"`
	Type       string          `json:"type"`
	Entity     string          `json:"entity"`
	EntityID   string          `json:"entity_id"`
	Department *string         `json:"department"`
	Actor      string          `json:"actor"`
	Data       json.RawMessage `json:"data"`
	CreatedAt  string          `json:"created_at"`
	Hash       string          `json:"hash"` // hex
}

type exportCheckpoint struct {
	Kind      string `json:"kind"`
	Seq       int64  `json:"seq"`
	Hash      string `json:"hash"` // hex
	KeyID     int16  `json:"key_id"`
	Signature string `json:"signature"` // standard base64
	CreatedAt string `json:"created_at"`
}

type exportEnd struct {
	Kind        string `json:"kind"`
	Events      int64  `json:"events"`
	Checkpoints int64  `json:"checkpoints"`
	Head        string `json:"head"` // hex hash of the last event, h(0) when none
}

func appendEvent(b []byte, ev *ledger.Event) []byte {
	b = append(b, `{"kind":"event","seq":`...)
	b = strconv.AppendInt(b, *ev.Seq, 10)
	b = append(b, `,"id":`...)
	b = strconv.AppendInt(b, ev.ID, 10)
	b = appendJSONField(b, "type", ev.Type)
	b = appendJSONField(b, "entity", ev.Entity)
	b = appendJSONField(b, "entity_id", ev.EntityID)
	if ev.DepartmentCode == nil {
		b = append(b, `,"department":null`...)
	} else {
		b = appendJSONField(b, "department", *ev.DepartmentCode)
	}
	b = appendJSONField(b, "actor", ev.Actor)
	b = append(b, `,"data":`...)
	b = append(b, ev.Data...)
	b = appendJSONField(b, "created_at", ev.CreatedAt.UTC().Format(exportTime))
	b = appendJSONField(b, "hash", hex.EncodeToString(ev.Hash))
	return append(b, '}')
}

func appendCheckpoint(b []byte, cp *ledger.Checkpoint) []byte {
	b = append(b, `{"kind":"checkpoint","seq":`...)
	b = strconv.AppendInt(b, cp.Seq, 10)
	b = appendJSONField(b, "hash", hex.EncodeToString(cp.Hash))
	b = append(b, `,"key_id":`...)
	b = strconv.AppendInt(b, int64(cp.KeyID), 10)
	b = appendJSONField(b, "signature", base64.StdEncoding.EncodeToString(cp.Signature))
	b = appendJSONField(b, "created_at", cp.CreatedAt.UTC().Format(exportTime))
	return append(b, '}')
}

// appendJSONField writes ,"key":"value" with value escaped as encoding/json
// does, which is how the chain's canonical form escapes it too.
func appendJSONField(b []byte, key, value string) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	quoted, _ := json.Marshal(value) // a string always marshals
	return append(b, quoted...)
}

// ExportError names the first entry of an export file that fails
// verification, by its line (from 1).
type ExportError struct {
	Line    int
	Entry   string // "event seq 807 (redemption.accepted)", "checkpoint seq 800", "key 2", …; empty for the file as a whole
	Problem string
}

func (e *ExportError) Error() string {
	if e.Entry == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Problem)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Entry, e.Problem)
}

// ExportReport sums up a successful verification of an export file.
// Report.Unsealed counts the events the export left out (not yet sealed
// when it was made); Batches, Chequiers, Vouchers and Redemptions are what
// the events issued and accepted.
type ExportReport struct {
	Report
	ExportedAt time.Time
	LastSeq    int64
	Keys       int
	// KeysFromFile is true when the checkpoints were checked with the keys
	// the file itself carries: a rewritten file could carry rewritten keys.
	KeysFromFile bool
}

// keysFromFileWarning is the report's reminder when no trusted keys were given.
const keysFromFileWarning = "keys taken from the file itself: obtain them independently ('passnum keys export', GET /api/v1/keys) to rule out a rewritten file"

// VerifyExport reads an export file and checks, in one pass and naming the
// first bad line: the format and version; the hash chain from #1 with no
// gap, repeat or change; every checkpoint against the chain at its position
// and its signature; that the keys of the file agree with the ledger's key
// events; the end line's counts and head (a truncated file has none). It
// replays the events with Verify's state machine, and checks that each one
// could follow the ones before it (a voucher spent twice, a reversal of an
// unknown redemption…), since there are no tables to compare with.
//
// With trusted keys (obtained independently of the file) the checkpoints
// must verify with them; a key the file gives another public key is an
// error, and a key the file says is revoked counts as revoked. With nil,
// the file's own keys are used and the report says so. As in the database
// verifier, a checkpoint signed by a revoked key proves nothing: it is
// reported as a warning, and only a later checkpoint by a valid key covers
// the events before it.
//
// A problem with the file is an *ExportError; any other error is a failure
// to read it.
func VerifyExport(r io.Reader, trusted *voucher.KeySet) (ExportReport, error) {
	v := &exportVerifier{st: newState(), trusted: trusted, keys: voucher.NewKeySet(), keyLines: map[int16]*fileKey{}}
	v.head = make([]byte, sha256.Size)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxExportLine)
	for sc.Scan() {
		v.line++
		if err := v.read(sc.Bytes()); err != nil {
			return v.rep, err
		}
	}
	switch err := sc.Err(); {
	case errors.Is(err, bufio.ErrTooLong):
		return v.rep, &ExportError{Line: v.line + 1, Problem: fmt.Sprintf("is longer than %d MiB: this is not a passnum ledger export", maxExportLine>>20)}
	case err != nil:
		return v.rep, fmt.Errorf("read the export: %w", err)
	case v.line == 0:
		return v.rep, &ExportError{Line: 1, Problem: "the file is empty"}
	case !v.ended:
		return v.rep, &ExportError{Line: v.line + 1, Problem: `the file ends without its "end" line: it was truncated`}
	}
	return v.finish()
}

// exportVerifier is the state of VerifyExport between lines.
type exportVerifier struct {
	line     int
	section  int // 0 header expected, 1 keys, 2 events and checkpoints, 3 after the end line
	ended    bool
	header   exportHeader
	trusted  *voucher.KeySet
	keys     *voucher.KeySet // what verifies the checkpoints
	keyLines map[int16]*fileKey
	seq      int64  // the last event read
	head     []byte // its hash
	events   int64
	cps      int64
	st       *state
	rep      ExportReport
}

type fileKey struct {
	line      int
	publicKey string
	status    voucher.KeyStatus
}

func (v *exportVerifier) fail(entry, format string, args ...any) error {
	return &ExportError{Line: v.line, Entry: entry, Problem: fmt.Sprintf(format, args...)}
}

// decodeLine decodes one line strictly: every field must be known to this
// version, and nothing may follow the object.
func decodeLine(line []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the object")
	}
	return nil
}

func (v *exportVerifier) read(line []byte) error {
	var k struct {
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal(line, &k); err != nil {
		if len(bytes.TrimSpace(line)) == 0 {
			return v.fail("", "is empty")
		}
		return v.fail("", "is not a JSON object (%v): the file was cut or edited", err)
	}
	if v.section == 0 && k.Kind != "header" {
		return v.fail("", `does not start with a "header" line: this is not a passnum ledger export`)
	}
	if v.ended {
		return v.fail("", `follows the "end" line: lines were added to the file`)
	}
	switch k.Kind {
	case "header":
		return v.readHeader(line)
	case "key":
		return v.readKey(line)
	case "event":
		return v.readEvent(line)
	case "checkpoint":
		return v.readCheckpoint(line)
	case "end":
		return v.readEnd(line)
	}
	return v.fail("", "has an unknown kind %q", k.Kind)
}

func (v *exportVerifier) readHeader(line []byte) error {
	if v.section != 0 {
		return v.fail("header", "appears again: files were joined")
	}
	// The format and version are checked before the other fields, so that
	// a later version is named as such rather than as unknown fields.
	var h struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(line, &h); err != nil || h.Format != exportFormat {
		return v.fail("header", "format is %q, not %q: this is not a passnum ledger export", h.Format, exportFormat)
	}
	if h.Version != exportVersion {
		return v.fail("header", "version %d: this passnum reads version %d only", h.Version, exportVersion)
	}
	if err := decodeLine(line, &v.header); err != nil {
		return v.fail("header", "%v", err)
	}
	at, err := time.Parse(exportTime, v.header.ExportedAt)
	if err != nil {
		return v.fail("header", "exported_at %q is not a time", v.header.ExportedAt)
	}
	if v.header.LastSeq < 0 || v.header.Unsealed < 0 {
		return v.fail("header", "last_seq and unsealed cannot be negative")
	}
	v.rep.ExportedAt, v.rep.LastSeq, v.rep.Unsealed = at, v.header.LastSeq, v.header.Unsealed
	v.rep.KeysFromFile = v.trusted == nil
	if v.trusted != nil {
		// A copy: the statuses of the file may make it stricter.
		for _, k := range v.trusted.Keys() {
			if err := v.keys.Add(k.ID, k.Key, k.Status); err != nil {
				return err
			}
		}
	}
	v.section = 1
	return nil
}

func (v *exportVerifier) readKey(line []byte) error {
	if v.section != 1 {
		return v.fail("key", "comes after the events: keys belong right after the header")
	}
	var k exportKey
	if err := decodeLine(line, &k); err != nil {
		return v.fail("key", "%v", err)
	}
	entry := fmt.Sprintf("key %d", k.ID)
	pub, err := base64.StdEncoding.DecodeString(k.PublicKey)
	status := k.Status
	switch {
	case err != nil || len(pub) != ed25519.PublicKeySize:
		return v.fail(entry, "public_key is not %d bytes in base64", ed25519.PublicKeySize)
	case k.ID <= 0 || k.ID > 255:
		return v.fail(entry, "is not a key id (1 to 255)")
	case status != voucher.KeyActive && status != voucher.KeyRetired && status != voucher.KeyRevoked:
		return v.fail(entry, "has an unknown status %q", k.Status)
	case v.keyLines[k.ID] != nil:
		return v.fail(entry, "appears twice (first on line %d)", v.keyLines[k.ID].line)
	}
	v.keyLines[k.ID] = &fileKey{line: v.line, publicKey: k.PublicKey, status: status}
	v.rep.Keys++
	if v.trusted == nil {
		if err := v.keys.Add(byte(k.ID), ed25519.PublicKey(pub), status); err != nil {
			return v.fail(entry, "%v", err)
		}
		return nil
	}
	held, ok := v.keys.Key(byte(k.ID))
	switch {
	case !ok:
		// Not among the trusted keys: a checkpoint it signed fails.
	case !bytes.Equal(held.Key, pub):
		return v.fail(entry, "differs from trusted key %d: the file does not come from the installation whose keys you hold, or it was rewritten", k.ID)
	case status == voucher.KeyRevoked:
		// A revocation the trusted copy predates: it only takes proof away.
		if err := v.keys.SetStatus(byte(k.ID), voucher.KeyRevoked); err != nil {
			return err
		}
	}
	return nil
}

func (v *exportVerifier) readEvent(line []byte) error {
	v.section = max(v.section, 2)
	var e exportEvent
	if err := decodeLine(line, &e); err != nil {
		return v.fail("event", "%v", err)
	}
	entry := fmt.Sprintf("event seq %d (%s)", e.Seq, e.Type)
	want := v.seq + 1
	switch {
	case e.Seq > want:
		return v.fail(entry, "is out of place: the chain expects #%d here: events were removed or reordered", want)
	case e.Seq < want:
		return v.fail(entry, "appears after #%d: events were duplicated or reordered", v.seq)
	}
	at, err := time.Parse(exportTime, e.CreatedAt)
	if err != nil {
		return v.fail(entry, "created_at %q is not a time in the export's layout", e.CreatedAt)
	}
	hash, err := hex.DecodeString(e.Hash)
	if err != nil || len(hash) != sha256.Size {
		return v.fail(entry, "hash is not %d hexadecimal digits", 2*sha256.Size)
	}
	if len(e.Data) == 0 {
		return v.fail(entry, "has no data")
	}
	ev := ledger.Event{ID: e.ID, Seq: &e.Seq, Hash: hash, Type: e.Type, Entity: e.Entity, EntityID: e.EntityID,
		DepartmentCode: e.Department, Actor: e.Actor, Data: string(e.Data), CreatedAt: at}
	chain := ledger.Chain{Seq: v.seq, Head: v.head}
	if !bytes.Equal(chain.Next(&ev), hash) {
		return v.fail(entry, "hash does not match the chain: the entry was changed, or an entry before it was removed, inserted or reordered")
	}
	v.seq, v.head = chain.Seq, chain.Head
	v.events++
	if problem := v.st.transitionProblem(&ev); problem != "" {
		return v.fail(entry, "%s", problem)
	}
	if err := v.st.apply(&ev); err != nil {
		var se *StateError
		if errors.As(err, &se) {
			return v.fail(entry, "%s", se.Problem)
		}
		return v.fail(entry, "%v", err)
	}
	return nil
}

func (v *exportVerifier) readCheckpoint(line []byte) error {
	v.section = max(v.section, 2)
	var c exportCheckpoint
	if err := decodeLine(line, &c); err != nil {
		return v.fail("checkpoint", "%v", err)
	}
	entry := fmt.Sprintf("checkpoint seq %d", c.Seq)
	switch {
	case c.Seq > v.seq:
		return v.fail(entry, "vouches for events up to #%d but the chain is at #%d here: events were removed", c.Seq, v.seq)
	case c.Seq < v.seq:
		return v.fail(entry, "is out of place after event #%d: checkpoints belong right after the event they sign", v.seq)
	}
	hash, err := hex.DecodeString(c.Hash)
	if err != nil || len(hash) != sha256.Size {
		return v.fail(entry, "hash is not %d hexadecimal digits", 2*sha256.Size)
	}
	if !bytes.Equal(hash, v.head) {
		return v.fail(entry, "differs from the chain at #%d: the events up to here were rewritten", c.Seq)
	}
	at, err := time.Parse(exportTime, c.CreatedAt)
	if err != nil {
		return v.fail(entry, "created_at %q is not a time in the export's layout", c.CreatedAt)
	}
	sig, err := base64.StdEncoding.DecodeString(c.Signature)
	if err != nil {
		return v.fail(entry, "signature is not base64: %v", err)
	}
	if c.KeyID <= 0 || c.KeyID > 255 {
		return v.fail(entry, "key_id %d is not a key id", c.KeyID)
	}
	cp := voucher.Checkpoint{Seq: uint64(c.Seq), TimeMicros: at.UnixMicro()}
	copy(cp.Hash[:], hash)
	v.cps++
	switch err := voucher.VerifyCheckpoint(v.keys, byte(c.KeyID), cp, sig); {
	case errors.Is(err, voucher.ErrRevokedKey):
		v.rep.Chain.Warnings = append(v.rep.Chain.Warnings, fmt.Sprintf(
			"checkpoint #%d (line %d) is signed by revoked key %d and proves nothing; a later checkpoint must cover it", c.Seq, v.line, c.KeyID))
		return nil
	case errors.Is(err, voucher.ErrUnknownKey) && v.trusted != nil:
		return v.fail(entry, "is signed by key %d, which is not among the trusted keys", c.KeyID)
	case errors.Is(err, voucher.ErrUnknownKey):
		return v.fail(entry, "is signed by key %d, which the file does not list", c.KeyID)
	case err != nil:
		return v.fail(entry, "its signature does not verify with key %d: the checkpoint was forged or altered", c.KeyID)
	}
	v.rep.Chain.Checkpoints++
	v.rep.Chain.SignedUpTo = c.Seq
	return nil
}

func (v *exportVerifier) readEnd(line []byte) error {
	var e exportEnd
	if err := decodeLine(line, &e); err != nil {
		return v.fail("end", "%v", err)
	}
	switch {
	case e.Events != v.events:
		return v.fail("end", "counts %d events but the file holds %d: events were removed or added", e.Events, v.events)
	case e.Checkpoints != v.cps:
		return v.fail("end", "counts %d checkpoints but the file holds %d: checkpoints were removed or added", e.Checkpoints, v.cps)
	case e.Head != hex.EncodeToString(v.head):
		return v.fail("end", "head %s is not the chain's last hash %x", e.Head, v.head)
	case v.header.LastSeq != v.seq:
		return v.fail("end", "the header announces events up to #%d but the chain ends at #%d: events at the end were removed", v.header.LastSeq, v.seq)
	}
	v.ended, v.section = true, 3
	return nil
}

// finish checks what only the whole file tells: that the keys agree with
// the ledger's key events, and what the checkpoints cover.
func (v *exportVerifier) finish() (ExportReport, error) {
	if err := v.compareKeys(); err != nil {
		return v.rep, err
	}
	rep := &v.rep
	rep.Chain.Events = v.events
	if unsigned := v.seq - rep.Chain.SignedUpTo; unsigned > 0 {
		rep.Chain.Warnings = append(rep.Chain.Warnings, fmt.Sprintf(
			"%d events after #%d are not covered by a valid signed checkpoint: nothing proves they were not rewritten", unsigned, rep.Chain.SignedUpTo))
	}
	if rep.KeysFromFile {
		rep.Chain.Warnings = append(rep.Chain.Warnings, keysFromFileWarning)
	}
	replacements := map[int64]int64{}
	for _, r := range v.st.replacement {
		replacements[r.BatchID]++
	}
	for id, b := range v.st.batches {
		rep.Batches++
		rep.Chequiers += int64(b.Chequiers)
		rep.Vouchers += b.LastSerial - b.FirstSerial + 1 + replacements[id]
	}
	rep.Redemptions = len(v.st.redemptions)
	rep.Chain.Warnings = append(rep.Chain.Warnings, v.st.lateWarnings()...)
	return *rep, nil
}

// keyRank orders key statuses: a key only moves forward.
func keyRank(s voucher.KeyStatus) int {
	switch s {
	case voucher.KeyActive:
		return 0
	case voucher.KeyRetired:
		return 1
	}
	return 2
}

// compareKeys checks the keys of the file against the ledger's key events:
// same public key, and a status that is the ledger's, or further on when
// events left out of the export (unsealed) may have moved it. A key the
// file shows as active while the ledger revoked it would let checkpoints
// forged with a leaked key pass.
func (v *exportVerifier) compareKeys() error {
	for id, ks := range v.st.keys {
		fk := v.keyLines[id]
		if fk == nil {
			return &ExportError{Line: v.line, Entry: fmt.Sprintf("key %d", id), Problem: fmt.Sprintf("was added by event %s but the file does not list it", ks.event)}
		}
		fail := func(format string, args ...any) error {
			return &ExportError{Line: fk.line, Entry: fmt.Sprintf("key %d", id), Problem: fmt.Sprintf(format, args...)}
		}
		switch have, ledgerSays := keyRank(fk.status), keyRank(ks.status); {
		case fk.publicKey != ks.publicKey:
			return fail("its public key differs from the one event %s recorded", ks.event)
		case have < ledgerSays:
			return fail("is %s in the file but %s in the ledger (event %s)", fk.status, ks.status, ks.event)
		case have > ledgerSays && v.header.Unsealed == 0:
			return fail("is %s in the file but %s in the ledger (event %s), and no event was left out of the export", fk.status, ks.status, ks.event)
		}
	}
	for id, fk := range v.keyLines {
		if _, ok := v.st.keys[id]; !ok && v.header.Unsealed == 0 {
			return &ExportError{Line: fk.line, Entry: fmt.Sprintf("key %d", id), Problem: "no event of the ledger added it"}
		}
	}
	return nil
}
