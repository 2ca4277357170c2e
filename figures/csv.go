package figures

import (
	"io"
	"strconv"

	"passnum"
	"passnum/csvsafe"
)

// WriteCSV writes the figures as one row per département and per batch
// (the level column), the format of 'passnum report --format csv'. Amounts
// are in cents and in euros with a decimal point, as in settlement's CSV.
func WriteCSV(out io.Writer, f Figures) error {
	cw := csvsafe.NewWriter(out)
	cw.Write([]string{"level", "as_of", "department", "batch", "name", "stage", "face_value_cents",
		"chequiers_printed", "chequiers_handed_out", "chequiers_not_handed_out", "chequiers_started",
		"vouchers_issued", "issued_cents", "issued_eur", "vouchers_redeemed", "redeemed_cents", "redeemed_eur",
		"vouchers_voided", "voided_cents", "voided_eur", "vouchers_expired", "expired_cents", "expired_eur",
		"vouchers_outstanding", "outstanding_cents", "outstanding_eur", "unused_cents", "unused_eur",
		"redemption_rate", "invariant_holds", "late_vouchers", "late_cents", "late_eur", "chequiers_untracked"})
	count := func(n int64) string { return strconv.FormatInt(n, 10) }
	row := func(level, dept, batch, name, stage, face string, c *Counts) {
		money := func(n, cents int64) []string {
			return []string{count(n), count(cents), passnum.FormatEuros(cents)}
		}
		r := []string{level, f.AsOf, dept, batch, name, stage, face,
			count(c.ChequiersPrinted), count(c.ChequiersHandedOut), count(c.ChequiersNotHandedOut), count(c.ChequiersStarted)}
		r = append(r, money(c.VouchersIssued, c.IssuedCents)...)
		r = append(r, money(c.VouchersRedeemed, c.RedeemedCents)...)
		r = append(r, money(c.VouchersVoided, c.VoidedCents)...)
		r = append(r, money(c.VouchersExpired, c.ExpiredCents)...)
		r = append(r, money(c.VouchersOutstanding, c.OutstandingCents)...)
		r = append(r, count(c.UnusedCents), passnum.FormatEuros(c.UnusedCents),
			strconv.FormatFloat(c.RedemptionRate, 'f', 4, 64), strconv.FormatBool(c.InvariantHolds))
		r = append(r, money(c.LateVouchers, c.LateCents)...)
		r = append(r, count(c.ChequiersUntracked))
		cw.Write(r)
	}
	for i := range f.Departments {
		d := &f.Departments[i]
		row("department", d.Code, "", d.Name, "", "", &d.Counts)
	}
	for i := range f.Batches {
		b := &f.Batches[i]
		row("batch", b.Department, count(b.ID), "", string(b.Stage), count(b.FaceValueCents), &b.Counts)
	}
	cw.Flush()
	return cw.Error()
}
