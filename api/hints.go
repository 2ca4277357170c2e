package api

import "passnum/issuing"

// hints says, for an error code, how to put it right with the API: the
// request to send. The message, the service's, says what went wrong in terms
// of the programme and is the same on the command line; the hint is the
// API's own (cmd/passnum/hints.go has the command line's), sent as
// "error.hint" beside the message. Pages and the scanner show the message
// alone: their users click, they do not send requests. A code without a hint
// needs none.
var hints = map[string]string{
	// issuing
	codeBatchTooLarge:           "Découpez la commande en plusieurs lots, ou créez-la sur le serveur avec la commande « passnum issue », qui n'a pas de délai et affiche sa progression.",
	issuing.EChequierKeyRevoked: "Annulez-le par POST /api/v1/chequiers/{number}/void, avec un motif.",
}
