package apikeys

import (
	"context"
	"strconv"
	"time"

	"gorm.io/gorm"

	"passnum"
	"passnum/access"
	"passnum/ledger"
)

// A venue's devices are its venue keys, each made by pairing a device
// (Pairings). Who may pair, list and unpair them is one rule, mayManage:
// the venue's own manager, the départements that label the venue (a
// venue shared by two is managed by both, as both pay it), and an admin.
// A device's own key manages nothing.

// Device is a venue's key as its managers see it: never its secret.
type Device struct {
	Prefix     string
	Name       string
	PairedAt   time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
	// What its scanner last said of itself (Report), when it did.
	AppVersion     *string
	PendingBaskets *int
	ReportedAt     *time.Time
}

// PendingPairing is a pairing code made and not used yet.
type PendingPairing struct {
	ID        int64
	Name      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Devices is a venue's devices and its pairing codes still open.
type Devices struct {
	Devices []Device // newest first
	Pending []PendingPairing
}

func notYourVenue(id int64) *passnum.Error {
	return passnum.NotFound("Le lieu %d n'existe pas, ou vous n'en gérez pas les appareils.", id)
}

// mayManage is the rule: p may manage the devices of venue id. A venue
// p may not manage gets the same answer as one that does not exist. A
// département whose label was withdrawn no longer manages it; a
// suspended label still does (its devices may need unpairing).
func mayManage(q *gorm.DB, p access.Principal, id int64) error {
	if !p.May(access.Pair) {
		return passnum.Errorf(passnum.KindForbidden, passnum.EForbidden, "Vous ne pouvez pas gérer les appareils des lieux.")
	}
	if p.VenueID != 0 && p.VenueID != id {
		return notYourVenue(id)
	}
	q = q.Model(&ledger.Venue{}).Where("id = ?", id)
	if p.Department != "" {
		q = q.Where("id IN (SELECT venue_id FROM venue_departments WHERE department_code = ? AND status <> ?)", p.Department, ledger.VenueUnlabelled)
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return notYourVenue(id)
	}
	return nil
}

// CreateFor makes a pairing code for a device of venue, for p. Errors:
// those of Create, forbidden, not_found (a venue p does not manage).
func (pr *Pairings) CreateFor(ctx context.Context, p access.Principal, venue int64, name string) (Pairing, error) {
	if err := mayManage(pr.Keys.DB.Read(ctx), p, venue); err != nil {
		return Pairing{}, err
	}
	return pr.Create(ctx, venue, name, p.Actor())
}

// Devices lists the venue's devices and open pairing codes, for p.
func (s *Service) Devices(ctx context.Context, p access.Principal, venue int64) (Devices, error) {
	q := s.DB.Read(ctx)
	if err := mayManage(q, p, venue); err != nil {
		return Devices{}, err
	}
	var keys []ledger.APIKey
	if err := q.Where("venue_id = ? AND role = ?", venue, access.RoleVenue).Order("id DESC").Find(&keys).Error; err != nil {
		return Devices{}, err
	}
	var out Devices
	for _, k := range keys {
		out.Devices = append(out.Devices, Device{Prefix: k.Prefix, Name: k.Name, PairedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt,
			AppVersion: k.AppVersion, PendingBaskets: k.PendingBaskets, ReportedAt: k.ReportedAt})
	}
	var open []ledger.Pairing
	if err := q.Where("venue_id = ? AND used_at IS NULL AND cancelled_at IS NULL AND expires_at > ?", venue, s.DB.Now()).Order("id").Find(&open).Error; err != nil {
		return Devices{}, err
	}
	for _, o := range open {
		out.Pending = append(out.Pending, PendingPairing{ID: o.ID, Name: o.Name, CreatedAt: o.CreatedAt, ExpiresAt: o.ExpiresAt})
	}
	return out, nil
}

// RevokeDevice unpairs one device of the venue: its key stops working at
// once (on other servers within the key cache's lifetime). Errors:
// forbidden, not_found (a venue p does not manage, or no such device of
// it), conflict (already unpaired).
func (s *Service) RevokeDevice(ctx context.Context, p access.Principal, venue int64, prefix string) error {
	defer s.forget(prefix)
	return s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		if err := mayManage(tx.DB, p, venue); err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&ledger.APIKey{}).Where("prefix = ? AND venue_id = ? AND role = ?", prefix, venue, access.RoleVenue).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return passnum.NotFound("Le lieu %d n'a pas d'appareil %s.", venue, passnum.Shorten(prefix, 20))
		}
		return revoke(tx, prefix, p.Actor())
	})
}

