package ledger

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	gosqlite "github.com/glebarez/go-sqlite"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// The few storage errors services need to tell apart. Driver errors are
// mapped to these in Translate, once per dialect; callers use errors.Is.
var (
	ErrNotFound   = errors.New("not found")
	ErrDuplicate  = errors.New("already exists")
	ErrConstraint = errors.New("constraint violated")
	// ErrBusy means the database refused the transaction for concurrency
	// reasons (serialization failure, deadlock, lock timeout); a retry of the
	// whole transaction may succeed.
	ErrBusy = errors.New("database busy")
)

// Translate maps a driver error of the given dialect to one of the
// sentinels above, keeping the driver's text for logs. Errors that are not
// driver errors are returned unchanged.
func Translate(d Dialect, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrDuplicate) ||
		errors.Is(err, ErrConstraint) || errors.Is(err, ErrBusy) {
		return err
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	var sentinel error
	if d == Postgres {
		sentinel = translatePostgres(err)
	} else {
		sentinel = translateSQLite(err)
	}
	if sentinel == nil {
		return err
	}
	return fmt.Errorf("%w: %v", sentinel, err)
}

func translatePostgres(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return nil
	}
	switch pgErr.Code {
	case "23505": // unique_violation
		return ErrDuplicate
	case "23503", "23514", "23502": // foreign_key, check, not_null
		return ErrConstraint
	case "40001", "40P01", "55P03": // serialization_failure, deadlock_detected, lock_not_available
		return ErrBusy
	}
	return nil
}

// SQLite result codes (https://sqlite.org/rescode.html); the driver gives the
// extended code, whose low byte is the primary code.
const (
	sqliteBusy             = 5
	sqliteLocked           = 6
	sqliteConstraint       = 19
	sqliteConstraintPK     = 1555
	sqliteConstraintUnique = 2067
)

func translateSQLite(err error) error {
	var sErr *gosqlite.Error
	if !errors.As(err, &sErr) {
		return nil
	}
	switch code := sErr.Code(); {
	case code == sqliteConstraintUnique, code == sqliteConstraintPK:
		return ErrDuplicate
	case code&0xff == sqliteConstraint:
		return ErrConstraint
	case code&0xff == sqliteBusy, code&0xff == sqliteLocked:
		return ErrBusy
	}
	return nil
}

// Unavailable reports whether err means the database cannot be reached
// right now (refused or lost connection, server shutting down or starting
// up), rather than a problem with the request: worth a retry in a moment.
func Unavailable(err error) bool {
	var (
		connect *pgconn.ConnectError
		pgErr   *pgconn.PgError
		netErr  net.Error
	)
	switch {
	case errors.As(err, &pgErr):
		// Class 08: connection exception; 57P01-03: admin shutdown, crash
		// shutdown, cannot connect now (starting up or recovering).
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	case errors.As(err, &connect), errors.As(err, &netErr),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET):
		return true
	}
	return false
}
