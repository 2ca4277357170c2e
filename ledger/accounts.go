package ledger

import "time"

// The people and organisations of issue #14 (docs/accounts.md).

// OrganisationKind is what sort of organisation a person works for.
type OrganisationKind string

const (
	OrgInstallation OrganisationKind = "installation" // the admins'
	OrgDepartment   OrganisationKind = "department"   // a funder, by its code
	OrgStructure    OrganisationKind = "structure"    // a distribution structure of a département
	OrgVenue        OrganisationKind = "venue"        // a labelled venue, by its id
	OrgAuditor      OrganisationKind = "auditor"      // an auditors' body
)

// Organisation is who a person works for. A département or a venue keeps
// its own table and has one row here, referencing it; a structure or an
// auditors' body exists only here, with its name.
type Organisation struct {
	ID             int64            `gorm:"primaryKey"`
	Kind           OrganisationKind `gorm:"not null"`
	DepartmentCode *string          // a département's, or the département a structure belongs to
	VenueID        *int64
	Name           string    `gorm:"not null"` // structures and auditors' bodies
	StructureType  string    `gorm:"not null"` // structures: ccas, mds, france_travail, association, other
	Address        string    `gorm:"not null"`
	Commune        string    `gorm:"not null"`
	CreatedAt      time.Time `gorm:"not null"`
}

func (Organisation) TableName() string { return "organisations" }

// Account is a person's login. Its id is the pseudonym the ledger names;
// the email, personal data, stays in this table (design decision 9).
type Account struct {
	ID           int64  `gorm:"primaryKey"`
	Email        string `gorm:"not null"` // lower-cased
	PasswordHash string `gorm:"not null"` // Argon2id, PHC string
	// TOTPSecret is set at enrolment and confirmed by a first code; the
	// service never returns it after enrolment.
	TOTPSecret      []byte     `gorm:"column:totp_secret"`
	TOTPConfirmedAt *time.Time `gorm:"column:totp_confirmed_at"`
	// TOTPLastStep is the last time step whose code was accepted: a code
	// is refused at or before it, so it cannot be replayed.
	TOTPLastStep *int64 `gorm:"column:totp_last_step"`
	DisabledAt   *time.Time
	CreatedAt    time.Time `gorm:"not null"`
}

func (Account) TableName() string { return "accounts" }

// LoginThrottle counts the failed logins for one email address as typed
// (its SHA-256), whether an account has it or not.
type LoginThrottle struct {
	EmailSHA256   []byte `gorm:"column:email_sha256;primaryKey"`
	Failures      int    `gorm:"not null"`
	LockedUntil   *time.Time
	LastFailureAt time.Time `gorm:"not null"`
}

func (LoginThrottle) TableName() string { return "login_throttles" }

// Membership is one role of an account in an organisation.
type Membership struct {
	AccountID      int64     `gorm:"primaryKey;autoIncrement:false"`
	OrganisationID int64     `gorm:"primaryKey;autoIncrement:false"`
	Role           string    `gorm:"primaryKey"`
	CreatedAt      time.Time `gorm:"not null"`
	CreatedBy      string    `gorm:"not null"`
}

func (Membership) TableName() string { return "memberships" }

// Invitation is a single-use link that makes an account, or gives an
// existing one a role; only its secret's SHA-256 is stored.
type Invitation struct {
	ID             int64     `gorm:"primaryKey"`
	SecretSHA256   []byte    `gorm:"column:secret_sha256;not null"`
	Email          string    `gorm:"not null"`
	OrganisationID int64     `gorm:"not null"`
	Role           string    `gorm:"not null"`
	CreatedAt      time.Time `gorm:"not null"`
	CreatedBy      string    `gorm:"not null"`
	ExpiresAt      time.Time `gorm:"not null"`
	AcceptedAt     *time.Time
	AccountID      *int64
	CancelledAt    *time.Time
}

func (Invitation) TableName() string { return "invitations" }

// PasswordReset is a single-use link that sets a new password.
type PasswordReset struct {
	ID           int64     `gorm:"primaryKey"`
	SecretSHA256 []byte    `gorm:"column:secret_sha256;not null"`
	AccountID    int64     `gorm:"not null"`
	CreatedAt    time.Time `gorm:"not null"`
	ExpiresAt    time.Time `gorm:"not null"`
	UsedAt       *time.Time
}

func (PasswordReset) TableName() string { return "password_resets" }

// AccountIdentity binds an identity at a single sign-on provider (its
// issuer and subject) to the account an invitation accepted through the
// provider named (accounts/sso.go).
type AccountIdentity struct {
	Issuer    string    `gorm:"primaryKey"`
	Subject   string    `gorm:"primaryKey"`
	AccountID int64     `gorm:"not null"`
	CreatedAt time.Time `gorm:"not null"`
}

func (AccountIdentity) TableName() string { return "account_identities" }

// SSOLogin is a login on its way through the provider, keyed by the
// SHA-256 of its browser cookie's secret.
type SSOLogin struct {
	SecretSHA256 []byte `gorm:"column:secret_sha256;primaryKey"`
	State        string `gorm:"not null"`
	Nonce        string `gorm:"not null"`
	Verifier     string `gorm:"not null"`
	InvitationID *int64
	// ClaimedAt is set by the one request that takes the provider's answer
	// to the provider.
	ClaimedAt *time.Time
	// AccountID is set once the provider proved an identity of this
	// account and its second factor is still to type.
	AccountID *int64
	CreatedAt time.Time `gorm:"not null"`
	ExpiresAt time.Time `gorm:"not null"`
}

func (SSOLogin) TableName() string { return "sso_logins" }
