package audit_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"passnum/audit"
	"passnum/issuing"
	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/redemption"
	"passnum/voucher"
)

// exportScenario builds a ledger with what an auditor follows: two batches,
// hand-overs, redemptions by two venues, a reversal, a voided chéquier,
// sealed in three passes (three checkpoints).
func exportScenario(t *testing.T, db *ledger.DB) *issuingtest.Fixture {
	t.Helper()
	ctx := context.Background()
	f := issuingtest.New(t, db)
	r := f.Redeemable(t, 3)
	f.Seal(t)
	svc := &redemption.Service{DB: db, Keys: f.Keys}
	key := 0
	redeem := func(venue int64, vouchers ...issuing.PrintedVoucher) int64 {
		t.Helper()
		key++
		var in []redemption.Input
		for _, v := range vouchers {
			in = append(in, redemption.Input{Code: v.Code})
		}
		res, err := svc.Redeem(ctx, redemption.Basket{VenueID: venue, IdempotencyKey: fmt.Sprintf("export-test-%04d", key), Items: in, Actor: "test"})
		if err != nil || !res.Accepted {
			t.Fatalf("redeem: %v %+v", err, res)
		}
		return res.RedemptionID
	}
	v := r.Vouchers
	redeem(r.Venue1, v[0], v[1], v[2])
	mistake := redeem(r.Venue2, v[3])
	f.Clock.T = f.Clock.T.Add(time.Minute)
	if _, err := svc.Reverse(ctx, r.Venue2, mistake, "erreur de saisie", "test"); err != nil {
		t.Fatal(err)
	}
	redeem(r.Venue1, v[10], v[11])
	redeem(r.Venue2, v[3], v[20])
	if _, err := f.Issuing.Void(ctx, r.Batch.LastChequier, "perdu", "test"); err != nil {
		t.Fatal(err)
	}
	f.Seal(t)
	req := issuingtest.Request("92", 5, 4)
	req.RequiresActivation = false
	b := f.Issue(t, req)
	pc, err := f.Issuing.Chequier(ctx, b.FirstChequier)
	if err != nil {
		t.Fatal(err)
	}
	redeem(r.Venue2, pc.Vouchers[0], pc.Vouchers[1])
	f.Seal(t)
	return f
}

func exportOf(t *testing.T, db *ledger.DB) []byte {
	t.Helper()
	var buf bytes.Buffer
	sum, err := audit.Export(context.Background(), db, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Events == 0 || sum.Checkpoints == 0 || sum.LastSeq != sum.Events || sum.Unsealed != 0 {
		t.Fatalf("summary %+v", sum)
	}
	return buf.Bytes()
}

func TestExportVerifies(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		fx := exportScenario(t, db)
		ks, err := db.KeySet(ctx)
		if err != nil {
			t.Fatal(err)
		}
		dbRep, err := audit.Verify(ctx, db, ks)
		if err != nil {
			t.Fatalf("the database itself does not verify: %v", err)
		}
		file := exportOf(t, db)

		rep, err := audit.VerifyExport(bytes.NewReader(file), nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Chain.Events != dbRep.Chain.Events || rep.Chain.Checkpoints != 3 || rep.Chain.SignedUpTo != rep.Chain.Events ||
			rep.Batches != 2 || rep.Chequiers != 25 || rep.Vouchers != 220 || rep.Redemptions != 5 || rep.Keys != 1 || !rep.KeysFromFile {
			t.Fatalf("report %+v", rep)
		}
		if len(rep.Chain.Warnings) != 1 || !strings.Contains(rep.Chain.Warnings[0], "keys taken from the file itself") {
			t.Fatalf("warnings %q", rep.Chain.Warnings)
		}

		rep, err = audit.VerifyExport(bytes.NewReader(file), ks)
		if err != nil {
			t.Fatal(err)
		}
		if rep.KeysFromFile || len(rep.Chain.Warnings) != 0 || rep.Chain.SignedUpTo != rep.Chain.Events {
			t.Fatalf("with trusted keys: %+v", rep)
		}

		// Events not yet sealed are left out, and counted.
		if _, err := fx.Issuing.Activate(ctx, "78-2026-000010", "", "test"); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		sum, err := audit.Export(ctx, db, &buf)
		if err != nil || sum.Unsealed != 1 || sum.LastSeq != rep.Chain.Events {
			t.Fatalf("with an unsealed event: %+v %v", sum, err)
		}
		if rep, err := audit.VerifyExport(&buf, ks); err != nil || rep.Unsealed != 1 {
			t.Fatalf("with an unsealed event left out: %+v %v", rep, err)
		}
	})
}

