package api

import (
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"passnum/audit"
	"passnum/figures"
	"passnum/printing"
	"passnum/signals"
)

// exportStall is how long a ledger export may go without writing a byte
// before the connection is cut.
const exportStall = 30 * time.Second

// exportLedger streams the sealed ledger as JSON Lines (docs/ledger.md,
// "Export file"), which 'passnum audit verify --export' checks on the
// auditor's own machine without trusting the server. The export reads the
// events page by page; a large ledger takes longer than the server's write
// timeout, so the deadline moves forward as long as bytes flow. An error
// after the first bytes cuts the file before its end line, which the
// verifier reports as incomplete.
func (s *server) exportLedger(c echo.Context) error {
	w := &deadlineWriter{w: download(c, "application/x-ndjson", "passnum-ledger-"+s.today().String()+".jsonl"),
		rc: http.NewResponseController(c.Response())}
	sum, err := audit.Export(c.Request().Context(), s.DB, w)
	if err != nil && c.Response().Committed && c.Request().Context().Err() != nil {
		// The auditor hung up: their file ends without its end line, which
		// the verifier reports. Worth a trace, not an alert.
		s.logger(c).Warn("ledger export abandoned by the client", "error", err.Error())
		return nil
	}
	if err != nil {
		return err
	}
	s.logger(c).Info("ledger exported", "events", sum.Events, "checkpoints", sum.Checkpoints, "last_seq", sum.LastSeq, "unsealed", sum.Unsealed)
	return nil
}

// deadlineWriter pushes the connection's write deadline exportStall ahead
// at most once a second, on writes.
type deadlineWriter struct {
	w     io.Writer
	rc    *http.ResponseController
	moved time.Time
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	if now := time.Now(); now.Sub(d.moved) > time.Second {
		d.moved = now
		// Not every ResponseWriter supports deadlines (a test recorder
		// does not); the server's own timeout then applies.
		_ = d.rc.SetWriteDeadline(now.Add(exportStall))
	}
	return d.w.Write(p)
}

// computeFigures reads ?department= (a département key gets its own) and
// ?as_of= (default today) and computes the figures.
func (s *server) computeFigures(c echo.Context) (figures.Figures, error) {
	dept, err := departmentFilter(c)
	if err != nil {
		return figures.Figures{}, err
	}
	asOf, ok, err := queryDay(c, "as_of")
	if err != nil {
		return figures.Figures{}, err
	}
	if !ok {
		asOf = s.today()
	}
	return s.Figures.Compute(c.Request().Context(), figures.Filter{Department: dept, AsOf: asOf})
}

// getFigures answers the programme's figures per département, batch, venue
// and month. The answer is the figures package's JSON, the format of
// 'passnum report --format json' too: one published format for both.
func (s *server) getFigures(c echo.Context) error {
	f, err := s.computeFigures(c)
	if err != nil {
		return err
	}
	return respond(c, http.StatusOK, f)
}

// figuresCSV writes the figures as 'passnum report --format csv' does
// (GET /api/v1/figures.csv): per département and batch, then the funnel
// per structure, commune and month.
func (s *server) figuresCSV(c echo.Context) error {
	f, err := s.computeFigures(c)
	if err != nil {
		return err
	}
	return figures.WriteCSV(download(c, "text/csv; charset=utf-8", figuresFile(f, "figures", "csv")), f)
}

// figuresFile names a file of the figures: programme-report-78-2026-11-26.pdf.
func figuresFile(f figures.Figures, what, ext string) string {
	if f.Department != "" {
		return what + "-" + f.Department + "-" + f.AsOf + "." + ext
	}
	return what + "-" + f.AsOf + "." + ext
}

// programmeReport renders the figures as the French PDF report for
// funders, as 'passnum report --pdf' does.
func (s *server) programmeReport(c echo.Context) error {
	f, err := s.computeFigures(c)
	if err != nil {
		return err
	}
	rep := f.Report(s.now())
	if rep.Signals, err = (&signals.Service{DB: s.DB}).ForReport(c.Request().Context(), f.Department, rep.AsOf); err != nil {
		return err
	}
	return printing.RenderProgrammeReport(download(c, "application/pdf", figuresFile(f, "programme-report", "pdf")), rep)
}
