package settlement

import (
	"fmt"
	"io"
	"runtime"
	"strconv"
	"sync"
	"time"

	"passnum"
	"passnum/csvsafe"
	"passnum/printing"
	"passnum/sepa"
	"passnum/voucher"
)

// WriteCSV writes every line of every statement of a period, one row each,
// for the paying office's spreadsheet or an auditor's script. Amounts are
// in cents and in euros with a decimal point, times in UTC (RFC 3339).
func WriteCSV(w io.Writer, p Period) error {
	cw := csvsafe.NewWriter(w)
	status := "open"
	if p.Closed {
		status = "closed"
	}
	cw.Write([]string{"department", "month", "status", "venue_id", "venue_name", "reference", "at", "kind",
		"redemption_id", "voucher_number", "label", "amount_cents", "amount_eur"})
	for _, st := range p.Statements {
		for _, l := range st.Lines {
			redemption := ""
			if l.RedemptionID != 0 {
				redemption = strconv.FormatInt(l.RedemptionID, 10)
			}
			cw.Write([]string{p.Department, p.Month, status, strconv.FormatInt(st.VenueID, 10), st.VenueName, st.Reference,
				l.At.UTC().Format(time.RFC3339), l.Kind, redemption, l.Number, l.Label,
				strconv.FormatInt(l.AmountCents, 10), passnum.FormatEuros(l.AmountCents)})
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteStatementPDF writes one venue's statement of a closed period as the
// PDF the venue receives. Errors: not_found (no statement for that venue),
// period_not_over (the period is still open: its figures may change).
func WriteStatementPDF(w io.Writer, p Period, venueID int64, departmentName string) error {
	if !p.Closed {
		return passnum.Errorf(passnum.KindConflict, EPeriodOpen, "%s is not closed yet: its statements may still change", p.Month)
	}
	st, ok := p.VenueStatement(venueID)
	if !ok {
		return passnum.NotFound("venue %d has no statement for %s in département %s", venueID, p.Month, p.Department)
	}
	doc := printing.Statement{Reference: st.Reference, DepartmentCode: p.Department, DepartmentName: departmentName,
		VenueID: st.VenueID, VenueName: st.VenueName, VenueSIRET: deref(st.Venue.SIRET), VenueAddress: st.VenueAddress,
		VenueIBAN: st.IBAN, PeriodStart: p.month.FirstDay(), PeriodEnd: p.month.LastDay(), ClosedAt: *p.ClosedAt,
		GrossCents: st.GrossCents, ReversedCents: st.ReversedCents, AdjustmentCents: st.AdjustmentCents,
		CommissionBasisPoints: p.CommissionBasisPoints, CommissionCents: st.CommissionCents, NetCents: st.NetCents}
	for _, l := range st.Lines {
		doc.Lines = append(doc.Lines, printing.StatementLine{At: l.At, Kind: l.Kind, RedemptionID: l.RedemptionID,
			VoucherNumber: l.Number, Label: l.Label, AmountCents: l.AmountCents})
	}
	return printing.RenderStatement(w, doc)
}

// WriteStatementPDFs writes the PDF statement of every venue of a closed
// period, rendering several at once: a month of a large département is
// hundreds of documents, each mostly CPU (fonts, compression). create
// gives where each goes; the first error stops the rest.
func WriteStatementPDFs(p Period, departmentName string, create func(st Statement) (io.WriteCloser, error)) error {
	jobs := make(chan Statement)
	errs := make(chan error, len(p.Statements))
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(len(p.Statements), 1)) {
		wg.Go(func() {
			for st := range jobs {
				errs <- writeOne(p, departmentName, st, create)
			}
		})
	}
	var first error
	for _, st := range p.Statements {
		select {
		case jobs <- st:
		case err := <-errs:
			if err != nil && first == nil {
				first = err
			}
		}
		if first != nil {
			break
		}
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

func writeOne(p Period, departmentName string, st Statement, create func(Statement) (io.WriteCloser, error)) error {
	w, err := create(st)
	if err != nil {
		return err
	}
	if err := WriteStatementPDF(w, p, st.VenueID, departmentName); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// Payment builds the SEPA credit transfer of a closed period: one transfer
// per venue with a positive net amount, from the département's paying
// office, to be executed on the given day. Errors: period_not_over,
// payer_missing, invalid (a venue without an IBAN).
func Payment(p Period, execution voucher.Day) (sepa.Payment, error) {
	if !p.Closed {
		return sepa.Payment{}, passnum.Errorf(passnum.KindConflict, EPeriodOpen, "%s is not closed yet: close it before paying", p.Month)
	}
	d := p.dept
	if d.PayerIBAN == nil || d.PayerName == nil {
		return sepa.Payment{}, passnum.Errorf(passnum.KindConflict, ENoPayer, "département %s has no paying office: set it with 'passnum department set %s --payer-name … --payer-iban …'", d.Code, d.Code)
	}
	id := fmt.Sprintf("PASSNUM-%s-%s", d.Code, p.Month)
	pay := sepa.Payment{MessageID: id, PaymentInfoID: id, CreatedAt: *p.ClosedAt, InitiatingParty: *d.PayerName,
		Debtor: sepa.Party{Name: *d.PayerName, IBAN: *d.PayerIBAN, BIC: deref(d.PayerBIC)}, ExecutionDate: execution.Start()}
	for _, st := range p.Statements {
		if st.NetCents <= 0 {
			continue
		}
		if st.IBAN == "" {
			return sepa.Payment{}, passnum.Invalid("venue %d (%s) has no IBAN: set it with 'passnum venue update %d --iban …', then pay it with an adjustment next month",
				st.VenueID, st.VenueName, st.VenueID)
		}
		pay.Transfers = append(pay.Transfers, sepa.Transfer{EndToEndID: st.Reference,
			Creditor:    sepa.Party{Name: st.VenueName, IBAN: st.IBAN, BIC: st.BIC},
			AmountCents: st.NetCents,
			Remittance:  fmt.Sprintf("Pass numerique %s %s releve %s", d.Name, p.Month, st.Reference)})
	}
	if len(pay.Transfers) == 0 {
		return sepa.Payment{}, passnum.NotFound("nothing to pay for %s in département %s", p.Month, d.Code)
	}
	return pay, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
