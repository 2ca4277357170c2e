package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"passnum"
	"passnum/apikeys"
)

type pairingRequest struct {
	VenueID int64  `json:"venue_id"`
	Name    string `json:"name"`
}

type pairingResponse struct {
	ID        int64     `json:"id"`
	VenueID   int64     `json:"venue_id"`
	Code      string    `json:"code"` // what the QR code shown to the device holds
	ExpiresAt time.Time `json:"expires_at"`
	// QR is the code's QR symbol as rows of "0" and "1", which the pages
	// draw on the manager's screen for the device to scan.
	QR []string `json:"qr"`
}

// createPairing makes a one-time code for a device of a venue the caller
// manages (apikeys.Pairings.CreateFor says which).
func (s *server) createPairing(c echo.Context) error {
	var req pairingRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	p, err := s.Pairings.CreateFor(c.Request().Context(), principal(c), req.VenueID, req.Name)
	if err != nil {
		return err
	}
	qr, err := qrRows(p.Code, "le code d’association est trop long.")
	if err != nil {
		return err
	}
	return respond(c, http.StatusCreated, pairingResponse{ID: p.ID, VenueID: p.VenueID, Code: p.Code, ExpiresAt: p.ExpiresAt.UTC(), QR: qr})
}

type deviceJSON struct {
	Prefix         string     `json:"prefix"`
	Name           string     `json:"name"`
	PairedAt       time.Time  `json:"paired_at"`
	LastUsedAt     *time.Time `json:"last_used_at,omitempty"`
	RevokedAt      *time.Time `json:"revoked_at,omitempty"`
	AppVersion     *string    `json:"app_version,omitempty"`
	PendingBaskets *int       `json:"pending_baskets,omitempty"`
	ReportedAt     *time.Time `json:"reported_at,omitempty"`
}

type pendingPairingJSON struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// listDevices lists a venue's devices and its open pairing codes
// (GET /venues/{id}/devices).
func (s *server) listDevices(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	ds, err := s.Keys.Devices(c.Request().Context(), principal(c), id)
	if err != nil {
		return err
	}
	out := struct {
		Devices []deviceJSON         `json:"devices"`
		Pending []pendingPairingJSON `json:"pending"`
	}{Devices: []deviceJSON{}, Pending: []pendingPairingJSON{}}
	for _, d := range ds.Devices {
		out.Devices = append(out.Devices, deviceJSON{Prefix: d.Prefix, Name: d.Name, PairedAt: d.PairedAt.UTC(), LastUsedAt: utc(d.LastUsedAt), RevokedAt: utc(d.RevokedAt),
			AppVersion: d.AppVersion, PendingBaskets: d.PendingBaskets, ReportedAt: utc(d.ReportedAt)})
	}
	for _, p := range ds.Pending {
		out.Pending = append(out.Pending, pendingPairingJSON{ID: p.ID, Name: p.Name, CreatedAt: p.CreatedAt.UTC(), ExpiresAt: p.ExpiresAt.UTC()})
	}
	return respond(c, http.StatusOK, out)
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// revokeDevice unpairs one device of a venue
// (POST /venues/{id}/devices/{prefix}/revocation).
func (s *server) revokeDevice(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if err := s.Keys.RevokeDevice(c.Request().Context(), principal(c), id, c.Param("prefix")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// revokeDevices unpairs every device of a venue and cancels its open
// pairing codes, or with codes_only the codes alone
// (POST /venues/{id}/devices/revocation).
func (s *server) revokeDevices(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var req struct {
		CodesOnly bool `json:"codes_only"`
	}
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	u, err := s.Keys.RevokeAll(c.Request().Context(), principal(c), id, req.CodesOnly)
	if err != nil {
		return err
	}
	return respond(c, http.StatusOK, map[string]int{"devices": u.Devices, "pairings": u.Pairings})
}

type pairRequest struct {
	Code string `json:"code"`
}

type keyResponse struct {
	Key    string `json:"key"` // the secret, shown this once
	Prefix string `json:"prefix"`
	Role   string `json:"role"`
	Venue  *venue `json:"venue,omitempty"`
}

type venue struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// pair exchanges a pairing code for the device's own venue key. It needs no
// key: the code is the credential.
func (s *server) pair(c echo.Context) error {
	var req pairRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	// A pairing code is a credential: its failures count as failed
	// authentications of the address, after the check, like a wrong key's
	// (a code is signed and carries a 128-bit secret: nothing to guess).
	p, err := s.Pairings.Redeem(c.Request().Context(), req.Code)
	if passnum.ErrorCode(err) == apikeys.EPairingRefused {
		return s.authFailed(c, err)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, keyResponse{Key: p.Secret, Prefix: p.Key.Prefix, Role: p.Key.Role,
		Venue: &venue{ID: p.Venue.ID, Name: p.Venue.Name}})
}

// rollKey replaces the caller's key by a new one with the same role and
// scope; the old one stops working at once.
func (s *server) rollKey(c echo.Context) error {
	p := principal(c)
	secret, k, err := s.Keys.Roll(c.Request().Context(), p, p.Actor())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, keyResponse{Key: secret, Prefix: k.Prefix, Role: k.Role})
}

// revokeKey revokes the caller's own key: how a device unpairs.
func (s *server) revokeKey(c echo.Context) error {
	p := principal(c)
	if err := s.Keys.Revoke(c.Request().Context(), p.Prefix, p.Actor()); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
