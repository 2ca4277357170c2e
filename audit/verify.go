// Package audit lets an auditor check the ledger without trusting the
// server: the hash chain and its signed checkpoints, and that the state
// tables say exactly what the events say.
package audit

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"passnum"
	"passnum/ledger"
	"passnum/voucher"
)

// Report sums up a successful verification.
type Report struct {
	Chain       ledger.ChainReport
	Unsealed    int64 // events not yet chained (checked against the state all the same)
	Batches     int
	Chequiers   int64
	Vouchers    int64
	Redemptions int
}

// StateError names a row of the state tables that disagrees with the events.
type StateError struct {
	Entity  string // "voucher", "chequier", …
	ID      string
	Problem string
	Event   string // the last event about this entity, if any
}

func (e *StateError) Error() string {
	s := fmt.Sprintf("%s %s: %s", e.Entity, e.ID, e.Problem)
	if e.Event != "" {
		s += " (last event: " + e.Event + ")"
	}
	return s
}

// Verify checks the chain, then replays every event and compares the
// result with the state tables. The first problem found is returned as a
// *ledger.ChainError or a *StateError.
func Verify(ctx context.Context, db *ledger.DB, keys *voucher.KeySet) (Report, error) {
	var rep Report
	var err error
	if rep.Chain, err = db.VerifyChain(ctx, keys); err != nil {
		return rep, err
	}
	st := newState()
	rows, err := db.Read(ctx).Model(&ledger.Event{}).
		Order("CASE WHEN seq IS NULL THEN 1 ELSE 0 END, seq, id").Rows()
	if err != nil {
		return rep, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ev ledger.Event
		if err := db.Read(ctx).ScanRows(rows, &ev); err != nil {
			return rep, fmt.Errorf("read events: %w", err)
		}
		if ev.Seq == nil {
			rep.Unsealed++
		}
		if err := st.apply(&ev); err != nil {
			return rep, err
		}
	}
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("read events: %w", err)
	}
	rows.Close()
	if err := st.compare(ctx, db, &rep); err != nil {
		return rep, err
	}
	rep.Chain.Warnings = append(rep.Chain.Warnings, st.lateWarnings()...)
	return rep, nil
}

// eventRef names an event for people: its sequence number once sealed.
func eventRef(ev *ledger.Event) string {
	if ev.Seq != nil {
		return fmt.Sprintf("#%d (id %d, %s)", *ev.Seq, ev.ID, ev.Type)
	}
	return fmt.Sprintf("unsealed id %d (%s)", ev.ID, ev.Type)
}

// batchState is a batch as its event describes it.
type batchState struct {
	ledger.BatchIssued
	event string
}

type chequierState struct {
	status string
	ref    string
	event  string
}

// replacementState is a voucher that took the place of another.
type replacementState struct {
	ledger.VoucherReplaced
	event string
}

type keyState struct {
	publicKey, status string
	secretFrom        string // where its verification secret comes from
	event             string
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
	status, until string
}

// state is what the events say the tables hold. Chéquiers and vouchers
// nobody touched after issue are not stored: their state follows from
// their batch, so memory grows with events, not with vouchers.
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
}

type apiKeyState struct {
	ledger.APIKeyCreated
	revoked bool
	event   string
}

// fate is a voucher's status set by an event other than its chéquier's
// activation: voided, replaced, redeemed.
type fate struct {
	status     string
	redemption int64
	event      string
}

type redemptionState struct {
	ledger.Redeemed
	status string
	event  string
}

func newState() *state {
	return &state{
		departments: map[string]string{}, deptEvents: map[string]string{},
		keys: map[int16]*keyState{}, venues: map[int64]*venueState{}, changes: map[int64]*changeState{},
		batches: map[int64]*batchState{}, chequiers: map[int64]*chequierState{},
		fates: map[int64]fate{}, replaced: map[int64]int64{}, replacement: map[int64]*replacementState{},
		redemptions: map[int64]*redemptionState{}, apiKeys: map[string]*apiKeyState{},
		payers: map[string]*ledger.DepartmentUpdated{}, periods: map[int64]*periodState{}, adjustments: map[int64]*adjustmentState{},
	}
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
		ks.status, ks.event = string(voucher.KeyRetired), ref
		if ev.Type == ledger.EventKeyRevoked {
			ks.status = string(voucher.KeyRevoked)
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
	case ledger.EventChequierReprinted, ledger.EventOfflineConflict, ledger.EventPairingCreated, ledger.EventManualEntryLocked:
		// No state changes; the events are there for auditors.
	default:
		if handled, err := s.applyOperation(ev, ref, bad, decode); handled {
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

// batchOf finds the batch whose chéquier id range holds id.
func (s *state) batchOf(match func(*batchState) bool) *batchState {
	for _, b := range s.batches {
		if match(b) {
			return b
		}
	}
	return nil
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
		wantStatus, wantRef, ev := ledger.ChequierIssued, "", b.event
		if cs := s.chequiers[c.ID]; cs != nil {
			wantStatus, wantRef, ev = cs.status, cs.ref, cs.event
		}
		gotRef := ""
		if c.BeneficiaryRef != nil {
			gotRef = *c.BeneficiaryRef
		}
		if c.Status != wantStatus || gotRef != wantRef {
			return n, &StateError{Entity: "chéquier", ID: c.Number, Problem: fmt.Sprintf("is %s (reference %q) but the ledger says %s (reference %q)", c.Status, gotRef, wantStatus, wantRef), Event: ev}
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
