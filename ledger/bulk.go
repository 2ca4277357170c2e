package ledger

import (
	"context"
	"fmt"
	"iter"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// BulkInsert writes many rows into table within the transaction: COPY on
// PostgreSQL, multi-row prepared INSERTs on SQLite. rows yields one []any per
// row, in columns order; the slice may be reused by the iterator after the
// yield returns. It is the path for issuing hundreds of thousands of
// vouchers, where per-row ORM inserts would cost several times the floor.
func (tx *Tx) BulkInsert(ctx context.Context, table string, columns []string, rows iter.Seq[[]any]) (int64, error) {
	if tx.dialect == Postgres {
		return tx.copyFrom(ctx, table, columns, rows)
	}
	return tx.insertMany(ctx, table, columns, rows)
}

func (tx *Tx) copyFrom(ctx context.Context, table string, columns []string, rows iter.Seq[[]any]) (n int64, err error) {
	err = tx.pgxConn(func(c *stdlib.Conn) error {
		next, stop := iter.Pull(rows)
		defer stop()
		n, err = c.Conn().CopyFrom(ctx, pgx.Identifier{table}, columns, &pulledRows{next: next})
		return err
	})
	if err != nil {
		return n, fmt.Errorf("copy into %s: %w", table, err)
	}
	return n, nil
}

// pulledRows adapts a pulled iterator to pgx.CopyFromSource.
type pulledRows struct {
	next func() ([]any, bool)
	row  []any
}

func (r *pulledRows) Next() bool {
	var ok bool
	r.row, ok = r.next()
	return ok
}
func (r *pulledRows) Values() ([]any, error) { return r.row, nil }
func (r *pulledRows) Err() error             { return nil }

// sqliteMaxVars stays under SQLite's default limit of 32,766 bound
// parameters per statement.
const sqliteMaxVars = 30000

func (tx *Tx) insertMany(ctx context.Context, table string, columns []string, rows iter.Seq[[]any]) (int64, error) {
	perStmt := max(1, min(500, sqliteMaxVars/len(columns)))
	stmtSQL := func(k int) string {
		one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(columns)), ",") + ")"
		return fmt.Sprintf("INSERT INTO %s (%s) VALUES %s", table, strings.Join(columns, ", "),
			strings.TrimSuffix(strings.Repeat(one+",", k), ","))
	}
	sqlTx := tx.Statement.ConnPool
	full, err := sqlTx.PrepareContext(ctx, stmtSQL(perStmt))
	if err != nil {
		return 0, fmt.Errorf("prepare insert into %s: %w", table, err)
	}
	defer full.Close()
	args := make([]any, 0, perStmt*len(columns))
	var n int64
	flush := func() error {
		k := len(args) / len(columns)
		if k == 0 {
			return nil
		}
		var err error
		if k == perStmt {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = sqlTx.ExecContext(ctx, stmtSQL(k), args...)
		}
		if err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
		n += int64(k)
		args = args[:0]
		return nil
	}
	for row := range rows {
		if len(row) != len(columns) {
			return n, fmt.Errorf("insert into %s: row has %d values for %d columns", table, len(row), len(columns))
		}
		args = append(args, row...)
		if len(args) == cap(args) {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	return n, flush()
}
