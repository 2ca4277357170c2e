package ledger

import (
	"encoding/json"
	"slices"

	"passnum/voucher"
)

// Event types and the data each carries. These structs are the ledger's
// format (docs/ledger.md): the services write them and the auditor reads
// them back, so both always agree on every field.
const (
	EventKeyAdded           = "key.added"
	EventKeyRetired         = "key.retired"
	EventKeyRevoked         = "key.revoked"
	EventDepartmentAdded    = "department.added"
	EventVenueAdded         = "venue.added"
	EventVenueUpdated       = "venue.updated"
	EventVenueLabelled      = "venue.labelled"
	EventVenueSuspended     = "venue.suspended"
	EventVenueReinstated    = "venue.reinstated"
	EventVenueUnlabelled    = "venue.unlabelled"
	EventChangeRequested    = "venue.change_requested"
	EventChangeApproved     = "venue.change_approved"
	EventChangeRefused      = "venue.change_refused"
	EventChangeWithdrawn    = "venue.change_withdrawn"
	EventManualEntryLocked  = "venue.manual_entry_locked"
	EventDepartmentUpdated  = "department.updated"
	EventSettlementClosed   = "settlement.closed"
	EventSettlementAdjusted = "settlement.adjusted"
	EventBatchIssued        = "batch.issued"
	EventChequierActivated  = "chequier.activated"
	EventChequierVoided     = "chequier.voided"
	EventChequierReprinted  = "chequier.reprinted"
	EventVoucherReplaced    = "voucher.replaced"
	EventVoucherVoided      = "voucher.voided"
	EventRedeemed           = "redemption.accepted"
	EventReversed           = "redemption.reversed"
	EventOfflineConflict    = "redemption.offline_conflict"
	EventAPIKeyCreated      = "apikey.created"
	EventAPIKeyRevoked      = "apikey.revoked"
	EventPairingCreated     = "pairing.created"
	EventPairingCancelled   = "pairing.cancelled"
)

// EventData is the data of an event. Each data struct names its event type,
// so that an event is appended from its data alone and no type can be
// written with another type's data.
type EventData interface {
	EventType() string
}

func (KeyAdded) EventType() string           { return EventKeyAdded }
func (DepartmentAdded) EventType() string    { return EventDepartmentAdded }
func (DepartmentUpdated) EventType() string  { return EventDepartmentUpdated }
func (VenueAdded) EventType() string         { return EventVenueAdded }
func (VenueUpdated) EventType() string       { return EventVenueUpdated }
func (ChangeRequested) EventType() string    { return EventChangeRequested }
func (ManualEntryLocked) EventType() string  { return EventManualEntryLocked }
func (BatchIssued) EventType() string        { return EventBatchIssued }
func (ChequierActivated) EventType() string  { return EventChequierActivated }
func (ChequierVoided) EventType() string     { return EventChequierVoided }
func (ChequierReprinted) EventType() string  { return EventChequierReprinted }
func (VoucherReplaced) EventType() string    { return EventVoucherReplaced }
func (VoucherVoided) EventType() string      { return EventVoucherVoided }
func (Redeemed) EventType() string           { return EventRedeemed }
func (Reversed) EventType() string           { return EventReversed }
func (OfflineConflict) EventType() string    { return EventOfflineConflict }
func (APIKeyCreated) EventType() string      { return EventAPIKeyCreated }
func (APIKeyRevoked) EventType() string      { return EventAPIKeyRevoked }
func (PairingCreated) EventType() string     { return EventPairingCreated }
func (PairingCancelled) EventType() string   { return EventPairingCancelled }
func (SettlementClosed) EventType() string   { return EventSettlementClosed }
func (SettlementAdjusted) EventType() string { return EventSettlementAdjusted }

// The data structs shared by several types carry theirs in Event, which
// must be one of them (Append refuses any other).
func (d KeyChanged) EventType() string {
	return oneOf(d.Event, EventKeyRetired, EventKeyRevoked)
}

