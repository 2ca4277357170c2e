package audit

import (
	"context"
	"fmt"
	"time"

	"passnum"
	"passnum/ledger"
	"passnum/voucher"
)

// The replay of programme operations: venue changes, département payers,
// single-voucher voiding and settlement. A closed period's totals are
// recomputed from the replayed redemptions, reversals and adjustments, so a
// settlement that paid more (or less) than the ledger supports is caught
// even if every table was edited to agree with it.

type periodState struct {
	ledger.SettlementClosed
	event string
}

// changeState is a change request to a shared venue as events tell it.
type changeState struct {
	ledger.ChangeRequested
	status    string
	approvals map[string]bool
	event     string
}

type adjustmentState struct {
	ledger.SettlementAdjusted
	event string
}

// applyOperation applies the events of programme operations; handled is
// false for a type it does not know.
func (s *state) applyOperation(ev *ledger.Event, ref string, bad func(string) error, decode func(any) error) (handled bool, err error) {
	switch ev.Type {
	case ledger.EventVenueUpdated:
		var u ledger.VenueUpdated
		if err := decode(&u); err != nil {
			return true, err
		}
		v := s.venues[u.ID]
		if v == nil {
			return true, bad(fmt.Sprintf("changes venue %d, which no earlier event added", u.ID))
		}
		if u.Name != "" {
			v.name = u.Name
		}
		if u.Address != nil {
			v.address = *u.Address
		}
		if u.IBAN != "" {
			v.iban = u.IBAN
		}
		if u.BIC != nil {
			v.bic = *u.BIC
		}
		v.event = ref
		if u.ChangeRequest != 0 {
			c := s.changes[u.ChangeRequest]
			if c == nil || c.status != ledger.ChangePending || c.VenueID != u.ID {
				return true, bad(fmt.Sprintf("applies change request %d to venue %d, which no earlier event left pending for that venue", u.ChangeRequest, u.ID))
			}
			c.status, c.event = ledger.ChangeApplied, ref
		}
	case ledger.EventChangeRequested:
		c := &changeState{status: ledger.ChangePending, approvals: map[string]bool{}, event: ref}
		if err := decode(&c.ChangeRequested); err != nil {
			return true, err
		}
		if s.venues[c.VenueID] == nil {
			return true, bad(fmt.Sprintf("asks to change venue %d, which no earlier event added", c.VenueID))
		}
		s.changes[c.ID] = c
	case ledger.EventChangeApproved, ledger.EventChangeRefused, ledger.EventChangeWithdrawn:
		var d ledger.ChangeDecided
		if err := decode(&d); err != nil {
			return true, err
		}
		c := s.changes[d.ID]
		if c == nil || c.status != ledger.ChangePending {
			return true, bad(fmt.Sprintf("decides change request %d, which no earlier event left pending", d.ID))
		}
		switch ev.Type {
		case ledger.EventChangeApproved:
			if d.Department != "" {
				c.approvals[d.Department] = true
			}
		case ledger.EventChangeRefused:
			c.status = ledger.ChangeRefused
		default:
			c.status = ledger.ChangeWithdrawn
		}
		c.event = ref
	case ledger.EventVenueLabelled, ledger.EventVenueSuspended, ledger.EventVenueReinstated, ledger.EventVenueUnlabelled:
		var c ledger.VenueStatusChanged
		if err := decode(&c); err != nil {
			return true, err
		}
		v := s.venues[c.ID]
		if v == nil {
			return true, bad(fmt.Sprintf("changes venue %d, which no earlier event added", c.ID))
		}
		// Without a département, the event predates per-département
		// labels: it moved every label of the venue.
		labels := []*labelState{v.labels[c.Department]}
		if c.Department == "" {
			labels = labels[:0]
			for _, l := range v.labels {
				labels = append(labels, l)
			}
		} else if labels[0] == nil {
			return true, bad(fmt.Sprintf("changes the label of venue %d for département %s, which it is not labelled for", c.ID, c.Department))
		}
		for _, l := range labels {
			l.status = c.Status
			if ev.Type == ledger.EventVenueLabelled {
				l.until = c.LabelExpiresOn
			}
		}
		v.event = ref
	case ledger.EventDepartmentUpdated:
		var d ledger.DepartmentUpdated
		if err := decode(&d); err != nil {
			return true, err
		}
		p := s.payers[d.Code]
		if p == nil {
			p = &ledger.DepartmentUpdated{Code: d.Code}
			s.payers[d.Code] = p
		}
		if d.PayerName != nil {
			p.PayerName = d.PayerName
		}
		if d.PayerIBAN != nil {
			p.PayerIBAN, p.PayerBIC = d.PayerIBAN, d.PayerBIC
		}
		if d.CommissionBasisPoints != nil {
			p.CommissionBasisPoints = d.CommissionBasisPoints
		}
		s.deptEvents[d.Code] = ref
	case ledger.EventVoucherVoided:
		var v ledger.VoucherVoided
		if err := decode(&v); err != nil {
			return true, err
		}
		s.fates[v.Serial] = fate{status: ledger.VoucherVoid, event: ref}
	case ledger.EventSettlementAdjusted:
		a := &adjustmentState{event: ref}
		if err := decode(&a.SettlementAdjusted); err != nil {
			return true, err
		}
		s.adjustments[a.ID] = a
	case ledger.EventSettlementClosed:
		p := &periodState{event: ref}
		if err := decode(&p.SettlementClosed); err != nil {
			return true, err
		}
		if err := s.checkSettlement(&p.SettlementClosed); err != nil {
			return true, bad(err.Error())
		}
		s.periods[p.ID] = p
	default:
		return false, nil
	}
	return true, nil
}

