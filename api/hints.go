package api

import (
	"passnum/issuing"
	"passnum/keys"
	"passnum/programme"
	"passnum/settlement"
)

// hints says, for an error code, how to put it right with the API: the
// request to send. The message, the service's, says what went wrong in terms
// of the programme and is the same on the command line; the hint is the
// API's own (cmd/passnum/hints.go has the command line's), sent as
// "error.hint" beside the message. Pages and the scanner show the message
// alone: their users click, they do not send requests. A code without a hint
// needs none. Keys are the services' code constants, so that a hint cannot
// outlive its code.
var hints = map[string]string{
	// programme
	programme.EDepartmentUnknown:   "Les départements du programme sont ceux de GET /api/v1/departments ; l'exploitation ajoute les autres (passnum department add).",
	programme.EVenueSIRETTaken:     "Retrouvez le lieu avec GET /api/v1/venues plutôt que de le créer une seconde fois.",
	programme.EVenueLabelSuspended: "Levez la suspension : POST /api/v1/venues/{id}/reinstatement.",
	programme.EChangePending:       "Voyez la demande en attente : GET /api/v1/venue-change-requests?venue={id}&status=pending.",
	programme.EChangeDecided:       "Relisez la demande : GET /api/v1/venue-change-requests/{id}.",
	programme.EChangeOutdated:      "Relisez la demande (GET /api/v1/venue-change-requests/{id}), refusez-la (POST /api/v1/venue-change-requests/{id}/refusal), puis refaites le changement (PATCH /api/v1/venues/{id}).",
	// settlement
	settlement.ENoPayer:     "PATCH /api/v1/departments/{code} avec payer_name et payer_iban.",
	settlement.EPeriodOrder: "GET /api/v1/settlement/periods liste les mois clos ; POST /api/v1/settlement/{department}/{month}/close clôt le plus ancien.",
	settlement.ENoIBAN:      "PATCH /api/v1/venues/{id} avec iban, puis POST /api/v1/settlement/adjustments.",
	// issuing
	codeBatchTooLarge:           "Découpez la commande en plusieurs lots, ou créez-la sur le serveur avec la commande « passnum issue », qui n'a pas de délai et affiche sa progression.",
	issuing.EChequierKeyRevoked: "Annulez-le par POST /api/v1/chequiers/{number}/void, avec un motif.",
	// keys: the API signs batches with the active key, which only the
	// operator makes, on the server.
	keys.ENoActiveKey: "L'exploitation crée une clé de signature sur le serveur (passnum keys new), puis la commande peut être refaite.",
}
