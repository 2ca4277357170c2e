package ledger

import (
	"database/sql/driver"
	"fmt"
	"time"

	"passnum/voucher"
)

// The GORM models mirror the SQL migrations column for column (a test checks
// it on both dialects). The schema itself comes only from the migrations.
// Timestamps are UTC; money is integer cents.

// Status values, as stored. Each kind of row has its own type, so that a
// voucher's status cannot be compared with a venue's by mistake: "active"
// and "void" are both a chéquier's and a voucher's word.

// VenueStatus is a venue's label for one département.
type VenueStatus string

const (
	VenueLabelled   VenueStatus = "labelled"
	VenueSuspended  VenueStatus = "suspended"
	VenueUnlabelled VenueStatus = "unlabelled"
)

// ChequierStatus is where a chéquier is in its life.
type ChequierStatus string

const (
	ChequierIssued ChequierStatus = "issued" // printed, waiting to be handed over
	ChequierActive ChequierStatus = "active"
	ChequierVoid   ChequierStatus = "void"
)

// VoucherStatus is where a voucher is in its life.
type VoucherStatus string

const (
	VoucherInactive VoucherStatus = "inactive" // its chéquier awaits activation
	VoucherActive   VoucherStatus = "active"
	VoucherRedeemed VoucherStatus = "redeemed"
	VoucherVoid     VoucherStatus = "void"
)

// RedemptionStatus is whether a redemption stands or was undone.
type RedemptionStatus string

const (
	RedemptionAccepted RedemptionStatus = "accepted"
	RedemptionReversed RedemptionStatus = "reversed"
)

type Department struct {
	Code      string    `gorm:"primaryKey"`
	Name      string    `gorm:"not null"`
	CreatedAt time.Time `gorm:"not null"`
	// The paying office that transfers venues' reimbursements.
	PayerName *string
	PayerIBAN *string `gorm:"column:payer_iban"`
	PayerBIC  *string `gorm:"column:payer_bic"`
	// The programme's commission on reimbursements: 150 = 1.50 %.
	CommissionBasisPoints int64 `gorm:"not null"`
	// ContactPhone is the number printed on covers (a lost chéquier) and
	// statements (a question about a payment), as programme.CheckPhone
	// writes it.
	ContactPhone *string
	// CloseFourEyes: a month is closed only when a second person
	// confirms what a first asked (package foureyes).
	CloseFourEyes bool `gorm:"not null"`
}

func (Department) TableName() string { return "departments" }

// SecondPersonRequest is what one person of a département asked and a
// second must confirm (package foureyes): its subject ("settings",
// "close:2026-11") and what was asked, as JSON.
type SecondPersonRequest struct {
	DepartmentCode string    `gorm:"primaryKey"`
	Subject        string    `gorm:"primaryKey"`
	Data           string    `gorm:"not null"`
	RequestedBy    string    `gorm:"not null"`
	RequestedAt    time.Time `gorm:"not null"`
}

func (SecondPersonRequest) TableName() string { return "second_person_requests" }

// Venue is a venue's identity and bank details, shared by the départements
// that label it; its label, per département, is in VenueDepartment.
type Venue struct {
	ID        int64     `gorm:"primaryKey"`
	Name      string    `gorm:"not null"`
	CreatedAt time.Time `gorm:"not null"`
	SIRET     *string   `gorm:"column:siret"`
	Address   string    `gorm:"not null"`
	IBAN      *string   `gorm:"column:iban"`
	BIC       *string   `gorm:"column:bic"`
	// Contact is professional but may name a person: it stays out of the
	// ledger (design decision 9).
	Contact string `gorm:"not null"`
}

func (Venue) TableName() string { return "venues" }

// VenueDepartment is a venue's label for one département: each
// département suspends, reinstates, unlabels or lets lapse its own label,
// and stops only its own vouchers.
type VenueDepartment struct {
	VenueID        int64       `gorm:"primaryKey;autoIncrement:false"`
	DepartmentCode string      `gorm:"primaryKey"`
	Status         VenueStatus `gorm:"not null"`
	// LabelExpiresOn is the last day the label is valid; nil: no expiry.
	LabelExpiresOn *Date
}

func (VenueDepartment) TableName() string { return "venue_departments" }

// Redeems tells whether the label lets the venue redeem the département's
// vouchers on day: labelled, and not past its expiry. The redemption's
// judge and the public directory of venues read it the same way.
func (l VenueDepartment) Redeems(day voucher.Day) bool {
	return l.Status == VenueLabelled && (l.LabelExpiresOn == nil || day <= l.LabelExpiresOn.Day())
}

// ChangeStatus is where a venue change request is.
type ChangeStatus string