// TestExportPages checks that Export reads the events page by page: with
// pages of 3 events the output is the same as with one big page, and it
// took one query per page.
func TestExportPages(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		exportScenario(t, db)
		db.Clock = func() time.Time { return issuingtest.Start }
		var big, small bytes.Buffer
		if _, err := (&audit.Exporter{DB: db}).Export(context.Background(), &big); err != nil {
			t.Fatal(err)
		}
		pages := 0
		sum, err := (&audit.Exporter{DB: db, PageSize: 3, Progress: func(done, total int64) { pages++ }}).Export(context.Background(), &small)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(big.Bytes(), small.Bytes()) {
			t.Fatalf("the export depends on the page size:\n%s\n---\n%s", big.Bytes(), small.Bytes())
		}
		if want := int(sum.Events/3) + 1; pages != want {
			t.Fatalf("%d pages for %d events, want %d", pages, sum.Events, want)
		}
	})
}

// exportLines is an export file as lines, for tampering.
type exportLines []string

func linesOf(file []byte) exportLines {
	return strings.Split(strings.TrimSuffix(string(file), "\n"), "\n")
}

func (l exportLines) bytes() []byte { return []byte(strings.Join(l, "\n") + "\n") }

func field(t *testing.T, line, name string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatal(err)
	}
	return m[name]
}

func kind(t *testing.T, line string) string {
	var k string
	json.Unmarshal(field(t, line, "kind"), &k)
	return k
}

