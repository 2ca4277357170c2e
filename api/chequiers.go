package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"passnum"
	"passnum/issuing"
	"passnum/ledger"
	"passnum/voucher"
)

type chequierJSON struct {
	Number         string                `json:"number"`
	BatchID        int64                 `json:"batch_id"`
	Department     string                `json:"department"`
	Status         ledger.ChequierStatus `json:"status"` // issued, active or void
	BeneficiaryRef *string               `json:"beneficiary_ref,omitempty"`
	ActivatedAt    *time.Time            `json:"activated_at,omitempty"`
	VoidedAt       *time.Time            `json:"voided_at,omitempty"`
	VoidReason     *string               `json:"void_reason,omitempty"`
}

type chequierVoucher struct {
	Number     string               `json:"number"`
	Serial     int64                `json:"serial"`
	Position   int                  `json:"position"`
	Status     ledger.VoucherStatus `json:"status"`                // inactive, active, redeemed or void
	ReplacedBy string               `json:"replaced_by,omitempty"` // the number of the voucher that took its place
}

type chequierDetail struct {
	chequierJSON
	FaceValueCents     int64             `json:"face_value_cents"`
	ValidUntil         voucher.Day       `json:"valid_until"`
	RequiresActivation bool              `json:"requires_activation"`
	Vouchers           []chequierVoucher `json:"vouchers"`
}

type chequierPage struct {
	Chequiers []chequierJSON `json:"chequiers"`
	// Next is the after of the next page; absent on the last page.
	Next string `json:"next,omitempty"`
}

type activationRequest struct {
	Number         string `json:"number,omitempty"`
	Code           string `json:"code,omitempty"`
	BeneficiaryRef string `json:"beneficiary_ref,omitempty"`
	SamePerson     bool   `json:"same_person,omitempty"` // a reference used before: a second chéquier for the same person
}

// voidRequest is a body with a reason alone: a void, a refusal.
type voidRequest struct {
	Reason string `json:"reason"`
}

type voidedChequier struct {
	chequierJSON
	VoidedVouchers []string `json:"voided_vouchers"` // numbers of the vouchers that became void
}

type voidedVoucher struct {
	Number     string               `json:"number"`
	Serial     int64                `json:"serial"`
	Chequier   string               `json:"chequier"`
	Department string               `json:"department"`
	Status     ledger.VoucherStatus `json:"status"`
}

func newChequier(c ledger.Chequier) chequierJSON {
	out := chequierJSON{Number: c.Number, BatchID: c.BatchID, Department: c.DepartmentCode, Status: c.Status,
		BeneficiaryRef: c.BeneficiaryRef, VoidReason: c.VoidReason}
	if c.ActivatedAt != nil {
		t := c.ActivatedAt.UTC()
		out.ActivatedAt = &t
	}
	if c.VoidedAt != nil {
		t := c.VoidedAt.UTC()
		out.VoidedAt = &t
	}
	return out
}

// Bounds of a page of chéquiers.
const (
	defaultPage = 100
	maxPage     = 1000
)

