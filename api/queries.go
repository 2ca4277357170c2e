package api

import (
	"context"
	"errors"

	"gorm.io/gorm"

	"passnum"
	"passnum/ledger"
)

// findChequier reads a chéquier by its canonical number. Errors: not_found,
// with the message a département's staff sees.
func (s *server) findChequier(ctx context.Context, number string) (ledger.Chequier, error) {
	var c ledger.Chequier
	err := s.DB.Read(ctx).Where("number = ?", number).Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return c, notFoundChequier(number)
	}
	return c, err
}

func notFoundChequier(number string) error {
	return passnum.NotFound("Chéquier %s introuvable : vérifiez son numéro sur la couverture.", number)
}
