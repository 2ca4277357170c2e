package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"passnum"
	"passnum/signals"
	"passnum/voucher"
)

type signalJSON struct {
	Rule        string    `json:"rule"`
	Name        string    `json:"name"` // the rule in French
	VenueID     int64     `json:"venue_id"`
	VenueName   string    `json:"venue_name"`
	Evidence    string    `json:"evidence"`
	Redemptions []int64   `json:"redemptions"`
	At          time.Time `json:"at"`
}

// listSignals gives the auditors' signals of a period (GET /signals):
// from and to are Paris days, both included, by default the last 30 days;
// a département's people and key see their département's only.
func (s *server) listSignals(c echo.Context) error {
	dept, err := departmentFilter(c)
	if err != nil {
		return err
	}
	today := voucher.Today(s.now())
	first, ok, err := queryDay(c, "from")
	if err != nil {
		return err
	}
	if !ok {
		first = today.AddDays(-(signals.ReportDays - 1))
	}
	last, ok, err := queryDay(c, "to")
	if err != nil {
		return err
	}
	if !ok {
		last = today
	}
	if last < first {
		return passnum.Invalid("Le dernier jour (to) est avant le premier (from) : changez l’un des deux.")
	}
	found, err := (&signals.Service{DB: s.DB}).Find(c.Request().Context(), signals.Query{Department: dept, From: first.Start(), To: last.AddDays(1).Start()})
	if err != nil {
		return err
	}
	out := struct {
		From    string       `json:"from"`
		To      string       `json:"to"`
		Signals []signalJSON `json:"signals"`
	}{From: first.String(), To: last.String(), Signals: []signalJSON{}}
	for _, sg := range found {
		out.Signals = append(out.Signals, signalJSON{Rule: sg.Rule, Name: signals.Name(sg.Rule), VenueID: sg.VenueID, VenueName: sg.VenueName, Evidence: sg.Evidence,
			Redemptions: append([]int64{}, sg.Redemptions...), At: sg.At.UTC()})
	}
	return respond(c, http.StatusOK, out)
}
