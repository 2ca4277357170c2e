package keys

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"gorm.io/gorm"

	"passnum"
	"passnum/ledger"
	"passnum/voucher"
)

// Error codes of the signing keys, beside the generic ones; each edge says
// in its hint table what to run (cmd/passnum/hints.go).
const (
	ENoActiveKey = "signing_key_missing"   // conflict: nothing can be signed until a key is made
	EKeyActive   = "signing_key_active"    // conflict: the active key retires when a new one replaces it
	EKeyNotFound = "signing_key_not_found" // not_found
)

// Manager changes the set of signing keys. It is safe for concurrent use.
// Its times are the database's clock (ledger.Tx.Now).
type Manager struct {
	DB    *ledger.DB
	Store Store

	secrets struct {
		sync.Mutex
		byID map[int16][]byte
	}
}

// New generates a key, saves its private half in the store, records its
// public half as the active key and retires the previous active key, which
// keeps verifying what it signed.
func (m *Manager) New(ctx context.Context, actor string) (ledger.SigningKey, error) {
	pub, priv, err := Generate()
	if err != nil {
		return ledger.SigningKey{}, err
	}
	var key ledger.SigningKey
	err = m.DB.Tx(ctx, func(tx *ledger.Tx) error {
		now := tx.Now()
		var maxID int
		if err := tx.Model(&ledger.SigningKey{}).Select("COALESCE(MAX(id), 0)").Scan(&maxID).Error; err != nil {
			return err
		}
		if maxID >= 255 {
			return passnum.Conflict("Les 255 numéros de clé de signature sont tous pris : aucune autre clé ne peut être créée.")
		}
		var active []ledger.SigningKey
		if err := tx.Where("status = ?", voucher.KeyActive).Find(&active).Error; err != nil {
			return err
		}
		for _, old := range active {
			if err := setStatus(tx, old.ID, voucher.KeyRetired, actor); err != nil {
				return err
			}
		}
		key = ledger.SigningKey{ID: int16(maxID + 1), PublicKey: pub, Status: voucher.KeyActive, CreatedAt: now,
			VerificationSecretFrom: ledger.SecretFromKey}
		if err := tx.Create(&key).Error; err != nil {
			return err
		}
		// The file is written inside the transaction so that a key is never
		// recorded without its private half; a failed commit leaves an unused
		// file that the next New refuses to overwrite, which is loud, not lossy.
		if err := m.Store.Write(byte(key.ID), priv); err != nil {
			return err
		}
		return tx.Append(ledger.Record{Entity: "key", EntityID: strconv.Itoa(int(key.ID)),
			Actor: actor, At: now, Data: ledger.KeyAdded{
				ID: key.ID, PublicKey: base64.StdEncoding.EncodeToString(pub), Status: key.Status,
				VerificationSecretFrom: key.VerificationSecretFrom}})
	})
	return key, err
}

// Retire stops a key from signing new codes; what it signed still verifies.
func (m *Manager) Retire(ctx context.Context, id int, actor string) error {
	return m.DB.Tx(ctx, func(tx *ledger.Tx) error {
		k, err := find(tx, id)
		if err != nil {
			return err
		}
		switch voucher.KeyStatus(k.Status) {
		case voucher.KeyActive:
			return passnum.Errorf(passnum.KindConflict, EKeyActive, "La clé de signature %d est la clé active : elle part à la retraite quand une nouvelle clé la remplace.", id)
		case voucher.KeyRetired:
			return passnum.Conflict("La clé de signature %d est déjà à la retraite.", id)
		case voucher.KeyRevoked:
			return passnum.Conflict("La clé de signature %d est révoquée : une clé révoquée ne part pas à la retraite.", id)
		}
		return setStatus(tx, k.ID, voucher.KeyRetired, actor)
	})
}

// Revoke marks a key as compromised: codes and checkpoints it signed no
// longer verify. Revoking the active key leaves no key to sign with until
// 'keys new'.
func (m *Manager) Revoke(ctx context.Context, id int, actor string) error {
	return m.DB.Tx(ctx, func(tx *ledger.Tx) error {
		k, err := find(tx, id)
		if err != nil {
			return err
		}
		if voucher.KeyStatus(k.Status) == voucher.KeyRevoked {
			return passnum.Conflict("La clé de signature %d est déjà révoquée.", id)
		}
		return setStatus(tx, k.ID, voucher.KeyRevoked, actor)
	})
}

// List returns every key by id.
func (m *Manager) List(ctx context.Context) ([]ledger.SigningKey, error) {
	var keys []ledger.SigningKey
	err := m.DB.Read(ctx).Order("id").Find(&keys).Error
	return keys, err
}