const (
	ChangePending   ChangeStatus = "pending"
	ChangeApplied   ChangeStatus = "applied"
	ChangeRefused   ChangeStatus = "refused"
	ChangeWithdrawn ChangeStatus = "withdrawn"
)

// VenueChangeRequest is a change to a shared venue's identity or bank
// details asked by one of its départements, waiting for the others' (or an
// admin's) approval. A nil requested field is left as it is; a non-nil
// IBAN comes with its BIC (nil: none). The Previous fields are the venue's
// when it was asked.
type VenueChangeRequest struct {
	ID              int64        `gorm:"primaryKey"`
	VenueID         int64        `gorm:"not null"`
	DepartmentCode  string       `gorm:"not null"` // who asked
	Status          ChangeStatus `gorm:"not null"`
	Name            *string
	Address         *string
	IBAN            *string   `gorm:"column:iban"`
	BIC             *string   `gorm:"column:bic"`
	PreviousName    string    `gorm:"not null"`
	PreviousAddress string    `gorm:"not null"`
	PreviousIBAN    *string   `gorm:"column:previous_iban"`
	PreviousBIC     *string   `gorm:"column:previous_bic"`
	Reason          string    `gorm:"not null"`
	CreatedAt       time.Time `gorm:"not null"`
	CreatedBy       string    `gorm:"not null"`
	DecidedAt       *time.Time
	DecidedBy       *string
	DecisionReason  *string
}

func (VenueChangeRequest) TableName() string { return "venue_change_requests" }

// VenueChangeApproval is one département's approval of a change request.
type VenueChangeApproval struct {
	RequestID      int64     `gorm:"primaryKey;autoIncrement:false"`
	DepartmentCode string    `gorm:"primaryKey"`
	ApprovedAt     time.Time `gorm:"not null"`
	ApprovedBy     string    `gorm:"not null"`
}

func (VenueChangeApproval) TableName() string { return "venue_change_approvals" }

// SigningKey is the public half of an Ed25519 key; the private half lives in
// a file or the environment, never here.
type SigningKey struct {
	ID        int16             `gorm:"primaryKey;autoIncrement:false"`
	PublicKey []byte            `gorm:"not null"`
	Status    voucher.KeyStatus `gorm:"not null"`
	CreatedAt time.Time         `gorm:"not null"`
	RetiredAt *time.Time
	RevokedAt *time.Time
	// VerificationSecretFrom says which secret the key's vouchers' printed
	// verification codes are computed with: SecretFromKey or
	// SecretFromInstallation.
	VerificationSecretFrom SecretSource `gorm:"not null"`
}

func (SigningKey) TableName() string { return "signing_keys" }

// SecretSource is where a key's verification secret comes from
// (keys.Manager.VerificationSecret).
type SecretSource string

const (
	SecretFromKey          SecretSource = "key"          // derived from the key's seed: every key made since issue #12
	SecretFromInstallation SecretSource = "installation" // the installation's one secret, for keys made before
)

// Counter hands out ranges of numbers (serials, chéquier sequences).
type Counter struct {
	Name string `gorm:"primaryKey"`
	Next int64  `gorm:"not null"`
}

func (Counter) TableName() string { return "counters" }

type Batch struct {
	ID                  int64  `gorm:"primaryKey"`
	DepartmentCode      string `gorm:"not null"`
	Year                int    `gorm:"not null"`
	ChequierCount       int    `gorm:"not null"`
	VouchersPerChequier int    `gorm:"not null"`
	FaceValueCents      int64  `gorm:"not null"`
	TotalCents          int64  `gorm:"not null"`
	ValidFrom           Date   `gorm:"not null"`
	ValidUntil          Date   `gorm:"not null"`
	// ProgrammeEnd is the last day of the programme; ValidUntil, on or after
	// it, ends the grace period during which vouchers stay redeemable.
	ProgrammeEnd       Date  `gorm:"not null"`
	RequiresActivation bool  `gorm:"not null"`
	KeyID              int16 `gorm:"not null"`
	FirstChequierSeq   int64 `gorm:"not null"`
	LastChequierSeq    int64 `gorm:"not null"`
	FirstSerial        int64 `gorm:"not null"`
	LastSerial         int64 `gorm:"not null"`
	// CodesSHA256 is the SHA-256 of every code of the batch in serial order,
	// each followed by "\n": a reprint or an auditor can check the codes
	// without the database ever storing them (they are bearer instruments).
	CodesSHA256 []byte    `gorm:"column:codes_sha256;not null"`
	CreatedAt   time.Time `gorm:"not null"`
}

func (Batch) TableName() string { return "batches" }

