package main

import (
	"passnum/apikeys"
	"passnum/issuing"
	"passnum/keys"
	"passnum/programme"
	"passnum/settlement"
)

// hints says, for an error code, what to do next with this command line. A
// service's message says what went wrong in terms of the programme, the same
// on every edge; how to put it right depends on the edge (a command here, an
// HTTP request in the API: see api/hints.go), so it lives with the edge, one
// line per code, printed under the message. A code without a hint needs
// none: its message already says what to do. Keys are the services' code
// constants, so that a hint cannot outlive its code.
var hints = map[string]string{
	// apikeys
	apikeys.EKeyNotFound: "see the keys with 'passnum apikey list'",
	// programme
	programme.EDepartmentUnknown:   "add it first: passnum department add CODE NAME (see passnum department list)",
	programme.EVenueSIRETTaken:     "find it with: passnum venue list",
	programme.EVenueLabelSuspended: "end the suspension instead: passnum venue reinstate ID --department CODE --reason TEXT",
	programme.EChangePending:       "see it with: passnum venue requests --venue ID --status pending; then approve, refuse or withdraw it (passnum venue approve|refuse|withdraw REQUEST)",
	programme.EChangeDecided:       "see where it stands: passnum venue requests --venue ID",
	programme.EChangeOutdated:      "refuse it (passnum venue refuse REQUEST --department CODE --reason TEXT), then ask again (passnum venue request ID …)",
	// settlement
	settlement.ENoPayer:     "passnum department set CODE --payer-name … --payer-iban …",
	settlement.EPeriodOrder: "passnum settlement list --department CODE shows the closed months; close the oldest open one first",
	settlement.ENoIBAN:      "passnum venue update ID --iban … --reason …, then passnum settlement adjust next month",
	// issuing
	issuing.EChequierKeyRevoked: "void it: passnum void CHEQUIER-NUMBER --reason \"clé révoquée\"",
	issuing.EChequierHandedOver: "replace a damaged voucher: passnum reprint --voucher NUMBER --reason TEXT --out DIR",
	// keys
	keys.ENoActiveKey: "make one: passnum keys new",
	keys.EKeyActive:   "run 'passnum keys new', which retires it",
	keys.EKeyNotFound: "see the keys with: passnum keys list",
}
