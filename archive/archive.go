// Package archive writes a venue's complete record as one zip file, and
// checks one. The last national operator of the Pass numérique went into
// liquidation and left venues unpaid with no records of their own: with
// this file and the programme's public keys, a venue proves what it was
// accepted and paid for without the server. What proves it is the
// receipts (voucher format, type 05), each signed by the server: the rest
// of the file (the redemptions as a table, the ledger's entries that
// concern the venue, its closed statements) is there to be read and
// matched against them. Check reads nothing but the file and the keys.
package archive

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"passnum"
	"passnum/csvsafe"
	"passnum/keys"
	"passnum/ledger"
	"passnum/settlement"
	"passnum/voucher"
)

// The files of an archive.
const (
	ReadMe      = "LISEZ-MOI.txt"
	Receipts    = "recus.txt"         // a receipt and its vouchers' serials per line, as the scanner saves them
	Redemptions = "encaissements.csv" // one row per redemption
	Journal     = "journal.jsonl"     // the ledger's events about the venue and its redemptions
	PublicKeys  = "cles-publiques.json"
	statements  = "releves/" // a PDF per closed month and département
)

// Sources are what an archive is made from.
type Sources struct {
	DB         *ledger.DB
	Keys       *keys.Manager // signs the receipts
	Settlement *settlement.Service
	// Department, when set, keeps the statements to that département's:
	// a département reads its own part of a venue it shares, not the
	// other's.
	Department string
}