type Chequier struct {
	ID             int64          `gorm:"primaryKey;autoIncrement:false"`
	BatchID        int64          `gorm:"not null"`
	DepartmentCode string         `gorm:"not null"`
	Year           int            `gorm:"not null"`
	Seq            int64          `gorm:"not null"`
	Number         string         `gorm:"not null"`
	Status         ChequierStatus `gorm:"not null"`
	// BeneficiaryRef is a pseudonymous reference chosen by the département,
	// never a name (design decision 9).
	BeneficiaryRef *string
	ActivatedAt    *time.Time
	VoidedAt       *time.Time
	VoidReason     *string
	// StructureID is the distribution structure (an organisation) that
	// holds the chéquier, nil for the département's own stock;
	// AllocatedAt is since when (docs/stock.md).
	StructureID *int64
	AllocatedAt *time.Time
}

func (Chequier) TableName() string { return "chequiers" }

// Voucher holds only what changes per voucher; its value, département and
// validity are its batch's.
type Voucher struct {
	Serial       int64         `gorm:"primaryKey;autoIncrement:false"`
	ChequierID   int64         `gorm:"not null"`
	BatchID      int64         `gorm:"not null"`
	Position     int16         `gorm:"not null"`
	Status       VoucherStatus `gorm:"not null"`
	RedemptionID *int64
	ReplacedBy   *int64 // the serial that took this voucher's place
	KeyID        *int16 // nil: signed by its batch's key
}

func (Voucher) TableName() string { return "vouchers" }

// Redemption is a basket of vouchers accepted together from one venue.
// ScannedAt is when the venue scanned them (earlier for an offline device),
// CreatedAt when the server accepted them.
type Redemption struct {
	ID             int64            `gorm:"primaryKey"`
	VenueID        int64            `gorm:"not null"`
	IdempotencyKey string           `gorm:"not null"`
	Status         RedemptionStatus `gorm:"not null"`
	TotalCents     int64            `gorm:"not null"`
	ScannedAt      time.Time        `gorm:"not null"`
	CreatedAt      time.Time        `gorm:"not null"`
	Session        *string          // the venue's label for the session, never a person's name
	ReversedAt     *time.Time
	ReversalReason *string
}

func (Redemption) TableName() string { return "redemptions" }

// IdempotencyKey is a venue's request key and the final answer it got.
type IdempotencyKey struct {
	VenueID       int64  `gorm:"primaryKey;autoIncrement:false"`
	Key           string `gorm:"primaryKey"`
	RequestSHA256 []byte `gorm:"column:request_sha256;not null"`
	State         string `gorm:"not null"`
	Response      *string
	// Accepted answers are kept with their redemption; refused ones are
	// purged after redemption.AnswerRetention.
	Accepted  bool      `gorm:"not null;default:false"`
	CreatedAt time.Time `gorm:"not null"`
	UpdatedAt time.Time `gorm:"not null"`
}

func (IdempotencyKey) TableName() string { return "idempotency_keys" }

// ManualEntryFailure is one wrong number or verification code typed at a venue.
type ManualEntryFailure struct {
	ID      int64     `gorm:"primaryKey"`
	VenueID int64     `gorm:"not null"`
	At      time.Time `gorm:"not null"`
}

func (ManualEntryFailure) TableName() string { return "manual_entry_failures" }

type RedemptionItem struct {
	RedemptionID  int64 `gorm:"primaryKey;autoIncrement:false"`
	VoucherSerial int64 `gorm:"primaryKey;autoIncrement:false"`
	ValueCents    int64 `gorm:"not null"`
}

func (RedemptionItem) TableName() string { return "redemption_items" }

// Event is one entry of the ledger. Seq and Hash are nil until the sealer
// chains it.
type Event struct {
	ID             int64 `gorm:"primaryKey"`
	Seq            *int64
	Hash           []byte
	Type           string `gorm:"not null"`
	Entity         string `gorm:"not null"`
	EntityID       string `gorm:"not null"`
	DepartmentCode *string
	Actor          string    `gorm:"not null"`
	Data           string    `gorm:"not null"`
	CreatedAt      time.Time `gorm:"not null"`
}

func (Event) TableName() string { return "events" }

// Checkpoint is a signed statement of the chain head at Seq.
type Checkpoint struct {
	Seq       int64     `gorm:"primaryKey;autoIncrement:false"`
	Hash      []byte    `gorm:"not null"`
	KeyID     int16     `gorm:"not null"`
	Signature []byte    `gorm:"not null"`
	CreatedAt time.Time `gorm:"not null"`
}

func (Checkpoint) TableName() string { return "checkpoints" }