// checkSettlement recomputes a closing's totals from the events before it:
// the redemptions the server accepted in the period for the département's
// vouchers, those reversed since, and the adjustments counted in it.
func (s *state) checkSettlement(c *ledger.SettlementClosed) error {
	first, err1 := voucher.ParseDay(c.FirstDay)
	last, err2 := voucher.ParseDay(c.LastDay)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("closes a period with unreadable dates %q to %q", c.FirstDay, c.LastDay)
	}
	var gross, reversed, adjusted int64
	for _, r := range s.redemptions {
		at, err := time.Parse(time.RFC3339Nano, r.ReceivedAt)
		if err != nil {
			return fmt.Errorf("redemption %d has an unreadable time %q", r.ID, r.ReceivedAt)
		}
		if day := voucher.Today(at); day < first || day > last {
			continue
		}
		for _, it := range r.Items {
			b := s.batchOf(func(b *batchState) bool { return it.Serial >= b.FirstSerial && it.Serial <= b.LastSerial })
			if b == nil {
				if rep := s.replacement[it.Serial]; rep != nil {
					b = s.batches[rep.BatchID]
				}
			}
			if b == nil || b.Department != c.Department {
				continue
			}
			gross += it.ValueCents
			if r.status == ledger.RedemptionReversed {
				reversed += it.ValueCents
			}
		}
	}
	for _, a := range s.adjustments {
		if a.Department == c.Department && a.PeriodFirstDay == c.FirstDay {
			adjusted += a.AmountCents
		}
	}
	if gross != c.GrossCents || reversed != c.ReversedCents || adjusted != c.AdjustmentCents {
		return fmt.Errorf("closes %s to %s of département %s with %s EUR redeemed, %s reversed, %s adjusted, but the events before it add up to %s, %s and %s",
			c.FirstDay, c.LastDay, c.Department, passnum.FormatEuros(c.GrossCents), passnum.FormatEuros(c.ReversedCents), passnum.FormatEuros(c.AdjustmentCents),
			passnum.FormatEuros(gross), passnum.FormatEuros(reversed), passnum.FormatEuros(adjusted))
	}
	var net, commission int64
	for _, st := range c.Statements {
		// The venue frozen in the closing is the venue as the events
		// before it left it: a closing cannot pay an account the venue
		// never had. (Closings before the freeze carry the IBAN only.)
		if v := s.venues[st.VenueID]; st.VenueName != "" && (v == nil || v.name != st.VenueName || v.iban != st.IBAN || v.bic != st.BIC || v.address != st.VenueAddress) {
			return fmt.Errorf("pays venue %d as %q (IBAN %q, BIC %q), which is not the venue the events before it describe", st.VenueID, st.VenueName, st.IBAN, st.BIC)
		}
		if st.GrossCents-st.ReversedCents+st.AdjustmentCents-st.CommissionCents != st.NetCents {
			return fmt.Errorf("pays venue %d %s EUR, which is not its redemptions minus reversals plus adjustments minus commission", st.VenueID, passnum.FormatEuros(st.NetCents))
		}
		net += st.NetCents
		commission += st.CommissionCents
	}
	if net != c.NetCents || commission != c.CommissionCents || c.GrossCents-c.ReversedCents+c.AdjustmentCents-c.CommissionCents != c.NetCents {
		return fmt.Errorf("pays %s EUR in all, which is not the sum of its statements (%s EUR)", passnum.FormatEuros(c.NetCents), passnum.FormatEuros(net))
	}
	return nil
}

