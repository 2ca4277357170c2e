package api

import (
	"net/http"
	"passnum/access"
	"strings"

	"github.com/labstack/echo/v4"
)

// routes lists every route of the API, with the permission it needs
// (package access grants them to roles). openapi.yaml documents the same
// list, and its x-roles are the roles granting that permission;
// TestRoutesMatchDocument keeps them equal. Which département or venue a
// caller may reach within its permission is decided in scope.go.
func (s *server) routes(e *echo.Echo) {
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)

	v1 := e.Group("/api/v1")
	v1.GET("/openapi.yaml", s.openAPI)
	v1.GET("/keys", s.publicKeys) // public: offline verifiers need it

	s.guard(v1, http.MethodPost, "/vouchers/check", s.checkVoucher, need(access.Redeem), s.limitChecks)

	s.guard(v1, http.MethodPost, "/redemptions", s.redeem, need(access.Redeem), s.limitRedemptions)
	s.guard(v1, http.MethodGet, "/redemptions", s.listRedemptions, need(access.Redeem))
	s.guard(v1, http.MethodGet, "/redemptions/:id", s.getRedemption, need(access.Redeem))
	s.guard(v1, http.MethodPost, "/redemptions/:id/reversal", s.reverseRedemption, need(access.Redeem))

	s.guard(v1, http.MethodGet, "/revocations", s.revocations, need(access.Revocations))

	s.guard(v1, http.MethodPost, "/pairings", s.createPairing, need(access.Pair))
	s.guard(v1, http.MethodGet, "/venues/:id/devices", s.listDevices, need(access.Pair))
	s.guard(v1, http.MethodGet, "/venues/:id/archive", s.venueArchive, need(access.Read, access.Pair))
	s.guard(v1, http.MethodPost, "/venues/:id/devices/revocation", s.revokeDevices, need(access.Pair))
	s.guard(v1, http.MethodPost, "/venues/:id/devices/:prefix/revocation", s.revokeDevice, need(access.Pair))
	v1.POST("/pairing", s.pair) // public: the one-time code is the credential
	s.guard(v1, http.MethodPost, "/apikey/roll", s.rollKey, need(access.OwnKey))
	s.guard(v1, http.MethodDelete, "/apikey", s.revokeKey, need(access.OwnKey))

	s.guard(v1, http.MethodPost, "/batches", s.createBatch, need(access.Order))
	s.guard(v1, http.MethodGet, "/batches", s.listBatchesHandler, need(access.Read))
	s.guard(v1, http.MethodGet, "/batches/:id", s.getBatch, need(access.Read))
	// The files hold valid voucher codes, bearer instruments: only those
	// who print and hand out chéquiers get them, never an auditor.
	s.guard(v1, http.MethodGet, "/batches/:id/files", s.listBatchFiles, need(access.Order))
	s.guard(v1, http.MethodGet, "/batches/:id/files/:part", s.getBatchFile, need(access.Order))
	s.guard(v1, http.MethodGet, "/warnings", s.listWarnings, need(access.Read))

	s.guard(v1, http.MethodGet, "/chequiers", s.listChequiersHandler, need(access.Read))
	s.guard(v1, http.MethodGet, "/chequiers/:number", s.getChequier, need(access.Read))
	s.guard(v1, http.MethodPost, "/chequiers/activation", s.activateChequier, need(access.HandOver))
	s.guard(v1, http.MethodGet, "/stock", s.stock, need(access.SeeStock))
	s.guard(v1, http.MethodPost, "/stock/moves", s.moveStock, need(access.ManageStock))
	s.guard(v1, http.MethodPost, "/chequiers/:number/void", s.voidChequier, need(access.Void))
	s.guard(v1, http.MethodPost, "/vouchers/:number/void", s.voidVoucher, need(access.Void))

	s.guard(v1, http.MethodPost, "/venues", s.createVenue, need(access.ManageVenues))
	s.guard(v1, http.MethodGet, "/venues", s.listVenues, need(access.Read))
	s.guard(v1, http.MethodGet, "/venues/:id", s.getVenue, need(access.Read, access.SeeVenue))
	s.guard(v1, http.MethodPatch, "/venues/:id", s.updateVenue, need(access.ManageVenues))
	s.guard(v1, http.MethodPost, "/venues/:id/label", s.changeVenueStatus(labelVenue, true), need(access.ManageVenues))
	s.guard(v1, http.MethodPost, "/venues/:id/suspension", s.changeVenueStatus(suspendVenue, false), need(access.ManageVenues))
	s.guard(v1, http.MethodPost, "/venues/:id/reinstatement", s.changeVenueStatus(reinstateVenue, false), need(access.ManageVenues))
	s.guard(v1, http.MethodPost, "/venues/:id/unlabelling", s.changeVenueStatus(unlabelVenue, false), need(access.ManageVenues))
	s.guard(v1, http.MethodGet, "/venue-change-requests", s.listChangeRequests, need(access.Read))
	s.guard(v1, http.MethodGet, "/venue-change-requests/:id", s.getChangeRequest, need(access.Read))
	s.guard(v1, http.MethodPost, "/venue-change-requests/:id/approval", s.decideChange("approval"), need(access.DecideChanges))
	s.guard(v1, http.MethodPost, "/venue-change-requests/:id/refusal", s.decideChange("refusal"), need(access.DecideChanges))
	s.guard(v1, http.MethodPost, "/venue-change-requests/:id/withdrawal", s.decideChange("withdrawal"), need(access.ManageVenues))

	s.guard(v1, http.MethodGet, "/organisations", s.listOrganisations, need(access.ManagePeople))
	s.guard(v1, http.MethodGet, "/people", s.listPeople, need(access.ManagePeople))
	s.guard(v1, http.MethodPost, "/invitations", s.invite, need(access.ManagePeople), s.limitInvitations)
	s.guard(v1, http.MethodPost, "/invitations/:id/cancellation", s.cancelInvitation, need(access.ManagePeople))
	s.guard(v1, http.MethodPost, "/accounts/:id/disable", s.disableAccount, need(access.ManagePeople))
	s.guard(v1, http.MethodPost, "/accounts/:id/role-removal", s.removeRole, need(access.ManagePeople))
	s.guard(v1, http.MethodGet, "/structures", s.listStructures, need(access.Read, access.SeeStock))
	s.guard(v1, http.MethodPost, "/structures", s.addStructure, need(access.ManagePeople))

	s.guard(v1, http.MethodGet, "/departments", s.listDepartments, need(access.Read))
	s.guard(v1, http.MethodPatch, "/departments/:code", s.updateDepartment, need(access.ManageDepartment))
	s.guard(v1, http.MethodPost, "/departments/:code/settings/confirmation", s.confirmSettings, need(access.DecideChanges))
	s.guard(v1, http.MethodPost, "/departments/:code/settings/refusal", s.refuseSettings, need(access.DecideChanges, access.ManageDepartment))

	s.guard(v1, http.MethodGet, "/settlement/periods", s.listPeriods, need(access.Read))
	s.guard(v1, http.MethodPost, "/settlement/adjustments", s.createAdjustment, need(access.Settle))
	s.guard(v1, http.MethodGet, "/settlement/:department/:month", s.getPeriod, need(access.Read))
	s.guard(v1, http.MethodPost, "/settlement/:department/:month/close", s.closePeriod, need(access.Settle))
	s.guard(v1, http.MethodPost, "/settlement/:department/:month/close/refusal", s.refuseClose, need(access.Settle))
	s.guard(v1, http.MethodGet, "/settlement/:department/:month/statements.csv", s.periodCSV, need(access.Read))
	s.guard(v1, http.MethodGet, "/settlement/:department/:month/statements/:file", s.statementFile, need(access.Read, access.VenueStatements))
	s.guard(v1, http.MethodGet, "/settlement/:department/:month/sepa.xml", s.periodSEPA, need(access.Read))
	s.guard(v1, http.MethodGet, "/statements", s.myStatements, need(access.VenueStatements))

	s.guard(v1, http.MethodGet, "/figures", s.getFigures, need(access.Read))
	s.guard(v1, http.MethodGet, "/signals", s.listSignals, need(access.Read))
	s.guard(v1, http.MethodGet, "/figures.csv", s.figuresCSV, need(access.Read))
	s.guard(v1, http.MethodGet, "/reports/programme.pdf", s.programmeReport, need(access.Read))
	s.guard(v1, http.MethodGet, "/ledger/export", s.exportLedger, need(access.ExportLedger))
	s.pageRoutes(e) // the département and auditor pages and their sessions (pages.go)
	s.scannerRoutes(e)
}

// need is the permissions of a route: any one of them admits.
func need(perms ...access.Permission) []access.Permission { return perms }

// guard adds a route behind require(perms), named after its permissions so
// that the document's x-roles can be checked against access's table
// (TestRolesMatchDocument).
func (s *server) guard(g *echo.Group, method, path string, h echo.HandlerFunc, perms []access.Permission, mw ...echo.MiddlewareFunc) {
	names := make([]string, len(perms))
	for i, p := range perms {
		names[i] = string(p)
	}
	g.Add(method, path, h, append([]echo.MiddlewareFunc{s.require(perms...)}, mw...)...).Name = "needs:" + strings.Join(names, ",")
}
