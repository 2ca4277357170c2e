package redemption

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"gorm.io/gorm"

	"passnum"
	"passnum/ledger"
	"passnum/voucher"
)

// reversalReason is the rule of why a redemption is undone, said on the
// scanner to volunteers.
var reversalReason = passnum.Text{What: "Le motif de l'annulation", Max: 200, Required: true, Example: "chèque scanné par erreur"}

// Reverse undoes a mistaken redemption of the venue within the reversal
// window: its vouchers become redeemable again (or void, if their chéquier
// was voided meanwhile), and the reversal is its own ledger event.
// Errors: invalid (no reason), not_found (not this venue's), and the
// conflicts already_reversed, reversal_window_closed and period_settled.
func (s *Service) Reverse(ctx context.Context, venueID, id int64, reason, actor string) (ledger.Redemption, error) {
	reason, err := reversalReason.Check(reason)
	if err != nil {
		return ledger.Redemption{}, err
	}
	var r ledger.Redemption
	err = s.DB.Tx(ctx, func(tx *ledger.Tx) error {
		now := tx.Now()
		var err error
		if r, err = find(tx.DB, venueID, id); err != nil {
			return err
		}
		switch {
		case r.Status == ledger.RedemptionReversed:
			return passnum.Errorf(passnum.KindConflict, EAlreadyReversed, "Cet encaissement a déjà été annulé %s.", frenchTime(*r.ReversedAt))
		case now.After(s.ReversibleUntil(r.CreatedAt)):
			return passnum.Errorf(passnum.KindConflict, EReversalWindow, "Un encaissement ne peut être annulé que dans les %d minutes qui suivent ; celui-ci a été enregistré %s. Contactez le département.",
				int(s.reversalWindow().Minutes()), frenchTime(r.CreatedAt))
		}
		if err := checkUnsettled(tx, r); err != nil {
			return err
		}
		// A voiding of one of the chéquiers that commits while this runs
		// would miss these vouchers (still redeemed as it sees them), and
		// this would make them spendable in a voided chéquier: locked, the
		// voiding comes first and they become void here, or after and it
		// voids them.
		var chequiers []int64
		if err := tx.Raw(`SELECT DISTINCT v.chequier_id FROM redemption_items i JOIN vouchers v ON v.serial = i.voucher_serial
			WHERE i.redemption_id = ?`, r.ID).Scan(&chequiers).Error; err != nil {
			return err
		}
		if err := tx.LockChequiers(chequiers...); err != nil {
			return err
		}
		upd := tx.Model(&ledger.Redemption{}).Where("id = ? AND status = ?", r.ID, ledger.RedemptionAccepted).
			Updates(map[string]any{"status": ledger.RedemptionReversed, "reversed_at": now, "reversal_reason": reason})
		if upd.Error != nil {
			return upd.Error
		}
		if upd.RowsAffected != 1 {
			return passnum.Errorf(passnum.KindConflict, EAlreadyReversed, "Cet encaissement vient d'être annulé.")
		}
		var void, active []int64
		if err := tx.Raw(`UPDATE vouchers SET status = ?, redemption_id = NULL
			WHERE redemption_id = ? AND status = ? AND chequier_id IN (SELECT id FROM chequiers WHERE status = ?)
			RETURNING serial`, ledger.VoucherVoid, r.ID, ledger.VoucherRedeemed, ledger.ChequierVoid).Scan(&void).Error; err != nil {
			return err
		}
		if err := tx.Raw(`UPDATE vouchers SET status = ?, redemption_id = NULL WHERE redemption_id = ? AND status = ? RETURNING serial`,
			ledger.VoucherActive, r.ID, ledger.VoucherRedeemed).Scan(&active).Error; err != nil {
			return err
		}
		var items int64
		if err := tx.Model(&ledger.RedemptionItem{}).Where("redemption_id = ?", r.ID).Count(&items).Error; err != nil {
			return err
		}
		if int64(len(void)+len(active)) != items {
			return errors.New("a reversed redemption's vouchers do not match its items")
		}
		slices.Sort(void)
		slices.Sort(active)
		r.Status, r.ReversedAt, r.ReversalReason = ledger.RedemptionReversed, &now, &reason
		return tx.Append(ledger.Record{Entity: "redemption", EntityID: strconv.FormatInt(r.ID, 10),
			Actor: actor, At: now, Data: ledger.Reversed{ID: r.ID, VenueID: venueID, Reason: reason, Active: active, Void: void}})
	})
	return r, err
}

// checkUnsettled refuses to reverse a redemption whose month is closed for
// one of its vouchers' départements: that money is already paid. The shared
// lock makes a concurrent closing wait for this reversal, or this reversal
// see the closing.
func checkUnsettled(tx *ledger.Tx, r ledger.Redemption) error {
	var depts []string
	if err := tx.Raw(`SELECT DISTINCT b.department_code FROM redemption_items i
		JOIN vouchers v ON v.serial = i.voucher_serial JOIN batches b ON b.id = v.batch_id
		WHERE i.redemption_id = ? ORDER BY b.department_code`, r.ID).Scan(&depts).Error; err != nil {
		return err
	}
	if err := tx.LockDepartments(false, depts...); err != nil {
		return err
	}
	day := ledger.Date(voucher.Today(r.CreatedAt))
	var closed int64
	if err := tx.Model(&ledger.SettlementPeriod{}).Where("department_code IN ? AND first_day <= ? AND last_day >= ?", depts, day, day).
		Count(&closed).Error; err != nil {
		return err
	}
	if closed > 0 {
		return passnum.Errorf(passnum.KindConflict, EPeriodSettled, "Cet encaissement appartient à une période déjà close pour le remboursement : il ne peut plus être annulé. Contactez le département, qui fera une régularisation.")
	}
	return nil
}

func find(db *gorm.DB, venueID, id int64) (ledger.Redemption, error) {
	var r ledger.Redemption
	err := db.Where("id = ? AND venue_id = ?", id, venueID).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		// Another venue's redemption is "not found" too: venues see only their own.
		return r, passnum.NotFound("Encaissement %d introuvable dans votre structure.", id)
	}
	return r, err
}

// Redemption is a redemption with its items.
type Redemption struct {
	ledger.Redemption
	Items []ledger.RedemptionItem
}

// Get returns one of the venue's redemptions. Errors: not_found.
func (s *Service) Get(ctx context.Context, venueID, id int64) (Redemption, error) {
	db := s.DB.Read(ctx)
	r, err := find(db, venueID, id)
	if err != nil {
		return Redemption{}, err
	}
	out := Redemption{Redemption: r}
	err = db.Where("redemption_id = ?", id).Order("voucher_serial").Find(&out.Items).Error
	return out, err
}

// List returns the venue's redemptions accepted by the server in [from, to),
// newest first, at most limit.
func (s *Service) List(ctx context.Context, venueID int64, from, to time.Time, limit int) ([]ledger.Redemption, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	var rs []ledger.Redemption
	err := s.DB.Read(ctx).Where("venue_id = ? AND created_at >= ? AND created_at < ?", venueID, from.UTC(), to.UTC()).
		Order("created_at DESC, id DESC").Limit(limit).Find(&rs).Error
	return rs, err
}
