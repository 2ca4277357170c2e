package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"passnum"
	"passnum/issuing"
)

// Stock of chéquiers not yet handed over (docs/stock.md): the rules are
// issuing's; the scope is here as everywhere: a département's people reach
// their département, a structure's agent its structure's stock alone.

type stockMoveRequest struct {
	Department string `json:"department"`
	From       int64  `json:"from"` // a structure; 0 or absent: the département's own stock
	To         int64  `json:"to"`
	Batch      int64  `json:"batch"`
	Count      int    `json:"count"`
	First      string `json:"first"`
	Last       string `json:"last"`
}

type stockMoved struct {
	Event string `json:"event"`
	Count int    `json:"count"`
	First string `json:"first"`
	Last  string `json:"last"`
}

// moveStock allocates, transfers or takes back chéquiers
// (POST /api/v1/stock/moves).
func (s *server) moveStock(c echo.Context) error {
	var req stockMoveRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	p := principal(c)
	if req.Department == "" {
		req.Department = ownDepartment(p)
	}
	code, err := passnum.DepartmentCode(req.Department)
	if err != nil {
		return err
	}
	if err := requireDepartment(p, code); err != nil {
		return err
	}
	m, err := s.Issuing.MoveStock(c.Request().Context(), issuing.Move{Department: code, From: req.From, To: req.To,
		Batch: req.Batch, Count: req.Count, First: req.First, Last: req.Last}, p.Actor())
	if err != nil {
		return err
	}
	return respond(c, http.StatusOK, stockMoved{Event: m.Event, Count: m.Count, First: m.First, Last: m.Last})
}

type holdingJSON struct {
	Structure int64      `json:"structure,omitempty"` // absent: the département's own stock
	Name      string     `json:"name,omitempty"`
	Batch     int64      `json:"batch"`
	Count     int64      `json:"count"`
	Since     *time.Time `json:"since,omitempty"`
	AgeDays   *int       `json:"age_days,omitempty"` // of the oldest chéquier a structure holds
}

// stock lists the chéquiers not yet handed over, by holder and batch
// (GET /api/v1/stock?department=): a structure's agent gets its
// structure's.
func (s *server) stock(c echo.Context) error {
	code, err := oneDepartment(c)
	if err != nil {
		return err
	}
	p := principal(c)
	hs, err := s.Issuing.Stock(c.Request().Context(), code, p.Structure)
	if err != nil {
		return err
	}
	out := make([]holdingJSON, len(hs))
	for i, h := range hs {
		out[i] = holdingJSON{Structure: h.Structure, Name: h.Name, Batch: h.Batch, Count: h.Count, Since: h.Since}
		if h.Since != nil {
			days := int(s.now().Sub(*h.Since) / (24 * time.Hour))
			out[i].AgeDays = &days
		}
	}
	return respond(c, http.StatusOK, map[string]any{"department": code, "holdings": out})
}