// Write writes venue's archive to w. Receipts are signed again from the
// ledger's redemption.accepted events, with the active key: Ed25519 gives
// the same bytes for the same key, and a receipt holds nothing the ledger
// does not, so a venue that lost its device gets every receipt back.
// Errors: not_found (venue), conflict (no active key).
func Write(ctx context.Context, src Sources, venue int64, w io.Writer) error {
	db := src.DB.Read(ctx)
	var v ledger.Venue
	if err := db.Where("id = ?", venue).Take(&v).Error; err != nil {
		return passnum.NotFound("Le lieu %d n'existe pas dans le programme.", venue)
	}
	signer, err := src.Keys.Signer(ctx)
	if err != nil {
		return err
	}
	ks, err := src.DB.KeySet(ctx)
	if err != nil {
		return err
	}
	var reds []ledger.Redemption
	if err := db.Where("venue_id = ?", venue).Order("id").Find(&reds).Error; err != nil {
		return err
	}
	// A subquery, not a list: a venue's four years of redemptions are more
	// parameters than a statement takes.
	var events []ledger.Event
	if err := db.Where("(entity = 'venue' AND entity_id = ?) OR (entity = 'redemption' AND entity_id IN (SELECT CAST(id AS TEXT) FROM redemptions WHERE venue_id = ?))",
		strconv.FormatInt(venue, 10), venue).Order("id").Find(&events).Error; err != nil {
		return err
	}

	z := zip.NewWriter(w)
	add := func(name string, write func(io.Writer) error) error {
		f, err := z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: src.DB.Now()})
		if err != nil {
			return err
		}
		return write(f)
	}
	accepted := map[int64]ledger.Redeemed{}
	err = add(Receipts, func(f io.Writer) error {
		for _, ev := range events {
			if ev.Type != ledger.EventRedeemed {
				continue
			}
			var red ledger.Redeemed
			if err := json.Unmarshal([]byte(ev.Data), &red); err != nil {
				return fmt.Errorf("event %d: %w", ev.ID, err)
			}
			r, err := red.Receipt()
			if err != nil {
				return err
			}
			code, err := signer.Sign(r)
			if err != nil {
				return err
			}
			accepted[red.ID] = red
			serials := make([]string, len(red.Items))
			for i, it := range red.Items {
				serials[i] = strconv.FormatInt(it.Serial, 10)
			}
			if _, err := fmt.Fprintf(f, "%s %s\n", code, strings.Join(serials, ",")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := add(Redemptions, func(f io.Writer) error { return writeRedemptions(f, reds, accepted) }); err != nil {
		return err
	}
	if err := add(Journal, func(f io.Writer) error {
		enc := json.NewEncoder(f)
		for _, ev := range events {
			line := journalLine{Seq: ev.Seq, Hash: fmt.Sprintf("%x", ev.Hash), Type: ev.Type, Entity: ev.Entity,
				EntityID: ev.EntityID, Actor: ev.Actor, At: ev.CreatedAt.UTC(), Data: json.RawMessage(ev.Data)}
			if ev.Type == ledger.EventOfflineConflict {
				// The redemptions that spent the vouchers first are another
				// venue's business (the scanner is never told who): their
				// numbers go, and the line says it was changed.
				var oc ledger.OfflineConflict
				if err := json.Unmarshal([]byte(ev.Data), &oc); err != nil {
					return fmt.Errorf("event %d: %w", ev.ID, err)
				}
				for i := range oc.Conflicts {
					oc.Conflicts[i].RedemptionID = 0
				}
				data, err := json.Marshal(oc)
				if err != nil {
					return err
				}
				line.Data, line.Redacted = data, true
			}
			if err := enc.Encode(line); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := add(PublicKeys, func(f io.Writer) error {
		data, err := ks.MarshalJSON()
		if err == nil {
			_, err = f.Write(append(data, '\n'))
		}
		return err
	}); err != nil {
		return err
	}
	closed, err := closedStatements(ctx, src, venue, src.Department)
	if err != nil {
		return err
	}
	for _, p := range closed {
		if err := add(fmt.Sprintf("%s%s-%s.pdf", statements, p.Month, p.Department), func(f io.Writer) error {
			return settlement.WriteStatementPDF(f, p, venue)
		}); err != nil {
			return err
		}
	}
	if err := add(ReadMe, func(f io.Writer) error {
		_, err := io.WriteString(f, readMe(v, len(accepted), len(closed), src.DB.Now()))
		return err
	}); err != nil {
		return err
	}
	return z.Close()
}

// journalLine is an event as the archive keeps it: as the ledger holds it,
// with its place in the chain (seq and hash, once sealed).
type journalLine struct {
	Seq      *int64          `json:"seq,omitempty"`
	Hash     string          `json:"hash,omitempty"`
	Type     string          `json:"type"`
	Entity   string          `json:"entity"`
	EntityID string          `json:"entity_id"`
	Actor    string          `json:"actor"`
	At       time.Time       `json:"at"`
	Data     json.RawMessage `json:"data"`
	// Redacted: data is not the ledger's as it is (another venue's
	// numbers taken out), so its hash no longer matches it.
	Redacted bool `json:"redacted,omitempty"`
}

// The columns of encaissements.csv, which Check reads back.
var redemptionColumns = []string{"encaissement", "recu_le", "scanne_le", "montant_centimes", "montant_euros", "cheques", "statut", "annule_le", "motif_annulation"}

func writeRedemptions(f io.Writer, reds []ledger.Redemption, accepted map[int64]ledger.Redeemed) error {
	w := csvsafe.NewWriter(f)
	if err := w.Write(redemptionColumns); err != nil {
		return err
	}
	for _, r := range reds {
		var serials []string
		for _, it := range accepted[r.ID].Items {
			serials = append(serials, strconv.FormatInt(it.Serial, 10))
		}
		reversed, reason := "", ""
		if r.ReversedAt != nil {
			reversed = r.ReversedAt.UTC().Format(time.RFC3339)
		}
		if r.ReversalReason != nil {
			reason = *r.ReversalReason
		}
		status := "encaissé"
		if r.Status == ledger.RedemptionReversed {
			status = "annulé"
		}
		if err := w.Write([]string{strconv.FormatInt(r.ID, 10), r.CreatedAt.UTC().Format(time.RFC3339), r.ScannedAt.UTC().Format(time.RFC3339),
			strconv.FormatInt(r.TotalCents, 10), passnum.FormatEuros(r.TotalCents), strings.Join(serials, " "), status, reversed, reason}); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}

// closedStatements are the closed months, of every département that
// labels the venue (only that one when only is set), in which it has a
// statement.
func closedStatements(ctx context.Context, src Sources, venue int64, only string) ([]settlement.Period, error) {
	var depts []string
	q := src.DB.Read(ctx).Model(&ledger.VenueDepartment{}).Where("venue_id = ?", venue)
	if only != "" {
		q = q.Where("department_code = ?", only)
	}
	if err := q.Order("department_code").Pluck("department_code", &depts).Error; err != nil {
		return nil, err
	}
	var out []settlement.Period
	for _, d := range depts {
		ps, err := src.Settlement.Periods(ctx, d)
		if err != nil {
			return nil, err
		}
		slices.Reverse(ps) // oldest first
		for _, row := range ps {
			p, err := src.Settlement.Period(ctx, d, settlement.MonthOf(row.FirstDay.Day()))
			if err != nil {
				return nil, err
			}
			if _, ok := p.VenueStatement(venue); ok {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

func readMe(v ledger.Venue, receipts, statements int, now time.Time) string {
	return fmt.Sprintf(`Dossier du lieu %q (lieu n° %d) — Pass numérique
Fait le %s.

Ce dossier est la preuve de ce qui est dû à votre structure. Gardez-le avec vos papiers.
Il reste valable même si le serveur du programme disparaît.

Ce qu'il contient :
- %s : un reçu par encaissement accepté (%d), signé par le serveur, suivi des numéros des chèques.
- %s : la liste des encaissements, avec les annulations.
- releves/ : les relevés des mois clos (%d).
- %s : les écritures du journal du programme qui concernent votre lieu.
- %s : les clés publiques du programme au jour du dossier.

Pour vérifier les reçus, avec les clés publiques publiées par le département :
  passnum audit archive ce-fichier.zip --keys cles-publiques-du-departement.json
Chaque reçu peut aussi être vérifié seul, avec n'importe quel outil Ed25519 :
le format est décrit dans docs/voucher-format.md (type 05).
`, v.Name, v.ID, now.In(voucher.Paris()).Format("02/01/2006 à 15:04"), Receipts, receipts, Redemptions, statements, Journal, PublicKeys)
}
