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
}

// createPairing makes a one-time code for a venue's device (admin).
func (s *server) createPairing(c echo.Context) error {
	var req pairingRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	p, err := s.Pairings.Create(c.Request().Context(), req.VenueID, req.Name, principal(c).Actor())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, pairingResponse{ID: p.ID, VenueID: p.VenueID, Code: p.Code, ExpiresAt: p.ExpiresAt})
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
