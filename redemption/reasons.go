package redemption

import (
	"fmt"
	"time"
)

// Rejection reasons: stable machine codes, each with a message in French
// that a venue volunteer understands without help.
const (
	ReasonInvalidCode       = "invalid_code"
	ReasonBadSignature      = "bad_signature"
	ReasonUnknownKey        = "unknown_key"
	ReasonRevokedKey        = "revoked_key"
	ReasonUnknownVoucher    = "unknown_voucher"
	ReasonNotActivated      = "not_activated"
	ReasonAlreadyRedeemed   = "already_redeemed"
	ReasonVoided            = "voided"
	ReasonExpired           = "expired"
	ReasonNotYetValid       = "not_yet_valid"
	ReasonVenueNotLabelled  = "venue_not_labelled"
	ReasonVenueSuspended    = "venue_suspended"
	ReasonWrongDepartment   = "wrong_department"
	ReasonDuplicateInBasket = "duplicate_in_basket"
	ReasonRateLimited       = "rate_limited"
)

// Error codes of requests, beside the rejection reasons of single vouchers.
const (
	EBasketRejected      = "basket_rejected"        // at least one voucher refused: none redeemed
	EIdempotencyMismatch = "idempotency_key_reused" // same key, another request
	EInProgress          = "request_in_progress"    // same key, first request still running
	EReversalWindow      = "reversal_window_closed"
	EAlreadyReversed     = "already_reversed"
	EPeriodSettled       = "period_settled"
)

var paris = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err) // time/tzdata is linked by the voucher package
	}
	return loc
}()

// frenchTime writes "le 12/03 à 14:05" in Paris time.
func frenchTime(t time.Time) string {
	return t.In(paris).Format("le 02/01 à 15:04")
}

func frenchDay(t time.Time) string { return t.In(paris).Format("02/01/2006") }

// message returns the French text for a rejected item.
func message(it *Item) string {
	switch it.Reason {
	case ReasonInvalidCode:
		if it.Manual {
			return "Le numéro ou le code de vérification est incorrect. Vérifiez ce qui est imprimé sous le QR code."
		}
		return "Ce QR code n'est pas un chèque Pass numérique."
	case ReasonBadSignature:
		return "Ce chèque n'est pas authentique : il a été modifié ou contrefait. Ne l'acceptez pas."
	case ReasonUnknownKey:
		return "Ce chèque vient d'un autre programme ou d'une clé inconnue. Ne l'acceptez pas."
	case ReasonRevokedKey:
		return "Ce chèque a été émis avec une clé retirée pour raison de sécurité. Il doit être remplacé par le département."
	case ReasonUnknownVoucher:
		return "Ce chèque n'existe pas dans le registre. Ne l'acceptez pas."
	case ReasonNotActivated:
		return "Ce chéquier n'a pas encore été activé par le travailleur social. Il ne peut pas encore être utilisé."
	case ReasonAlreadyRedeemed:
		where := "dans une autre structure"
		if it.ByThisVenue {
			where = "dans votre structure"
		}
		if it.RedeemedAt != nil {
			return fmt.Sprintf("Ce chèque a déjà été utilisé %s %s.", frenchTime(*it.RedeemedAt), where)
		}
		return "Ce chèque a déjà été utilisé " + where + "."
	case ReasonVoided:
		return "Ce chèque a été annulé (chéquier perdu, volé ou remplacé). Ne l'acceptez pas."
	case ReasonExpired:
		return fmt.Sprintf("Ce chèque n'est plus valable depuis le %s.", it.validUntilText)
	case ReasonNotYetValid:
		return fmt.Sprintf("Ce chèque ne sera valable qu'à partir du %s.", it.validFromText)
	case ReasonVenueNotLabelled:
		return fmt.Sprintf("Votre structure n'est pas labellisée pour les chèques du département %s : elle ne peut pas les encaisser. "+
			"Rendez le chèque à la personne, et appelez le département %[1]s pour demander le label.", it.departmentText())
	case ReasonVenueSuspended:
		return fmt.Sprintf("Votre structure est suspendue pour les chèques du département %s : elle ne peut pas les encaisser pour le moment. "+
			"Rendez le chèque à la personne, et appelez le département %[1]s pour savoir pourquoi et jusqu'à quand.", it.departmentText())
	case ReasonWrongDepartment:
		return fmt.Sprintf("Ce chèque est réservé au département %s, pour lequel votre structure n'est pas labellisée.", it.Department)
	case ReasonDuplicateInBasket:
		return "Ce chèque est déjà dans le panier."
	case ReasonRateLimited:
		// judgeCounted gives the real wait (lockedMessage); this is what a
		// refusal says before it knows it.
		return "Trop de saisies incorrectes : la saisie à la main est bloquée pour le moment. Scannez le QR code du chèque."
	}
	return "Ce chèque ne peut pas être accepté."
}

// departmentText names a département as the volunteer looks it up:
// "Yvelines (78)".
func (it *Item) departmentText() string {
	if it.departmentName == "" {
		return it.Department
	}
	return fmt.Sprintf("%s (%s)", it.departmentName, it.Department)
}

// lockedMessage is the refusal of a typed entry while the venue's manual
// entry is locked for wait more, in whole minutes rounded up.
func lockedMessage(wait time.Duration) string {
	minutes := max(1, int((wait+time.Minute-1)/time.Minute))
	unit := "minutes"
	if minutes == 1 {
		unit = "minute"
	}
	return fmt.Sprintf("Trop de saisies incorrectes : la saisie à la main est bloquée. Réessayez dans %d %s, ou scannez le QR code du chèque.", minutes, unit)
}

// offlineConflictMessage is the refusal of a voucher scanned offline and
// spent elsewhere before the basket reached the server: first come, first
// paid. The volunteer already let the person in, so it says what follows
// for the venue and what to tell the person.
func offlineConflictMessage(it *Item, spentAt time.Time) string {
	return fmt.Sprintf("Ce chèque a été utilisé dans une autre structure %s, pendant que votre appareil était hors ligne : "+
		"votre structure ne sera pas remboursée pour ce chèque. Dites à la personne que ce chèque avait déjà servi ailleurs, "+
		"et demandez-lui d'appeler le département %s si ce n'est pas elle qui l'a utilisé.", frenchTime(spentAt), it.departmentText())
}
