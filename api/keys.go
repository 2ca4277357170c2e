package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"passnum/ledger"
)

type publicKey struct {
	ID        int    `json:"id"`
	PublicKey []byte `json:"public_key"` // Ed25519, standard base64
	Status    string `json:"status"`     // active, retired or revoked
	// Serials are, for a revoked key, the serial ranges of the vouchers it
	// signed, so that an offline scanner refuses a typed number as it
	// refuses a scanned code by its key id.
	Serials []ledger.SerialRange `json:"serials,omitempty"`
}

type publicKeys struct {
	Keys []publicKey `json:"keys"`
}

// publicKeys lists the signing keys. It needs no key: anyone may verify a
// voucher offline (design decision 3), and a revoked key must reach them.
func (s *server) publicKeys(c echo.Context) error {
	ctx := c.Request().Context()
	ks, err := s.DB.KeySet(ctx)
	if err != nil {
		return err
	}
	revoked, err := s.DB.RevokedSerials(ctx)
	if err != nil {
		return err
	}
	out := publicKeys{Keys: []publicKey{}}
	for _, k := range ks.Keys() {
		out.Keys = append(out.Keys, publicKey{ID: int(k.ID), PublicKey: k.Key, Status: string(k.Status), Serials: revoked[int16(k.ID)]})
	}
	// A minute of caching bounds how long a revoked key may still be trusted.
	c.Response().Header().Set("Cache-Control", "public, max-age=60")
	return respond(c, http.StatusOK, out)
}
