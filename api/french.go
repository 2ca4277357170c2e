package api

import (
	"errors"
	"fmt"
	"time"

	"passnum"
	"passnum/ledger"
	"passnum/voucher"
)

// inFrench gives a service's error the message the API shows. The issuing,
// programme and settlement services word their messages for the command
// line, in English; the handler knows what was asked and says it in French
// through say, which returns "" for a code it has no sentence for. The
// service's error stays the cause, for the log. Errors that are not
// *passnum.Error (internal ones), and those a service already words in
// French (Error.French: the shared text check's, for one), pass through
// unchanged.
func inFrench(err error, say func(code string) string) error {
	var pe *passnum.Error
	if err == nil || !errors.As(err, &pe) || pe.French {
		return err
	}
	msg := ""
	if say != nil {
		msg = say(pe.Code)
	}
	if msg == "" {
		// Every check the API can make before calling the service is made,
		// in French; this is for the rest, with the service's own words.
		switch pe.Code {
		case passnum.EInvalid:
			msg = "Requête refusée : une valeur ne respecte pas les règles du programme (détail : %s)."
		case passnum.ENotFound:
			msg = "Élément introuvable (détail : %s)."
		case passnum.EConflict:
			msg = "La demande entre en conflit avec l'état actuel des données : relisez-les et réessayez (détail : %s)."
		default:
			msg = "Opération refusée dans l'état actuel des données (détail : %s)."
		}
		msg = fmt.Sprintf(msg, pe.Message)
	}
	return &problem{kind: pe.Kind, code: pe.Code, message: msg, cause: err, retry: pe.RetryAfter}
}

// frenchDate is the day of an instant in Europe/Paris, "" for nil.
func frenchDate(t *time.Time) string {
	if t == nil {
		return ""
	}
	return voucher.Today(*t).French()
}

// frenchStatus names a status in a sentence ("le chéquier est …").
var frenchStatus = map[string]string{
	string(ledger.VenueLabelled):   "labellisé",
	string(ledger.VenueSuspended):  "suspendu",
	string(ledger.VenueUnlabelled): "délabellisé",
	string(ledger.ChequierIssued):  "imprimé et pas encore remis",
	string(ledger.VoucherInactive): "en attente d'activation",
	string(ledger.VoucherActive):   "valable",
	string(ledger.VoucherRedeemed): "déjà utilisé",
	string(ledger.VoucherVoid):     "annulé",
}