func (d VenueStatusChanged) EventType() string {
	return oneOf(d.Event, EventVenueLabelled, EventVenueSuspended, EventVenueReinstated, EventVenueUnlabelled)
}

func (d ChangeDecided) EventType() string {
	return oneOf(d.Event, EventChangeApproved, EventChangeRefused, EventChangeWithdrawn)
}

func oneOf(typ string, types ...string) string {
	if slices.Contains(types, typ) {
		return typ
	}
	return ""
}

type KeyAdded struct {
	ID        int16             `json:"id"`
	PublicKey string            `json:"public_key"` // base64
	Status    voucher.KeyStatus `json:"status"`
	// VerificationSecretFrom is absent from the events of keys made before
	// it existed, which are SecretFromInstallation.
	VerificationSecretFrom SecretSource `json:"verification_secret_from,omitempty"`
}

// KeyChanged is the data of key.retired and key.revoked.
type KeyChanged struct {
	Event string `json:"-"` // key.retired or key.revoked; stored as the event's type
	ID    int16  `json:"id"`
}

type DepartmentAdded struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// VenueAdded records a new venue. Its contact stays out of the ledger (it
// may name a person); the fields after Departments are absent from venues
// added before venues had them.
type VenueAdded struct {
	ID             int64       `json:"id"`
	Name           string      `json:"name"`
	Status         VenueStatus `json:"status"`
	Departments    []string    `json:"departments"`
	SIRET          string      `json:"siret,omitempty"`
	Address        string      `json:"address,omitempty"`
	IBAN           string      `json:"iban,omitempty"`
	BIC            string      `json:"bic,omitempty"`
	LabelExpiresOn string      `json:"label_expires_on,omitempty"`
	Reason         string      `json:"reason,omitempty"`
}

// VenueUpdated records changed details of a venue; absent fields did not
// change. A changed contact is recorded without its value. ChangeRequest
// is the request it applies, once every département it awaited approved
// it (absent: a change that needed no approval).
type VenueUpdated struct {
	ID             int64   `json:"id"`
	Name           string  `json:"name,omitempty"`
	Address        *string `json:"address,omitempty"`
	IBAN           string  `json:"iban,omitempty"`
	BIC            *string `json:"bic,omitempty"`
	ContactChanged bool    `json:"contact_changed,omitempty"`
	ChangeRequest  int64   `json:"change_request,omitempty"`
	Reason         string  `json:"reason"`
}

// VenueStatusChanged is the data of venue.labelled, venue.suspended,
// venue.reinstated and venue.unlabelled: the label of one département
// (Department), or of every département of the venue when absent (events
// written before labels were per département).
type VenueStatusChanged struct {
	Event          string      `json:"-"` // one of the four; stored as the event's type
	ID             int64       `json:"id"`
	Department     string      `json:"department,omitempty"`
	Status         VenueStatus `json:"status"`
	LabelExpiresOn string      `json:"label_expires_on,omitempty"` // venue.labelled only; empty: no expiry
	Reason         string      `json:"reason"`
}

// ChangeRequested records a change to a shared venue's identity or bank
// details asked by one of its départements; absent fields are not to
// change, and a BIC is given with an IBAN (absent: none). Awaiting are the
// départements whose approval it needs.
type ChangeRequested struct {
	ID         int64    `json:"id"`
	VenueID    int64    `json:"venue_id"`
	Department string   `json:"department"`
	Name       *string  `json:"name,omitempty"`
	Address    *string  `json:"address,omitempty"`
	IBAN       *string  `json:"iban,omitempty"`
	BIC        *string  `json:"bic,omitempty"`
	Awaiting   []string `json:"awaiting"`
	Reason     string   `json:"reason"`
}

