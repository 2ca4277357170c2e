package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"passnum"
	"passnum/ledger"
	"passnum/redemption"
	"passnum/voucher"
)

type redeemRequest struct {
	ScannedAt string `json:"scanned_at,omitempty"` // RFC 3339; for a basket scanned offline
	// RevocationCursor is the revocation feed's `since` the device held
	// when it scanned: the evidence that lets a scan time in the past be
	// believed (redemption.Basket).
	RevocationCursor *int64         `json:"revocation_cursor,omitempty"`
	Session          string         `json:"session,omitempty"`
	Items            []voucherInput `json:"items"`
}

// redemptionResult is the answer to a basket: accepted whole (201) or
// refused whole (422, inside the error envelope).
type redemptionResult struct {
	RedemptionID int64     `json:"redemption_id,omitempty"`
	Accepted     bool      `json:"accepted"`
	TotalCents   int64     `json:"total_cents"`
	ScannedAt    time.Time `json:"scanned_at"`
	ReceivedAt   time.Time `json:"received_at"`
	// ReversibleUntil is set when accepted: until then the venue may undo
	// the redemption (redemption.Service.ReversibleUntil).
	ReversibleUntil *time.Time `json:"reversible_until,omitempty"`
	Items           []verdict  `json:"items"`
	// Receipt is the signed proof of an accepted redemption, which the
	// venue keeps (docs/voucher-format.md, type 05).
	Receipt string `json:"receipt,omitempty"`
}

type redemptionSummary struct {
	ID              int64                   `json:"id"`
	Status          ledger.RedemptionStatus `json:"status"` // accepted or reversed
	TotalCents      int64                   `json:"total_cents"`
	ScannedAt       time.Time               `json:"scanned_at"`
	ReceivedAt      time.Time               `json:"received_at"`
	ReversibleUntil time.Time               `json:"reversible_until"`
	Session         *string                 `json:"session,omitempty"`
	ReversedAt      *time.Time              `json:"reversed_at,omitempty"`
	ReversalReason  *string                 `json:"reversal_reason,omitempty"`
}

type redemptionDetail struct {
	redemptionSummary
	Items []redeemedVoucher `json:"items"`
}

type redeemedVoucher struct {
	Number     string `json:"number"`
	Serial     int64  `json:"serial"`
	ValueCents int64  `json:"value_cents"`
}

type redemptionList struct {
	From        time.Time           `json:"from"`
	To          time.Time           `json:"to"`
	Redemptions []redemptionSummary `json:"redemptions"`
	// Truncated: the list reached its cap; ask for a narrower range.
	Truncated bool `json:"truncated"`
}

type reversalRequest struct {
	Reason string `json:"reason"`
}

// Bounds of a listing.
const (
	defaultListRange = 24 * time.Hour
	maxListRange     = 366 * 24 * time.Hour
	maxListed        = 1000
)

// redeem redeems a basket for the caller's venue, all or nothing, once per
// Idempotency-Key: a retry gets the first answer back, marked as replayed.
func (s *server) redeem(c echo.Context) error {
	key := c.Request().Header.Get("Idempotency-Key")
	if key == "" {
		return passnum.Invalid("L'en-tête Idempotency-Key est obligatoire : une valeur unique par panier (un UUID par exemple), la même si vous renvoyez le panier.")
	}
	var req redeemRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	p := principal(c)
	b := redemption.Basket{VenueID: p.VenueID, IdempotencyKey: key, Session: req.Session, Actor: p.Actor(),
		Items: make([]redemption.Input, len(req.Items)), DeviceKeyID: p.KeyID, RevocationCursor: req.RevocationCursor}
	if req.ScannedAt != "" {
		t, err := parseTime("scanned_at", req.ScannedAt)
		if err != nil {
			return err
		}
		b.ScannedAt = t
	}
	for i, it := range req.Items {
		in, err := it.input(fmt.Sprintf("items[%d].", i))
		if err != nil {
			return err
		}
		b.Items[i] = in
	}
	start := time.Now()
	res, err := s.Redemption.Redeem(c.Request().Context(), b)
	if err != nil {
		return err
	}
	s.metrics.Basket(res, req.ScannedAt != "", time.Since(start))
	out := newResult(res)
	if res.Accepted {
		until := s.Redemption.ReversibleUntil(res.ReceivedAt).UTC()
		out.ReversibleUntil = &until
	}
	if res.Replayed {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	}
	if !res.Accepted {
		return &problem{kind: passnum.KindRejected, code: redemption.EBasketRejected, message: rejectionSummary(out), result: &out}
	}
	c.Response().Header().Set(echo.HeaderLocation, fmt.Sprintf("/api/v1/redemptions/%d", res.RedemptionID))
	return respond(c, http.StatusCreated, out)
}