func seqOf(t *testing.T, line string) int64 {
	n, err := strconv.ParseInt(string(field(t, line, "seq")), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// set returns line with one field replaced (the fields come out sorted,
// which the format allows; data stays byte for byte).
func set(t *testing.T, line, name string, value any) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(value)
	if err != nil {
		t.Fatal(err)
	}
	if rm, ok := value.(json.RawMessage); ok {
		raw = rm
	}
	m[name] = raw
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// find returns the index of the first line that matches.
func (l exportLines) find(t *testing.T, match func(line string) bool) int {
	t.Helper()
	for i, line := range l {
		if match(line) {
			return i
		}
	}
	t.Fatal("no such line")
	return -1
}

// eventOf rebuilds the ledger event of an event line.
func eventOf(t *testing.T, line string) ledger.Event {
	t.Helper()
	var e struct {
		Seq        int64           `json:"seq"`
		ID         int64           `json:"id"`
		Type       string          `json:"type"`
		Entity     string          `json:"entity"`
		EntityID   string          `json:"entity_id"`
		Department *string         `json:"department"`
		Actor      string          `json:"actor"`
		Data       json.RawMessage `json:"data"`
		CreatedAt  string          `json:"created_at"`
	}
	if err := json.Unmarshal([]byte(line), &e); err != nil {
		t.Fatal(err)
	}
	at, err := time.Parse("2006-01-02T15:04:05.000000Z", e.CreatedAt)
	if err != nil {
		t.Fatal(err)
	}
	return ledger.Event{ID: e.ID, Seq: &e.Seq, Type: e.Type, Entity: e.Entity, EntityID: e.EntityID,
		DepartmentCode: e.Department, Actor: e.Actor, Data: string(e.Data), CreatedAt: at}
}

// rechain recomputes every event hash from line from on, as an insider who
// edited an event would, and the end line's head.
func (l exportLines) rechain(t *testing.T, from int) {
	t.Helper()
	var chain ledger.Chain
	for i, line := range l {
		switch kind(t, line) {
		case "event":
			ev := eventOf(t, line)
			hash := chain.Next(&ev)
			if i >= from {
				l[i] = set(t, line, "hash", hex.EncodeToString(hash))
			}
		case "end":
			l[i] = set(t, line, "head", hex.EncodeToString(chain.Head))
		}
	}
}

// TestExportCatchesTampering changes a copy of a good export as someone
// wanting to hide a payment would; each change must fail verification,
// naming the first bad line and its entry.
func TestExportCatchesTampering(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		exportScenario(t, db)
		good := linesOf(exportOf(t, db))
		ks, err := db.KeySet(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		end := len(good) - 1
		lastSeq := seqOf(t, good[end-1]) // the last line before the end is the head's checkpoint
		// The second redemption of venue 1, in the middle of the file.
		mid := good.find(t, func(line string) bool {
			return strings.Contains(line, `"redemption.accepted"`) && strings.Contains(line, `"items":[{"serial":11,`)
		})
		midSeq := seqOf(t, good[mid])
		firstCheckpointAfter := func(i int) int {
			for ; kind(t, good[i]) != "checkpoint"; i++ {
			}
			return i
		}
		cpAfterMid := firstCheckpointAfter(mid)
		cpSeq := seqOf(t, good[cpAfterMid])
		firstCp := firstCheckpointAfter(0)

		cases := []struct {
			name    string
			tamper  func(l exportLines) exportLines
			trusted *voucher.KeySet
			want    string // the start of the error
		}{
			{"EditedData", func(l exportLines) exportLines {
				l[mid] = strings.Replace(l[mid], `"value_cents":1000`, `"value_cents":100`, 1)
				return l
			}, nil, fmt.Sprintf("line %d: event seq %d (redemption.accepted): hash does not match the chain", mid+1, midSeq)},
			{"DeletedEvent", func(l exportLines) exportLines {
				return append(l[:mid:mid], l[mid+1:]...)
			}, nil, fmt.Sprintf("line %d: event seq %d (redemption.accepted): is out of place: the chain expects #%d", mid+1, midSeq+1, midSeq)},
			{"InsertedEvent", func(l exportLines) exportLines {
				// A plausible basket whose hash chains correctly after the
				// event before it; the events after it are renumbered.
				fake := eventOf(t, l[mid])
				fake.ID += 1000
				fake.Data = strings.Replace(fake.Data, `"serial":11,`, `"serial":13,`, 1)
				chain := ledger.Chain{Seq: midSeq - 1}
				chain.Head, _ = hex.DecodeString(strings.Trim(string(field(t, l[mid-1], "hash")), `"`))
				hash := chain.Next(&fake)
				line := set(t, set(t, set(t, set(t, l[mid], "seq", midSeq), "id", fake.ID), "data", json.RawMessage(fake.Data)), "hash", hex.EncodeToString(hash))
				out := append(append(append(exportLines{}, l[:mid]...), line), l[mid:]...)
				for i := mid + 1; i < len(out)-1; i++ {
					out[i] = set(t, out[i], "seq", seqOf(t, out[i])+1)
				}
				return out
			}, nil, fmt.Sprintf("line %d: event seq %d (redemption.accepted): hash does not match the chain", mid+2, midSeq+1)},
			{"Reordered", func(l exportLines) exportLines {
				l[mid], l[mid+1] = l[mid+1], l[mid]
				return l
			}, nil, fmt.Sprintf("line %d: event seq %d (redemption.accepted): is out of place", mid+1, midSeq+1)},
			{"ReorderedAndRenumbered", func(l exportLines) exportLines {
				l[mid], l[mid+1] = set(t, l[mid+1], "seq", midSeq), set(t, l[mid], "seq", midSeq+1)
				return l
			}, nil, fmt.Sprintf("line %d: event seq %d (redemption.accepted): hash does not match the chain", mid+1, midSeq)},
			{"DeletedLastEvent", func(l exportLines) exportLines {
				return append(l[:end-2:end-2], l[end-1:]...)
			}, nil, fmt.Sprintf("line %d: checkpoint seq %d: vouches for events up to #%d but the chain is at #%d here", end-1, lastSeq, lastSeq, lastSeq-1)},
			{"DeletedLastEventAndCheckpoint", func(l exportLines) exportLines {
				out := append(l[:end-2:end-2], l[end])
				out[len(out)-1] = set(t, set(t, set(t, out[len(out)-1], "events", lastSeq-1), "checkpoints", 2), "head", json.RawMessage(field(t, l[end-3], "hash")))
				return out
			}, nil, fmt.Sprintf("line %d: end: the header announces events up to #%d but the chain ends at #%d", end-1, lastSeq, lastSeq-1)},
			{"TruncatedAtALine", func(l exportLines) exportLines {
				return l[:mid]
			}, nil, fmt.Sprintf(`line %d: the file ends without its "end" line: it was truncated`, mid+1)},
			{"TruncatedMidLine", func(l exportLines) exportLines {
				l[mid] = l[mid][:len(l[mid])/2]
				return l[:mid+1]
			}, nil, fmt.Sprintf("line %d: is not a JSON object", mid+1)},
			{"RecomputedChain", func(l exportLines) exportLines {
				// The basket moves to the other venue, which is paid for it.
				l[mid] = strings.Replace(l[mid], `"venue_id":1,`, `"venue_id":2,`, 1)
				l.rechain(t, mid)
				return l
			}, nil, fmt.Sprintf("line %d: checkpoint seq %d: differs from the chain at #%d: the events up to here were rewritten", cpAfterMid+1, cpSeq, cpSeq)},
			{"RecomputedChainAndCheckpoint", func(l exportLines) exportLines {
				// The basket moves to the other venue, which is paid for it.
				l[mid] = strings.Replace(l[mid], `"venue_id":1,`, `"venue_id":2,`, 1)
				l.rechain(t, mid)
				l[cpAfterMid] = set(t, l[cpAfterMid], "hash", json.RawMessage(field(t, l[cpAfterMid-1], "hash")))
				return l
			}, nil, fmt.Sprintf("line %d: checkpoint seq %d: its signature does not verify with key 1", cpAfterMid+1, cpSeq)},
			{"BadSignature", func(l exportLines) exportLines {
				sig := []byte(strings.Trim(string(field(t, l[cpAfterMid], "signature")), `"`))
				sig[10] = map[bool]byte{true: 'B', false: 'A'}[sig[10] == 'A']
				l[cpAfterMid] = set(t, l[cpAfterMid], "signature", string(sig))
				return l
			}, nil, fmt.Sprintf("line %d: checkpoint seq %d: its signature does not verify with key 1", cpAfterMid+1, cpSeq)},
			{"OtherInstallationKeys", func(l exportLines) exportLines { return l }, otherKeys(t, 1),
				"line 2: key 1: differs from trusted key 1"},
			{"KeyNotTrusted", func(l exportLines) exportLines { return l }, otherKeys(t, 7),
				fmt.Sprintf("line %d: checkpoint seq %d: is signed by key 1, which is not among the trusted keys", firstCp+1, seqOf(t, good[firstCp]))},
			{"UntouchedWithTrustedKeys", func(l exportLines) exportLines { return l }, ks, ""},
			{"LineAfterTheEnd", func(l exportLines) exportLines {
				return append(l, l[mid])
			}, nil, fmt.Sprintf(`line %d: follows the "end" line`, end+2)},
			{"NewerVersion", func(l exportLines) exportLines {
				l[0] = set(t, l[0], "version", 2)
				return l
			}, nil, "line 1: header: version 2: this passnum reads version 1 only"},
			{"NotAnExport", func(l exportLines) exportLines {
				return exportLines{`{"keys":[]}`}
			}, nil, `line 1: does not start with a "header" line`},
			{"EndCountEdited", func(l exportLines) exportLines {
				l[end] = set(t, l[end], "events", lastSeq+1)
				return l
			}, nil, fmt.Sprintf("line %d: end: counts %d events but the file holds %d", end+1, lastSeq+1, lastSeq)},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				file := c.tamper(append(exportLines{}, good...)).bytes()
				_, err := audit.VerifyExport(bytes.NewReader(file), c.trusted)
				if c.want == "" {
					if err != nil {
						t.Fatalf("an untouched file fails: %v", err)
					}
					return
				}
				var ee *audit.ExportError
				if !errors.As(err, &ee) {
					t.Fatalf("got %v, want an ExportError", err)
				}
				if !strings.HasPrefix(err.Error(), c.want) {
					t.Fatalf("error\n  %q\ndoes not start with\n  %q", err, c.want)
				}
				t.Log(err)
			})
		}
	})
}

