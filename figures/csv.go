package figures

import (
	"io"
	"strconv"

	"passnum"
	"passnum/csvsafe"
)

// WriteCSV writes the figures as one row per département and per batch
// (the level column), then the distribution funnel per structure, commune
// and month of reception (levels structure, commune, funnel_month, whose
// figures are the funnel_ columns; the others leave them empty): the
// format of 'passnum report --format csv' and of the dashboard's export.
// Amounts are in cents and in euros with a decimal point, as in
// settlement's CSV.
func WriteCSV(out io.Writer, f Figures) error {
	cw := csvsafe.NewWriter(out)
	cw.Write([]string{"level", "as_of", "department", "batch", "name", "stage", "face_value_cents",
		"chequiers_printed", "chequiers_handed_out", "chequiers_not_handed_out", "chequiers_started",
		"vouchers_issued", "issued_cents", "issued_eur", "vouchers_redeemed", "redeemed_cents", "redeemed_eur",
		"vouchers_voided", "voided_cents", "voided_eur", "vouchers_expired", "expired_cents", "expired_eur",
		"vouchers_outstanding", "outstanding_cents", "outstanding_eur", "unused_cents", "unused_eur",
		"redemption_rate", "invariant_holds", "late_vouchers", "late_cents", "late_eur", "chequiers_untracked",
		"structure_id", "commune", "month", "funnel_structures", "funnel_received", "funnel_in_stock", "funnel_handed_over",
		"funnel_started", "funnel_finished", "funnel_expired_unused", "funnel_voided", "funnel_untracked"})
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
		cw.Write(append(r, make([]string, 12)...))
	}
	// A funnel row: the level, the day, the département and the name, then
	// the funnel's columns.
	funnel := func(level, dept, name, structure, commune, month, structures string, fu Funnel) {
		r := append([]string{level, f.AsOf, dept, "", name}, make([]string, 29)...)
		cw.Write(append(r, structure, commune, month, structures, count(fu.Received), count(fu.InStock),
			count(fu.HandedOver), count(fu.Started), count(fu.Finished), count(fu.ExpiredUnused), count(fu.Voided), count(fu.Untracked)))
	}
	for i := range f.Departments {
		d := &f.Departments[i]
		row("department", d.Code, "", d.Name, "", "", &d.Counts)
	}
	for i := range f.Batches {
		b := &f.Batches[i]
		row("batch", b.Department, count(b.ID), "", string(b.Stage), count(b.FaceValueCents), &b.Counts)
	}
	for _, st := range f.Structures {
		funnel("structure", st.Department, st.Name, count(st.ID), st.Commune, "", "1", st.Funnel)
	}
	for _, c := range f.Communes {
		funnel("commune", c.Department, "", "", c.Commune, "", strconv.Itoa(c.Structures), c.Funnel)
	}
	for _, m := range f.FunnelMonths {
		funnel("funnel_month", f.Department, "", "", "", m.Month, "", m.Funnel)
	}
	cw.Flush()
	return cw.Error()
}
