package api

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"passnum"
	"passnum/issuing"
	"passnum/ledger"
	"passnum/voucher"
)

type chequierJSON struct {
	Number         string     `json:"number"`
	BatchID        int64      `json:"batch_id"`
	Department     string     `json:"department"`
	Status         string     `json:"status"` // issued, active or void
	BeneficiaryRef *string    `json:"beneficiary_ref,omitempty"`
	ActivatedAt    *time.Time `json:"activated_at,omitempty"`
	VoidedAt       *time.Time `json:"voided_at,omitempty"`
	VoidReason     *string    `json:"void_reason,omitempty"`
}

type chequierVoucher struct {
	Number     string `json:"number"`
	Serial     int64  `json:"serial"`
	Position   int    `json:"position"`
	Status     string `json:"status"`                // inactive, active, redeemed or void
	ReplacedBy string `json:"replaced_by,omitempty"` // the number of the voucher that took its place
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
}

type voidRequest struct {
	Reason string `json:"reason"`
}

type voidedChequier struct {
	chequierJSON
	VoidedVouchers []string `json:"voided_vouchers"` // numbers of the vouchers that became void
}

type voidedVoucher struct {
	Number     string `json:"number"`
	Serial     int64  `json:"serial"`
	Chequier   string `json:"chequier"`
	Department string `json:"department"`
	Status     string `json:"status"`
}

