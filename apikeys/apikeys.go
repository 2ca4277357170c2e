// Package apikeys issues and checks the bearer keys of the HTTP API. A key
// is random, shown once, stored as a SHA-256 hash beside a visible prefix
// that names it in lists and logs; its role and scope decide what it may do.
// A key also opens the sessions of the web pages (sessions.go) and is what
// a venue's device gets for its pairing code (pairing.go).
package apikeys

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"passnum"
	"passnum/access"
	"passnum/ledger"
	"passnum/voucher"
)

// Error codes.
const (
	// EKeyNotFound: no key of that prefix.
	EKeyNotFound = "apikey_not_found"
)

// The names of keys and of paired devices say what or who uses them.
var (
	keyName    = passnum.Text{What: "Le nom de la clé", Max: 100, Required: true, Example: "logiciel de suivi du CCAS"}
	deviceName = passnum.Text{What: "Le nom de l'appareil", Max: 100, Required: true, Example: "tablette accueil", Field: "name"}
)

// Spec says what a new key may do.
type Spec struct {
	Role       string
	Department string
	VenueID    int64
	Name       string // what the key is for: "tablette accueil", "export compta"
}

// Service manages API keys. It is safe for concurrent use.
type Service struct {
	DB *ledger.DB // and its clock, for creation, expiry and last use
	// CacheTTL keeps a successful lookup in memory that long instead of
	// reading the key on every request (zero: always read). A key revoked
	// through this process stops at once; through another server process,
	// within CacheTTL.
	CacheTTL time.Duration

	cache   sync.Map // string(hash(secret)) -> cachedKey
	reports sync.Map // key id -> deviceReport, the last one written
}

type cachedKey struct {
	p  access.Principal
	at time.Time
}

// Keys look like pn_<13 chars of prefix>_<52 chars of secret>: 64 bits of
// prefix to find the row, 256 bits of secret. A fast hash is enough for a
// secret of 256 random bits; a slow one would only slow every request.
const keyPrefix = "pn_"

var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func newSecret() (prefix, secret string) {
	p := make([]byte, 8)
	s := make([]byte, 32)
	rand.Read(p)
	rand.Read(s)
	prefix = keyPrefix + b32.EncodeToString(p)
	return prefix, prefix + "_" + b32.EncodeToString(s)
}

func hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// Create makes a key and returns its secret, which is never shown again.
// Errors: invalid (role or scope), not_found (département or venue).
func (s *Service) Create(ctx context.Context, spec Spec, actor string) (string, ledger.APIKey, error) {
	var secret string
	var k ledger.APIKey
	err := s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		var err error
		secret, k, err = s.create(tx, spec, actor, 0)
		return err
	})
	if err != nil {
		return "", ledger.APIKey{}, err
	}
	return secret, k, nil
}

// create makes a key in tx; pairing names the pairing code it is exchanged
// for, if any.
func (s *Service) create(tx *ledger.Tx, spec Spec, actor string, pairing int64) (string, ledger.APIKey, error) {
	var err error
	if spec.Name, err = keyName.Check(spec.Name); err != nil {
		return "", ledger.APIKey{}, err
	}
	now := tx.Now()
	k := ledger.APIKey{Role: spec.Role, Name: spec.Name, CreatedAt: now}
	switch spec.Role {
	case access.RoleAdmin, access.RoleAuditor:
		if spec.Department != "" || spec.VenueID != 0 {
			return "", k, passnum.Invalid("Une clé d'administrateur ou d'auditeur vaut pour tout le programme : elle ne se rattache ni à un département ni à un lieu.")
		}
	case access.RoleDepartment:
		if !voucher.ValidDepartment(spec.Department) || spec.VenueID != 0 {
			return "", k, passnum.Invalid("Une clé de département se rattache à un département, par son code (par exemple 78), et à aucun lieu.")
		}
		k.DepartmentCode = &spec.Department
	case access.RoleVenue:
		if spec.VenueID <= 0 || spec.Department != "" {
			return "", k, passnum.Invalid("Une clé de lieu se rattache à un lieu, par son numéro, et à aucun département.")
		}
		k.VenueID = &spec.VenueID
	default:
		return "", k, passnum.Invalid("Le rôle « %s » n'existe pas : une clé est admin (administrateur), department (département), venue (lieu) ou auditor (auditeur).", spec.Role)
	}
	prefix, secret := newSecret()
	k.Prefix, k.SecretHash = prefix, hash(secret)
	if err := tx.Create(&k).Error; err != nil {
		if errors.Is(ledger.Translate(tx.Dialect(), err), ledger.ErrConstraint) {
			if spec.Role == access.RoleVenue {
				return "", k, passnum.NotFound("Le lieu %d n'existe pas.", spec.VenueID)
			}
			return "", k, passnum.NotFound("Le département %s n'existe pas dans le programme.", spec.Department)
		}
		return "", k, err
	}
	err = tx.Append(ledger.Record{Entity: "apikey", EntityID: k.Prefix,
		Department: spec.Department, Actor: actor, At: now, Data: ledger.APIKeyCreated{
			Prefix: k.Prefix, Role: k.Role, Department: spec.Department, VenueID: spec.VenueID, Name: k.Name, Pairing: pairing}})
	return secret, k, err
}

// List returns every key, newest first; secrets are not stored, so not shown.
func (s *Service) List(ctx context.Context) ([]ledger.APIKey, error) {
	var ks []ledger.APIKey
	err := s.DB.Read(ctx).Order("id DESC").Find(&ks).Error
	return ks, err
}

