package audit

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"passnum"
	"passnum/ledger"
	"passnum/redemption"
	"passnum/voucher"
)

// state is what the events say the tables hold. Chéquiers and vouchers
// nobody touched after issue are not stored: their state follows from
// their batch, so memory grows with events, not with vouchers. Both
// verifiers replay events into it (apply); an export's, having no tables,
// also asks it whether each event may follow the ones before
// (transitionProblem), and the database's compares it with the tables
// (compare).
type state struct {
	departments map[string]string // code -> name
	deptEvents  map[string]string
	payers      map[string]*ledger.DepartmentUpdated // paying office and commission, as last set
	periods     map[int64]*periodState
	adjustments map[int64]*adjustmentState
	keys        map[int16]*keyState
	venues      map[int64]*venueState
	changes     map[int64]*changeState
	batches     map[int64]*batchState
	chequiers   map[int64]*chequierState
	fates       map[int64]fate  // serial -> what events did to it since issue
	replaced    map[int64]int64 // old serial -> its replacement
	replacement map[int64]*replacementState
	redemptions map[int64]*redemptionState
	apiKeys     map[string]*apiKeyState
	people      *people // accounts.go
	// asked is what waits for a second person (foureyes.go), by
	// département and subject: the event that asked.
	asked map[[2]string]string
}

func newState() *state {
	return &state{
		departments: map[string]string{}, deptEvents: map[string]string{},
		keys: map[int16]*keyState{}, venues: map[int64]*venueState{}, changes: map[int64]*changeState{},
		batches: map[int64]*batchState{}, chequiers: map[int64]*chequierState{},
		fates: map[int64]fate{}, replaced: map[int64]int64{}, replacement: map[int64]*replacementState{},
		redemptions: map[int64]*redemptionState{}, apiKeys: map[string]*apiKeyState{},
		payers: map[string]*ledger.DepartmentUpdated{}, periods: map[int64]*periodState{}, adjustments: map[int64]*adjustmentState{},
		people: newPeople(), asked: map[[2]string]string{},
	}
}

// batchState is a batch as its event describes it.
type batchState struct {
	ledger.BatchIssued
	event string
}

type chequierState struct {
	status ledger.ChequierStatus
	ref    string
	event  string
	holder int64 // the structure holding it (stock.go); 0: its département
}

// replacementState is a voucher that took the place of another.
type replacementState struct {
	ledger.VoucherReplaced
	event string
}

type keyState struct {
	publicKey  string
	status     voucher.KeyStatus
	secretFrom ledger.SecretSource // where its verification secret comes from
	event      string
}

type venueState struct {
	name        string
	departments []string
	labels      map[string]*labelState // by département
	siret       string
	address     string
	iban        string
	bic         string
	event       string
}

// labelState is a venue's label for one département.
type labelState struct {
	status ledger.VenueStatus
	until  string
}

type apiKeyState struct {
	ledger.APIKeyCreated
	revoked bool
	event   string
}

// fate is a voucher's status set by an event other than its chéquier's
// activation: voided, replaced, redeemed.
type fate struct {
	status     ledger.VoucherStatus
	redemption int64
	event      string
}

type redemptionState struct {
	ledger.Redeemed
	status ledger.RedemptionStatus
	event  string
}

type periodState struct {
	ledger.SettlementClosed
	event string
}

// changeState is a change request to a shared venue as events tell it.
type changeState struct {
	ledger.ChangeRequested
	status    ledger.ChangeStatus
	approvals map[string]bool
	event     string
}

type adjustmentState struct {
	ledger.SettlementAdjusted
	event string
}

