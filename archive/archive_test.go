package archive_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"passnum/archive"
	"passnum/issuing/issuingtest"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/programme"
	"passnum/programme/programmetest"
	"passnum/redemption"
	"passnum/settlement"
)

// TestArchive: a venue's archive holds a receipt for each of its
// redemptions (one undone, said so), the table of them, the ledger's
// entries about it and the statement of its closed month; Check accepts it
// with the public keys alone and counts what the receipts prove; a row or
// a receipt changed, removed or repeated, no receipt at all, a receipt of
// another venue slipped in, or other keys are refused, naming where; a
// reversal flipped in the table changes nothing the receipts prove.
func TestArchive(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		f := issuingtest.New(t, db)
		db.Clock = f.Clock.Now
		r := f.Redeemable(t, 1)
		red := &redemption.Service{DB: db, Keys: f.Keys}
		prog := &programme.Service{DB: db}
		programmetest.PayingOffice(t, prog, "78", "Paierie des Yvelines", "FR14 2004 1010 0505 0001 3M02 606")
		spend := func(venue int64, i ...int) redemption.Result {
			var in []redemption.Input
			for _, n := range i {
				in = append(in, redemption.Input{Code: r.Vouchers[n].Code})
			}
			res, err := red.Redeem(ctx, redemption.Basket{VenueID: venue, IdempotencyKey: "k-" + time.Now().Format(time.RFC3339Nano), Items: in, Actor: "test"})
			if err != nil || !res.Accepted {
				t.Fatalf("%+v %v", res, err)
			}
			return res
		}
		spend(r.Venue1, 0, 1)
		undone := spend(r.Venue1, 2)
		if _, err := red.Reverse(ctx, r.Venue1, undone.RedemptionID, "erreur", "test"); err != nil {
			t.Fatal(err)
		}
		spend(r.Venue2, 3) // another venue's: not in venue 1's archive
		f.Clock.T = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
		settle := &settlement.Service{DB: db}
		nov, err := settlement.ParseMonth("2026-11")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := settle.Close(ctx, "78", nov, "test"); err != nil {
			t.Fatal(err)
		}
		spend(r.Venue1, 4) // December: open, no statement yet

		var buf bytes.Buffer
		if err := archive.Write(ctx, archive.Sources{DB: db, Keys: f.Keys, Settlement: settle}, r.Venue1, &buf); err != nil {
			t.Fatal(err)
		}
		ks, err := db.KeySet(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := archive.Check(bytes.NewReader(buf.Bytes()), int64(buf.Len()), ks)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Venue != uint64(r.Venue1) || rep.Receipts != 3 || rep.AcceptedCents != 4000 || rep.Reversed != 1 || rep.ReversedCents != 1000 {
			t.Fatalf("report %+v", rep)
		}
		files := unzip(t, buf.Bytes())
		for _, name := range []string{archive.ReadMe, archive.Receipts, archive.Redemptions, archive.Journal, archive.PublicKeys, "releves/2026-11-78.pdf"} {
			if _, ok := files[name]; !ok {
				t.Errorf("no %s in %v", name, keysOf(files))
			}
		}
		if len(files) != 6 {
			t.Errorf("files %v: December is open, it has no statement", keysOf(files))
		}
		if !strings.Contains(files[archive.Redemptions], "annulé") || !strings.Contains(files[archive.ReadMe], "la preuve de ce qui est dû") ||
			!strings.HasPrefix(files["releves/2026-11-78.pdf"], "%PDF") || !strings.Contains(files[archive.Journal], `"type":"redemption.reversed"`) {
			t.Errorf("contents: %q", files[archive.Redemptions])
		}

		// Tampered: a total raised in the table, a receipt cut, another
		// venue's receipt added; and keys that are not the programme's.
		check := func(name, content string) error {
			t.Helper()
			changed := map[string]string{}
			for k, v := range files {
				changed[k] = v
			}
			changed[name] = content
			z := rezip(t, changed)
			_, err := archive.Check(bytes.NewReader(z), int64(len(z)), ks)
			return err
		}
		lines := strings.Split(files[archive.Redemptions], "\n")
		raised := strings.Replace(lines[1], ",2000,", ",20000,", 1)
		if err := check(archive.Redemptions, strings.Replace(files[archive.Redemptions], lines[1], raised, 1)); err == nil || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("a raised total: %v", err)
		}
		if err := check(archive.Redemptions, files[archive.Redemptions]+lines[1]+"\n"); err == nil || !strings.Contains(err.Error(), "a second time") {
			t.Errorf("a row twice: %v", err)
		}
		recs := strings.Split(strings.TrimSpace(files[archive.Receipts]), "\n")
		if err := check(archive.Receipts, files[archive.Receipts]+recs[0]+"\n"); err == nil || !strings.Contains(err.Error(), "a second time") {
			t.Errorf("a receipt twice: %v", err)
		}
		if err := check(archive.Receipts, ""); err == nil || !strings.Contains(err.Error(), "no receipt") {
			t.Errorf("no receipt at all: %v", err)
		}
		// A reversal is the table's word: flipping it changes what the
		// table says, never what the receipts prove.
		flipped := strings.Replace(files[archive.Redemptions], ",annulé,", ",encaissé,", 1)
		z := rezip(t, map[string]string{archive.Receipts: files[archive.Receipts], archive.Redemptions: flipped})
		if rep, err := archive.Check(bytes.NewReader(z), int64(len(z)), ks); err != nil || rep.AcceptedCents != 4000 || rep.Reversed != 0 {
			t.Errorf("a reversal flipped: %+v %v", rep, err)
		}
		if err := check(archive.Receipts, strings.Join(recs[1:], "\n")); err == nil || !strings.Contains(err.Error(), "has no receipt") {
			t.Errorf("a receipt removed: %v", err)
		}
		cut := recs[0][:100] + recs[0][101:]
		if err := check(archive.Receipts, cut+"\n"+strings.Join(recs[1:], "\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("a receipt cut: %v", err)
		}
		var other bytes.Buffer
		if err := archive.Write(ctx, archive.Sources{DB: db, Keys: f.Keys, Settlement: settle}, r.Venue2, &other); err != nil {
			t.Fatal(err)
		}
		foreign := strings.TrimSpace(unzip(t, other.Bytes())[archive.Receipts])
		if err := check(archive.Receipts, files[archive.Receipts]+foreign+"\n"); err == nil || !strings.Contains(err.Error(), "a receipt of venue") {
			t.Errorf("another venue's receipt: %v", err)
		}
		stranger := ledgertest.Open(t, db.Dialect())
		issuingtest.New(t, stranger)
		strangerKeys, err := stranger.KeySet(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := archive.Check(bytes.NewReader(buf.Bytes()), int64(buf.Len()), strangerKeys); err == nil || !strings.Contains(err.Error(), "not a genuine receipt") {
			t.Errorf("other keys: %v", err)
		}
	})
}

func unzip(t *testing.T, data []byte) map[string]string {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range z.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = string(b)
	}
	return out
}

func rezip(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	for name, content := range files {
		w, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, content)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