// Revoke disables a key at once. Errors: apikey_not_found (not_found),
// conflict (already revoked).
func (s *Service) Revoke(ctx context.Context, prefix, actor string) error {
	defer s.forget(prefix)
	return s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		return revoke(tx, prefix, actor)
	})
}

// forget drops a key from the cache once its revocation has run. A lookup
// that read the key just before the revocation committed may still cache
// it: for at most CacheTTL, like a revocation made by another process.
func (s *Service) forget(prefix string) {
	s.cache.Range(func(k, v any) bool {
		if v.(cachedKey).p.Prefix == prefix {
			s.cache.Delete(k)
		}
		return true
	})
}

func revoke(tx *ledger.Tx, prefix, actor string) error {
	now := tx.Now()
	var k ledger.APIKey
	err := tx.Where("prefix = ?", prefix).Take(&k).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return passnum.Errorf(passnum.KindNotFound, EKeyNotFound, "Il n'y a pas de clé d'accès %s.", prefix)
	}
	if err != nil {
		return err
	}
	r := tx.Model(&ledger.APIKey{}).Where("id = ? AND revoked_at IS NULL", k.ID).Update("revoked_at", now)
	if r.Error != nil {
		return r.Error
	}
	if r.RowsAffected != 1 {
		return passnum.Conflict("La clé d'accès %s est déjà révoquée.", prefix)
	}
	return tx.Append(ledger.Record{Entity: "apikey", EntityID: prefix,
		Actor: actor, At: now, Data: ledger.APIKeyRevoked{Prefix: prefix}})
}

// Roll replaces the principal's key by a new one with the same role and
// scope, in one transaction: the old key stops working as the new one starts.
func (s *Service) Roll(ctx context.Context, p access.Principal, actor string) (string, ledger.APIKey, error) {
	defer s.forget(p.Prefix)
	prefix, secret := newSecret()
	var k ledger.APIKey
	err := s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		now := tx.Now()
		if err := tx.Where("id = ?", p.KeyID).Take(&k).Error; err != nil {
			return err
		}
		if err := revoke(tx, k.Prefix, actor); err != nil {
			return err
		}
		k.ID, k.Prefix, k.SecretHash, k.CreatedAt, k.RevokedAt, k.LastUsedAt = 0, prefix, hash(secret), now, nil, nil
		if err := tx.Create(&k).Error; err != nil {
			return err
		}
		return tx.Append(ledger.Record{Entity: "apikey", EntityID: k.Prefix,
			Department: p.Department, Actor: actor, At: now, Data: ledger.APIKeyCreated{
				Prefix: k.Prefix, Role: k.Role, Department: p.Department, VenueID: p.VenueID, Name: k.Name, Replaces: p.Prefix}})
	})
	if err != nil {
		return "", ledger.APIKey{}, err
	}
	return secret, k, nil
}

// PrefixOf returns the public prefix a secret key names (its first part,
// as Principal.Prefix and the logs show it), whether or not the key
// exists; false when the secret is not shaped like a key at all.
func PrefixOf(secret string) (string, bool) {
	rest, ok := strings.CutPrefix(secret, keyPrefix)
	if !ok || len(secret) > 200 {
		return "", false
	}
	prefix, _, ok := strings.Cut(rest, "_")
	return keyPrefix + prefix, ok
}

// lastUsedGranularity bounds the writes Authenticate makes: last_used_at is
// refreshed at most this often per key, not on every request.
const lastUsedGranularity = time.Minute

// Authenticate returns the principal of a secret key. Every failure is the
// same unauthorized error, so that a caller learns nothing of which part
// was wrong; the comparison takes the same time whatever the secret.
func (s *Service) Authenticate(ctx context.Context, secret string) (access.Principal, error) {
	denied := passnum.Errorf(passnum.KindUnauthorized, passnum.EUnauthorized, "Clé d'accès absente, inconnue ou révoquée.")
	prefix, ok := PrefixOf(secret)
	if !ok {
		return access.Principal{}, denied
	}
	h := hash(secret)
	now := s.DB.Now()
	if s.CacheTTL > 0 {
		if c, ok := s.cache.Load(string(h)); ok && now.Sub(c.(cachedKey).at) < s.CacheTTL {
			return c.(cachedKey).p, nil
		}
	}
	// Plain SQL: this runs on every request the cache does not answer.
	var rows []ledger.APIKey
	err := s.DB.Read(ctx).Raw(`SELECT id, prefix, secret_hash, role, department_code, venue_id, name, revoked_at, last_used_at
		FROM api_keys WHERE prefix = ?`, prefix).Scan(&rows).Error
	if err != nil {
		return access.Principal{}, err
	}
	if len(rows) == 0 {
		subtle.ConstantTimeCompare(h, make([]byte, sha256.Size)) // same work as a known prefix
		return access.Principal{}, denied
	}
	k := rows[0]
	if subtle.ConstantTimeCompare(h, k.SecretHash) != 1 || k.RevokedAt != nil {
		return access.Principal{}, denied
	}
	if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) > lastUsedGranularity {
		s.DB.Read(ctx).Model(&ledger.APIKey{}).Where("id = ?", k.ID).Update("last_used_at", now)
	}
	p := access.Principal{KeyID: k.ID, Prefix: k.Prefix, Roles: []string{k.Role}, Name: k.Name}
	if k.DepartmentCode != nil {
		p.Department = *k.DepartmentCode
	}
	if k.VenueID != nil {
		p.VenueID = *k.VenueID
	}
	if s.CacheTTL > 0 {
		s.cache.Store(string(h), cachedKey{p: p, at: now})
	}
	return p, nil
}
