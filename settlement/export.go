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
func WriteStatementPDF(w io.Writer, p Period, venueID int64) error {
	if !p.Closed {
		return passnum.Errorf(passnum.KindConflict, EPeriodOpen, "Le mois %s n'est pas encore clos : le relevé peut encore changer. Il est disponible une fois le mois clos.", p.Month)
	}
	st, ok := p.VenueStatement(venueID)
	if !ok {
		return passnum.NotFound("Le lieu %d n'a pas de relevé pour %s dans le département %s.", venueID, p.Month, p.Department)
	}
	doc := printing.Statement{Reference: st.Reference, DepartmentCode: p.Department, DepartmentName: p.DepartmentName,
		PayerName: deref(p.dept.PayerName), ContactPhone: deref(p.dept.ContactPhone), TransferDay: TransferDay(*p.ClosedAt),
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
func WriteStatementPDFs(p Period, create func(st Statement) (io.WriteCloser, error)) error {
	jobs := make(chan Statement)
	errs := make(chan error, len(p.Statements))
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(len(p.Statements), 1)) {
		wg.Go(func() {
			for st := range jobs {
				errs <- writeOne(p, st, create)
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

func writeOne(p Period, st Statement, create func(Statement) (io.WriteCloser, error)) error {
	w, err := create(st)
	if err != nil {
		return err
	}
	if err := WriteStatementPDF(w, p, st.VenueID); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// TransferDay is the day a closed period's transfers are planned for, as
// the statements announce it ("Virement prévu le …"): the first working
// day (Monday to Friday, Europe/Paris) after the day the period was
// closed, which gives the paying office a day to send the SEPA file. It is
// the one payment-date rule: Payment executes on it unless told another
// day.
func TransferDay(closedAt time.Time) voucher.Day {
	d := voucher.Today(closedAt).AddDays(1)
	for {
		y, m, dd := d.Date()
		if wd := time.Date(y, m, dd, 12, 0, 0, 0, time.UTC).Weekday(); wd != time.Saturday && wd != time.Sunday {
			return d
		}
		d = d.AddDays(1)
	}
}

// Payment builds the SEPA credit transfer of a closed period: one transfer
// per venue with a positive net amount, from the département's paying
// office, to be executed on the given day, which must not be past. Day 0
// is the period's TransferDay, or tomorrow (Europe/Paris) once that day is
// past. Errors: invalid (a past day), period_not_over, payer_missing,
// iban_missing, not_found (nothing to pay).
func (s *Service) Payment(p Period, execution voucher.Day) (sepa.Payment, error) {
	today := voucher.Today(s.DB.Now())
	switch {
	case execution == 0 && p.ClosedAt != nil:
		execution = max(TransferDay(*p.ClosedAt), today.AddDays(1))
	case execution == 0:
		execution = today.AddDays(1)
	case execution < today:
		return sepa.Payment{}, passnum.Invalid("Le %s est déjà passé : la banque exécute les virements à une date à venir.", execution.French())
	}
	if !p.Closed {
		return sepa.Payment{}, passnum.Errorf(passnum.KindConflict, EPeriodOpen, "Le mois %s n'est pas encore clos : clôturez-le avant de payer.", p.Month)
	}
	d := p.dept
	if d.PayerIBAN == nil || d.PayerName == nil {
		return sepa.Payment{}, passnum.Errorf(passnum.KindConflict, ENoPayer, "Le département %s n'a pas de payeur : il faut le nom et l'IBAN de son service payeur pour payer les lieux.", d.Code)
	}
	id := fmt.Sprintf("PASSNUM-%s-%s", d.Code, p.Month)
	pay := sepa.Payment{MessageID: id, PaymentInfoID: id, CreatedAt: *p.ClosedAt, InitiatingParty: *d.PayerName,
		Debtor: sepa.Party{Name: *d.PayerName, IBAN: *d.PayerIBAN, BIC: deref(d.PayerBIC)}, ExecutionDate: execution.Start()}
	for _, st := range p.Statements {
		if st.NetCents <= 0 {
			continue
		}
		if st.IBAN == "" {
			return sepa.Payment{}, passnum.Errorf(passnum.KindInvalid, ENoIBAN, "Le lieu %d (%s) n'a pas d'IBAN : renseignez-le, puis payez-le par un ajustement le mois suivant.",
				st.VenueID, st.VenueName)
		}
		pay.Transfers = append(pay.Transfers, sepa.Transfer{EndToEndID: st.Reference,
			Creditor:    sepa.Party{Name: st.VenueName, IBAN: st.IBAN, BIC: st.BIC},
			AmountCents: st.NetCents,
			Remittance:  fmt.Sprintf("Pass numerique %s %s releve %s", d.Name, p.Month, st.Reference)})
	}
	if len(pay.Transfers) == 0 {
		return sepa.Payment{}, passnum.NotFound("Rien à payer pour %s dans le département %s : aucun lieu n'a de montant positif.", p.Month, d.Code)
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
