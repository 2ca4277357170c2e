package issuing

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"

	"passnum"
	"passnum/ledger"
)

// Stock (docs/stock.md). A chéquier not yet handed over is held by its
// département (its own stock, where every chéquier starts) or by one of
// the département's distribution structures (CCAS, MDS, associations),
// which hand chéquiers over to people. A chéquier moves only while it is
// issued; the move is a conditional update of its holder, so that two
// moves racing for one chéquier cannot both take it, and an event names
// every chéquier moved.

// Error codes of stock, beside the generic ones.
const (
	// EStockShort: the holder has fewer chéquiers to move than asked, or
	// one of the range is not in its stock (handed over, void, elsewhere).
	EStockShort = "stock_short"
	// ENotInStock: a structure's agent hands over a chéquier its
	// structure does not hold.
	ENotInStock = "not_in_stock"
)

// maxMove bounds one move: a year's distribution of a large structure.
const maxMove = 5000

// Move is chéquiers to move from one holder of a département to another:
// either the first Count chéquiers of Batch that From holds, in number
// order, or every chéquier from First to Last (numbers, inclusive).
type Move struct {
	Department string
	From, To   int64 // structures' organisation ids; 0: the département's own stock
	Batch      int64
	Count      int
	First      string
	Last       string
}

// Moved is a move done.
type Moved struct {
	Event       string // stock.allocated, stock.transferred or stock.taken_back
	Count       int
	First, Last string // numbers of the first and last chéquier moved
}

// holder is where chéquiers wait to be handed over: the département's
// own stock (id 0) or a structure's.
type holder struct {
	id   int64
	name string
}

// String names the holder inside a sentence.
func (h holder) String() string { return "l" + h.noun() }

// Subject names the holder at the start of a sentence.
func (h holder) Subject() string { return "L" + h.noun() }

func (h holder) noun() string {
	if h.id == 0 {
		return "e stock du département"
	}
	return "e stock de « " + h.name + " »"
}

// MoveStock moves chéquiers between a département's stock and its
// structures (allocate, transfer, take back). Errors: invalid (the move
// or its selection), not_found (a structure not of the département, a
// batch or chéquier not of it), stock_short, conflict (a chéquier moved
// meanwhile: try again).
func (s *Service) MoveStock(ctx context.Context, m Move, actor string) (Moved, error) {
	if m.From == m.To {
		return Moved{}, passnum.Invalid("Le stock part et arrive au même endroit : choisissez une autre structure.").On("to")
	}
	byCount, byRange := m.Batch != 0 || m.Count != 0, m.First != "" || m.Last != ""
	switch {
	case byCount == byRange:
		return Moved{}, passnum.Invalid("Dites quels chéquiers : un lot et un nombre (les premiers non remis de ce lot), ou le premier et le dernier numéro.")
	case byCount && (m.Count < 1 || m.Count > maxMove):
		return Moved{}, passnum.Invalid("Le nombre de chéquiers va de 1 à %d.", maxMove).On("count")
	case byRange && (m.First == "" || m.Last == ""):
		return Moved{}, passnum.Invalid("Donnez le premier et le dernier numéro des chéquiers, par exemple 78-2026-000001 et 78-2026-000050.").On("last")
	}
	out := Moved{Event: ledger.EventStockTransferred}
	switch {
	case m.From == 0:
		out.Event = ledger.EventStockAllocated
	case m.To == 0:
		out.Event = ledger.EventStockTakenBack
	}
	err := s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		from, err := structureOf(tx.DB, m.Department, m.From)
		if err != nil {
			return err
		}
		to, err := structureOf(tx.DB, m.Department, m.To)
		if err != nil {
			return err
		}
		var cs []ledger.Chequier
		if byCount {
			cs, err = firstHeld(tx.DB, m, from)
		} else {
			cs, err = rangeHeld(tx.DB, m, from)
		}
		if err != nil {
			return err
		}
		ids := make([]int64, len(cs))
		for i, c := range cs {
			ids[i] = c.ID
		}
		now := tx.Now()
		var dest any
		if to.id != 0 {
			dest = to.id
		}
		// Conditional on what was read: a chéquier handed over or moved
		// meanwhile makes the count fall short, and nothing moves.
		r := heldBy(tx.Model(&ledger.Chequier{}).Where("id IN ? AND status = ?", ids, ledger.ChequierIssued), from).
			Updates(map[string]any{"structure_id": dest, "allocated_at": now})
		if r.Error != nil {
			return r.Error
		}
		if r.RowsAffected != int64(len(ids)) {
			return passnum.Conflict("Des chéquiers de %s ont changé pendant l'opération : relisez le stock et réessayez.", from)
		}
		out.Count, out.First, out.Last = len(cs), cs[0].Number, cs[len(cs)-1].Number
		return tx.Append(ledger.Record{Entity: "stock", EntityID: m.Department, Department: m.Department, Actor: actor, At: now,
			Data: ledger.StockMoved{Event: out.Event, From: from.id, To: to.id, Chequiers: ids}})
	})
	if err != nil {
		return Moved{}, err
	}
	return out, nil
}

// structureOf reads a structure of the département; 0 is the
// département's own stock.
func structureOf(db *gorm.DB, department string, id int64) (holder, error) {
	if id == 0 {
		return holder{}, nil
	}
	var o ledger.Organisation
	err := db.Where("id = ? AND kind = ? AND department_code = ?", id, ledger.OrgStructure, department).Take(&o).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return holder{}, passnum.NotFound("Il n'y a pas de structure n° %d dans le département %s : voyez la liste des structures.", id, passnum.Shorten(department, 20))
	}
	return holder{id: o.ID, name: o.Name}, err
}