// otherKeys is the public key of another installation, under id.
func otherKeys(t *testing.T, id byte) *voucher.KeySet {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	ks := voucher.NewKeySet()
	if err := ks.Add(id, pub, voucher.KeyActive); err != nil {
		t.Fatal(err)
	}
	return ks
}

// TestExportRevokedKey: checkpoints signed by a key revoked since prove
// nothing (a warning, as in the database verifier); a file that shows the
// revoked key as active again fails.
func TestExportRevokedKey(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		fx := exportScenario(t, db)
		if _, err := fx.Keys.New(ctx, "test"); err != nil {
			t.Fatal(err)
		}
		if err := fx.Keys.Revoke(ctx, 1, "test"); err != nil {
			t.Fatal(err)
		}
		fx.Seal(t)
		file := exportOf(t, db)
		rep, err := audit.VerifyExport(bytes.NewReader(file), nil)
		if err != nil {
			t.Fatal(err)
		}
		revoked := 0
		for _, w := range rep.Chain.Warnings {
			if strings.Contains(w, "signed by revoked key 1 and proves nothing") {
				revoked++
			}
		}
		if revoked != 3 || rep.Chain.Checkpoints != 1 || rep.Chain.SignedUpTo != rep.Chain.Events {
			t.Fatalf("report %+v", rep)
		}

		// Trusted keys taken before the revocation: the file's revocation
		// still counts.
		before := voucher.NewKeySet()
		k1, _ := mustKeySet(t, db).Key(1)
		k2, _ := mustKeySet(t, db).Key(2)
		before.Add(1, k1.Key, voucher.KeyActive)
		before.Add(2, k2.Key, voucher.KeyActive)
		if rep, err := audit.VerifyExport(bytes.NewReader(file), before); err != nil || rep.Chain.Checkpoints != 1 {
			t.Fatalf("with keys from before the revocation: %+v %v", rep, err)
		}

		l := linesOf(file)
		i := l.find(t, func(line string) bool { return kind(t, line) == "key" && strings.Contains(line, `"id":1,`) })
		l[i] = strings.Replace(l[i], `"revoked"`, `"active"`, 1)
		_, err = audit.VerifyExport(bytes.NewReader(l.bytes()), nil)
		if err == nil || !strings.HasPrefix(err.Error(), fmt.Sprintf("line %d: key 1: is active in the file but revoked in the ledger", i+1)) {
			t.Fatalf("un-revoked key: %v", err)
		}
	})
}

