package api

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"passnum"
	"passnum/ledger"
	"passnum/sepa"
	"passnum/settlement"
)

type periodSummary struct {
	Department            string    `json:"department"`
	Month                 string    `json:"month"`
	FirstDay              string    `json:"first_day"`
	LastDay               string    `json:"last_day"`
	Venues                int       `json:"venues"`
	CommissionBasisPoints int64     `json:"commission_basis_points"`
	GrossCents            int64     `json:"gross_cents"`
	ReversedCents         int64     `json:"reversed_cents"`
	AdjustmentCents       int64     `json:"adjustment_cents"`
	CommissionCents       int64     `json:"commission_cents"`
	NetCents              int64     `json:"net_cents"`
	ClosedAt              time.Time `json:"closed_at"`
	ClosedBy              string    `json:"closed_by"`
}

type periodList struct {
	Periods []periodSummary `json:"periods"`
}

type adjustmentRequest struct {
	Department   string `json:"department"`
	VenueID      int64  `json:"venue_id"`
	AmountCents  int64  `json:"amount_cents"`
	Reason       string `json:"reason"`
	RedemptionID *int64 `json:"redemption_id,omitempty"`
}

type adjustmentJSON struct {
	ID           int64     `json:"id"`
	Department   string    `json:"department"`
	VenueID      int64     `json:"venue_id"`
	AmountCents  int64     `json:"amount_cents"`
	Reason       string    `json:"reason"`
	RedemptionID *int64    `json:"redemption_id,omitempty"`
	Month        string    `json:"month"` // the open month it counts in
	CreatedAt    time.Time `json:"created_at"`
	CreatedBy    string    `json:"created_by"`
}

// venueStatement is one département's part of a venue's month.
type venueStatement struct {
	Department            string            `json:"department"`
	Closed                bool              `json:"closed"`
	Reference             string            `json:"reference"`
	Redemptions           int               `json:"redemptions"`
	GrossCents            int64             `json:"gross_cents"`
	ReversedCents         int64             `json:"reversed_cents"`
	AdjustmentCents       int64             `json:"adjustment_cents"`
	CommissionBasisPoints int64             `json:"commission_basis_points"`
	CommissionCents       int64             `json:"commission_cents"`
	NetCents              int64             `json:"net_cents"`
	Lines                 []settlement.Line `json:"lines"`
}

type venueStatements struct {
	Month      string           `json:"month"`
	VenueID    int64            `json:"venue_id"`
	NetCents   int64            `json:"net_cents"` // due for the month, every département together
	Statements []venueStatement `json:"statements"`
}

// newPeriod is a period as the API shows it: statement lines only when
// asked for (a month of a busy département is thousands of them).
func newPeriod(p settlement.Period, lines bool) settlement.Period {
	if !lines {
		p.Statements = slices.Clone(p.Statements)
		for i := range p.Statements {
			p.Statements[i].Lines = nil
		}
	}
	return p
}

// listPeriods lists the closed periods, newest first.
func (s *server) listPeriods(c echo.Context) error {
	dept, err := departmentFilter(c)
	if err != nil {
		return err
	}
	ps, err := s.Settlement.Periods(c.Request().Context(), dept)
	if err != nil {
		return err
	}
	out := periodList{Periods: make([]periodSummary, len(ps))}
	for i, p := range ps {
		out.Periods[i] = periodSummary{Department: p.DepartmentCode, Month: settlement.MonthOf(p.FirstDay.Day()).String(),
			FirstDay: p.FirstDay.String(), LastDay: p.LastDay.String(), Venues: p.Venues, CommissionBasisPoints: p.CommissionBasisPoints,
			GrossCents: p.GrossCents, ReversedCents: p.ReversedCents, AdjustmentCents: p.AdjustmentCents,
			CommissionCents: p.CommissionCents, NetCents: p.NetCents, ClosedAt: p.ClosedAt.UTC(), ClosedBy: p.ClosedBy}
	}
	return respond(c, http.StatusOK, out)
}

// pathMonth reads the {department} and {month} of the path and checks
// the caller's scope.
func pathMonth(c echo.Context) (string, settlement.Month, error) {
	dept, err := pathDepartment(c, "department")
	if err != nil {
		return "", settlement.Month{}, err
	}
	m, err := settlement.ParseMonth(c.Param("month"))
	return dept, m, err
}

// period computes the period of the path.
func (s *server) period(c echo.Context) (settlement.Period, error) {
	dept, m, err := pathMonth(c)
	if err != nil {
		return settlement.Period{}, err
	}
	return s.Settlement.Period(c.Request().Context(), dept, m)
}

func (s *server) getPeriod(c echo.Context) error {
	lines, err := queryBool(c, "lines")
	if err != nil {
		return err
	}
	p, err := s.period(c)
	if err != nil {
		return err
	}
	return respond(c, http.StatusOK, newPeriod(p, lines))
}

// closePeriod freezes a month: its statements are stored and recorded in
// the ledger, and no reversal touches it any more.
func (s *server) closePeriod(c echo.Context) error {
	dept, m, err := pathMonth(c)
	if err != nil {
		return err
	}
	p, err := s.Settlement.Close(c.Request().Context(), dept, m, principal(c).Actor())
	if err != nil {
		return err
	}
	if !p.Closed {
		return respond(c, http.StatusAccepted, newPeriod(p, false)) // asked: a second person closes
	}
	return respond(c, http.StatusOK, newPeriod(p, false))
}

