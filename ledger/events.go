package ledger

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Record is a state change to append to the ledger.
type Record struct {
	Entity     string // "batch", "chequier", …
	EntityID   string
	Department string    // "" when the change belongs to no département
	Actor      string    // who made the change: "cli", "apikey:pk_…"
	Data       EventData // names the event's type; marshalled to JSON; must hold no personal data
	At         time.Time
}

// Append writes an unsealed event in the transaction, so that the change and
// its event commit or roll back together. It takes no lock: the sealer
// numbers and chains events later (design decision 7).
func (tx *Tx) Append(r Record) error {
	if r.Data == nil || r.Data.EventType() == "" {
		return fmt.Errorf("append event: %T names no event type", r.Data)
	}
	typ := r.Data.EventType()
	data, err := json.Marshal(r.Data)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", typ, err)
	}
	var dept *string
	if r.Department != "" {
		dept = &r.Department
	}
	// Plain SQL: every state change appends an event, redemptions included.
	err = tx.Exec(`INSERT INTO events (type, entity, entity_id, department_code, actor, data, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, typ, r.Entity, r.EntityID, dept, r.Actor, string(data),
		r.At.UTC().Truncate(time.Microsecond)).Error
	if err != nil {
		return fmt.Errorf("append %s event: %w", typ, err)
	}
	return nil
}

// timeLayout is fixed-width so that another implementation reproduces it.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// Canonical returns the bytes of event ev at position seq that the hash
// chain covers: a JSON object with keys in this fixed order and no spaces,
// data inserted verbatim as stored. docs/ledger.md specifies it.
func Canonical(seq int64, ev *Event) []byte {
	b := make([]byte, 0, 160+len(ev.Data))
	b = append(b, `{"seq":`...)
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, `,"id":`...)
	b = strconv.AppendInt(b, ev.ID, 10)
	b = appendField(b, "type", ev.Type)
	b = appendField(b, "entity", ev.Entity)
	b = appendField(b, "entity_id", ev.EntityID)
	b = append(b, `,"department":`...)
	if ev.DepartmentCode == nil {
		b = append(b, "null"...)
	} else {
		b = appendString(b, *ev.DepartmentCode)
	}
	b = appendField(b, "actor", ev.Actor)
	b = appendField(b, "at", ev.CreatedAt.UTC().Format(timeLayout))
	b = append(b, `,"data":`...)
	b = append(b, ev.Data...)
	return append(b, '}')
}

func appendField(b []byte, key, value string) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return appendString(b, value)
}

func appendString(b []byte, s string) []byte {
	quoted, _ := json.Marshal(s) // a string always marshals
	return append(b, quoted...)
}

// Chain is the running state of the hash chain: the last sequence number
// and its hash. The zero Chain is the state before the first event, whose
// hash h(0) is 32 zero bytes.
type Chain struct {
	Seq  int64
	Head []byte
}

// Next chains ev as event Seq+1 and returns its hash:
// h(n) = SHA-256(h(n-1) || canonical(event n)).
func (c *Chain) Next(ev *Event) []byte {
	prev := c.Head
	if prev == nil {
		prev = make([]byte, sha256.Size)
	}
	c.Seq++
	h := sha256.New()
	h.Write(prev)
	h.Write(Canonical(c.Seq, ev))
	c.Head = h.Sum(nil)
	return c.Head
}