// listChequiersHandler pages through chéquiers in number order, filtered
// by batch, status and département.
func (s *server) listChequiersHandler(c echo.Context) error {
	dept, err := departmentFilter(c)
	if err != nil {
		return err
	}
	f := issuing.ChequierFilter{Department: dept}
	limit, err := queryInt(c, "limit", defaultPage, 1, maxPage)
	if err != nil {
		return err
	}
	f.Limit = int(limit)
	if f.BatchID, err = queryInt(c, "batch", 0, 1, 1<<62); err != nil {
		return err
	}
	if f.BatchID != 0 {
		// Another département's batch is not found, as GET /batches/{id} says.
		if _, _, err := s.Issuing.Batch(c.Request().Context(), f.BatchID, ownDepartment(principal(c))); err != nil {
			return err
		}
	}
	if st, ok, err := query(c, "status"); err != nil {
		return err
	} else if ok {
		f.Status = ledger.ChequierStatus(st)
	}
	if f.After, _, err = query(c, "after"); err != nil {
		return err
	}
	cs, err := s.Issuing.Chequiers(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := chequierPage{Chequiers: make([]chequierJSON, len(cs))}
	for i, ch := range cs {
		out.Chequiers[i] = newChequier(ch)
	}
	if len(cs) == f.Limit {
		out.Next = cs[len(cs)-1].Number
	}
	return respond(c, http.StatusOK, out)
}

func (s *server) getChequier(c echo.Context) error {
	ctx := c.Request().Context()
	ch, b, err := s.Issuing.FindChequier(ctx, pathParam(c, "number"), ownDepartment(principal(c)))
	if err != nil {
		return err
	}
	vs, err := s.Issuing.ChequierVouchers(ctx, ch.ID)
	if err != nil {
		return err
	}
	out := chequierDetail{chequierJSON: newChequier(ch), FaceValueCents: b.FaceValueCents, ValidUntil: b.ValidUntil.Day(),
		RequiresActivation: b.RequiresActivation, Vouchers: make([]chequierVoucher, len(vs))}
	for i, v := range vs {
		out.Vouchers[i] = chequierVoucher{Number: voucher.FormatNumber(uint64(v.Serial)), Serial: v.Serial, Position: int(v.Position), Status: v.Status}
		if v.ReplacedBy != nil {
			out.Vouchers[i].ReplacedBy = voucher.FormatNumber(uint64(*v.ReplacedBy))
		}
	}
	return respond(c, http.StatusOK, out)
}

// activateChequier records a hand-over, by the chéquier's number or by its
// scanned activation code. Another département's chéquier is not found:
// it is looked for in the caller's scope first.
func (s *server) activateChequier(c echo.Context) error {
	var req activationRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	number := req.Number
	switch {
	case (req.Number == "") == (req.Code == ""):
		return passnum.Invalid("Donnez soit « number », le numéro du chéquier, soit « code », le QR code d'activation scanné sur sa couverture, mais pas les deux.")
	case req.Code != "":
		var err error
		if number, err = issuing.ActivationNumber(req.Code); err != nil {
			return err
		}
	}
	ctx := c.Request().Context()
	p := principal(c)
	if _, _, err := s.Issuing.FindChequier(ctx, number, ownDepartment(p)); err != nil {
		return err
	}
	var done ledger.Chequier
	var err error
	h := issuing.HandOver{Ref: req.BeneficiaryRef, Structure: p.Structure, SamePerson: req.SamePerson}
	if req.Code != "" {
		done, err = s.Issuing.ActivateCode(ctx, req.Code, h, p.Actor())
	} else {
		done, err = s.Issuing.ActivateBy(ctx, number, h, p.Actor())
	}
	if err != nil {
		return err
	}
	return respond(c, http.StatusOK, newChequier(done))
}

// voidChequier cancels a lost or stolen chéquier: its unused vouchers
// become void.
func (s *server) voidChequier(c echo.Context) error {
	var req voidRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	p := principal(c)
	ch, _, err := s.Issuing.FindChequier(ctx, pathParam(c, "number"), ownDepartment(p))
	if err != nil {
		return err
	}
	v, err := s.Issuing.Void(ctx, ch.Number, req.Reason, p.Actor())
	if err != nil {
		return err
	}
	out := voidedChequier{chequierJSON: newChequier(v.Chequier), VoidedVouchers: make([]string, len(v.Serials))}
	for i, serial := range v.Serials {
		out.VoidedVouchers[i] = voucher.FormatNumber(uint64(serial))
	}
	return respond(c, http.StatusOK, out)
}

// voidVoucher cancels one voucher (its code leaked, or it was torn out and
// lost); the rest of its chéquier stays usable.
func (s *server) voidVoucher(c echo.Context) error {
	var req voidRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	p := principal(c)
	v, err := s.Issuing.FindVoucher(ctx, pathParam(c, "number"), ownDepartment(p))
	if err != nil {
		return err
	}
	number := voucher.FormatNumber(uint64(v.Serial))
	done, err := s.Issuing.VoidVoucher(ctx, number, req.Reason, p.Actor())
	if err != nil {
		return err
	}
	return respond(c, http.StatusOK, voidedVoucher{Number: number, Serial: done.Serial, Chequier: done.Chequier,
		Department: done.Department, Status: done.Status})
}
