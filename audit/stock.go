package audit

import (
	"fmt"

	"passnum/ledger"
)

// applyStock replays the moves of stock (docs/stock.md): each chéquier
// moved must be not yet handed over and held by the move's giver; the
// replay ends with the holder the chequiers table must show.
func (s *state) applyStock(ev *ledger.Event, ref string, bad func(string) error, decode func(any) error) (handled bool, err error) {
	switch ev.Type {
	case ledger.EventStockAllocated, ledger.EventStockTransferred, ledger.EventStockTakenBack:
	default:
		return false, nil
	}
	var m ledger.StockMoved
	if err := decode(&m); err != nil {
		return true, err
	}
	dept := ""
	if ev.DepartmentCode != nil {
		dept = *ev.DepartmentCode
	}
	for _, o := range []int64{m.From, m.To} {
		if org := s.people.orgs[o]; o != 0 && (org == nil || org.Kind != ledger.OrgStructure || org.Department != dept) {
			return true, bad(fmt.Sprintf("moves stock of structure %d, which no earlier event added to département %s", o, dept))
		}
	}
	for _, id := range m.Chequiers {
		b := s.batchOf(func(b *batchState) bool { return id >= b.FirstChequierID && id < b.FirstChequierID+int64(b.Chequiers) })
		if b == nil || b.Department != dept {
			return true, bad(fmt.Sprintf("moves chéquier %d, which no earlier event issued in département %s", id, dept))
		}
		cs := s.chequier(id)
		if cs.status != ledger.ChequierIssued || cs.holder != m.From {
			return true, bad(fmt.Sprintf("moves chéquier %d from structure %d, but it was %s and held by %d", id, m.From, cs.status, cs.holder))
		}
		cs.holder, cs.event = m.To, ref
	}
	return true, nil
}
