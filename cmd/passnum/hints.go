package main

import "passnum/issuing"

// hints says, for an error code, what to do next with this command line. A
// service's message says what went wrong in terms of the programme, the same
// on every edge; how to put it right depends on the edge (a command here, an
// HTTP request in the API: see api/hints.go), so it lives with the edge, one
// line per code, printed under the message. A code without a hint needs
// none: its message already says what to do.
var hints = map[string]string{
	// issuing
	issuing.EChequierKeyRevoked: "void it: passnum void CHEQUIER-NUMBER --reason \"clé révoquée\"",
	issuing.EChequierHandedOver: "replace a damaged voucher: passnum reprint --voucher NUMBER --reason TEXT --out DIR",
}