// APIKey is a bearer key; only its hash is stored, its prefix is shown.
type APIKey struct {
	ID             int64  `gorm:"primaryKey"`
	Prefix         string `gorm:"not null"`
	SecretHash     []byte `gorm:"not null"`
	Role           string `gorm:"not null"`
	DepartmentCode *string
	VenueID        *int64
	Name           string    `gorm:"not null"`
	CreatedAt      time.Time `gorm:"not null"`
	RevokedAt      *time.Time
	LastUsedAt     *time.Time
	// What a venue's scanner last said of itself (apikeys.Service.Report).
	AppVersion     *string
	PendingBaskets *int
	ReportedAt     *time.Time
}

func (APIKey) TableName() string { return "api_keys" }

// Pairing is a one-time code for a venue's device; only its secret's hash
// is stored.
type Pairing struct {
	ID           int64     `gorm:"primaryKey"`
	VenueID      int64     `gorm:"not null"`
	Name         string    `gorm:"not null"`
	SecretSHA256 []byte    `gorm:"column:secret_sha256;not null"`
	CreatedAt    time.Time `gorm:"not null"`
	ExpiresAt    time.Time `gorm:"not null"`
	UsedAt       *time.Time
	APIKeyID     *int64 `gorm:"column:api_key_id"`
	CancelledAt  *time.Time
}

func (Pairing) TableName() string { return "pairings" }

// SettlementPeriod is a closed settlement period of a département, with
// its totals frozen at closing.
type SettlementPeriod struct {
	ID                    int64     `gorm:"primaryKey"`
	DepartmentCode        string    `gorm:"not null"`
	FirstDay              Date      `gorm:"not null"`
	LastDay               Date      `gorm:"not null"`
	CommissionBasisPoints int64     `gorm:"not null"`
	Venues                int       `gorm:"not null"`
	GrossCents            int64     `gorm:"not null"`
	ReversedCents         int64     `gorm:"not null"`
	AdjustmentCents       int64     `gorm:"not null"`
	CommissionCents       int64     `gorm:"not null"`
	NetCents              int64     `gorm:"not null"`
	ClosedAt              time.Time `gorm:"not null"`
	ClosedBy              string    `gorm:"not null"`
}

func (SettlementPeriod) TableName() string { return "settlement_periods" }

// SettlementStatement is what one venue is paid for a closed period.
type SettlementStatement struct {
	PeriodID        int64  `gorm:"primaryKey;autoIncrement:false"`
	VenueID         int64  `gorm:"primaryKey;autoIncrement:false"`
	Reference       string `gorm:"not null"`
	Redemptions     int    `gorm:"not null"`
	GrossCents      int64  `gorm:"not null"`
	ReversedCents   int64  `gorm:"not null"`
	AdjustmentCents int64  `gorm:"not null"`
	CommissionCents int64  `gorm:"not null"`
	NetCents        int64  `gorm:"not null"`
	// The venue as it was paid, frozen at closing: a closed month's files
	// never show what the venue became later. Nil for the name, address
	// and BIC of months closed before they were frozen (migration 00007).
	IBAN         *string `gorm:"column:iban"`
	BIC          *string `gorm:"column:bic"`
	VenueName    *string
	VenueAddress *string
}

func (SettlementStatement) TableName() string { return "settlement_statements" }

// SettlementAdjustment is a correction recorded after its period closed;
// it counts in the later, open period starting on PeriodFirstDay.
type SettlementAdjustment struct {
	ID             int64  `gorm:"primaryKey"`
	DepartmentCode string `gorm:"not null"`
	VenueID        int64  `gorm:"not null"`
	AmountCents    int64  `gorm:"not null"`
	Reason         string `gorm:"not null"`
	RedemptionID   *int64
	PeriodFirstDay Date      `gorm:"not null"`
	CreatedAt      time.Time `gorm:"not null"`
	CreatedBy      string    `gorm:"not null"`
}

func (SettlementAdjustment) TableName() string { return "settlement_adjustments" }

// Date is a calendar date column (DATE in PostgreSQL, 'YYYY-MM-DD' text in
// SQLite) holding a voucher.Day.
type Date voucher.Day

func (d Date) Day() voucher.Day { return voucher.Day(d) }

func (d Date) String() string { return voucher.Day(d).String() }

// Value writes the date as 'YYYY-MM-DD', which both dialects accept.
func (d Date) Value() (driver.Value, error) { return d.String(), nil }

// Scan reads a date as either dialect returns it.
func (d *Date) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case time.Time:
		s = v.Format(time.DateOnly)
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("cannot read a date from %T", src)
	}
	if len(s) > len(time.DateOnly) {
		s = s[:len(time.DateOnly)]
	}
	day, err := voucher.ParseDay(s)
	if err != nil {
		return err
	}
	*d = Date(day)
	return nil
}
