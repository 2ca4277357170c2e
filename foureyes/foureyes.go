// Package foureyes is the rule that no money moves on one person's word
// (issue #14) for what a département decides alone: its money settings
// (paying office, commission, stopping four eyes on closing: always) and
// a month's closing (when the département turns it on). One
// person asks; the change waits, as a row of second_person_requests; a
// second person confirms it, and only then does it take effect, in the
// same transaction as the confirmation. The one who asked may not confirm
// (access.SamePerson: one account is one person in all its
// organisations); anyone who may decide may refuse, the one who asked
// included (withdrawing). The services that own each change call Ask,
// Confirm and Refuse inside their transaction, under the département's
// lock, so that two confirmations at once apply the change once.
package foureyes

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

	"passnum"
	"passnum/access"
	"passnum/ledger"
)

// Error codes, beside the generic ones.
const (
	// EAwaiting: the same request is already waiting for a second person.
	EAwaiting = "awaiting_second_person"
	// ENothingAsked: there is nothing to confirm or refuse.
	ENothingAsked = "nothing_asked"
)

// Settings is the subject of a département's money settings: its paying
// office, its commission, stopping four eyes on closing.
const Settings = "settings"

// Close is the subject of closing month ("2026-11").
func Close(month string) string { return "close:" + month }

// Request is a request waiting for a second person.
type Request struct {
	Department  string
	Subject     string
	Data        json.RawMessage
	RequestedBy string
	RequestedAt time.Time
}

// What names a subject in French, for messages.
func What(subject string) string {
	if subject == Settings {
		return "le changement des réglages d’argent (payeur, commission, double validation)"
	}
	if month, ok := strings.CutPrefix(subject, "close:"); ok {
		return "la clôture de " + month
	}
	return subject
}

// Find returns the request waiting on subject, if any.
func Find(db *gorm.DB, department, subject string) (*Request, error) {
	var rows []ledger.SecondPersonRequest
	if err := db.Where("department_code = ? AND subject = ?", department, subject).Limit(1).Find(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return request(rows[0]), nil
}

// Waiting lists a département's requests, oldest first.
func Waiting(db *gorm.DB, department string) ([]Request, error) {
	var rows []ledger.SecondPersonRequest
	if err := db.Where("department_code = ?", department).Order("requested_at, subject").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]Request, len(rows))
	for i, r := range rows {
		out[i] = *request(r)
	}
	return out, nil
}

func request(r ledger.SecondPersonRequest) *Request {
	return &Request{Department: r.DepartmentCode, Subject: r.Subject, Data: json.RawMessage(r.Data), RequestedBy: r.RequestedBy, RequestedAt: r.RequestedAt}
}

// Ask records that actor asks for subject with data. Errors:
// awaiting_second_person (one is waiting already: confirm or refuse it
// first).
func Ask(tx *ledger.Tx, department, subject string, data any, actor string) (Request, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return Request{}, err
	}
	now := tx.Now()
	row := ledger.SecondPersonRequest{DepartmentCode: department, Subject: subject, Data: string(raw), RequestedBy: actor, RequestedAt: now}
	err = ledger.Translate(tx.Dialect(), tx.Create(&row).Error)
	if errors.Is(err, ledger.ErrDuplicate) {
		return Request{}, passnum.Errorf(passnum.KindConflict, EAwaiting,
			"Une demande attend déjà la confirmation d’une deuxième personne pour %s du département %s : faites-la confirmer ou refuser avant d’en faire une autre.",
			What(subject), department)
	}
	if err != nil {
		return Request{}, err
	}
	return *request(row), tx.Append(ledger.Record{Entity: "department", EntityID: department, Department: department, Actor: actor, At: now,
		Data: ledger.SecondPersonStep{Event: ledger.EventSecondPersonAsked, Department: department, Subject: subject, Data: raw}})
}

// Confirm takes the request waiting on subject for actor, a second
// person, and returns it: the caller applies what it asked, in the same
// transaction. Errors: nothing_asked, forbidden (actor asked it).
func Confirm(tx *ledger.Tx, department, subject, actor string) (Request, error) {
	r, err := take(tx, department, subject, func(r *Request) error {
		if access.SamePerson(actor, r.RequestedBy) {
			return passnum.Errorf(passnum.KindForbidden, passnum.EForbidden,
				"Vous avez demandé %s : une autre personne doit confirmer (au département, le rôle finances). Vous pouvez retirer la demande.", What(subject))
		}
		return nil
	})
	if err != nil {
		return Request{}, err
	}
	return r, tx.Append(ledger.Record{Entity: "department", EntityID: department, Department: department, Actor: actor, At: tx.Now(),
		Data: ledger.SecondPersonStep{Event: ledger.EventSecondPersonConfirmed, Department: department, Subject: subject}})
}

// Refuse drops the request waiting on subject, with reason. Errors:
// nothing_asked, invalid (reason).
func Refuse(tx *ledger.Tx, department, subject, reason, actor string) (Request, error) {
	reason, err := refusalReason.Check(reason)
	if err != nil {
		return Request{}, err
	}
	r, err := take(tx, department, subject, func(*Request) error { return nil })
	if err != nil {
		return Request{}, err
	}
	return r, tx.Append(ledger.Record{Entity: "department", EntityID: department, Department: department, Actor: actor, At: tx.Now(),
		Data: ledger.SecondPersonStep{Event: ledger.EventSecondPersonRefused, Department: department, Subject: subject, Reason: reason}})
}

var refusalReason = passnum.Text{What: "Le motif du refus", Max: 200, Required: true, Example: "IBAN à vérifier avec la paierie", Field: "reason"}

// take deletes the waiting request once check allows it: the delete must
// touch the row, so that of two confirmations at once one applies.
func take(tx *ledger.Tx, department, subject string, check func(*Request) error) (Request, error) {
	r, err := Find(tx.DB, department, subject)
	if err != nil {
		return Request{}, err
	}
	if r == nil {
		return Request{}, nothingAsked(department, subject)
	}
	if err := check(r); err != nil {
		return Request{}, err
	}
	del := tx.Where("department_code = ? AND subject = ? AND requested_by = ?", department, subject, r.RequestedBy).Delete(&ledger.SecondPersonRequest{})
	if del.Error != nil {
		return Request{}, del.Error
	}
	if del.RowsAffected != 1 {
		return Request{}, nothingAsked(department, subject)
	}
	return *r, nil
}

func nothingAsked(department, subject string) *passnum.Error {
	return passnum.Errorf(passnum.KindNotFound, ENothingAsked, "Rien n’attend de confirmation pour %s du département %s : il a peut-être déjà été confirmé ou refusé.",
		What(subject), department)
}