// ChangeDecided is the data of venue.change_approved (Department approved;
// absent: an admin did, for all), venue.change_refused (Department
// refused, or an admin) and venue.change_withdrawn (by the département
// that asked, or an admin). An approval that completes the request is
// followed by the venue.updated that applies it.
type ChangeDecided struct {
	Event      string `json:"-"` // one of the three; stored as the event's type
	ID         int64  `json:"id"`
	VenueID    int64  `json:"venue_id"`
	Department string `json:"department,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// DepartmentUpdated records the paying office, commission or contact phone of a
// département; absent fields did not change.
type DepartmentUpdated struct {
	Code                  string  `json:"code"`
	PayerName             *string `json:"payer_name,omitempty"`
	PayerIBAN             *string `json:"payer_iban,omitempty"`
	PayerBIC              *string `json:"payer_bic,omitempty"`
	CommissionBasisPoints *int64  `json:"commission_basis_points,omitempty"`
	// ContactPhone is "" when the number was removed.
	ContactPhone  *string `json:"contact_phone,omitempty"`
	CloseFourEyes *bool   `json:"close_four_eyes,omitempty"`
	// RequestedBy is who asked for a new paying office, which the event's
	// actor, a second person, confirmed.
	RequestedBy string `json:"requested_by,omitempty"`
}

// BatchIssued holds enough to rebuild every chéquier and voucher of a
// batch: chéquier i (from 0) has id FirstChequierID+i and sequence
// FirstChequierSeq+i; serial s lies in chéquier (s-FirstSerial)/per at
// position (s-FirstSerial)%per+1.
type BatchIssued struct {
	ID                  int64  `json:"id"`
	Department          string `json:"department"`
	Year                int    `json:"year"`
	Chequiers           int    `json:"chequiers"`
	VouchersPerChequier int    `json:"vouchers_per_chequier"`
	FaceValueCents      int64  `json:"face_value_cents"`
	TotalCents          int64  `json:"total_cents"`
	ValidFrom           string `json:"valid_from"`
	ValidUntil          string `json:"valid_until"`
	// ProgrammeEnd is absent from batches issued before programme ends
	// existed: their programme ended with their validity.
	ProgrammeEnd       string `json:"programme_end,omitempty"`
	RequiresActivation bool   `json:"requires_activation"`
	KeyID              int16  `json:"key_id"`
	FirstChequierID    int64  `json:"first_chequier_id"`
	FirstChequierSeq   int64  `json:"first_chequier_seq"`
	LastChequierSeq    int64  `json:"last_chequier_seq"`
	FirstSerial        int64  `json:"first_serial"`
	LastSerial         int64  `json:"last_serial"`
	CodesSHA256        string `json:"codes_sha256"` // hex
}

type ChequierActivated struct {
	ChequierID        int64  `json:"chequier_id"`
	Number            string `json:"number"`
	BeneficiaryRef    string `json:"beneficiary_ref"`
	VouchersActivated int64  `json:"vouchers_activated"`
}

type ChequierVoided struct {
	ChequierID    int64   `json:"chequier_id"`
	Number        string  `json:"number"`
	Reason        string  `json:"reason"`
	VoidedSerials []int64 `json:"voided_serials"`
}

// ChequierReprinted records that a chéquier not yet handed over was printed
// again with the same codes (the first copy was damaged): auditors should
// know that two copies of its codes existed.
type ChequierReprinted struct {
	ChequierID int64  `json:"chequier_id"`
	Number     string `json:"number"`
	Reason     string `json:"reason"`
}

// VoucherReplaced records that a voucher whose code leaked was voided and a
// new voucher took its place in the same chéquier.
type VoucherReplaced struct {
	OldSerial  int64         `json:"old_serial"`
	NewSerial  int64         `json:"new_serial"`
	ChequierID int64         `json:"chequier_id"`
	BatchID    int64         `json:"batch_id"`
	Position   int16         `json:"position"`
	KeyID      int16         `json:"key_id"`
	Status     VoucherStatus `json:"status"` // the new voucher's status, the old one's before voiding
	Reason     string        `json:"reason"`
}

// VoucherVoided records one voucher cancelled on its own; Status is what
// it was before (inactive or active).
type VoucherVoided struct {
	Serial     int64         `json:"serial"`
	ChequierID int64         `json:"chequier_id"`
	Status     VoucherStatus `json:"status"`
	Reason     string        `json:"reason"`
}

// Redeemed records a basket accepted from a venue: its vouchers are spent.
type Redeemed struct {
	ID         int64          `json:"id"`
	VenueID    int64          `json:"venue_id"`
	ScannedAt  string         `json:"scanned_at"`  // when the venue scanned (RFC 3339, UTC)
	ReceivedAt string         `json:"received_at"` // when the server accepted
	TotalCents int64          `json:"total_cents"`
	Items      []RedeemedItem `json:"items"`
}

type RedeemedItem struct {
	Serial     int64 `json:"serial"`
	ValueCents int64 `json:"value_cents"`
}

// Reversed records a redemption undone by its venue: its vouchers are
// spendable again, or void if their chéquier was voided meanwhile.
type Reversed struct {
	ID      int64   `json:"id"`
	VenueID int64   `json:"venue_id"`
	Reason  string  `json:"reason"`
	Active  []int64 `json:"active"` // serials spendable again
	Void    []int64 `json:"void"`   // serials of chéquiers voided since
}

// ManualEntryLocked records that a venue typed too many wrong numbers or
// verification codes: its manual entry is refused until LockedUntil (RFC
// 3339), and its départements are told. It changes no table.
type ManualEntryLocked struct {
	VenueID       int64    `json:"venue_id"`
	Departments   []string `json:"departments"`
	Failures      int      `json:"failures"`       // wrong entries within the window
	WindowSeconds int64    `json:"window_seconds"` // the window they were counted over
	LockedUntil   string   `json:"locked_until"`
}

// OfflineConflict records a basket scanned offline that came too late: some
// of its vouchers were spent elsewhere in between. Nothing was redeemed; the
// event is there for auditors.
type OfflineConflict struct {
	VenueID        int64              `json:"venue_id"`
	IdempotencyKey string             `json:"idempotency_key"`
	ScannedAt      string             `json:"scanned_at"`
	Conflicts      []ConflictingSpend `json:"conflicts"`
}

type ConflictingSpend struct {
	Serial       int64 `json:"serial"`
	RedemptionID int64 `json:"redemption_id"`
}

// APIKeyCreated records a new API key (never its secret).
type APIKeyCreated struct {
	Prefix     string `json:"prefix"`
	Role       string `json:"role"`
	Department string `json:"department,omitempty"`
	VenueID    int64  `json:"venue_id,omitempty"`
	Name       string `json:"name"`
	Replaces   string `json:"replaces,omitempty"` // the key it rolled over
	Pairing    int64  `json:"pairing,omitempty"`  // the pairing code it was exchanged for
}

// PairingCancelled records a pairing code cancelled before it was used
// (a code shown to the wrong person, every device of the venue unpaired).
type PairingCancelled struct {
	ID      int64 `json:"id"`
	VenueID int64 `json:"venue_id"`
}

// PairingCreated records a one-time pairing code made for a venue (never
// its secret).
type PairingCreated struct {
	ID        int64  `json:"id"`
	VenueID   int64  `json:"venue_id"`
	Name      string `json:"name"`
	ExpiresAt string `json:"expires_at"`
}

type APIKeyRevoked struct {
	Prefix string `json:"prefix"`
}

// SettlementClosed records a closed period of a département with its frozen
// totals and what each venue is paid.
type SettlementClosed struct {
	ID                    int64          `json:"id"`
	Department            string         `json:"department"`
	FirstDay              string         `json:"first_day"`
	LastDay               string         `json:"last_day"`
	CommissionBasisPoints int64          `json:"commission_basis_points"`
	GrossCents            int64          `json:"gross_cents"`
	ReversedCents         int64          `json:"reversed_cents"`
	AdjustmentCents       int64          `json:"adjustment_cents"`
	CommissionCents       int64          `json:"commission_cents"`
	NetCents              int64          `json:"net_cents"`
	Statements            []SettledVenue `json:"statements"`
	// RequestedBy is who asked for the closing when the département
	// wants a second person (the event's actor) to confirm it.
	RequestedBy string `json:"requested_by,omitempty"`
}

type SettledVenue struct {
	VenueID         int64  `json:"venue_id"`
	Reference       string `json:"reference"`
	Redemptions     int    `json:"redemptions"`
	GrossCents      int64  `json:"gross_cents"`
	ReversedCents   int64  `json:"reversed_cents"`
	AdjustmentCents int64  `json:"adjustment_cents"`
	CommissionCents int64  `json:"commission_cents"`
	NetCents        int64  `json:"net_cents"`
	IBAN            string `json:"iban,omitempty"`
	// The venue as paid, frozen with the closing; absent from closings
	// written before they were frozen.
	BIC          string `json:"bic,omitempty"`
	VenueName    string `json:"venue_name,omitempty"`
	VenueAddress string `json:"venue_address,omitempty"`
}

// SettlementAdjusted records a correction paid (or taken back) in a later
// period than the one it corrects.
type SettlementAdjusted struct {
	ID             int64  `json:"id"`
	Department     string `json:"department"`
	VenueID        int64  `json:"venue_id"`
	AmountCents    int64  `json:"amount_cents"`
	Reason         string `json:"reason"`
	RedemptionID   int64  `json:"redemption_id,omitempty"`
	PeriodFirstDay string `json:"period_first_day"`
}

// The events of people and organisations (docs/accounts.md). An account
// is named by its id alone: its email stays in the accounts table. The
// actor of each is "account:ID@organisation:ID", the account acting and
// the organisation it acted for, or the operator ("cli:…").
const (
	EventOrganisationAdded      = "organisation.added"
	EventAccountInvited         = "account.invited"
	EventInvitationCancelled    = "account.invitation_cancelled"
	EventAccountCreated         = "account.created"
	EventMembershipAdded        = "membership.added"
	EventMembershipRemoved      = "membership.removed"
	EventAccountDisabled        = "account.disabled"
	EventPasswordResetRequested = "account.password_reset_requested"
	EventPasswordReset          = "account.password_reset"
	EventTOTPEnabled            = "account.totp_enabled"
	EventIdentityLinked         = "account.identity_linked"
)

func (OrganisationAdded) EventType() string      { return EventOrganisationAdded }
func (AccountInvited) EventType() string         { return EventAccountInvited }
func (InvitationCancelled) EventType() string    { return EventInvitationCancelled }
func (AccountCreated) EventType() string         { return EventAccountCreated }
func (MembershipAdded) EventType() string        { return EventMembershipAdded }
func (MembershipRemoved) EventType() string      { return EventMembershipRemoved }
func (AccountDisabled) EventType() string        { return EventAccountDisabled }
func (PasswordResetRequested) EventType() string { return EventPasswordResetRequested }
func (PasswordWasReset) EventType() string       { return EventPasswordReset }
func (TOTPEnabled) EventType() string            { return EventTOTPEnabled }
func (IdentityLinked) EventType() string         { return EventIdentityLinked }

// OrganisationAdded records an organisation: a structure or an auditors'
// body with its name, or the row that stands for a département, a venue
// or the installation.
type OrganisationAdded struct {
	ID            int64            `json:"id"`
	Kind          OrganisationKind `json:"kind"`
	Department    string           `json:"department,omitempty"`
	VenueID       int64            `json:"venue_id,omitempty"`
	Name          string           `json:"name,omitempty"`
	StructureType string           `json:"structure_type,omitempty"`
	Address       string           `json:"address,omitempty"`
	Commune       string           `json:"commune,omitempty"`
}

// AccountInvited records an invitation to a role (never the email it was
// sent to, nor its secret).
type AccountInvited struct {
	ID           int64  `json:"id"`
	Organisation int64  `json:"organisation"`
	Role         string `json:"role"`
	ExpiresAt    string `json:"expires_at"`
}

// InvitationCancelled records an invitation cancelled before it was used.
type InvitationCancelled struct {
	ID int64 `json:"id"`
}

// IdentityLinked records an identity at a single sign-on provider bound to
// an account, by the invitation accepted through it: the provider's issuer,
// never the subject (the provider's name for the person).
type IdentityLinked struct {
	Account    int64  `json:"account"`
	Issuer     string `json:"issuer"`
	Invitation int64  `json:"invitation"`
}

// AccountCreated records an account made by accepting an invitation.
type AccountCreated struct {
	ID         int64 `json:"id"`
	Invitation int64 `json:"invitation"`
}

// MembershipAdded records a role given to an account, by the invitation it
// accepted.
type MembershipAdded struct {
	Account      int64  `json:"account"`
	Organisation int64  `json:"organisation"`
	Role         string `json:"role"`
	Invitation   int64  `json:"invitation"`
}

// MembershipRemoved records a role taken from an account by a manager.
type MembershipRemoved struct {
	Account      int64  `json:"account"`
	Organisation int64  `json:"organisation"`
	Role         string `json:"role"`
}

// AccountDisabled records an account stopped by a manager.
type AccountDisabled struct {
	Account int64 `json:"account"`
}

// PasswordResetRequested records a reset link made for an account; a
// request for an address without an account writes nothing.
type PasswordResetRequested struct {
	Account   int64  `json:"account"`
	Reset     int64  `json:"reset"`
	ExpiresAt string `json:"expires_at"`
}

// PasswordWasReset records a new password set with a reset link.
type PasswordWasReset struct {
	Account int64 `json:"account"`
	Reset   int64 `json:"reset"`
}

// TOTPEnabled records that an account confirmed its second factor.
type TOTPEnabled struct {
	Account int64 `json:"account"`
}

// The events of four eyes (package foureyes): one person of a
// département asks, another confirms or anyone who decides refuses; the
// change itself is its own event (department.updated, settlement.closed),
// whose actor is the second person.
const (
	EventSecondPersonAsked     = "second_person.asked"
	EventSecondPersonConfirmed = "second_person.confirmed"
	EventSecondPersonRefused   = "second_person.refused"
)

func (d SecondPersonStep) EventType() string {
	return oneOf(d.Event, EventSecondPersonAsked, EventSecondPersonConfirmed, EventSecondPersonRefused)
}

// SecondPersonStep records a step of a request for a second person:
// Data is what was asked (asked only), Reason why it was refused.
type SecondPersonStep struct {
	Event      string          `json:"-"`
	Department string          `json:"department"`
	Subject    string          `json:"subject"`
	Data       json.RawMessage `json:"data,omitempty"`
	Reason     string          `json:"reason,omitempty"`
}

// The events of stock (docs/stock.md): chéquiers not yet handed over move
// between a département's own stock and its distribution structures.
const (
	EventStockAllocated   = "stock.allocated"   // from the département to a structure
	EventStockTransferred = "stock.transferred" // from a structure to another
	EventStockTakenBack   = "stock.taken_back"  // from a structure back to the département
)

func (d StockMoved) EventType() string {
	return oneOf(d.Event, EventStockAllocated, EventStockTransferred, EventStockTakenBack)
}

// StockMoved records chéquiers that changed holder: From and To are
// organisations (structures), zero for the département's own stock. Each
// chéquier is named by its id, in number order.
type StockMoved struct {
	Event     string  `json:"-"` // one of the three; stored as the event's type
	From      int64   `json:"from,omitempty"`
	To        int64   `json:"to,omitempty"`
	Chequiers []int64 `json:"chequiers"`
}
