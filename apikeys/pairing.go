package apikeys

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"passnum"
	"passnum/access"
	"passnum/keys"
	"passnum/ledger"
	"passnum/voucher"
)

// EPairingRefused: a pairing code that is not genuine, unknown, expired or
// already used. One code for all, so that a guesser learns nothing.
const EPairingRefused = "pairing_refused"

// PairingLifetime is how long a pairing code may be used: long enough to
// walk to the venue's device, short enough that a photo of it goes stale.
const PairingLifetime = 15 * time.Minute

// Pairings creates and redeems device pairing codes.
type Pairings struct {
	Keys *Service
	Sign *keys.Manager // signs the codes with the active key
}

// Pairing is a pairing code just made.
type Pairing struct {
	ID        int64
	VenueID   int64
	Code      string // what the QR code holds (docs/voucher-format.md, type 03)
	ExpiresAt time.Time
}

// Create makes a one-time code for a device of the venue.
// Errors: invalid (name), not_found (venue), conflict (no active key).
func (p *Pairings) Create(ctx context.Context, venueID int64, name, actor string) (Pairing, error) {
	name, err := deviceName.Check(name)
	if err != nil {
		return Pairing{}, err
	}
	signer, err := p.Sign.Signer(ctx)
	if err != nil {
		return Pairing{}, err
	}
	var secret [16]byte
	rand.Read(secret[:])
	hash := sha256.Sum256(secret[:])
	var row ledger.Pairing
	err = p.Keys.DB.Tx(ctx, func(tx *ledger.Tx) error {
		// To the second: the code carries its expiry as a Unix time.
		now := tx.Now().Truncate(time.Second)
		row = ledger.Pairing{VenueID: venueID, Name: name, SecretSHA256: hash[:], CreatedAt: now, ExpiresAt: now.Add(PairingLifetime)}
		var v ledger.Venue
		if err := tx.Where("id = ?", venueID).Take(&v).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return passnum.NotFound("Le lieu %d n'existe pas.", venueID)
		} else if err != nil {
			return err
		}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return tx.Append(ledger.Record{Entity: "venue", EntityID: strconv.FormatInt(venueID, 10),
			Actor: actor, At: now, Data: ledger.PairingCreated{ID: row.ID, VenueID: venueID, Name: name, ExpiresAt: row.ExpiresAt.Format(time.RFC3339)}})
	})
	if err != nil {
		return Pairing{}, err
	}
	code, err := signer.Sign(voucher.Pairing{ID: uint64(row.ID), Secret: secret, ExpiresUnix: uint32(row.ExpiresAt.Unix())})
	if err != nil {
		return Pairing{}, err
	}
	return Pairing{ID: row.ID, VenueID: venueID, Code: code, ExpiresAt: row.ExpiresAt}, nil
}

// Paired is what a device gets for its pairing code.
type Paired struct {
	Secret string // the device's own API key, shown this once
	Key    ledger.APIKey
	Venue  ledger.Venue
}

// Redeem exchanges a pairing code, once, for a venue API key.
// Errors: pairing_refused (forbidden).
func (p *Pairings) Redeem(ctx context.Context, code string) (Paired, error) {
	refused := passnum.Errorf(passnum.KindForbidden, EPairingRefused, "Ce code d'appairage n'est pas valable, a expiré ou a déjà servi : demandez-en un nouveau.")
	ks, err := p.Keys.DB.KeySet(ctx)
	if err != nil {
		return Paired{}, err
	}
	d, err := ks.Verify(strings.TrimSpace(code))
	if err != nil {
		return Paired{}, refused
	}
	pc, ok := d.Payload.(voucher.Pairing)
	if !ok {
		return Paired{}, refused
	}
	var out Paired
	err = p.Keys.DB.Tx(ctx, func(tx *ledger.Tx) error {
		now := tx.Now()
		var row ledger.Pairing
		if err := tx.Where("id = ?", pc.ID).Take(&row).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return refused
		} else if err != nil {
			return err
		}
		hash := sha256.Sum256(pc.Secret[:])
		if subtle.ConstantTimeCompare(hash[:], row.SecretSHA256) != 1 || row.UsedAt != nil || row.CancelledAt != nil || !now.Before(row.ExpiresAt) {
			return refused
		}
		secret, k, err := p.Keys.create(tx, Spec{Role: access.RoleVenue, VenueID: row.VenueID, Name: row.Name}, "pairing:"+strconv.FormatInt(row.ID, 10), row.ID)
		if err != nil {
			return err
		}
		// Conditional: two devices racing with one code get one key, and
		// a code cancelled meanwhile (RevokeAll) none.
		r := tx.Model(&ledger.Pairing{}).Where("id = ? AND used_at IS NULL AND cancelled_at IS NULL", row.ID).
			Updates(map[string]any{"used_at": now, "api_key_id": k.ID})
		if r.Error != nil {
			return r.Error
		}
		if r.RowsAffected != 1 {
			return refused
		}
		out = Paired{Secret: secret, Key: k}
		return tx.Where("id = ?", row.VenueID).Take(&out.Venue).Error
	})
	return out, err
}
