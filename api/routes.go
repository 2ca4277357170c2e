package api

import (
	"github.com/labstack/echo/v4"

	"passnum/apikeys"
)

// routes lists every route of the API, with who may call it. openapi.yaml
// documents the same list; TestRoutesMatchDocument keeps them equal.
func (s *server) routes(e *echo.Echo) {
	venue := s.require(apikeys.RoleVenue)
	readers := s.require(apikeys.RoleVenue, apikeys.RoleAuditor, apikeys.RoleAdmin)
	admin := s.require(apikeys.RoleAdmin)
	anyone := s.require(apikeys.RoleAdmin, apikeys.RoleDepartment, apikeys.RoleVenue, apikeys.RoleAuditor)

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)

	v1 := e.Group("/api/v1")
	v1.GET("/openapi.yaml", s.openAPI)
	v1.GET("/keys", s.publicKeys) // public: offline verifiers need it

	v1.POST("/vouchers/check", s.checkVoucher, venue)

	v1.POST("/redemptions", s.redeem, venue)
	v1.GET("/redemptions", s.listRedemptions, venue)
	v1.GET("/redemptions/:id", s.getRedemption, venue)
	v1.POST("/redemptions/:id/reversal", s.reverseRedemption, venue)

	v1.GET("/revocations", s.revocations, readers)

	v1.POST("/pairings", s.createPairing, admin)
	v1.POST("/pairing", s.pair) // public: the one-time code is the credential
	v1.POST("/apikey/roll", s.rollKey, anyone)
	v1.DELETE("/apikey", s.revokeKey, anyone)
}