func newResult(res redemption.Result) redemptionResult {
	out := redemptionResult{RedemptionID: res.RedemptionID, Accepted: res.Accepted, TotalCents: res.TotalCents,
		ScannedAt: res.ScannedAt.UTC(), ReceivedAt: res.ReceivedAt.UTC(), Items: make([]verdict, len(res.Items)), Receipt: res.Receipt}
	ok := "Chèque encaissé : %s."
	if !res.Accepted {
		ok = "Chèque valable (%s), mais rien n'a été encaissé : retirez les chèques refusés et renvoyez le panier."
	}
	for i, it := range res.Items {
		out.Items[i] = newVerdict(it, ok)
	}
	return out
}

// rejectionSummary says in one sentence why nothing was redeemed; each
// refused voucher says why in its own message.
func rejectionSummary(r redemptionResult) string {
	refused := 0
	for _, it := range r.Items {
		if !it.Accepted {
			refused++
		}
	}
	switch {
	case len(r.Items) == 1:
		return "Panier refusé : ce chèque ne peut pas être accepté. Rien n'a été encaissé."
	case refused == 1:
		return fmt.Sprintf("Panier refusé : 1 chèque sur %d ne peut pas être accepté. Rien n'a été encaissé ; retirez-le et renvoyez le panier.", len(r.Items))
	}
	return fmt.Sprintf("Panier refusé : %d chèques sur %d ne peuvent pas être acceptés. Rien n'a été encaissé ; retirez-les et renvoyez le panier.", refused, len(r.Items))
}

// listRedemptions lists the caller's redemptions received in [from, to),
// by default the last 24 hours up to now included.
func (s *server) listRedemptions(c echo.Context) error {
	from, hasFrom, err := queryTime(c, "from")
	if err != nil {
		return err
	}
	to, hasTo, err := queryTime(c, "to")
	if err != nil {
		return err
	}
	if !hasTo {
		// The end is excluded: the next whole second includes what was
		// received just now, and reads better than a nanosecond.
		to = s.now().Truncate(time.Second).Add(time.Second)
	}
	if !hasFrom {
		from = to.Add(-defaultListRange)
	}
	switch {
	case !from.Before(to):
		return passnum.Invalid("« from » doit être avant « to ».")
	case to.Sub(from) > maxListRange:
		return passnum.Invalid("La période demandée dépasse 366 jours : demandez-la en plusieurs fois.")
	}
	rs, err := s.Redemption.List(c.Request().Context(), principal(c).VenueID, from, to, maxListed)
	if err != nil {
		return err
	}
	out := redemptionList{From: from.UTC(), To: to.UTC(), Redemptions: make([]redemptionSummary, len(rs)), Truncated: len(rs) >= maxListed}
	for i, r := range rs {
		out.Redemptions[i] = s.newSummary(r)
	}
	return respond(c, http.StatusOK, out)
}

func (s *server) newSummary(r ledger.Redemption) redemptionSummary {
	out := redemptionSummary{ID: r.ID, Status: r.Status, TotalCents: r.TotalCents, ScannedAt: r.ScannedAt.UTC(),
		ReceivedAt: r.CreatedAt.UTC(), ReversibleUntil: s.Redemption.ReversibleUntil(r.CreatedAt).UTC(),
		Session: r.Session, ReversalReason: r.ReversalReason}
	if r.ReversedAt != nil {
		at := r.ReversedAt.UTC()
		out.ReversedAt = &at
	}
	return out
}

// getRedemption shows one of the caller's redemptions; another venue's is
// "not found", so that its existence is not revealed either.
func (s *server) getRedemption(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r, err := s.Redemption.Get(c.Request().Context(), principal(c).VenueID, id)
	if err != nil {
		return err
	}
	out := redemptionDetail{redemptionSummary: s.newSummary(r.Redemption), Items: make([]redeemedVoucher, len(r.Items))}
	for i, it := range r.Items {
		out.Items[i] = redeemedVoucher{Number: voucher.FormatNumber(uint64(it.VoucherSerial)), Serial: it.VoucherSerial, ValueCents: it.ValueCents}
	}
	return respond(c, http.StatusOK, out)
}

// reverseRedemption undoes one of the caller's redemptions within the
// reversal window.
func (s *server) reverseRedemption(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var req reversalRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	p := principal(c)
	r, err := s.Redemption.Reverse(c.Request().Context(), p.VenueID, id, req.Reason, p.Actor())
	if err != nil {
		return err
	}
	return respond(c, http.StatusOK, s.newSummary(r))
}