// Unpaired is what RevokeAll did.
type Unpaired struct {
	Devices  int // keys revoked
	Pairings int // open codes cancelled
}

// RevokeAll unpairs every device of the venue and cancels its open
// pairing codes (a lost bag of phones, a volunteer gone with one); with
// codesOnly, it cancels the codes alone (a code shown to the wrong
// person). Errors: forbidden, not_found.
func (s *Service) RevokeAll(ctx context.Context, p access.Principal, venue int64, codesOnly bool) (Unpaired, error) {
	var out Unpaired
	var prefixes []string
	err := s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		if err := mayManage(tx.DB, p, venue); err != nil {
			return err
		}
		now := tx.Now()
		var open []ledger.Pairing
		if err := tx.Where("venue_id = ? AND used_at IS NULL AND cancelled_at IS NULL AND expires_at > ?", venue, now).Order("id").Find(&open).Error; err != nil {
			return err
		}
		cancelled := 0
		for _, o := range open {
			// Conditional, as Redeem's use of the code is: of a code used
			// and cancelled at once, one wins. A code used first has made
			// a key, which the listing below sees once that use commits
			// (this update waits for it).
			r := tx.Model(&ledger.Pairing{}).Where("id = ? AND used_at IS NULL AND cancelled_at IS NULL", o.ID).Update("cancelled_at", now)
			if r.Error != nil {
				return r.Error
			}
			if r.RowsAffected != 1 {
				continue
			}
			cancelled++
			if err := tx.Append(ledger.Record{Entity: "venue", EntityID: strconv.FormatInt(venue, 10), Actor: p.Actor(), At: now,
				Data: ledger.PairingCancelled{ID: o.ID, VenueID: venue}}); err != nil {
				return err
			}
		}
		out.Pairings = cancelled
		if codesOnly {
			return nil
		}
		if err := tx.Model(&ledger.APIKey{}).Where("venue_id = ? AND role = ? AND revoked_at IS NULL", venue, access.RoleVenue).
			Order("id").Pluck("prefix", &prefixes).Error; err != nil {
			return err
		}
		for _, prefix := range prefixes {
			if err := revoke(tx, prefix, p.Actor()); err != nil {
				return err
			}
		}
		out.Devices = len(prefixes)
		return nil
	})
	for _, prefix := range prefixes {
		s.forget(prefix)
	}
	if err != nil {
		return Unpaired{}, err
	}
	return out, nil
}

// deviceReport is what a key last reported, to write only what changed.
type deviceReport struct {
	version string
	pending int
	at      time.Time
}

// Report records what a venue's scanner says of itself (the release of
// its files, the baskets it holds offline), for its managers' list. It is
// the device's word and moves no money, so a bad value is dropped rather
// than refused, and a write happens only when something changed or a
// minute passed, not on every request. Other keys report nothing.
func (s *Service) Report(ctx context.Context, p access.Principal, version string, pending int) {
	if !p.Has(access.RoleVenue) || p.KeyID == 0 || !validVersion(version) || pending < 0 || pending > 100000 {
		return
	}
	now := s.DB.Now()
	if last, ok := s.reports.Load(p.KeyID); ok {
		l := last.(deviceReport)
		if l.version == version && l.pending == pending && now.Sub(l.at) < lastUsedGranularity {
			return
		}
	}
	err := s.DB.Read(ctx).Model(&ledger.APIKey{}).Where("id = ?", p.KeyID).
		Updates(map[string]any{"app_version": version, "pending_baskets": pending, "reported_at": now}).Error
	if err == nil {
		s.reports.Store(p.KeyID, deviceReport{version: version, pending: pending, at: now})
	}
}

// validVersion: the scanner's release is the hash in its files' URLs.
func validVersion(v string) bool {
	if v == "" || len(v) > 40 {
		return false
	}
	for _, r := range v {
		if (r < '0' || r > '9') && (r < 'a' || r > 'z') {
			return false
		}
	}
	return true
}
