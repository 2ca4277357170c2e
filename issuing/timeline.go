package issuing

import (
	"context"
	"fmt"

	"passnum"
	"passnum/ledger"
	"passnum/voucher"
)

// The programme timeline of a batch, counted back from its programme end.
const (
	// WarningDays before the end, the département is warned that the
	// programme is ending: time to hand over what is left.
	WarningDays = 30
	// DistributionStopDays before the end, new chéquiers can no longer be
	// handed over: a beneficiary needs time to use one.
	DistributionStopDays = 15
)

// DefaultGrace is the vouchers' last valid day for a programme ending on
// end: one calendar month later, so that a chéquier handed over late can
// still be used.
func DefaultGrace(end voucher.Day) voucher.Day { return end.AddMonths(1) }

// maxValidityYears bounds how far away a batch's validity may end: further
// is a mistyped year.
const maxValidityYears = 10

// checkDates checks a batch's dates (settled) against its timeline as of
// today: it must end in the future, leave time to hand its chéquiers over,
// and keep its vouchers valid at least until the programme ends.
func (r *BatchRequest) checkDates(today voucher.Day) error {
	switch {
	case r.ProgrammeEnd == 0:
		return passnum.Invalid("Donnez le dernier jour du programme, ou le dernier jour de validité des chèques.")
	case r.ValidUntil < today:
		return passnum.Invalid("Les chèques seraient valables jusqu'au %s, un jour déjà passé : choisissez une date à venir.", r.ValidUntil.French())
	case r.ValidUntil < r.ProgrammeEnd:
		return passnum.Invalid("Les chèques seraient valables jusqu'au %s, avant la fin du programme (%s) : leur dernier jour de validité est le %s ou plus tard.",
			r.ValidUntil.French(), r.ProgrammeEnd.French(), r.ProgrammeEnd.French())
	case r.ProgrammeEnd.AddDays(-DistributionStopDays) <= today:
		return passnum.Invalid("Le programme finirait le %s : la remise des chéquiers, qui s'arrête %d jours avant la fin, serait déjà close. Choisissez une fin après le %s.",
			r.ProgrammeEnd.French(), DistributionStopDays, today.AddDays(DistributionStopDays).French())
	case r.ValidFrom != 0 && r.ValidFrom > r.ValidUntil:
		return passnum.Invalid("Les chèques seraient valables à partir du %s, après leur dernier jour de validité (%s).", r.ValidFrom.French(), r.ValidUntil.French())
	case int(r.ValidUntil)-int(today) > maxValidityYears*366:
		return passnum.Invalid("Les chèques seraient valables jusqu'au %s, dans plus de %d ans : vérifiez l'année.", r.ValidUntil.French(), maxValidityYears)
	}
	return nil
}

// Stage is where a batch stands in its programme timeline.
type Stage string

const (
	StageRunning             Stage = "running"
	StageEnding              Stage = "ending"               // warning: the end is less than WarningDays away
	StageDistributionStopped Stage = "distribution_stopped" // no more hand-overs
	StageGrace               Stage = "grace"                // programme over, vouchers still redeemable
	StageExpired             Stage = "expired"              // vouchers no longer redeemable
)

// Timeline holds the dates of a batch's programme.
type Timeline struct {
	Stage            Stage       `json:"stage"`
	WarningFrom      voucher.Day `json:"warning_from"`
	DistributionStop voucher.Day `json:"distribution_stops_on"` // first day a hand-over is refused
	ProgrammeEnd     voucher.Day `json:"programme_end"`
	ValidUntil       voucher.Day `json:"valid_until"`
}

// TimelineOf returns a batch's timeline as of today (Europe/Paris).
func TimelineOf(b *ledger.Batch, today voucher.Day) Timeline {
	end := b.ProgrammeEnd.Day()
	t := Timeline{WarningFrom: end.AddDays(-WarningDays), DistributionStop: end.AddDays(-DistributionStopDays),
		ProgrammeEnd: end, ValidUntil: b.ValidUntil.Day()}
	switch {
	case today > t.ValidUntil:
		t.Stage = StageExpired
	case today > end:
		t.Stage = StageGrace
	case today >= t.DistributionStop:
		t.Stage = StageDistributionStopped
	case today >= t.WarningFrom:
		t.Stage = StageEnding
	default:
		t.Stage = StageRunning
	}
	return t
}

// Warning tells a département that one of its batches needs attention.
type Warning struct {
	BatchID    int64    `json:"batch_id"`
	Department string   `json:"department"`
	Stage      Stage    `json:"stage"`
	Timeline   Timeline `json:"timeline"`
	// NotHandedOut counts chéquiers still waiting to be handed over.
	NotHandedOut int64  `json:"not_handed_out"`
	Message      string `json:"message"` // in French, for the département's staff
}

// Warnings lists the batches of a département ("" for all) that are ending,
// stopped distributing or in their grace period, as of today.
func (s *Service) Warnings(ctx context.Context, department string, today voucher.Day) ([]Warning, error) {
	q := s.DB.Read(ctx).Where("valid_until >= ? AND programme_end <= ?",
		ledger.Date(today), ledger.Date(today.AddDays(WarningDays)))
	if department != "" {
		q = q.Where("department_code = ?", department)
	}
	var batches []ledger.Batch
	if err := q.Order("programme_end, id").Find(&batches).Error; err != nil {
		return nil, err
	}
	out := make([]Warning, 0, len(batches))
	for i := range batches {
		b := &batches[i]
		t := TimelineOf(b, today)
		var waiting int64
		if err := s.DB.Read(ctx).Model(&ledger.Chequier{}).
			Where("batch_id = ? AND status = ?", b.ID, ledger.ChequierIssued).Count(&waiting).Error; err != nil {
			return nil, err
		}
		out = append(out, Warning{BatchID: b.ID, Department: b.DepartmentCode, Stage: t.Stage, Timeline: t,
			NotHandedOut: waiting, Message: t.Message(b.ID, b.RequiresActivation, waiting)})
	}
	return out, nil
}

// Warned tells whether a batch's stage deserves a warning: from the
// warning day until its vouchers expire.
func (t Timeline) Warned() bool {
	return t.Stage == StageEnding || t.Stage == StageDistributionStopped || t.Stage == StageGrace
}

// Message is the warning for a batch at this stage, in French for the
// département's staff; waiting counts its chéquiers still to hand over,
// which only a batch with activation (tracked) knows: without it, no
// hand-over is recorded and a count would call every chéquier waiting.
func (t Timeline) Message(batch int64, tracked bool, waiting int64) string {
	switch t.Stage {
	case StageEnding:
		left := "."
		if tracked {
			left = fmt.Sprintf(" : %d %s à remettre.", waiting, passnum.Plural(waiting, "chéquier reste", "chéquiers restent"))
		}
		return fmt.Sprintf("Le programme du lot %d se termine le %s. La remise des chéquiers s'arrêtera le %s%s",
			batch, t.ProgrammeEnd.French(), t.DistributionStop.French(), left)
	case StageDistributionStopped:
		return fmt.Sprintf("La remise des chéquiers du lot %d est arrêtée depuis le %s ; le programme se termine le %s.",
			batch, t.DistributionStop.French(), t.ProgrammeEnd.French())
	default:
		return fmt.Sprintf("Le programme du lot %d est terminé ; les chèques restent utilisables jusqu'au %s inclus.",
			batch, t.ValidUntil.French())
	}
}
