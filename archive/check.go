package archive

import (
	"archive/zip"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"passnum/audit"
	"passnum/voucher"
)

// Report is what Check found in an archive. What the receipts prove is
// what the server accepted; a reversal is the table's word (signed by
// nothing in the file), which only the ledger confirms (passnum audit
// receipts).
type Report struct {
	Venue         uint64
	Receipts      int   // every one genuine
	AcceptedCents int64 // what they add up to, proven by their signatures
	Reversed      int   // redemptions the table says were undone afterwards
	ReversedCents int64
}

// Check reads an archive with the public keys alone (ks, obtained apart
// from the file: the keys inside it are the server's word): every receipt
// must verify with its serials, all for one venue, each once; every row of
// encaissements.csv must be a receipt's redemption with the same total and
// vouchers, once, and every receipt a row. An error names the first line
// that fails. The statements' PDFs are there to be read, not proof.
func Check(r io.ReaderAt, size int64, ks *voucher.KeySet) (Report, error) {
	var rep Report
	z, err := zip.NewReader(r, size)
	if err != nil {
		return rep, fmt.Errorf("not a venue's archive (a zip file): %w", err)
	}
	names := map[string]bool{}
	for _, f := range z.File {
		if names[f.Name] {
			return rep, fmt.Errorf("the archive holds %s twice", f.Name)
		}
		names[f.Name] = true
	}
	read := func(name string) ([]byte, error) {
		f, err := z.Open(name)
		if err != nil {
			return nil, fmt.Errorf("the archive has no %s", name)
		}
		defer f.Close()
		return io.ReadAll(io.LimitReader(f, 1<<30))
	}
	text, err := read(Receipts)
	if err != nil {
		return rep, err
	}
	presented, err := audit.ParsePresented(string(text))
	if err != nil {
		return rep, fmt.Errorf("%s: %w", Receipts, err)
	}
	receipts := map[uint64]voucher.Receipt{}
	for i, p := range presented {
		d, err := ks.Verify(p.Code)
		if err != nil {
			return rep, fmt.Errorf("%s, line %d: not a genuine receipt (%s): %v", Receipts, i+1, voucher.Reason(err), err)
		}
		rc, ok := d.Payload.(voucher.Receipt)
		switch {
		case !ok:
			return rep, fmt.Errorf("%s, line %d: a genuine %s, not a receipt", Receipts, i+1, d.Type)
		case p.Serials == nil || len(p.Serials) != int(rc.Vouchers) || voucher.ReceiptDigest(p.Serials) != rc.Digest:
			return rep, fmt.Errorf("%s, line %d: the serials are not the vouchers the receipt was signed for", Receipts, i+1)
		case rep.Venue != 0 && rc.VenueID != rep.Venue:
			return rep, fmt.Errorf("%s, line %d: a receipt of venue %d among venue %d's", Receipts, i+1, rc.VenueID, rep.Venue)
		}
		if _, twice := receipts[rc.RedemptionID]; twice {
			return rep, fmt.Errorf("%s, line %d: redemption %d's receipt a second time", Receipts, i+1, rc.RedemptionID)
		}
		rep.Venue = rc.VenueID
		receipts[rc.RedemptionID] = rc
		rep.AcceptedCents += int64(rc.TotalCents)
	}
	rep.Receipts = len(receipts)
	if rep.Receipts == 0 {
		return rep, fmt.Errorf("%s holds no receipt: there is nothing to prove", Receipts)
	}

	table, err := read(Redemptions)
	if err != nil {
		return rep, err
	}
	rows, err := csv.NewReader(strings.NewReader(string(table))).ReadAll()
	if err != nil || len(rows) == 0 || !slices.Equal(rows[0], redemptionColumns) {
		return rep, fmt.Errorf("%s: not the table of redemptions this version writes", Redemptions)
	}
	seen := map[uint64]bool{}
	for i, row := range rows[1:] {
		line := i + 2
		id, err1 := strconv.ParseUint(row[0], 10, 64)
		total, err2 := strconv.ParseInt(row[3], 10, 64)
		rc, ok := receipts[id]
		if err1 != nil || err2 != nil {
			return rep, fmt.Errorf("%s, line %d: the redemption or its amount is not a number", Redemptions, line)
		}
		if !ok {
			return rep, fmt.Errorf("%s, line %d: redemption %d has no receipt", Redemptions, line, id)
		}
		var serials []uint64
		for _, s := range strings.Fields(row[5]) {
			n, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return rep, fmt.Errorf("%s, line %d: %q is not a voucher serial", Redemptions, line, s)
			}
			serials = append(serials, n)
		}
		if uint64(total) != rc.TotalCents || voucher.ReceiptDigest(serials) != rc.Digest {
			return rep, fmt.Errorf("%s, line %d: redemption %d says %d cents and other vouchers than its receipt (%d cents)", Redemptions, line, id, total, rc.TotalCents)
		}
		if seen[id] {
			return rep, fmt.Errorf("%s, line %d: redemption %d a second time", Redemptions, line, id)
		}
		seen[id] = true
		if row[6] == "annulé" {
			rep.Reversed++
			rep.ReversedCents += total
		}
	}
	for id := range receipts {
		if !seen[id] {
			return rep, fmt.Errorf("%s: the receipt of redemption %d has no row", Redemptions, id)
		}
	}
	return rep, nil
}
