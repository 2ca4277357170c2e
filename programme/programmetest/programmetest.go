// Package programmetest makes valid venue identities for tests.
package programmetest

import (
	"context"
	"fmt"
	"testing"

	"passnum/programme"
)

// SIRET returns a valid SIRET, distinct for each n (n < 10^8).
func SIRET(n int) string {
	base := fmt.Sprintf("8%012d", n)
	for key := range 10 {
		s := fmt.Sprintf("%s%d", base, key)
		if _, err := programme.CheckSIRET(s); err == nil {
			return s
		}
	}
	panic("unreachable: one Luhn key in ten fits")
}

// IBAN is a valid French IBAN for tests (the example of the French
// banking federation).
const IBAN = "FR7630006000011234567890189"

// Venue is the input for a valid venue labelled for the given départements.
func Venue(n int, name string, departments ...string) programme.VenueInput {
	return programme.VenueInput{Name: name, SIRET: SIRET(n), Address: fmt.Sprintf("%d rue de la République, 78000 Versailles", n),
		IBAN: IBAN, Contact: "accueil@example.org", Departments: departments}
}

// PayingOffice gives a département its paying office, as two people do:
// "test" asks for it and "test-finances" confirms it (ConfirmSettings).
func PayingOffice(tb testing.TB, s *programme.Service, code, name, iban string) {
	tb.Helper()
	ctx := context.Background()
	if _, err := s.UpdateDepartment(ctx, code, programme.DepartmentChanges{PayerName: &name, PayerIBAN: &iban}, "test"); err != nil {
		tb.Fatal(err)
	}
	if _, _, err := s.ConfirmSettings(ctx, code, "test-finances"); err != nil {
		tb.Fatal(err)
	}
}