func (s *state) comparePayer(d ledger.Department) error {
	want := s.payers[d.Code]
	if want == nil {
		want = &ledger.DepartmentUpdated{}
	}
	var bp int64
	if want.CommissionBasisPoints != nil {
		bp = *want.CommissionBasisPoints
	}
	if deref(d.PayerName) != deref(want.PayerName) || deref(d.PayerIBAN) != deref(want.PayerIBAN) ||
		deref(d.PayerBIC) != deref(want.PayerBIC) || d.CommissionBasisPoints != bp {
		return &StateError{Entity: "département", ID: d.Code, Problem: fmt.Sprintf("pays from %q (IBAN %q) with a commission of %d bp, but the ledger says %q (IBAN %q), %d bp",
			deref(d.PayerName), deref(d.PayerIBAN), d.CommissionBasisPoints, deref(want.PayerName), deref(want.PayerIBAN), bp), Event: s.deptEvents[d.Code]}
	}
	return nil
}

// compareChanges checks the venue change requests and their approvals:
// who asked which venue to change, and how it was decided.
func (s *state) compareChanges(ctx context.Context, db *ledger.DB) error {
	var rows []ledger.VenueChangeRequest
	if err := db.Read(ctx).Find(&rows).Error; err != nil {
		return err
	}
	var approvals []ledger.VenueChangeApproval
	if err := db.Read(ctx).Find(&approvals).Error; err != nil {
		return err
	}
	approved := map[int64]int{}
	for _, a := range approvals {
		c := s.changes[a.RequestID]
		if c == nil || !c.approvals[a.DepartmentCode] {
			return &StateError{Entity: "change request", ID: fmt.Sprint(a.RequestID), Problem: fmt.Sprintf("has an approval of département %s that no event recorded", a.DepartmentCode)}
		}
		approved[a.RequestID]++
	}
	for _, r := range rows {
		id := fmt.Sprint(r.ID)
		c, ok := s.changes[r.ID]
		switch {
		case !ok:
			return &StateError{Entity: "change request", ID: id, Problem: "exists but no event asked for it"}
		case r.VenueID != c.VenueID || r.DepartmentCode != c.Department || r.Status != c.status ||
			deref(r.Name) != deref(c.Name) || deref(r.Address) != deref(c.Address) || deref(r.IBAN) != deref(c.IBAN) || deref(r.BIC) != deref(c.BIC):
			return &StateError{Entity: "change request", ID: id, Problem: fmt.Sprintf("is %s, asked by %s for venue %d, but the ledger says %s, asked by %s for venue %d (or other details)",
				r.Status, r.DepartmentCode, r.VenueID, c.status, c.Department, c.VenueID), Event: c.event}
		case approved[r.ID] != len(c.approvals):
			return &StateError{Entity: "change request", ID: id, Problem: fmt.Sprintf("has %d approvals but the ledger says %d", approved[r.ID], len(c.approvals)), Event: c.event}
		}
	}
	if len(rows) != len(s.changes) {
		return &StateError{Entity: "change request", ID: "*", Problem: fmt.Sprintf("%d in the table, %d in the ledger: some were deleted", len(rows), len(s.changes))}
	}
	return nil
}