// heldBy keeps the chéquiers the holder holds.
func heldBy(q *gorm.DB, h holder) *gorm.DB {
	if h.id == 0 {
		return q.Where("structure_id IS NULL")
	}
	return q.Where("structure_id = ?", h.id)
}

// firstHeld reads the first Count chéquiers of the batch that from holds
// and that are not handed over yet, in number order.
func firstHeld(db *gorm.DB, m Move, from holder) ([]ledger.Chequier, error) {
	var b ledger.Batch
	err := db.Where("id = ? AND department_code = ?", m.Batch, m.Department).Take(&b).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, passnum.NotFound("Il n'y a pas de lot n° %d dans le département %s.", m.Batch, passnum.Shorten(m.Department, 20)).On("batch")
	}
	if err != nil {
		return nil, err
	}
	var cs []ledger.Chequier
	err = heldBy(db.Where("batch_id = ? AND status = ?", m.Batch, ledger.ChequierIssued), from).Order("id").Limit(m.Count).Find(&cs).Error
	if err != nil {
		return nil, err
	}
	if len(cs) < m.Count {
		return nil, passnum.Errorf(passnum.KindConflict, EStockShort, "%s n'a que %d chéquiers non remis du lot %d : vous en demandez %d.",
			from.Subject(), len(cs), m.Batch, m.Count).On("count")
	}
	return cs, nil
}

// rangeHeld reads every chéquier from First to Last, which must all be of
// one batch of the département, issued, and held by from.
func rangeHeld(db *gorm.DB, m Move, from holder) ([]ledger.Chequier, error) {
	first, _, err := findChequier(db, m.First, m.Department)
	if err != nil {
		return nil, err
	}
	last, _, err := findChequier(db, m.Last, m.Department)
	if err != nil {
		return nil, err
	}
	switch {
	case first.BatchID != last.BatchID:
		return nil, passnum.Invalid("Les chéquiers %s et %s sont de deux lots différents : déplacez chaque lot à part.", first.Number, last.Number).On("last")
	case last.ID < first.ID:
		return nil, passnum.Invalid("Le chéquier %s vient avant %s : donnez d'abord le plus petit numéro.", last.Number, first.Number).On("last")
	case last.ID-first.ID >= maxMove:
		return nil, passnum.Invalid("Au plus %d chéquiers à la fois.", maxMove).On("last")
	}
	var cs []ledger.Chequier
	if err := db.Where("id BETWEEN ? AND ?", first.ID, last.ID).Order("id").Find(&cs).Error; err != nil {
		return nil, err
	}
	for _, c := range cs {
		held := (from.id == 0 && c.StructureID == nil) || (c.StructureID != nil && *c.StructureID == from.id)
		switch {
		case c.Status == ledger.ChequierActive:
			return nil, passnum.Errorf(passnum.KindConflict, EStockShort, "Le chéquier %s est déjà remis : il ne fait plus partie d'aucun stock. Choisissez d'autres numéros.", c.Number)
		case c.Status == ledger.ChequierVoid:
			return nil, passnum.Errorf(passnum.KindConflict, EStockShort, "Le chéquier %s est annulé : choisissez d'autres numéros.", c.Number)
		case !held:
			return nil, passnum.Errorf(passnum.KindConflict, EStockShort, "Le chéquier %s n'est pas dans %s : choisissez d'autres numéros, ou déplacez-le d'abord de là où il est.", c.Number, from)
		}
	}
	return cs, nil
}

// Holding is the stock of one holder in one batch: chéquiers not handed
// over yet.
type Holding struct {
	Structure int64  // 0: the département's own stock
	Name      string // the structure's
	Batch     int64
	Count     int64
	// Since is when the holder got its oldest chéquier of the batch (a
	// structure's; the département's own stock has none).
	Since *time.Time
}

// Stock lists the chéquiers not yet handed over of a département, by
// holder then batch; with structure, that structure's only.
func (s *Service) Stock(ctx context.Context, department string, structure int64) ([]Holding, error) {
	var rows []struct {
		StructureID *int64
		Name        *string
		BatchID     int64
		Count       int64
		Since       *string
	}
	q := s.DB.Read(ctx).Table("chequiers c").
		Select("c.structure_id, o.name, c.batch_id, COUNT(*) AS count, MIN(c.allocated_at) AS since").
		Joins("LEFT JOIN organisations o ON o.id = c.structure_id").
		Where("c.department_code = ? AND c.status = ?", department, ledger.ChequierIssued)
	if structure != 0 {
		q = q.Where("c.structure_id = ?", structure)
	}
	err := q.Group("c.structure_id, o.name, c.batch_id").Order("c.structure_id, c.batch_id").Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]Holding, len(rows))
	for i, r := range rows {
		h := Holding{Batch: r.BatchID, Count: r.Count}
		if r.StructureID != nil && r.Name != nil {
			h.Structure, h.Name = *r.StructureID, *r.Name
		}
		if r.Since != nil && h.Structure != 0 {
			t, err := parseDBTime(*r.Since)
			if err != nil {
				return nil, fmt.Errorf("stock of structure %d: %w", h.Structure, err)
			}
			h.Since = &t
		}
		out[i] = h
	}
	return out, nil
}

// parseDBTime reads a time an aggregate returned as text: PostgreSQL's
// and SQLite's ways of writing one.
func parseDBTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot read the time %q", strconv.Quote(s))
}
