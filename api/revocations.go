package api

import (
	"math"
	"net/http"

	"github.com/labstack/echo/v4"

	"passnum/redemption"
)

type revocation struct {
	Seq    int64  `json:"seq"`
	Serial int64  `json:"serial"`
	Number string `json:"number"`
	Status string `json:"status"` // redeemed, void or active
}

type revocationPage struct {
	Revocations []revocation `json:"revocations"`
	Next        int64        `json:"next"` // the since of the next call
}

const defaultRevocations = 1000

// revocations feeds offline scanners the vouchers that changed after the
// cursor since; they apply the list in order and come back with next.
func (s *server) revocations(c echo.Context) error {
	since, err := queryInt(c, "since", 0, 0, math.MaxInt64)
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", defaultRevocations, 1, redemption.MaxRevocations)
	if err != nil {
		return err
	}
	revs, next, err := s.Redemption.Revocations(c.Request().Context(), since, int(limit))
	if err != nil {
		return err
	}
	out := revocationPage{Revocations: make([]revocation, len(revs)), Next: next}
	for i, r := range revs {
		out.Revocations[i] = revocation{Seq: r.Seq, Serial: r.Serial, Number: r.Number, Status: string(r.Status)}
	}
	return respond(c, http.StatusOK, out)
}