func (s *state) compareSettlements(ctx context.Context, db *ledger.DB) error {
	var periods []ledger.SettlementPeriod
	if err := db.Read(ctx).Find(&periods).Error; err != nil {
		return err
	}
	for _, p := range periods {
		id := fmt.Sprint(p.ID)
		e, ok := s.periods[p.ID]
		switch {
		case !ok:
			return &StateError{Entity: "settlement period", ID: id, Problem: "exists but no event closed it"}
		case p.DepartmentCode != e.Department || p.FirstDay.String() != e.FirstDay || p.LastDay.String() != e.LastDay ||
			p.GrossCents != e.GrossCents || p.ReversedCents != e.ReversedCents || p.AdjustmentCents != e.AdjustmentCents ||
			p.CommissionCents != e.CommissionCents || p.NetCents != e.NetCents:
			return &StateError{Entity: "settlement period", ID: id, Problem: fmt.Sprintf("pays %s EUR for %s to %s of %s but the ledger says %s EUR for %s to %s of %s",
				passnum.FormatEuros(p.NetCents), p.FirstDay, p.LastDay, p.DepartmentCode, passnum.FormatEuros(e.NetCents), e.FirstDay, e.LastDay, e.Department), Event: e.event}
		}
		var rows []ledger.SettlementStatement
		if err := db.Read(ctx).Where("period_id = ?", p.ID).Order("venue_id").Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) != len(e.Statements) {
			return &StateError{Entity: "settlement period", ID: id, Problem: fmt.Sprintf("has %d statements but the ledger says %d", len(rows), len(e.Statements)), Event: e.event}
		}
		byVenue := map[int64]ledger.SettledVenue{}
		for _, st := range e.Statements {
			byVenue[st.VenueID] = st
		}
		for _, r := range rows {
			st, ok := byVenue[r.VenueID]
			if !ok || r.NetCents != st.NetCents || r.GrossCents != st.GrossCents || r.ReversedCents != st.ReversedCents ||
				r.AdjustmentCents != st.AdjustmentCents || r.CommissionCents != st.CommissionCents || deref(r.IBAN) != st.IBAN || r.Reference != st.Reference ||
				deref(r.BIC) != st.BIC || deref(r.VenueName) != st.VenueName || deref(r.VenueAddress) != st.VenueAddress {
				return &StateError{Entity: "settlement statement", ID: fmt.Sprintf("%s/venue %d", id, r.VenueID),
					Problem: fmt.Sprintf("pays %s EUR to %q (IBAN %q, BIC %q) but the ledger says %s EUR to %q (%q, %q)", passnum.FormatEuros(r.NetCents),
						deref(r.VenueName), deref(r.IBAN), deref(r.BIC), passnum.FormatEuros(st.NetCents), st.VenueName, st.IBAN, st.BIC), Event: e.event}
			}
		}
	}
	if len(periods) != len(s.periods) {
		return &StateError{Entity: "settlement period", ID: "*", Problem: fmt.Sprintf("%d in the table, %d in the ledger: some were deleted", len(periods), len(s.periods))}
	}
	var adjustments []ledger.SettlementAdjustment
	if err := db.Read(ctx).Find(&adjustments).Error; err != nil {
		return err
	}
	for _, a := range adjustments {
		e, ok := s.adjustments[a.ID]
		id := fmt.Sprint(a.ID)
		switch {
		case !ok:
			return &StateError{Entity: "adjustment", ID: id, Problem: "exists but no event recorded it"}
		case a.AmountCents != e.AmountCents || a.VenueID != e.VenueID || a.DepartmentCode != e.Department || a.PeriodFirstDay.String() != e.PeriodFirstDay:
			return &StateError{Entity: "adjustment", ID: id, Problem: fmt.Sprintf("is %s EUR to venue %d in %s but the ledger says %s EUR to venue %d in %s",
				passnum.FormatEuros(a.AmountCents), a.VenueID, a.PeriodFirstDay, passnum.FormatEuros(e.AmountCents), e.VenueID, e.PeriodFirstDay), Event: e.event}
		}
	}
	if len(adjustments) != len(s.adjustments) {
		return &StateError{Entity: "adjustment", ID: "*", Problem: fmt.Sprintf("%d in the table, %d in the ledger: some were deleted", len(adjustments), len(s.adjustments))}
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func dateString(d *ledger.Date) string {
	if d == nil {
		return ""
	}
	return d.String()
}
