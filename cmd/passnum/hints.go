package main

// hints says, for an error code, what to do next with this command line. A
// service's message says what went wrong in terms of the programme, the same
// on every edge; how to put it right depends on the edge (a command here, an
// HTTP request in the API: see api/hints.go), so it lives with the edge, one
// line per code, printed under the message. A code without a hint needs
// none: its message already says what to do.
var hints = map[string]string{
	// settlement
	"payer_missing": "passnum department set CODE --payer-name … --payer-iban …",
	"period_order":  "passnum settlement list --department CODE shows the closed months; close the oldest open one first",
	"iban_missing":  "passnum venue update ID --iban … --reason …, then passnum settlement adjust next month",
}