func newChequier(c ledger.Chequier) chequierJSON {
	out := chequierJSON{Number: c.Number, BatchID: c.BatchID, Department: c.DepartmentCode, Status: string(c.Status),
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

// chequierNumber reads a chéquier number as printed and returns its
// canonical form.
func chequierNumber(field, s string) (string, error) {
	dept, year, seq, err := voucher.ParseChequierNumber(s)
	if err != nil {
		return "", passnum.Invalid("« %s » : %q n'est pas un numéro de chéquier ; il a la forme 78-2026-000042, comme sur la couverture.", field, shorten(s, 32))
	}
	return voucher.FormatChequierNumber(dept, year, seq), nil
}

var chequierStatuses = []string{string(ledger.ChequierIssued), string(ledger.ChequierActive), string(ledger.ChequierVoid)}

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
		b, _, err := s.Issuing.Batch(c.Request().Context(), f.BatchID)
		if passnum.ErrorCode(err) == passnum.ENotFound || err == nil && !mayReach(principal(c), b.DepartmentCode) {
			return newProblem(passnum.KindNotFound, passnum.ENotFound, "Le lot %d n'existe pas ou n'est pas accessible avec cette clé.", f.BatchID)
		}
		if err != nil {
			return err
		}
	}
	if st, ok, err := query(c, "status"); err != nil {
		return err
	} else if ok {
		if !slices.Contains(chequierStatuses, st) {
			return passnum.Invalid("Le paramètre « status » vaut issued (pas encore remis), active (remis) ou void (annulé).")
		}
		f.Status = st
	}
	if after, ok, err := query(c, "after"); err != nil {
		return err
	} else if ok {
		if f.After, err = chequierNumber("after", after); err != nil {
			return err
		}
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

// visibleChequier reads a chéquier by number; another département's is
// not found.
func (s *server) visibleChequier(c echo.Context, number string) (ledger.Chequier, error) {
	ch, err := s.findChequier(c.Request().Context(), number)
	if err == nil && !mayReach(principal(c), ch.DepartmentCode) {
		return ch, notFoundChequier(number)
	}
	return ch, err
}

func (s *server) getChequier(c echo.Context) error {
	number, err := chequierNumber("number", pathParam(c, "number"))
	if err != nil {
		return err
	}
	ch, err := s.visibleChequier(c, number)
	if err != nil {
		return err
	}
	b, _, err := s.Issuing.Batch(c.Request().Context(), ch.BatchID)
	if err != nil {
		return err
	}
	vs, err := s.Issuing.ChequierVouchers(c.Request().Context(), ch.ID)
	if err != nil {
		return err
	}
	out := chequierDetail{chequierJSON: newChequier(ch), FaceValueCents: b.FaceValueCents, ValidUntil: b.ValidUntil.Day(),
		RequiresActivation: b.RequiresActivation, Vouchers: make([]chequierVoucher, len(vs))}
	for i, v := range vs {
		out.Vouchers[i] = chequierVoucher{Number: voucher.FormatNumber(uint64(v.Serial)), Serial: v.Serial, Position: int(v.Position), Status: string(v.Status)}
		if v.ReplacedBy != nil {
			out.Vouchers[i].ReplacedBy = voucher.FormatNumber(uint64(*v.ReplacedBy))
		}
	}
	return respond(c, http.StatusOK, out)
}

// activateChequier records a hand-over, by the chéquier's number or by its
// scanned activation code.
func (s *server) activateChequier(c echo.Context) error {
	var req activationRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	for _, f := range [...]struct{ name, value string }{{"number", req.Number}, {"code", req.Code}} {
		if err := checkCode(f.name, f.value); err != nil {
			return err
		}
	}
	var number string
	switch {
	case (req.Number == "") == (req.Code == ""):
		return passnum.Invalid("Donnez soit « number », le numéro du chéquier, soit « code », le QR code d'activation scanné sur sa couverture, mais pas les deux.")
	case req.Number != "":
		var err error
		if number, err = chequierNumber("number", req.Number); err != nil {
			return err
		}
	default:
		// Read, not verified, to find the chéquier and check the caller's
		// scope; ActivateCode verifies the signature before it changes anything.
		d, err := voucher.Parse(strings.TrimSpace(req.Code))
		a, ok := d.Payload.(voucher.Activation)
		if err != nil || !ok {
			return passnum.Invalid("Ce code n'est pas le code d'activation d'un chéquier : scannez le QR code de la couverture, ou saisissez le numéro du chéquier.")
		}
		number = voucher.FormatChequierNumber(a.Department, a.Year, a.Seq)
	}
	ctx := c.Request().Context()
	ch, err := s.visibleChequier(c, number)
	if err != nil {
		return err
	}
	p := principal(c)
	var done ledger.Chequier
	if req.Code != "" {
		done, err = s.Issuing.ActivateCode(ctx, req.Code, req.BeneficiaryRef, p.Actor())
	} else {
		done, err = s.Issuing.Activate(ctx, number, req.BeneficiaryRef, p.Actor())
	}
	if err != nil {
		// The batch's dates, for the message; without them the service's
		// own words are given.
		b, _, berr := s.Issuing.Batch(ctx, ch.BatchID)
		t := issuing.TimelineOf(&b, s.today())
		return inFrench(err, func(code string) string {
			if berr != nil {
				return ""
			}
			switch code {
			case passnum.EInvalid:
				return "Ce code d'activation n'est pas authentique ou n'est plus valable : saisissez le numéro du chéquier imprimé sur sa couverture."
			case passnum.ENotFound:
				return fmt.Sprintf("Chéquier %s introuvable.", number)
			case issuing.EChequierVoided:
				return fmt.Sprintf("Le chéquier %s a été annulé : il ne peut pas être remis. Remettez-en un autre.", number)
			case issuing.EChequierAlreadyActive:
				return fmt.Sprintf("Le chéquier %s a déjà été remis, le %s.", number, frenchDate(ch.ActivatedAt))
			case issuing.EChequierKeyRevoked:
				return fmt.Sprintf("Le chéquier %s a été émis avec une clé retirée pour raison de sécurité : ses chèques seraient refusés. Annulez-le et remettez un chéquier d'une nouvelle commande.", number)
			case issuing.EChequierExpired:
				return fmt.Sprintf("Le chéquier %s n'est plus valable : ses chèques expiraient le %s. Remettez-en un en cours de validité.", number, t.ValidUntil.French())
			case issuing.EDistributionStopped:
				return fmt.Sprintf("La remise des chéquiers du lot %d est arrêtée depuis le %s (le programme finit le %s) : ce chéquier ne peut plus être remis.",
					b.ID, t.DistributionStop.French(), t.ProgrammeEnd.French())
			case passnum.EConflict:
				return fmt.Sprintf("Le chéquier %s a changé pendant l'opération : relisez-le et réessayez.", number)
			}
			return ""
		})
	}
	return respond(c, http.StatusOK, newChequier(done))
}

// voidChequier cancels a lost or stolen chéquier: its unused vouchers
// become void.
func (s *server) voidChequier(c echo.Context) error {
	number, err := chequierNumber("number", pathParam(c, "number"))
	if err != nil {
		return err
	}
	var req voidRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	ch, err := s.visibleChequier(c, number)
	if err != nil {
		return err
	}
	p := principal(c)
	v, err := s.Issuing.Void(c.Request().Context(), number, req.Reason, p.Actor())
	if err != nil {
		return inFrench(err, func(code string) string {
			switch code {
			case issuing.EChequierVoided:
				return fmt.Sprintf("Le chéquier %s est déjà annulé, depuis le %s.", number, frenchDate(ch.VoidedAt))
			case passnum.EConflict:
				return fmt.Sprintf("Le chéquier %s a changé pendant l'opération : relisez-le et réessayez.", number)
			}
			return ""
		})
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
	raw := pathParam(c, "number")
	serial, err := voucher.ParseNumber(raw)
	if err != nil {
		return passnum.Invalid("%q n'est pas un numéro de chèque : il a 11 chiffres, le dernier de contrôle, comme 0000 0042 178 sous le QR code.", shorten(raw, 32))
	}
	number := voucher.FormatNumber(serial)
	var req voidRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	notFound := newProblem(passnum.KindNotFound, passnum.ENotFound, "Chèque %s introuvable : vérifiez son numéro, imprimé sous le QR code.", number)
	v, err := s.Issuing.Voucher(ctx, serial)
	if passnum.ErrorCode(err) == passnum.ENotFound {
		return notFound
	}
	if err != nil {
		return err
	}
	b, _, err := s.Issuing.Batch(ctx, v.BatchID)
	if err != nil {
		return err
	}
	if !mayReach(principal(c), b.DepartmentCode) {
		return notFound
	}
	done, err := s.Issuing.VoidVoucher(ctx, number, req.Reason, principal(c).Actor())
	if err != nil {
		return inFrench(err, func(code string) string {
			switch code {
			case issuing.EVoucherNotVoidable:
				return fmt.Sprintf("Le chèque %s est %s : seul un chèque qui n'a pas servi peut être annulé. Un encaissement par erreur s'annule depuis la structure, ou par un ajustement du département.",
					number, frenchStatus[string(v.Status)])
			case passnum.EConflict:
				return fmt.Sprintf("Le chèque %s a changé pendant l'opération : relisez-le et réessayez.", number)
			}
			return ""
		})
	}
	chequier, err := s.Issuing.ChequierNumber(ctx, done.ChequierID)
	if err != nil {
		return err
	}
	return respond(c, http.StatusOK, voidedVoucher{Number: number, Serial: done.Serial, Chequier: chequier,
		Department: b.DepartmentCode, Status: string(done.Status)})
}
