package apikeys

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"time"

	"passnum"
	"passnum/access"
	"passnum/ledger"
)

// Sessions of the département and auditor pages (docs/pages.md).
//
// A person types an API key once; the server checks it and opens a session
// with a fresh random secret, which the browser keeps in a cookie (the API
// sets it): the key itself never reaches the browser's storage. The
// database keeps the secret's SHA-256 and the key the session was opened
// with (ledger.WebSession), and every lookup joins the two: revoking the
// key, ending the session or reaching the expiry ends it at once, on every
// replica.
//
// Why a table rather than a signed, stateless cookie: a signed cookie needs
// a secret shared by every replica, which passnum does not have, and it
// cannot be ended before its expiry, so a copied cookie would outlive the
// logout. A table costs one indexed read per request, which a bearer key
// costs too.

// SessionLifetime is absolute: a working day, after which the person types
// the key again. It is not extended by use.
const SessionLifetime = 8 * time.Hour

// Session is an open session of the pages.
type Session struct {
	ID        int64
	Secret    string // what the browser sends back; only its SHA-256 is stored
	ExpiresAt time.Time
	Principal access.Principal // the key's, as when it was opened
}

// OpenSession opens a session for p, the principal Authenticate found for
// the key the person typed. Expired sessions are swept here, the one place
// that adds rows. Errors: forbidden (a venue key: its devices use the
// scanner, not the pages).
func (s *Service) OpenSession(ctx context.Context, p access.Principal) (Session, error) {
	if p.Has(access.RoleVenue) {
		return Session{}, passnum.Errorf(passnum.KindForbidden, passnum.EForbidden,
			"Cette clé est celle d'un lieu : elle sert au scanner des chèques, pas à ces pages. Utilisez une clé de département ou d'auditeur.")
	}
	b := make([]byte, 32)
	rand.Read(b)
	ses := Session{Secret: base64.RawURLEncoding.EncodeToString(b), Principal: p}
	err := s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		now := tx.Now()
		if err := tx.Where("expires_at <= ?", now).Delete(&ledger.WebSession{}).Error; err != nil {
			return err
		}
		row := ledger.WebSession{TokenHash: hash(ses.Secret), APIKeyID: p.KeyID, CreatedAt: now, ExpiresAt: now.Add(SessionLifetime)}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		ses.ID, ses.ExpiresAt = row.ID, row.ExpiresAt
		return nil
	})
	if err != nil {
		return Session{}, err
	}
	return ses, nil
}

// Session returns the open session of a secret. Errors: unauthorized (no
// such session, or it expired, was ended or its key revoked); a venue key's
// session, which OpenSession never opens, counts as none.
func (s *Service) Session(ctx context.Context, secret string) (Session, error) {
	none := passnum.Errorf(passnum.KindUnauthorized, passnum.EUnauthorized, "Session absente, expirée ou fermée : reconnectez-vous avec votre clé d'accès.")
	if secret == "" {
		return Session{}, none
	}
	// Plain SQL, one query: this runs on every request of the pages.
	var rows []struct {
		ID             int64
		ExpiresAt      time.Time
		KeyID          int64
		Prefix         string
		Role           string
		DepartmentCode *string
		Name           string
	}
	err := s.DB.Read(ctx).Raw(`SELECT s.id, s.expires_at, k.id AS key_id, k.prefix, k.role, k.department_code, k.name
		FROM web_sessions s JOIN api_keys k ON k.id = s.api_key_id
		WHERE s.token_hash = ? AND k.revoked_at IS NULL`, hash(secret)).Scan(&rows).Error
	if err != nil {
		return Session{}, err
	}
	if len(rows) == 0 || !s.DB.Now().Before(rows[0].ExpiresAt) || rows[0].Role == access.RoleVenue {
		return Session{}, none
	}
	r := rows[0]
	p := access.Principal{KeyID: r.KeyID, Prefix: r.Prefix, Roles: []string{r.Role}, Name: r.Name}
	if r.DepartmentCode != nil {
		p.Department = *r.DepartmentCode
	}
	return Session{ID: r.ID, Secret: secret, ExpiresAt: r.ExpiresAt.UTC(), Principal: p}, nil
}

// EndSession ends a session at once: its row is deleted, so a copy of its
// secret is worthless. Ending one that is gone already is not an error.
func (s *Service) EndSession(ctx context.Context, ses Session) error {
	return s.DB.Read(ctx).Delete(&ledger.WebSession{}, ses.ID).Error
}
