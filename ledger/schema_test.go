package ledger_test

import (
	"context"
	"sort"
	"sync"
	"testing"

	"gorm.io/gorm/schema"

	"passnum/ledger"
	"passnum/ledger/ledgertest"
)

// models lists every GORM model; the migrations must create exactly these.
var models = []any{&ledger.Department{}, &ledger.Venue{}, &ledger.VenueDepartment{}, &ledger.VenueChangeRequest{}, &ledger.VenueChangeApproval{}, &ledger.SigningKey{},
	&ledger.Counter{}, &ledger.Batch{}, &ledger.Chequier{}, &ledger.Redemption{}, &ledger.Voucher{},
	&ledger.RedemptionItem{}, &ledger.Event{}, &ledger.Checkpoint{}, &ledger.APIKey{},
	&ledger.IdempotencyKey{}, &ledger.ManualEntryFailure{}, &ledger.Pairing{},
	&ledger.SettlementPeriod{}, &ledger.SettlementStatement{}, &ledger.SettlementAdjustment{},
	&ledger.WebSession{}, &ledger.Organisation{}, &ledger.Account{}, &ledger.LoginThrottle{}, &ledger.Membership{},
	&ledger.Invitation{}, &ledger.PasswordReset{}}

// TestSchemaMatchesModels checks, on both dialects, that the migrated schema
// has every table and column of the models with the same nullability and
// primary keys, and no column the models lack.
func TestSchemaMatchesModels(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		g := db.Read(context.Background())
		for _, m := range models {
			s, err := schema.Parse(m, &sync.Map{}, g.NamingStrategy)
			if err != nil {
				t.Fatal(err)
			}
			if !g.Migrator().HasTable(s.Table) {
				t.Errorf("table %s: missing from the migrations", s.Table)
				continue
			}
			cols, err := g.Migrator().ColumnTypes(m)
			if err != nil {
				t.Fatal(err)
			}
			pks := primaryKeys(t, db, s.Table)
			inDB := map[string]bool{}
			for _, c := range cols {
				inDB[c.Name()] = true
				f := s.LookUpField(c.Name())
				if f == nil {
					t.Errorf("%s.%s: in the schema but not in the model", s.Table, c.Name())
					continue
				}
				nullable, ok := c.Nullable()
				if !ok {
					continue
				}
				wantNullable := !f.NotNull && !f.PrimaryKey
				if nullable != wantNullable {
					t.Errorf("%s.%s: nullable is %v in the schema, %v in the model", s.Table, c.Name(), nullable, wantNullable)
				}
				if pk := pks[c.Name()]; pk != f.PrimaryKey {
					t.Errorf("%s.%s: primary key is %v in the schema, %v in the model", s.Table, c.Name(), pk, f.PrimaryKey)
				}
			}
			var missing []string
			for _, f := range s.Fields {
				if f.DBName != "" && !inDB[f.DBName] {
					missing = append(missing, f.DBName)
				}
			}
			sort.Strings(missing)
			if len(missing) > 0 {
				t.Errorf("%s: model fields without a column: %v", s.Table, missing)
			}
		}
	})
}

func TestMigrateTwiceAndSchemaVersion(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		cur, latest, err := db.SchemaVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cur != latest || cur < 1 {
			t.Fatalf("schema version %d, latest %d", cur, latest)
		}
		if err := db.CheckSchema(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func TestCheckSchemaRefusesEmptyDatabase(t *testing.T) {
	for _, d := range []ledger.Dialect{ledger.SQLite, ledger.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			db, err := ledger.Open(context.Background(), ledgertest.URL(t, d))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			err = db.CheckSchema(context.Background())
			if err == nil {
				t.Fatal("an unmigrated database passed the schema check")
			}
			t.Log(err)
		})
	}
}

// primaryKeys reads a table's primary key columns from the catalogue (the
// GORM SQLite driver's DDL parser misses composite keys).
func primaryKeys(t *testing.T, db *ledger.DB, table string) map[string]bool {
	q := `SELECT name FROM pragma_table_info(?) WHERE pk > 0`
	if db.Dialect() == ledger.Postgres {
		q = `SELECT a.attname FROM pg_index i
			JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
			WHERE i.indrelid = ?::regclass AND i.indisprimary`
	}
	var names []string
	if err := db.Read(context.Background()).Raw(q, table).Scan(&names).Error; err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, n := range names {
		out[n] = true
	}
	return out
}