func (s *state) apply(ev *ledger.Event) error {
	ref := eventRef(ev)
	bad := func(problem string) error {
		return &StateError{Entity: "event", ID: ref, Problem: problem}
	}
	decode := func(v any) error {
		if err := json.Unmarshal([]byte(ev.Data), v); err != nil {
			return bad("its data is not valid: " + err.Error())
		}
		return nil
	}
	switch ev.Type {
	case ledger.EventDepartmentAdded:
		var d ledger.DepartmentAdded
		if err := decode(&d); err != nil {
			return err
		}
		s.departments[d.Code], s.deptEvents[d.Code] = d.Name, ref
	case ledger.EventKeyAdded:
		var k ledger.KeyAdded
		if err := decode(&k); err != nil {
			return err
		}
		from := k.VerificationSecretFrom
		if from == "" {
			from = ledger.SecretFromInstallation
		}
		s.keys[k.ID] = &keyState{publicKey: k.PublicKey, status: k.Status, secretFrom: from, event: ref}
	case ledger.EventKeyRetired, ledger.EventKeyRevoked:
		var k ledger.KeyChanged
		if err := decode(&k); err != nil {
			return err
		}
		ks, ok := s.keys[k.ID]
		if !ok {
			return bad(fmt.Sprintf("changes key %d, which no earlier event added", k.ID))
		}
		ks.status, ks.event = voucher.KeyRetired, ref
		if ev.Type == ledger.EventKeyRevoked {
			ks.status = voucher.KeyRevoked
		}
	case ledger.EventVenueAdded:
		var v ledger.VenueAdded
		if err := decode(&v); err != nil {
			return err
		}
		vs := &venueState{name: v.Name, departments: v.Departments, labels: map[string]*labelState{}, siret: v.SIRET,
			address: v.Address, iban: v.IBAN, bic: v.BIC, event: ref}
		for _, d := range v.Departments {
			vs.labels[d] = &labelState{status: v.Status, until: v.LabelExpiresOn}
		}
		s.venues[v.ID] = vs
	case ledger.EventBatchIssued:
		b := &batchState{event: ref}
		if err := decode(&b.BatchIssued); err != nil {
			return err
		}
		if b.ProgrammeEnd == "" {
			b.ProgrammeEnd = b.ValidUntil // issued before programme ends existed
		}
		s.batches[b.ID] = b
	case ledger.EventChequierActivated:
		var c ledger.ChequierActivated
		if err := decode(&c); err != nil {
			return err
		}
		cs := s.chequier(c.ChequierID)
		cs.status, cs.ref, cs.event = ledger.ChequierActive, c.BeneficiaryRef, ref
	case ledger.EventChequierVoided:
		var c ledger.ChequierVoided
		if err := decode(&c); err != nil {
			return err
		}
		cs := s.chequier(c.ChequierID)
		cs.status, cs.event = ledger.ChequierVoid, ref
		for _, serial := range c.VoidedSerials {
			s.fates[serial] = fate{status: ledger.VoucherVoid, event: ref}
		}
	case ledger.EventVoucherReplaced:
		r := &replacementState{event: ref}
		if err := decode(&r.VoucherReplaced); err != nil {
			return err
		}
		s.fates[r.OldSerial] = fate{status: ledger.VoucherVoid, event: ref}
		s.replaced[r.OldSerial] = r.NewSerial
		s.replacement[r.NewSerial] = r
	case ledger.EventRedeemed:
		r := &redemptionState{status: ledger.RedemptionAccepted, event: ref}
		if err := decode(&r.Redeemed); err != nil {
			return err
		}
		s.redemptions[r.ID] = r
		for _, it := range r.Items {
			s.fates[it.Serial] = fate{status: ledger.VoucherRedeemed, redemption: r.ID, event: ref}
		}
	case ledger.EventReversed:
		var rv ledger.Reversed
		if err := decode(&rv); err != nil {
			return err
		}
		r := s.redemptions[rv.ID]
		if r == nil {
			return bad(fmt.Sprintf("reverses redemption %d, which no earlier event accepted", rv.ID))
		}
		r.status, r.event = ledger.RedemptionReversed, ref
		for _, serial := range rv.Active {
			delete(s.fates, serial) // spendable again, as its chéquier allows
		}
		for _, serial := range rv.Void {
			s.fates[serial] = fate{status: ledger.VoucherVoid, event: ref}
		}
	case ledger.EventAPIKeyCreated:
		k := &apiKeyState{event: ref}
		if err := decode(&k.APIKeyCreated); err != nil {
			return err
		}
		s.apiKeys[k.Prefix] = k
	case ledger.EventAPIKeyRevoked:
		var k ledger.APIKeyRevoked
		if err := decode(&k); err != nil {
			return err
		}
		ks := s.apiKeys[k.Prefix]
		if ks == nil {
			return bad(fmt.Sprintf("revokes API key %s, which no earlier event created", k.Prefix))
		}
		ks.revoked, ks.event = true, ref
	case ledger.EventChequierReprinted, ledger.EventOfflineConflict, ledger.EventPairingCreated, ledger.EventPairingCancelled, ledger.EventManualEntryLocked:
		// No state changes; the events are there for auditors.
	default:
		if handled, err := s.applyOperation(ev, ref, bad, decode); handled {
			return err
		}
		if handled, err := s.applyPeople(ev, ref, bad, decode); handled {
			return err
		}
		if handled, err := s.applyStock(ev, ref, bad, decode); handled {
			return err
		}
		if handled, err := s.applyFourEyes(ev, ref, bad, decode); handled {
			return err
		}
		return bad("has a type this version of passnum does not know")
	}
	return nil
}