func mustKeySet(t *testing.T, db *ledger.DB) *voucher.KeySet {
	t.Helper()
	ks, err := db.KeySet(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// TestExportReplayCatchesInconsistentEvents: events written behind the
// services' back and then sealed chain and sign correctly; the replay must
// still refuse what the services never do.
func TestExportReplayCatchesInconsistentEvents(t *testing.T) {
	cases := []struct {
		name, typ, data, want string
	}{
		{"VoucherSpentTwice", "redemption.accepted",
			`{"id":99,"venue_id":1,"scanned_at":"2026-11-26T10:05:00Z","received_at":"2026-11-26T10:05:00Z","total_cents":1000,"items":[{"serial":1,"value_cents":1000}]}`,
			"spends voucher " + voucher.FormatNumber(1) + ", which redemption 1 already spent"},
		{"UnknownRedemptionReversed", "redemption.reversed", `{"id":42,"venue_id":1,"reason":"x","active":[1],"void":[]}`,
			"reverses redemption 42, which no earlier event accepted"},
		{"VoidedChequierHandedOver", "chequier.activated", `{"chequier_id":20,"number":"78-2026-000020","beneficiary_ref":"","vouchers_activated":10}`,
			"is about chéquier 20, which event"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
				fx := exportScenario(t, db)
				err := db.Read(context.Background()).Exec(`INSERT INTO events (type, entity, entity_id, actor, data, created_at) VALUES (?, 'x', '1', 'intrus', ?, ?)`,
					c.typ, c.data, issuingtest.Start).Error
				if err != nil {
					t.Fatal(err)
				}
				fx.Seal(t)
				l := linesOf(exportOf(t, db))
				i := l.find(t, func(line string) bool { return strings.Contains(line, `"actor":"intrus"`) })
				_, err = audit.VerifyExport(bytes.NewReader(l.bytes()), mustKeySet(t, db))
				want := fmt.Sprintf("line %d: event seq %d (%s): %s", i+1, seqOf(t, l[i]), c.typ, c.want)
				if err == nil || !strings.HasPrefix(err.Error(), want) {
					t.Fatalf("got %v\nwant %s…", err, want)
				}
				t.Log(err)
			})
		})
	}
}
