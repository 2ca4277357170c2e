package redemption

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"passnum/ledger"
)

// unrevoking are the event types that change no voucher's redeemability as
// an offline scanner can know it, each with why. Together with feedRules
// they must name every event type of the ledger: a new type fails
// TestEveryEventTypeHasAFeedRule until someone decides whether scanners
// must hear of it.
var unrevoking = map[string]string{
	ledger.EventBatchIssued:        "new vouchers are redeemable, or wait for their hand-over, which a scanner cannot know offline (docs/scanner.md)",
	ledger.EventChequierActivated:  "makes vouchers redeemable, never unredeemable; the server refuses a voucher not handed over",
	ledger.EventChequierReprinted:  "the same codes again, unchanged",
	ledger.EventOfflineConflict:    "nothing was redeemed",
	ledger.EventKeyAdded:           "scanners read keys from GET /api/v1/keys",
	ledger.EventKeyRetired:         "a retired key still verifies what it signed",
	ledger.EventKeyRevoked:         "scanners read revoked keys from GET /api/v1/keys and refuse their codes",
	ledger.EventDepartmentAdded:    "no voucher",
	ledger.EventDepartmentUpdated:  "payer and commission only",
	ledger.EventVenueAdded:         "scanners read their venue from GET /api/v1/venues/{id}",
	ledger.EventVenueUpdated:       "scanners read their venue from GET /api/v1/venues/{id}",
	ledger.EventVenueLabelled:      "scanners read their venue from GET /api/v1/venues/{id}",
	ledger.EventVenueSuspended:     "scanners read their venue from GET /api/v1/venues/{id}",
	ledger.EventVenueReinstated:    "scanners read their venue from GET /api/v1/venues/{id}",
	ledger.EventVenueUnlabelled:    "scanners read their venue from GET /api/v1/venues/{id}",
	ledger.EventChangeRequested:    "a venue's details wait for approval; no voucher",
	ledger.EventChangeApproved:     "a venue's details (name, address, bank); no voucher",
	ledger.EventChangeRefused:      "no voucher",
	ledger.EventChangeWithdrawn:    "no voucher",
	ledger.EventManualEntryLocked:  "typed entries are never judged offline",
	ledger.EventSettlementClosed:   "no voucher",
	ledger.EventSettlementAdjusted: "no voucher",
	ledger.EventAPIKeyCreated:      "no voucher",
	ledger.EventAPIKeyRevoked:      "no voucher",
	ledger.EventPairingCreated:     "no voucher",
	// People and organisations: who may act, never what a voucher is worth.
	ledger.EventOrganisationAdded:   "no voucher",
	ledger.EventAccountInvited:      "no voucher",
	ledger.EventInvitationCancelled: "no voucher",
	ledger.EventAccountCreated:      "no voucher",
	ledger.EventMembershipAdded:     "no voucher",
	ledger.EventMembershipRemoved:   "no voucher: a device's key, not a person's account, redeems",
	// Four eyes: a paying office or a closing waiting for a second person.
	ledger.EventSecondPersonAsked:      "no voucher",
	ledger.EventSecondPersonConfirmed:  "no voucher",
	ledger.EventSecondPersonRefused:    "no voucher",
	ledger.EventAccountDisabled:        "no voucher: a device's key, not a person's account, redeems",
	ledger.EventPasswordResetRequested: "no voucher",
	ledger.EventPasswordReset:          "no voucher",
	ledger.EventTOTPEnabled:            "no voucher",
	ledger.EventIdentityLinked:         "no voucher",
	ledger.EventPairingCancelled:       "no voucher",
	// Stock: who holds chéquiers not yet handed over, whose vouchers wait
	// for their hand-over anyway.
	ledger.EventStockAllocated:   "moves chéquiers not handed over; no voucher's redeemability",
	ledger.EventStockTransferred: "moves chéquiers not handed over; no voucher's redeemability",
	ledger.EventStockTakenBack:   "moves chéquiers not handed over; no voucher's redeemability",
}

// eventTypes reads every Event… constant declared in package ledger, so
// that a type added there is seen here without anyone listing it.
func eventTypes(t *testing.T) map[string]string {
	t.Helper()
	names, err := filepath.Glob("../ledger/*.go")
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if !strings.HasPrefix(name.Name, "Event") || i >= len(vs.Values) {
						continue
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						types[name.Name], _ = strconv.Unquote(lit.Value)
					}
				}
			}
		}
	}
	if len(types) < 20 {
		t.Fatalf("found only %d event types in package ledger: %v", len(types), types)
	}
	return types
}

// TestEveryEventTypeHasAFeedRule: every event type of the ledger either
// has its rule in the revocation feed or is listed, with why, as changing
// no voucher that a scanner could refuse.
func TestEveryEventTypeHasAFeedRule(t *testing.T) {
	for name, typ := range eventTypes(t) {
		_, feeds := feedRules[typ]
		_, skipped := unrevoking[typ]
		switch {
		case feeds && skipped:
			t.Errorf("%s (%s) is both in the feed and listed as changing no voucher", name, typ)
		case !feeds && !skipped:
			t.Errorf("%s (%s) has no rule in the revocation feed (redemption/revocations.go feedRules): if it can make a voucher unredeemable, or redeemable again, scanners must hear of it; otherwise list it in unrevoking with why", name, typ)
		}
	}
	for typ := range feedRules {
		if !strings.Contains(typ, ".") {
			t.Errorf("feed rule for %q, not an event type", typ)
		}
	}
}