// chequier returns the tracked state of a chéquier, starting it as issued.
func (s *state) chequier(id int64) *chequierState {
	cs := s.chequiers[id]
	if cs == nil {
		cs = &chequierState{status: ledger.ChequierIssued}
		s.chequiers[id] = cs
	}
	return cs
}

// batchOf finds the batch whose chéquier id range holds id.
func (s *state) batchOf(match func(*batchState) bool) *batchState {
	for _, b := range s.batches {
		if match(b) {
			return b
		}
	}
	return nil
}

// The replay of programme operations: venue changes, département payers,
// single-voucher voiding and settlement. A closed period's totals are
// recomputed from the replayed redemptions, reversals and adjustments, so a
// settlement that paid more (or less) than the ledger supports is caught
// even if every table was edited to agree with it.

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
		if d.ContactPhone != nil {
			p.ContactPhone = d.ContactPhone
		}
		if d.CloseFourEyes != nil {
			p.CloseFourEyes = d.CloseFourEyes
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

// transitionProblem says why an event cannot follow the ones before it, or
// "" when it can. The database verifier compares the end state with the
// tables; an export has no tables, so the replay itself must refuse what
// the services never do: spend a voucher twice or while it is void, undo a
// redemption twice, hand over a voided chéquier… Bad data is left for
// apply to report.
func (s *state) transitionProblem(ev *ledger.Event) string {
	switch ev.Type {
	case ledger.EventRedeemed:
		var r ledger.Redeemed
		if json.Unmarshal([]byte(ev.Data), &r) != nil {
			return ""
		}
		if prev := s.redemptions[r.ID]; prev != nil {
			return fmt.Sprintf("accepts redemption %d, which event %s already accepted", r.ID, prev.event)
		}
		if _, ok := s.venues[r.VenueID]; !ok {
			return fmt.Sprintf("is by venue %d, which no earlier event added", r.VenueID)
		}
		var total int64
		seen := make(map[int64]bool, len(r.Items))
		for _, it := range r.Items {
			number := voucher.FormatNumber(uint64(it.Serial))
			if seen[it.Serial] {
				return fmt.Sprintf("spends voucher %s twice in one basket", number)
			}
			seen[it.Serial] = true
			if p := s.unspendable(it.Serial); p != "" {
				return fmt.Sprintf("spends voucher %s, %s", number, p)
			}
			total += it.ValueCents
		}
		if total != r.TotalCents {
			return fmt.Sprintf("its items add up to %s EUR but its total is %s EUR", passnum.FormatEuros(total), passnum.FormatEuros(r.TotalCents))
		}
	case ledger.EventReversed:
		var rv ledger.Reversed
		if json.Unmarshal([]byte(ev.Data), &rv) != nil {
			return ""
		}
		r := s.redemptions[rv.ID]
		switch {
		case r == nil:
			return "" // apply names it
		case r.status == ledger.RedemptionReversed:
			return fmt.Sprintf("reverses redemption %d, which event %s already reversed", rv.ID, r.event)
		case rv.VenueID != r.VenueID:
			return fmt.Sprintf("is by venue %d but redemption %d is venue %d's", rv.VenueID, rv.ID, r.VenueID)
		}
		items := make(map[int64]bool, len(r.Items))
		for _, it := range r.Items {
			items[it.Serial] = true
		}
		for _, serial := range append(append([]int64(nil), rv.Active...), rv.Void...) {
			if !items[serial] {
				return fmt.Sprintf("gives back voucher %s, which redemption %d did not spend", voucher.FormatNumber(uint64(serial)), rv.ID)
			}
			delete(items, serial)
		}
		if len(items) > 0 {
			return fmt.Sprintf("gives back %d of redemption %d's %d vouchers", len(r.Items)-len(items), rv.ID, len(r.Items))
		}
	case ledger.EventChequierActivated, ledger.EventChequierVoided:
		var c struct {
			ChequierID int64 `json:"chequier_id"`
		}
		if json.Unmarshal([]byte(ev.Data), &c) != nil {
			return ""
		}
		if s.batchOf(func(b *batchState) bool {
			return c.ChequierID >= b.FirstChequierID && c.ChequierID < b.FirstChequierID+int64(b.Chequiers)
		}) == nil {
			return fmt.Sprintf("is about chéquier %d, which no batch issued", c.ChequierID)
		}
		cs := s.chequiers[c.ChequierID]
		switch {
		case cs != nil && cs.status == ledger.ChequierVoid:
			return fmt.Sprintf("is about chéquier %d, which event %s voided", c.ChequierID, cs.event)
		case cs != nil && cs.status == ledger.ChequierActive && ev.Type == ledger.EventChequierActivated:
			return fmt.Sprintf("hands over chéquier %d, which event %s already handed over", c.ChequierID, cs.event)
		}
	}
	return ""
}

// unspendable says why a voucher cannot be spent at this point of the
// replay, or "" when it can.
func (s *state) unspendable(serial int64) string {
	if f, ok := s.fates[serial]; ok {
		switch f.status {
		case ledger.VoucherRedeemed:
			return fmt.Sprintf("which redemption %d already spent in event %s", f.redemption, f.event)
		case ledger.VoucherActive:
			return ""
		}
		return fmt.Sprintf("which is %s since event %s", f.status, f.event)
	}
	var b *batchState
	var chequier int64
	if r, ok := s.replacement[serial]; ok {
		b, chequier = s.batches[r.BatchID], r.ChequierID
	} else if b = s.batchOf(func(c *batchState) bool { return serial >= c.FirstSerial && serial <= c.LastSerial }); b != nil {
		chequier = b.FirstChequierID + (serial-b.FirstSerial)/int64(b.VouchersPerChequier)
	}
	if b == nil {
		return "which no batch issued"
	}
	if cs := s.chequiers[chequier]; b.RequiresActivation && (cs == nil || cs.status == ledger.ChequierIssued) {
		return "whose chéquier was not handed over"
	}
	return ""
}

// lateWarnings names every accepted redemption that is late by
// redemption.Late, from the events alone: an offline scan sent more than a
// day after it was judged, or holding vouchers that had expired on
// receipt. They are legitimate only if the venue's device really was
// offline; the auditor asks the venue.
func (s *state) lateWarnings() []string {
	batches := make([]*batchState, 0, len(s.batches))
	for _, b := range s.batches {
		batches = append(batches, b)
	}
	slices.SortFunc(batches, func(a, b *batchState) int { return cmp.Compare(a.FirstSerial, b.FirstSerial) })
	batchOf := func(serial int64) *batchState {
		if r, ok := s.replacement[serial]; ok {
			return s.batches[r.BatchID]
		}
		i, found := slices.BinarySearchFunc(batches, serial, func(b *batchState, serial int64) int {
			switch {
			case serial < b.FirstSerial:
				return 1
			case serial > b.LastSerial:
				return -1
			}
			return 0
		})
		if !found {
			return nil
		}
		return batches[i]
	}
	var out []string
	ids := make([]int64, 0, len(s.redemptions))
	for id, r := range s.redemptions {
		if r.status == ledger.RedemptionAccepted {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		r := s.redemptions[id]
		scanned, err1 := time.Parse(time.RFC3339Nano, r.ScannedAt)
		received, err2 := time.Parse(time.RFC3339Nano, r.ReceivedAt)
		if err1 != nil || err2 != nil {
			out = append(out, fmt.Sprintf("redemption %d (event %s) has no readable scan or receipt time: %q, %q", id, r.event, r.ScannedAt, r.ReceivedAt))
			continue
		}
		days := make([]voucher.Day, 0, len(r.Items))
		expired := 0
		for _, it := range r.Items {
			b := batchOf(it.Serial)
			if b == nil {
				continue // compareVouchers names a voucher outside every batch
			}
			d, err := voucher.ParseDay(b.ValidUntil)
			if err != nil {
				continue
			}
			days = append(days, d)
			if voucher.Today(received) > d {
				expired++
			}
		}
		if !redemption.Late(scanned, received, days) {
			continue
		}
		out = append(out, fmt.Sprintf("redemption %d (event %s) of venue %d is late: judged at its scan time %s, received %s (%s later), "+
			"%d vouchers for %s EUR, %d of them expired on receipt; check that the venue's device was offline",
			id, r.event, r.VenueID, scanned.UTC().Format(time.RFC3339), received.UTC().Format(time.RFC3339),
			received.Sub(scanned).Round(time.Minute), len(r.Items), passnum.FormatEuros(r.TotalCents), expired))
	}
	return out
}

// compare checks each state table against the replayed state; the first
// disagreement is returned as a *StateError.
func (s *state) compare(ctx context.Context, db *ledger.DB, rep *Report) error {
	if err := s.compareDepartments(ctx, db); err != nil {
		return err
	}
	if err := s.compareKeys(ctx, db); err != nil {
		return err
	}
	if err := s.compareVenues(ctx, db); err != nil {
		return err
	}
	if err := s.compareChanges(ctx, db); err != nil {
		return err
	}
	if err := s.compareAPIKeys(ctx, db); err != nil {
		return err
	}
	if err := s.comparePeople(ctx, db); err != nil {
		return err
	}
	if err := s.compareFourEyes(ctx, db); err != nil {
		return err
	}
	if err := s.compareBatches(ctx, db); err != nil {
		return err
	}
	rep.Batches = len(s.batches)
	var err error
	if rep.Chequiers, err = s.compareChequiers(ctx, db); err != nil {
		return err
	}
	if rep.Vouchers, err = s.compareVouchers(ctx, db); err != nil {
		return err
	}
	if rep.Redemptions, err = s.compareRedemptions(ctx, db); err != nil {
		return err
	}
	return s.compareSettlements(ctx, db)
}

func (s *state) compareRedemptions(ctx context.Context, db *ledger.DB) (int, error) {
	var rows []struct {
		ledger.Redemption
		Items    int64
		SumCents int64
	}
	err := db.Read(ctx).Raw(`SELECT r.*, (SELECT COUNT(*) FROM redemption_items i WHERE i.redemption_id = r.id) AS items,
		(SELECT COALESCE(SUM(value_cents), 0) FROM redemption_items i WHERE i.redemption_id = r.id) AS sum_cents
		FROM redemptions r`).Scan(&rows).Error
	if err != nil {
		return 0, err
	}
	for _, r := range rows {
		id := fmt.Sprint(r.ID)
		e, ok := s.redemptions[r.ID]
		switch {
		case !ok:
			return 0, &StateError{Entity: "redemption", ID: id, Problem: "exists but no event accepted it"}
		case r.VenueID != e.VenueID || r.TotalCents != e.TotalCents || r.Status != e.status:
			return 0, &StateError{Entity: "redemption", ID: id, Problem: fmt.Sprintf("is %s for %s EUR by venue %d but the ledger says %s for %s EUR by venue %d",
				r.Status, passnum.FormatEuros(r.TotalCents), r.VenueID, e.status, passnum.FormatEuros(e.TotalCents), e.VenueID), Event: e.event}
		case r.Items != int64(len(e.Items)) || r.SumCents != e.TotalCents:
			return 0, &StateError{Entity: "redemption", ID: id, Problem: fmt.Sprintf("has %d items worth %s EUR but the ledger says %d worth %s EUR",
				r.Items, passnum.FormatEuros(r.SumCents), len(e.Items), passnum.FormatEuros(e.TotalCents)), Event: e.event}
		}
	}
	if len(rows) != len(s.redemptions) {
		return 0, &StateError{Entity: "redemption", ID: "*", Problem: fmt.Sprintf("%d in the table, %d in the ledger: some were deleted", len(rows), len(s.redemptions))}
	}
	return len(rows), nil
}

func derefOr(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func (s *state) compareDepartments(ctx context.Context, db *ledger.DB) error {
	var rows []ledger.Department
	if err := db.Read(ctx).Find(&rows).Error; err != nil {
		return err
	}
	for _, d := range rows {
		name, ok := s.departments[d.Code]
		if !ok {
			return &StateError{Entity: "département", ID: d.Code, Problem: "exists but no event added it"}
		}
		if name != d.Name {
			return &StateError{Entity: "département", ID: d.Code, Problem: fmt.Sprintf("is named %q but the ledger says %q", d.Name, name), Event: s.deptEvents[d.Code]}
		}
		if err := s.comparePayer(d); err != nil {
			return err
		}
	}
	if len(rows) != len(s.departments) {
		return &StateError{Entity: "département", ID: "*", Problem: fmt.Sprintf("%d in the table, %d in the ledger: some were deleted", len(rows), len(s.departments))}
	}
	return nil
}

func (s *state) compareKeys(ctx context.Context, db *ledger.DB) error {
	var rows []ledger.SigningKey
	if err := db.Read(ctx).Find(&rows).Error; err != nil {
		return err
	}
	for _, k := range rows {
		id := fmt.Sprint(k.ID)
		ks, ok := s.keys[k.ID]
		switch {
		case !ok:
			return &StateError{Entity: "signing key", ID: id, Problem: "exists but no event added it"}
		case ks.publicKey != base64.StdEncoding.EncodeToString(k.PublicKey):
			return &StateError{Entity: "signing key", ID: id, Problem: "its public key differs from the one the ledger recorded", Event: ks.event}
		case ks.status != k.Status:
			return &StateError{Entity: "signing key", ID: id, Problem: fmt.Sprintf("is %s but the ledger says %s", k.Status, ks.status), Event: ks.event}
		case ks.secretFrom != k.VerificationSecretFrom:
			// Flipped to the installation's secret, the codes of the key's
			// batches could be computed from an older copy of the keys folder.
			return &StateError{Entity: "signing key", ID: id, Problem: fmt.Sprintf("takes its verification secret from %s but the ledger says %s", k.VerificationSecretFrom, ks.secretFrom), Event: ks.event}
		}
	}
	if len(rows) != len(s.keys) {
		return &StateError{Entity: "signing key", ID: "*", Problem: fmt.Sprintf("%d in the table, %d in the ledger: some were deleted", len(rows), len(s.keys))}
	}
	return nil
}

func (s *state) compareVenues(ctx context.Context, db *ledger.DB) error {
	var rows []ledger.Venue
	if err := db.Read(ctx).Find(&rows).Error; err != nil {
		return err
	}
	var links []ledger.VenueDepartment
	if err := db.Read(ctx).Order("venue_id, department_code").Find(&links).Error; err != nil {
		return err
	}
	depts := map[int64][]string{}
	for _, l := range links {
		depts[l.VenueID] = append(depts[l.VenueID], l.DepartmentCode)
		vs := s.venues[l.VenueID]
		if vs == nil {
			continue // reported below
		}
		if want := vs.labels[l.DepartmentCode]; want != nil && (want.status != l.Status || want.until != dateString(l.LabelExpiresOn)) {
			return &StateError{Entity: "venue", ID: fmt.Sprint(l.VenueID), Problem: fmt.Sprintf("is %s until %q for département %s but the ledger says %s until %q",
				l.Status, dateString(l.LabelExpiresOn), l.DepartmentCode, want.status, want.until), Event: vs.event}
		}
	}
	for _, v := range rows {
		id := fmt.Sprint(v.ID)
		vs, ok := s.venues[v.ID]
		switch {
		case !ok:
			return &StateError{Entity: "venue", ID: id, Problem: "exists but no event added it"}
		case vs.name != v.Name:
			return &StateError{Entity: "venue", ID: id, Problem: fmt.Sprintf("is %q but the ledger says %q", v.Name, vs.name), Event: vs.event}
		case vs.siret != deref(v.SIRET) || vs.iban != deref(v.IBAN) || vs.bic != deref(v.BIC) || vs.address != v.Address:
			return &StateError{Entity: "venue", ID: id, Problem: fmt.Sprintf("has SIRET %q, IBAN %q, BIC %q, address %q but the ledger says %q, %q, %q, %q",
				deref(v.SIRET), deref(v.IBAN), deref(v.BIC), v.Address, vs.siret, vs.iban, vs.bic, vs.address), Event: vs.event}
		case !sameSet(vs.departments, depts[v.ID]):
			return &StateError{Entity: "venue", ID: id, Problem: fmt.Sprintf("is labelled for %v but the ledger says %v", depts[v.ID], vs.departments), Event: vs.event}
		}
	}
	if len(rows) != len(s.venues) {
		return &StateError{Entity: "venue", ID: "*", Problem: fmt.Sprintf("%d in the table, %d in the ledger: some were deleted", len(rows), len(s.venues))}
	}
	return nil
}

// compareAPIKeys checks who may act: every key's role, scope and
// revocation must be what the events say, so that no access was granted
// behind the ledger's back.
func (s *state) compareAPIKeys(ctx context.Context, db *ledger.DB) error {
	var rows []ledger.APIKey
	if err := db.Read(ctx).Find(&rows).Error; err != nil {
		return err
	}
	for _, k := range rows {
		e, ok := s.apiKeys[k.Prefix]
		if !ok {
			return &StateError{Entity: "API key", ID: k.Prefix, Problem: "exists but no event created it"}
		}
		dept, venue := "", int64(0)
		if k.DepartmentCode != nil {
			dept = *k.DepartmentCode
		}
		if k.VenueID != nil {
			venue = *k.VenueID
		}
		if k.Role != e.Role || dept != e.Department || venue != e.VenueID || (k.RevokedAt != nil) != e.revoked {
			return &StateError{Entity: "API key", ID: k.Prefix, Problem: fmt.Sprintf("is %s (%q, venue %d, revoked %v) but the ledger says %s (%q, venue %d, revoked %v)",
				k.Role, dept, venue, k.RevokedAt != nil, e.Role, e.Department, e.VenueID, e.revoked), Event: e.event}
		}
	}
	if len(rows) != len(s.apiKeys) {
		return &StateError{Entity: "API key", ID: "*", Problem: fmt.Sprintf("%d in the table, %d in the ledger: some were deleted", len(rows), len(s.apiKeys))}
	}
	return nil
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]bool{}
	for _, x := range a {
		m[x] = true
	}
	for _, x := range b {
		if !m[x] {
			return false
		}
	}
	return true
}

func (s *state) compareBatches(ctx context.Context, db *ledger.DB) error {
	var rows []ledger.Batch
	if err := db.Read(ctx).Find(&rows).Error; err != nil {
		return err
	}
	for _, b := range rows {
		id := fmt.Sprint(b.ID)
		e, ok := s.batches[b.ID]
		if !ok {
			return &StateError{Entity: "batch", ID: id, Problem: "exists but no event issued it"}
		}
		got := ledger.BatchIssued{ID: b.ID, Department: b.DepartmentCode, Year: b.Year, Chequiers: b.ChequierCount,
			VouchersPerChequier: b.VouchersPerChequier, FaceValueCents: b.FaceValueCents, TotalCents: b.TotalCents,
			ValidFrom: b.ValidFrom.String(), ValidUntil: b.ValidUntil.String(), ProgrammeEnd: b.ProgrammeEnd.String(),
			RequiresActivation: b.RequiresActivation, KeyID: b.KeyID, FirstChequierID: e.FirstChequierID, FirstChequierSeq: b.FirstChequierSeq,
			LastChequierSeq: b.LastChequierSeq, FirstSerial: b.FirstSerial, LastSerial: b.LastSerial,
			CodesSHA256: fmt.Sprintf("%x", b.CodesSHA256)}
		if field, table, ledgerValue, differs := firstDifference(got, e.BatchIssued); differs {
			return &StateError{Entity: "batch", ID: id, Problem: fmt.Sprintf("%s is %v in the table but %v in the ledger", field, table, ledgerValue), Event: e.event}
		}
	}
	if len(rows) != len(s.batches) {
		return &StateError{Entity: "batch", ID: "*", Problem: fmt.Sprintf("%d in the table, %d in the ledger: some were deleted", len(rows), len(s.batches))}
	}
	return nil
}

// firstDifference compares two batch states field by field and names the
// first field (by its JSON name) that differs.
func firstDifference(a, b ledger.BatchIssued) (field string, av, bv any, differs bool) {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	for i := range va.NumField() {
		f := va.Type().Field(i)
		if x, y := va.Field(i).Interface(), vb.Field(i).Interface(); x != y {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			return name, x, y, true
		}
	}
	return "", nil, nil, false
}

func (s *state) compareChequiers(ctx context.Context, db *ledger.DB) (int64, error) {
	rows, err := db.Read(ctx).Model(&ledger.Chequier{}).Order("id").Rows()
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	perBatch := map[int64]int{}
	var n int64
	var b *batchState
	for rows.Next() {
		var c ledger.Chequier
		if err := db.Read(ctx).ScanRows(rows, &c); err != nil {
			return n, err
		}
		n++
		if b == nil || b.ID != c.BatchID {
			b = s.batches[c.BatchID]
		}
		if b == nil {
			return n, &StateError{Entity: "chéquier", ID: c.Number, Problem: fmt.Sprintf("belongs to batch %d, which no event issued", c.BatchID)}
		}
		k := c.ID - b.FirstChequierID
		seq := b.FirstChequierSeq + k
		want := voucher.FormatChequierNumber(b.Department, uint16(b.Year), uint32(seq))
		if k < 0 || k >= int64(b.Chequiers) || c.Number != want || c.Seq != seq || c.DepartmentCode != b.Department {
			return n, &StateError{Entity: "chéquier", ID: c.Number, Problem: fmt.Sprintf("id %d does not fit batch %d's numbering", c.ID, b.ID), Event: b.event}
		}
		wantStatus, wantRef, ev, wantHolder := ledger.ChequierIssued, "", b.event, int64(0)
		if cs := s.chequiers[c.ID]; cs != nil {
			wantStatus, wantRef, ev, wantHolder = cs.status, cs.ref, cs.event, cs.holder
		}
		gotRef := ""
		if c.BeneficiaryRef != nil {
			gotRef = *c.BeneficiaryRef
		}
		if c.Status != wantStatus || gotRef != wantRef {
			return n, &StateError{Entity: "chéquier", ID: c.Number, Problem: fmt.Sprintf("is %s (reference %q) but the ledger says %s (reference %q)", c.Status, gotRef, wantStatus, wantRef), Event: ev}
		}
		if got := derefOr(c.StructureID); got != wantHolder {
			return n, &StateError{Entity: "chéquier", ID: c.Number, Problem: fmt.Sprintf("is held by structure %d but the ledger says %d (0: its département)", got, wantHolder), Event: ev}
		}
		perBatch[b.ID]++
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	for id, b := range s.batches {
		if perBatch[id] != b.Chequiers {
			return n, &StateError{Entity: "batch", ID: fmt.Sprint(id), Problem: fmt.Sprintf("has %d chéquiers in the table but %d in the ledger", perBatch[id], b.Chequiers), Event: b.event}
		}
	}
	return n, nil
}

func (s *state) compareVouchers(ctx context.Context, db *ledger.DB) (int64, error) {
	rows, err := db.Read(ctx).Model(&ledger.Voucher{}).Order("serial").Rows()
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	perBatch := map[int64]int64{}
	var n int64
	var b *batchState
	for rows.Next() {
		var v ledger.Voucher
		if err := db.Read(ctx).ScanRows(rows, &v); err != nil {
			return n, err
		}
		n++
		number := voucher.FormatNumber(uint64(v.Serial))
		if b, err = s.placeOf(&v, b, number); err != nil {
			return n, err
		}
		if want, ok := s.replaced[v.Serial]; ok != (v.ReplacedBy != nil) || (ok && *v.ReplacedBy != want) {
			return n, &StateError{Entity: "voucher", ID: number, Problem: fmt.Sprintf("its replacement is %s in the table but %s in the ledger", optional(v.ReplacedBy), optional(ptrIf(want, ok))), Event: b.event}
		}
		want, ev := ledger.VoucherActive, b.event
		cs := s.chequiers[v.ChequierID]
		if b.RequiresActivation && (cs == nil || cs.status == ledger.ChequierIssued) {
			want = ledger.VoucherInactive
		} else if cs != nil {
			ev = cs.event
		}
		var redemption int64
		if f, ok := s.fates[v.Serial]; ok {
			want, redemption, ev = f.status, f.redemption, f.event
		}
		if v.Status != want {
			return n, &StateError{Entity: "voucher", ID: number, Problem: fmt.Sprintf("is %s but the ledger says %s", v.Status, want), Event: ev}
		}
		if got := derefOr(v.RedemptionID); got != redemption {
			return n, &StateError{Entity: "voucher", ID: number, Problem: fmt.Sprintf("is in redemption %d but the ledger says %d", got, redemption), Event: ev}
		}
		perBatch[b.ID]++
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	replacements := map[int64]int64{}
	for _, r := range s.replacement {
		replacements[r.BatchID]++
	}
	for id, b := range s.batches {
		if want := b.LastSerial - b.FirstSerial + 1 + replacements[id]; perBatch[id] != want {
			return n, &StateError{Entity: "batch", ID: fmt.Sprint(id), Problem: fmt.Sprintf("has %d vouchers in the table but %d in the ledger", perBatch[id], want), Event: b.event}
		}
	}
	return n, nil
}

// placeOf checks that a voucher sits where the events put it: in its
// batch's serial range at the chéquier and position the range implies, or
// where a voucher.replaced event put it. It returns the voucher's batch;
// last is the previous voucher's, usually the same.
func (s *state) placeOf(v *ledger.Voucher, last *batchState, number string) (*batchState, error) {
	if r, ok := s.replacement[v.Serial]; ok {
		b := s.batches[r.BatchID]
		if b == nil || v.BatchID != r.BatchID || v.ChequierID != r.ChequierID || v.Position != r.Position || v.KeyID == nil || *v.KeyID != r.KeyID {
			return nil, &StateError{Entity: "voucher", ID: number, Problem: "is not where its replacement event put it", Event: r.event}
		}
		return b, nil
	}
	b := last
	if b == nil || v.Serial < b.FirstSerial || v.Serial > b.LastSerial {
		b = s.batchOf(func(c *batchState) bool { return v.Serial >= c.FirstSerial && v.Serial <= c.LastSerial })
	}
	if b == nil || b.ID != v.BatchID {
		return nil, &StateError{Entity: "voucher", ID: number, Problem: fmt.Sprintf("claims batch %d, but no event issued serial %d there", v.BatchID, v.Serial)}
	}
	k := v.Serial - b.FirstSerial
	per := int64(b.VouchersPerChequier)
	if v.ChequierID != b.FirstChequierID+k/per || int64(v.Position) != k%per+1 || v.KeyID != nil {
		return nil, &StateError{Entity: "voucher", ID: number, Problem: "is not in the chéquier or position its batch assigned", Event: b.event}
	}
	return b, nil
}

func ptrIf(v int64, ok bool) *int64 {
	if !ok {
		return nil
	}
	return &v
}

func optional(serial *int64) string {
	if serial == nil {
		return "none"
	}
	return voucher.FormatNumber(uint64(*serial))
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
	if deref(d.ContactPhone) != deref(want.ContactPhone) {
		return &StateError{Entity: "département", ID: d.Code, Problem: fmt.Sprintf("has the contact phone %q, but the ledger says %q",
			deref(d.ContactPhone), deref(want.ContactPhone)), Event: s.deptEvents[d.Code]}
	}
	if fourEyes := want.CloseFourEyes != nil && *want.CloseFourEyes; d.CloseFourEyes != fourEyes {
		return &StateError{Entity: "département", ID: d.Code, Problem: fmt.Sprintf("closes months with four eyes %v, but the ledger says %v",
			d.CloseFourEyes, fourEyes), Event: s.deptEvents[d.Code]}
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
