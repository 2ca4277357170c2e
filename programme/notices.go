package programme

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"passnum/ledger"
	"passnum/voucher"
)

// NoticeDays is how long a change to a shared venue stays in the other
// départements' warnings, so that staff who look once a month still see it.
const NoticeDays = 31

// Notice tells a département of a change another département (or an
// admin) made to a venue they share: its details, or a label's status.
type Notice struct {
	VenueID    int64     `json:"venue_id"`
	VenueName  string    `json:"venue_name"`
	Department string    `json:"department,omitempty"` // who made it; absent: an admin
	Kind       string    `json:"kind"`                 // updated, labelled, suspended, reinstated, unlabelled
	Label      string    `json:"label,omitempty"`      // for a status change, the département whose label changed
	At         time.Time `json:"at"`
	Message    string    `json:"message"` // in French, for the département's staff
}

// noticeTypes are written out in the query, not bound, for the partial
// index on them (migration 00007) to be used whatever the plan.
const noticeTypes = `'venue.updated', 'venue.labelled', 'venue.suspended', 'venue.reinstated', 'venue.unlabelled'`

// Notices lists, most recent first, the changes of the last NoticeDays
// made by others to the venues labelled for a département ("" for every
// change, as an admin sees them). A change of the contact alone is left
// out: it moves no money.
func (s *Service) Notices(ctx context.Context, department string) ([]Notice, error) {
	db := s.DB.Read(ctx)
	q := db.Where("type IN ("+noticeTypes+") AND created_at > ?", s.DB.Now().AddDate(0, 0, -NoticeDays)).Order("created_at DESC, id DESC")
	if department != "" {
		q = q.Where("(department_code IS NULL OR department_code <> ?)", department).
			Where("entity_id IN (SELECT CAST(venue_id AS TEXT) FROM venue_departments WHERE department_code = ?)", department)
	}
	var events []ledger.Event
	if err := q.Find(&events).Error; err != nil {
		return nil, err
	}
	out := []Notice{}
	names := map[int64]string{}
	for _, ev := range events {
		n := Notice{Department: deref(ev.DepartmentCode), Kind: ev.Type[len("venue."):], At: ev.CreatedAt.UTC()}
		var reason, changed string
		if ev.Type == ledger.EventVenueUpdated {
			var d ledger.VenueUpdated
			if err := json.Unmarshal([]byte(ev.Data), &d); err != nil {
				return nil, fmt.Errorf("event %d (%s): %w", ev.ID, ev.Type, err)
			}
			var parts []string
			for _, p := range []struct {
				changed bool
				what    string
			}{{d.Name != "", "le nom"}, {d.Address != nil, "l'adresse"}, {d.IBAN != "", "le RIB"}} {
				if p.changed {
					parts = append(parts, p.what)
				}
			}
			if len(parts) == 0 {
				continue // the contact alone
			}
			n.VenueID, reason = d.ID, d.Reason
			changed = parts[len(parts)-1]
			if len(parts) > 1 {
				changed = strings.Join(parts[:len(parts)-1], ", ") + " et " + changed
			}
		} else {
			var d ledger.VenueStatusChanged
			if err := json.Unmarshal([]byte(ev.Data), &d); err != nil {
				return nil, fmt.Errorf("event %d (%s): %w", ev.ID, ev.Type, err)
			}
			n.VenueID, n.Label, reason = d.ID, d.Department, d.Reason
		}
		name, ok := names[n.VenueID]
		if !ok {
			v, err := venue(db, n.VenueID, "")
			if err != nil {
				return nil, err
			}
			name, names[n.VenueID] = v.Name, v.Name
		}
		n.VenueName = name
		n.Message = noticeMessage(n, changed, reason)
		out = append(out, n)
	}
	return out, nil
}

// noticeVerbs say what was done to the venue (%s: the venue).
var noticeVerbs = map[string]string{
	"updated":    "a changé %s du lieu %s",
	"labelled":   "a labellisé le lieu %[2]s",
	"suspended":  "a suspendu le lieu %[2]s",
	"reinstated": "a levé la suspension du lieu %[2]s",
	"unlabelled": "a retiré le label du lieu %[2]s",
}

// noticeMessage words a notice; changed lists the details a venue.updated
// changed ("le nom et le RIB").
func noticeMessage(n Notice, changed, reason string) string {
	who := "L'administration du programme"
	if n.Department != "" {
		who = "Le département " + n.Department
	}
	what := who + " " + fmt.Sprintf(noticeVerbs[n.Kind], changed, fmt.Sprintf("« %s » (n° %d)", n.VenueName, n.VenueID)) +
		" le " + voucher.Today(n.At).French()
	if n.Kind == "updated" {
		return what + fmt.Sprintf(" (motif : %s). Vérifiez ses coordonnées avant votre prochain paiement.", reason)
	}
	return what + fmt.Sprintf(", pour les chèques du département %s (motif : %s). Les chèques des autres départements n'en dépendent pas.", n.Label, reason)
}

// AwaitingApproval lists the pending change requests that a département
// has still to approve ("" for every pending request, as an admin sees them).
func (s *Service) AwaitingApproval(ctx context.Context, department string) ([]ChangeRequest, error) {
	rs, err := s.ChangeRequests(ctx, ChangeFilter{Department: department, Status: string(ledger.ChangePending)})
	if err != nil {
		return nil, err
	}
	out := []ChangeRequest{}
	for _, r := range rs {
		if department == "" || slices.Contains(r.Awaiting, department) {
			out = append(out, r)
		}
	}
	return out, nil
}
