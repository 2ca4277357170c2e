package api

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"passnum"
	"passnum/redemption"
)

// voucherInput is one voucher as a venue sends it: the scanned code, or the
// printed number and verification code typed by hand.
type voucherInput struct {
	Code             string `json:"code,omitempty"`
	Number           string `json:"number,omitempty"`
	VerificationCode string `json:"verification_code,omitempty"`
}

func (in voucherInput) input(field string) (redemption.Input, error) {
	for _, f := range [...]struct{ name, value string }{{"code", in.Code}, {"number", in.Number}, {"verification_code", in.VerificationCode}} {
		if err := checkCode(field+f.name, f.value); err != nil {
			return redemption.Input{}, err
		}
	}
	return redemption.Input{Code: in.Code, Number: in.Number, VerificationCode: in.VerificationCode}, nil
}

// verdict is the answer on one voucher, with a French message for the
// volunteer whether it is accepted or not.
type verdict struct {
	Index      int    `json:"index"`
	Accepted   bool   `json:"accepted"`
	Reason     string `json:"reason,omitempty"`
	Message    string `json:"message"`
	ValueCents int64  `json:"value_cents"`
	Number     string `json:"number,omitempty"`
	Serial     int64  `json:"serial,omitempty"`
	Department string `json:"department,omitempty"`
	Manual     bool   `json:"manual"`
	// Only for already_redeemed. The redemption is named only when it is
	// the venue's own: another venue's redemptions are none of its business.
	RedeemedAt   *time.Time `json:"redeemed_at,omitempty"`
	ByThisVenue  *bool      `json:"by_this_venue,omitempty"`
	RedemptionID int64      `json:"redemption_id,omitempty"`
}

// newVerdict translates the service's item; okMessage is what an accepted
// voucher means where it is shown (checked, redeemed, held back).
func newVerdict(it redemption.Item, okMessage string) verdict {
	v := verdict{Index: it.Index, Accepted: it.Accepted, Reason: it.Reason, Message: it.Message,
		ValueCents: it.ValueCents, Number: it.Number, Serial: it.Serial, Department: it.Department, Manual: it.Manual}
	if it.Accepted {
		v.Message = fmt.Sprintf(okMessage, euros(it.ValueCents))
	}
	if it.Reason == redemption.ReasonAlreadyRedeemed {
		by := it.ByThisVenue
		v.ByThisVenue = &by
		if it.RedeemedAt != nil {
			at := it.RedeemedAt.UTC()
			v.RedeemedAt = &at
		}
		if by {
			v.RedemptionID = it.OtherRedemptionID
		}
	}
	return v
}

// euros writes cents the French way: 1050 -> "10,50 €".
func euros(cents int64) string {
	return strings.Replace(passnum.FormatEuros(cents), ".", ",", 1) + "\u00a0€"
}

// checkVoucher judges one voucher for the caller's venue without redeeming
// it. A refusal is a verdict, not an error: 200 either way.
func (s *server) checkVoucher(c echo.Context) error {
	var req voucherInput
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	in, err := req.input("")
	if err != nil {
		return err
	}
	it, err := s.Redemption.Check(c.Request().Context(), principal(c).VenueID, in)
	if err != nil {
		return err
	}
	return respond(c, http.StatusOK, newVerdict(it, "Chèque valable : %s."))
}
