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
	"passnum/apikeys"
	"passnum/ledger"
	"passnum/sepa"
	"passnum/settlement"
	"passnum/voucher"
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

// period reads the {department} and {month} of the path, checks the
// caller's scope, and computes the period.
func (s *server) period(c echo.Context) (settlement.Period, error) {
	dept, err := departmentCode("department", c.Param("department"))
	if err != nil {
		return settlement.Period{}, err
	}
	if p := principal(c); p.Role != apikeys.RoleVenue { // a venue reaches its own statement in any département
		if err := requireDepartment(p, dept); err != nil {
			return settlement.Period{}, err
		}
	}
	m, err := settlement.ParseMonth(c.Param("month"))
	if err != nil {
		return settlement.Period{}, err
	}
	p, err := s.Settlement.Period(c.Request().Context(), dept, m)
	return p, inFrench(err, func(code string) string {
		if code == passnum.ENotFound {
			return fmt.Sprintf("Le département %s n'existe pas dans le programme.", dept)
		}
		return ""
	})
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
	dept, err := pathDepartment(c, "department")
	if err != nil {
		return err
	}
	m, err := settlement.ParseMonth(c.Param("month"))
	if err != nil {
		return err
	}
	p, err := s.Settlement.Close(c.Request().Context(), dept, m, principal(c).Actor())
	if err != nil {
		return inFrench(err, func(code string) string {
			switch code {
			case passnum.ENotFound:
				return fmt.Sprintf("Le département %s n'existe pas dans le programme.", dept)
			case settlement.EPeriodOpen:
				from := m.Next().FirstDay().Start().Add(settlement.CloseDelay) // in Europe/Paris
				return fmt.Sprintf("Le mois %s ne peut être clos qu'à partir du %s à %s (heure de Paris), quand tous ses encaissements sont enregistrés.",
					m, voucher.Today(from).French(), from.Format("15:04"))
			case settlement.EPeriodClosed:
				return fmt.Sprintf("Le mois %s du département %s est déjà clos.", m, dept)
			case settlement.EPeriodOrder:
				return fmt.Sprintf("Un mois antérieur à %s, avec des encaissements ou des ajustements, est encore ouvert pour le département %s : clôturez les mois dans l'ordre (GET /api/v1/settlement/periods liste ceux qui sont clos).", m, dept)
			}
			return ""
		})
	}
	return respond(c, http.StatusOK, newPeriod(p, false))
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

// statementPDF renders one venue's statement of a closed month.
func (s *server) statementPDF(c echo.Context) error {
	file, ok := strings.CutSuffix(c.Param("file"), ".pdf")
	venueID, err := strconv.ParseInt(file, 10, 64)
	if !ok || err != nil || venueID <= 0 {
		return newProblem(passnum.KindNotFound, passnum.ENotFound, "Relevé introuvable : l'adresse se termine par statements/<identifiant du lieu>.pdf.")
	}
	pr := principal(c)
	noStatement := newProblem(passnum.KindNotFound, passnum.ENotFound, "Le lieu %d n'a pas de relevé pour %s dans le département %s.", venueID,
		shorten(c.Param("month"), 16), shorten(c.Param("department"), 8))
	if pr.Role == apikeys.RoleVenue && pr.VenueID != venueID {
		return noStatement
	}
	p, err := s.period(c)
	if err != nil {
		return err
	}
	if _, ok := p.VenueStatement(venueID); !ok {
		return noStatement
	}
	name, err := s.departmentName(c, p.Department)
	if err != nil {
		return err
	}
	err = settlement.WriteStatementPDF(download(c, "application/pdf", periodFile(p, fmt.Sprintf("venue-%d.pdf", venueID))), p, venueID, name)
	return inFrench(err, func(code string) string {
		if code == settlement.EPeriodOpen {
			return fmt.Sprintf("Le mois %s n'est pas encore clos : le relevé peut encore changer. Il est disponible une fois le mois clos.", p.Month)
		}
		return ""
	})
}

func (s *server) departmentName(c echo.Context, code string) (string, error) {
	ds, err := s.Programme.Departments(c.Request().Context(), code)
	if err != nil {
		return "", err
	}
	for _, d := range ds {
		if d.Code == code {
			return d.Name, nil
		}
	}
	return "", fmt.Errorf("département %s vanished", code)
}

// periodSEPA writes the SEPA credit transfer file that pays the venues of
// a closed month, as 'passnum settlement export' does.
func (s *server) periodSEPA(c echo.Context) error {
	execution := s.today().AddDays(1)
	if d, ok, err := queryDay(c, "execution"); err != nil {
		return err
	} else if ok {
		if d < s.today() {
			return passnum.Invalid("« execution » : le %s est déjà passé ; la banque exécute les virements à une date à venir.", d.French())
		}
		execution = d
	}
	p, err := s.period(c)
	if err != nil {
		return err
	}
	pay, err := settlement.Payment(p, execution)
	if err != nil {
		return inFrench(err, func(code string) string {
			switch code {
			case settlement.EPeriodOpen:
				return fmt.Sprintf("Le mois %s n'est pas encore clos : clôturez-le (POST …/close) avant de payer.", p.Month)
			case settlement.ENoPayer:
				return fmt.Sprintf("Le département %s n'a pas de payeur : donnez son nom et son IBAN avec PATCH /api/v1/departments/%s.", p.Department, p.Department)
			case passnum.ENotFound:
				return fmt.Sprintf("Rien à payer pour %s dans le département %s : aucun lieu n'a de montant positif.", p.Month, p.Department)
			case passnum.EInvalid:
				return "Un lieu à payer n'a pas d'IBAN : renseignez-le (PATCH /api/v1/venues/{id}), puis payez-le par un ajustement le mois suivant."
			}
			return ""
		})
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
	dept, err := departmentCode("department", req.Department)
	if err != nil {
		return err
	}
	p := principal(c)
	if err := requireDepartment(p, dept); err != nil {
		return err
	}
	switch {
	case req.VenueID <= 0:
		return passnum.Invalid("« venue_id » est l'identifiant du lieu, un entier positif.")
	case req.AmountCents == 0 || req.AmountCents > 100_000_00 || req.AmountCents < -100_000_00:
		return passnum.Invalid("« amount_cents » est un montant non nul d'au plus 100 000 € (10000000 centimes), positif pour payer plus, négatif pour reprendre.")
	case req.RedemptionID != nil && *req.RedemptionID <= 0:
		return passnum.Invalid("« redemption_id » est l'identifiant d'un encaissement, un entier positif.")
	}
	ctx := c.Request().Context()
	v, err := s.Programme.Venue(ctx, req.VenueID, "")
	if passnum.ErrorCode(err) == passnum.ENotFound || err == nil && !mayReachAny(p, v.Departments) {
		return newProblem(passnum.KindNotFound, passnum.ENotFound, "Le lieu %d n'existe pas ou n'est pas accessible avec cette clé.", req.VenueID)
	}
	if err != nil {
		return err
	}
	if !mayReachAny(apikeys.Principal{Role: apikeys.RoleDepartment, Department: dept}, v.Departments) {
		return passnum.Invalid("Le lieu %d n'est pas labellisé pour le département %s : un ajustement ne porte que sur un lieu du département qui paie.", v.ID, dept)
	}
	a, err := s.Settlement.Adjust(ctx, dept, v.ID, req.AmountCents, req.Reason, req.RedemptionID, p.Actor())
	if err != nil {
		return inFrench(err, func(code string) string {
			switch code {
			case passnum.ENotFound:
				return fmt.Sprintf("Le lieu %d n'a pas d'encaissement %d.", v.ID, deref64(req.RedemptionID))
			case settlement.EPeriodClosed:
				return fmt.Sprintf("Le mois en cours du département %s est déjà clos : réessayez le mois prochain.", dept)
			}
			return ""
		})
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/settlement/"+dept+"/"+settlement.MonthOf(a.PeriodFirstDay.Day()).String())
	return respond(c, http.StatusCreated, newAdjustment(a))
}

func deref64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func newAdjustment(a ledger.SettlementAdjustment) adjustmentJSON {
	return adjustmentJSON{ID: a.ID, Department: a.DepartmentCode, VenueID: a.VenueID, AmountCents: a.AmountCents, Reason: a.Reason,
		RedemptionID: a.RedemptionID, Month: settlement.MonthOf(a.PeriodFirstDay.Day()).String(), CreatedAt: a.CreatedAt.UTC(), CreatedBy: a.CreatedBy}
}

// myStatements is what the caller's venue is due for a month (by default
// the current one), every département it serves together: what the scanner
// page shows as "what you will be reimbursed". An open month may still
// change (reversals, adjustments); closed ones are final.
//
// It computes the month of each département the venue is labelled for:
// the settlement service computes whole départements, so this costs a
// département's month of redemptions per call, not the venue's.
func (s *server) myStatements(c echo.Context) error {
	m := settlement.MonthAt(s.now())
	if v, ok, err := query(c, "month"); err != nil {
		return err
	} else if ok {
		if m, err = settlement.ParseMonth(v); err != nil {
			return err
		}
	}
	ctx := c.Request().Context()
	venueID := principal(c).VenueID
	v, err := s.Programme.Venue(ctx, venueID, "")
	if err != nil {
		return err
	}
	out := venueStatements{Month: m.String(), VenueID: venueID, Statements: []venueStatement{}}
	for _, dept := range v.Departments {
		p, err := s.Settlement.Period(ctx, dept, m)
		if err != nil {
			return err
		}
		st, ok := p.VenueStatement(venueID)
		if !ok {
			continue
		}
		out.Statements = append(out.Statements, venueStatement{Department: dept, Closed: p.Closed, Reference: st.Reference,
			Redemptions: st.Redemptions, GrossCents: st.GrossCents, ReversedCents: st.ReversedCents, AdjustmentCents: st.AdjustmentCents,
			CommissionBasisPoints: p.CommissionBasisPoints, CommissionCents: st.CommissionCents, NetCents: st.NetCents,
			Lines: append([]settlement.Line{}, st.Lines...)})
		out.NetCents += st.NetCents
	}
	return respond(c, http.StatusOK, out)
}
