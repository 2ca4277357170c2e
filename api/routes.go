package api

import (
	"github.com/labstack/echo/v4"

	"passnum/apikeys"
)

// routes lists every route of the API, with who may call it. openapi.yaml
// documents the same list (x-roles); TestRoutesMatchDocument keeps them
// equal. Which département or venue a key may reach within its role is
// decided in scope.go.
func (s *server) routes(e *echo.Echo) {
	venue := s.require(apikeys.RoleVenue)
	readers := s.require(apikeys.RoleVenue, apikeys.RoleAuditor, apikeys.RoleAdmin)
	admin := s.require(apikeys.RoleAdmin)
	anyone := s.require(apikeys.RoleAdmin, apikeys.RoleDepartment, apikeys.RoleVenue, apikeys.RoleAuditor)
	// managers change a département's programme; overseers read it.
	managers := s.require(apikeys.RoleAdmin, apikeys.RoleDepartment)
	overseers := s.require(apikeys.RoleAdmin, apikeys.RoleDepartment, apikeys.RoleAuditor)
	auditors := s.require(apikeys.RoleAdmin, apikeys.RoleAuditor)

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)

	v1 := e.Group("/api/v1")
	v1.GET("/openapi.yaml", s.openAPI)
	v1.GET("/keys", s.publicKeys) // public: offline verifiers need it

	v1.POST("/vouchers/check", s.checkVoucher, venue, s.limitChecks)

	v1.POST("/redemptions", s.redeem, venue, s.limitRedemptions)
	v1.GET("/redemptions", s.listRedemptions, venue)
	v1.GET("/redemptions/:id", s.getRedemption, venue)
	v1.POST("/redemptions/:id/reversal", s.reverseRedemption, venue)

	v1.GET("/revocations", s.revocations, readers)

	v1.POST("/pairings", s.createPairing, admin)
	v1.POST("/pairing", s.pair) // public: the one-time code is the credential
	v1.POST("/apikey/roll", s.rollKey, anyone)
	v1.DELETE("/apikey", s.revokeKey, anyone)

	v1.POST("/batches", s.createBatch, managers)
	v1.GET("/batches", s.listBatchesHandler, overseers)
	v1.GET("/batches/:id", s.getBatch, overseers)
	// The files hold valid voucher codes, bearer instruments: only those
	// who print and hand out chéquiers get them, never an auditor.
	v1.GET("/batches/:id/files", s.listBatchFiles, managers)
	v1.GET("/batches/:id/files/:part", s.getBatchFile, managers)
	v1.GET("/warnings", s.listWarnings, overseers)

	v1.GET("/chequiers", s.listChequiersHandler, overseers)
	v1.GET("/chequiers/:number", s.getChequier, overseers)
	v1.POST("/chequiers/activation", s.activateChequier, managers)
	v1.POST("/chequiers/:number/void", s.voidChequier, managers)
	v1.POST("/vouchers/:number/void", s.voidVoucher, managers)

	v1.POST("/venues", s.createVenue, managers)
	v1.GET("/venues", s.listVenues, overseers)
	v1.GET("/venues/:id", s.getVenue, anyone)
	v1.PATCH("/venues/:id", s.updateVenue, managers)
	v1.POST("/venues/:id/label", s.changeVenueStatus(labelVenue, true), managers)
	v1.POST("/venues/:id/suspension", s.changeVenueStatus(suspendVenue, false), managers)
	v1.POST("/venues/:id/reinstatement", s.changeVenueStatus(reinstateVenue, false), managers)
	v1.POST("/venues/:id/unlabelling", s.changeVenueStatus(unlabelVenue, false), managers)
	v1.GET("/venue-change-requests", s.listChangeRequests, overseers)
	v1.GET("/venue-change-requests/:id", s.getChangeRequest, overseers)
	v1.POST("/venue-change-requests/:id/approval", s.decideChange("approval"), managers)
	v1.POST("/venue-change-requests/:id/refusal", s.decideChange("refusal"), managers)
	v1.POST("/venue-change-requests/:id/withdrawal", s.decideChange("withdrawal"), managers)

	v1.GET("/departments", s.listDepartments, overseers)
	v1.PATCH("/departments/:code", s.updateDepartment, managers)

	v1.GET("/settlement/periods", s.listPeriods, overseers)
	v1.POST("/settlement/adjustments", s.createAdjustment, managers)
	v1.GET("/settlement/:department/:month", s.getPeriod, overseers)
	v1.POST("/settlement/:department/:month/close", s.closePeriod, managers)
	v1.GET("/settlement/:department/:month/statements.csv", s.periodCSV, overseers)
	v1.GET("/settlement/:department/:month/statements/:file", s.statementPDF, anyone)
	v1.GET("/settlement/:department/:month/sepa.xml", s.periodSEPA, overseers)
	v1.GET("/statements", s.myStatements, venue)

	v1.GET("/figures", s.getFigures, overseers)
	v1.GET("/reports/programme.pdf", s.programmeReport, overseers)
	v1.GET("/ledger/export", s.exportLedger, auditors)
	s.pageRoutes(e) // the département and auditor pages and their sessions (pages.go)
	s.scannerRoutes(e)
}