// refuseClose drops a closing asked for
// (POST /api/v1/settlement/{department}/{month}/close/refusal).
func (s *server) refuseClose(c echo.Context) error {
	dept, m, err := pathMonth(c)
	if err != nil {
		return err
	}
	var req voidRequest // a reason
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	if err := s.Settlement.RefuseClose(c.Request().Context(), dept, m, req.Reason, principal(c).Actor()); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func periodFile(p settlement.Period, suffix string) string {
	return fmt.Sprintf("settlement-%s-%s-%s", p.Department, p.Month, suffix)
}

// periodCSV streams every line of every statement of the period.
func (s *server) periodCSV(c echo.Context) error {
	p, err := s.period(c)
	if err != nil {
		return err
	}
	return settlement.WriteCSV(download(c, "text/csv; charset=utf-8", periodFile(p, "statements.csv")), p)
}

// statementFile gives one venue's statement of a month: its PDF once the
// month is closed (…/statements/12.pdf), or its lines as CSV, open or
// closed (…/statements/12.csv), the same columns as the period's CSV.
func (s *server) statementFile(c echo.Context) error {
	file := c.Param("file")
	name, csv := strings.CutSuffix(file, ".csv")
	if !csv {
		name, _ = strings.CutSuffix(file, ".pdf")
	}
	venueID, err := strconv.ParseInt(name, 10, 64)
	if name == file || err != nil || venueID <= 0 {
		return newProblem(passnum.KindNotFound, passnum.ENotFound, "Relevé introuvable : l'adresse se termine par statements/<identifiant du lieu>.pdf ou .csv.")
	}
	pr := principal(c)
	noStatement := newProblem(passnum.KindNotFound, passnum.ENotFound, "Le lieu %d n'a pas de relevé pour %s dans le département %s.", venueID,
		passnum.Shorten(c.Param("month"), 16), passnum.Shorten(c.Param("department"), 8))
	if !mayReachVenue(pr, venueID) {
		return noStatement
	}
	p, err := s.period(c)
	if err != nil {
		return err
	}
	st, ok := p.VenueStatement(venueID)
	if !ok {
		return noStatement
	}
	if csv {
		one := p
		one.Statements = []settlement.Statement{st}
		return settlement.WriteCSV(download(c, "text/csv; charset=utf-8", periodFile(p, fmt.Sprintf("venue-%d.csv", venueID))), one)
	}
	return settlement.WriteStatementPDF(download(c, "application/pdf", periodFile(p, fmt.Sprintf("venue-%d.pdf", venueID))), p, venueID)
}

// periodSEPA writes the SEPA credit transfer file that pays the venues of
// a closed month, as 'passnum settlement export' does.
func (s *server) periodSEPA(c echo.Context) error {
	execution, _, err := queryDay(c, "execution") // 0 if absent: the service's default
	if err != nil {
		return err
	}
	p, err := s.period(c)
	if err != nil {
		return err
	}
	pay, err := s.Settlement.Payment(p, execution)
	if err != nil {
		return err
	}
	// sepa.Write checks the whole payment before writing anything.
	var buf bytes.Buffer
	if err := sepa.Write(&buf, pay); err != nil {
		return err
	}
	_, err = download(c, "application/xml", periodFile(p, "sepa.xml")).Write(buf.Bytes())
	return err
}

// createAdjustment records a correction for a venue, counted in the
// current month.
func (s *server) createAdjustment(c echo.Context) error {
	var req adjustmentRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	dept, err := passnum.DepartmentCode(req.Department)
	if err != nil {
		return err
	}
	p := principal(c)
	if err := requireDepartment(p, dept); err != nil {
		return err
	}
	ctx := c.Request().Context()
	// The service refuses a venue the paying département does not label;
	// a département key does not even learn that another's venue exists.
	if own := ownDepartment(p); own != "" {
		if _, err := s.Programme.Venue(ctx, req.VenueID, own); err != nil {
			return err
		}
	}
	a, err := s.Settlement.Adjust(ctx, dept, req.VenueID, req.AmountCents, req.Reason, req.RedemptionID, p.Actor())
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/settlement/"+dept+"/"+settlement.MonthOf(a.PeriodFirstDay.Day()).String())
	return respond(c, http.StatusCreated, newAdjustment(a))
}

func newAdjustment(a ledger.SettlementAdjustment) adjustmentJSON {
	return adjustmentJSON{ID: a.ID, Department: a.DepartmentCode, VenueID: a.VenueID, AmountCents: a.AmountCents, Reason: a.Reason,
		RedemptionID: a.RedemptionID, Month: settlement.MonthOf(a.PeriodFirstDay.Day()).String(), CreatedAt: a.CreatedAt.UTC(), CreatedBy: a.CreatedBy}
}

// myStatements is what the caller's venue is due for a month (by default
// the current one), every département it serves together: what the scanner
// page shows as "what you will be reimbursed" (settlement.VenueStatements).
func (s *server) myStatements(c echo.Context) error {
	m := settlement.MonthAt(s.now())
	if v, ok, err := query(c, "month"); err != nil {
		return err
	} else if ok {
		if m, err = settlement.ParseMonth(v); err != nil {
			return err
		}
	}
	venueID := principal(c).VenueID
	sts, err := s.Settlement.VenueStatements(c.Request().Context(), venueID, m)
	if err != nil {
		return err
	}
	out := venueStatements{Month: m.String(), VenueID: venueID, Statements: make([]venueStatement, len(sts))}
	for i, st := range sts {
		out.Statements[i] = venueStatement{Department: st.Department, Closed: st.Closed, Reference: st.Reference,
			Redemptions: st.Redemptions, GrossCents: st.GrossCents, ReversedCents: st.ReversedCents, AdjustmentCents: st.AdjustmentCents,
			CommissionBasisPoints: st.CommissionBasisPoints, CommissionCents: st.CommissionCents, NetCents: st.NetCents,
			Lines: append([]settlement.Line{}, st.Lines...)}
		out.NetCents += st.NetCents
	}
	return respond(c, http.StatusOK, out)
}
