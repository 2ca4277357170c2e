package api

// hints says, for an error code, how to put it right with the API: the
// request to send. The message, the service's, says what went wrong in terms
// of the programme and is the same on the command line; the hint is the
// API's own (cmd/passnum/hints.go has the command line's), sent as
// "error.hint" beside the message. Pages and the scanner show the message
// alone: their users click, they do not send requests. A code without a hint
// needs none.
var hints = map[string]string{
	// settlement
	"payer_missing": "PATCH /api/v1/departments/{code} avec payer_name et payer_iban.",
	"period_order":  "GET /api/v1/settlement/periods liste les mois clos ; POST /api/v1/settlement/{department}/{month}/close clôt le plus ancien.",
	"iban_missing":  "PATCH /api/v1/venues/{id} avec iban, puis POST /api/v1/settlement/adjustments.",
}
