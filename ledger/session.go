package ledger

import "time"

// WebSession is a browser's login to the département and auditor pages,
// made from an API key typed once. The browser holds a random secret in an
// HttpOnly cookie; the database holds only its SHA-256, so that a copy of
// the database logs nobody in. A session is worth no more than its key: it
// ends when the key is revoked, at its expiry, or at logout (the row is
// deleted). Sessions are not programme state, so they are not in the
// ledger; what a session changes is, with its key as the actor.
type WebSession struct {
	ID        int64     `gorm:"primaryKey"`
	TokenHash []byte    `gorm:"not null"`
	APIKeyID  int64     `gorm:"column:api_key_id;not null"`
	CreatedAt time.Time `gorm:"not null"`
	ExpiresAt time.Time `gorm:"not null"`
}

func (WebSession) TableName() string { return "web_sessions" }

// AccountSession is a browser's login with a person's account
// (accounts/sessions.go): the same cookie and stored hash as a WebSession,
// for one of the account's organisations (none until the account has the
// second factor its roles need). It ends at its expiry, at logout, when
// its owner ends it from another browser, when the account is disabled and
// when its password is reset.
type AccountSession struct {
	ID             int64     `gorm:"primaryKey"`
	TokenHash      []byte    `gorm:"not null"`
	AccountID      int64     `gorm:"not null"`
	OrganisationID *int64    // nil: none chosen yet
	UserAgent      string    `gorm:"not null"`
	CreatedAt      time.Time `gorm:"not null"`
	ExpiresAt      time.Time `gorm:"not null"`
}

func (AccountSession) TableName() string { return "account_sessions" }