// Signer returns a signer for the active key, the one that signs new
// batches and checkpoints.
func (m *Manager) Signer(ctx context.Context) (*voucher.Signer, error) {
	var k ledger.SigningKey
	err := m.DB.Read(ctx).Where("status = ?", voucher.KeyActive).Take(&k).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, passnum.Errorf(passnum.KindConflict, ENoActiveKey, "Il n'y a pas de clé de signature active : rien ne peut être signé tant qu'une nouvelle clé n'est pas créée.")
	}
	if err != nil {
		return nil, fmt.Errorf("read the active signing key: %w", err)
	}
	return m.signer(k)
}

// SignerFor returns a signer for key id, active or retired, to re-create
// the codes of an older batch (deterministic Ed25519 gives the same codes).
// A revoked key signs nothing.
func (m *Manager) SignerFor(ctx context.Context, id int16) (*voucher.Signer, error) {
	k, err := m.read(ctx, id)
	if err != nil {
		return nil, err
	}
	if voucher.KeyStatus(k.Status) == voucher.KeyRevoked {
		return nil, passnum.Conflict("La clé de signature %d est révoquée : les codes qu'elle a signés ne valent plus et doivent être remplacés.", id)
	}
	return m.signer(k)
}

// VerificationSecret returns the secret behind the verification codes
// printed for the vouchers key id signed, for printing them and for
// checking them when typed: derived from the key's own seed
// (voucher.Signer.VerificationSecret) for the keys made since per-key
// secrets, or the installation's one secret (Store.Secret) for the keys
// made before, as the database records, so that their batches' codes keep
// checking. It does not judge the key's status: callers refuse a revoked
// key's vouchers first. A key's secret never changes, so it is read once.
func (m *Manager) VerificationSecret(ctx context.Context, id int16) ([]byte, error) {
	m.secrets.Lock()
	secret, ok := m.secrets.byID[id]
	m.secrets.Unlock()
	if ok {
		return secret, nil
	}
	k, err := m.read(ctx, id)
	if err != nil {
		return nil, err
	}
	switch k.VerificationSecretFrom {
	case ledger.SecretFromKey:
		s, err := m.signer(k)
		if err != nil {
			return nil, err
		}
		secret = s.VerificationSecret()
	case ledger.SecretFromInstallation:
		if secret, err = m.Store.Secret(); err != nil {
			return nil, fmt.Errorf("signing key %d prints its codes with the installation's secret: %w", id, err)
		}
	default:
		return nil, fmt.Errorf("signing key %d: unknown verification secret source %q", id, k.VerificationSecretFrom)
	}
	m.secrets.Lock()
	if m.secrets.byID == nil {
		m.secrets.byID = map[int16][]byte{}
	}
	m.secrets.byID[id] = secret
	m.secrets.Unlock()
	return secret, nil
}

// CheckSecrets loads the verification secret of every key that is not
// revoked, so that a server meets a missing file at start rather than at
// the first typed voucher.
func (m *Manager) CheckSecrets(ctx context.Context) error {
	var ids []int16
	if err := m.DB.Read(ctx).Model(&ledger.SigningKey{}).Where("status <> ?", voucher.KeyRevoked).Order("id").Pluck("id", &ids).Error; err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := m.VerificationSecret(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

func (m *Manager) read(ctx context.Context, id int16) (ledger.SigningKey, error) {
	var k ledger.SigningKey
	err := m.DB.Read(ctx).Where("id = ?", id).Take(&k).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return k, passnum.Errorf(passnum.KindNotFound, EKeyNotFound, "Il n'y a pas de clé de signature %d.", id)
	}
	if err != nil {
		return k, fmt.Errorf("read signing key %d: %w", id, err)
	}
	return k, nil
}

func (m *Manager) signer(k ledger.SigningKey) (*voucher.Signer, error) {
	priv, err := m.Store.Load(byte(k.ID))
	if err != nil {
		return nil, err
	}
	s, err := voucher.NewSigner(byte(k.ID), priv)
	if err != nil {
		return nil, err
	}
	if !s.Public().Equal(ed25519.PublicKey(k.PublicKey)) {
		return nil, fmt.Errorf("private key %d does not match the public key recorded in the database", k.ID)
	}
	return s, nil
}

func find(tx *ledger.Tx, id int) (ledger.SigningKey, error) {
	var k ledger.SigningKey
	err := tx.Where("id = ?", id).Take(&k).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return k, passnum.Errorf(passnum.KindNotFound, EKeyNotFound, "Il n'y a pas de clé de signature %d.", id)
	}
	return k, err
}

func setStatus(tx *ledger.Tx, id int16, status voucher.KeyStatus, actor string) error {
	col, typ := "retired_at", ledger.EventKeyRetired
	if status == voucher.KeyRevoked {
		col, typ = "revoked_at", ledger.EventKeyRevoked
	}
	if err := tx.Model(&ledger.SigningKey{}).Where("id = ?", id).
		Updates(map[string]any{"status": status, col: tx.Now()}).Error; err != nil {
		return err
	}
	return tx.Append(ledger.Record{Entity: "key", EntityID: strconv.Itoa(int(id)),
		Actor: actor, At: tx.Now(), Data: ledger.KeyChanged{Event: typ, ID: id}})
}
