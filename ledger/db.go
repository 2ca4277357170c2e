// Package ledger is passnum's persistence: the GORM models, opening
// PostgreSQL or an embedded SQLite file, the schema migrations, the
// translation of driver errors, and the event log with its sealer.
//
// Services own their transactions: they call DB.Tx and run their queries on
// the *Tx it hands them, so that a state change and its ledger event always
// commit together.
package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"passnum/migrations"
)

// Dialect names the database behind a DB.
type Dialect string

const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// DB is an open database. It is safe for concurrent use.
type DB struct {
	gorm    *gorm.DB
	sql     *sql.DB
	dialect Dialect
	url     string
	// Clock is the installation's one clock (time.Now by default). Every
	// "now" a service uses comes from it, through Now outside a transaction
	// and Tx.Now inside one, so a test or the demo sets it once, here,
	// before the first query; it is not changed while the DB is in use.
	Clock func() time.Time
}

// Now is the current time from the clock, in UTC and to the microsecond:
// what both databases store, so that a time read back equals the time
// written.
func (db *DB) Now() time.Time { return db.Clock().UTC().Truncate(time.Microsecond) }

// Open opens the database named by url without migrating it. A postgres:// or
// postgresql:// URL uses PostgreSQL; anything else is the path of an SQLite
// file, created if absent.
func Open(ctx context.Context, dbURL string) (*DB, error) {
	cfg := &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true, // services open the transactions they need
	}
	var (
		g       *gorm.DB
		err     error
		dialect Dialect
	)
	switch dialect = DialectOf(dbURL); dialect {
	case Postgres:
		g, err = gorm.Open(postgres.Open(dbURL), cfg)
	default:
		var dsn string
		dsn, err = sqliteDSN(dbURL)
		if err == nil {
			g, err = gorm.Open(sqlite.Open(dsn), cfg)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, err
	}
	db := &DB{gorm: g, sql: sqlDB, dialect: dialect, url: dbURL, Clock: time.Now}
	// GORM's own timestamps (autoCreateTime) come from the same clock.
	g.Config.NowFunc = db.Now
	if dialect == SQLite {
		// WAL lets readers run beside the one writer; every write transaction
		// starts with BEGIN IMMEDIATE (see sqliteDSN), so writers queue on the
		// busy timeout instead of failing with "database is locked" when a
		// read transaction tries to upgrade.
		sqlDB.SetMaxOpenConns(8)
		sqlDB.SetMaxIdleConns(8)
		sqlDB.SetConnMaxLifetime(0)
	} else {
		sqlDB.SetMaxOpenConns(32)
		sqlDB.SetMaxIdleConns(32)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("connect to %s database: %w", dialect, err)
	}
	return db, nil
}

// DialectOf tells which database a URL names: postgres:// and
// postgresql:// are PostgreSQL, anything else an SQLite file.
func DialectOf(dbURL string) Dialect {
	if strings.HasPrefix(dbURL, "postgres://") || strings.HasPrefix(dbURL, "postgresql://") {
		return Postgres
	}
	return SQLite
}

// sqliteDSN turns a file path into the driver's DSN with the pragmas that
// every connection needs.
func sqliteDSN(path string) (string, error) {
	if path == "" {
		return "", errors.New("empty SQLite path: give a file path or a postgres:// URL")
	}
	if strings.ContainsAny(path, "?#") {
		return "", fmt.Errorf("the SQLite path %q may not contain '?' or '#'", path)
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", fmt.Errorf("create the database folder: %w", err)
		}
	}
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(ON)")
	// FULL, not NORMAL: in WAL mode NORMAL syncs the WAL only at
	// checkpoints, so a redemption the venue was told is accepted can roll
	// back after a power cut (https://sqlite.org/pragma.html#pragma_synchronous).
	// FULL syncs the WAL at every commit: about 0.9 ms per commit on this
	// machine's disk against 0.07, for a single writer, so a ceiling near a
	// thousand redemptions a second, far above any département's peak.
	q.Add("_pragma", "synchronous(FULL)")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode(), nil
}

// Dialect tells which database this is.
func (db *DB) Dialect() Dialect { return db.dialect }

// SQL is the connection pool, for its statistics (the metrics of passnum
// serve); queries go through Read and Tx.
func (db *DB) SQL() *sql.DB { return db.sql }

// Close closes the connection pool.
func (db *DB) Close() error { return db.sql.Close() }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.sql.PingContext(ctx) }

// Read returns a handle for queries outside any transaction.
func (db *DB) Read(ctx context.Context) *gorm.DB { return db.gorm.WithContext(ctx) }

// Tx is one read-write transaction. Its embedded *gorm.DB runs queries in
// the transaction; bulk inserts and events go through its own methods.
type Tx struct {
	*gorm.DB
	dialect Dialect
	conn    *sql.Conn // the connection the transaction holds, for COPY
	now     time.Time
}

// Now is the transaction's one instant, fixed when it began: every row and
// event it writes carries the same time, as if the change happened at once.
func (tx *Tx) Now() time.Time { return tx.now }

// Tx runs fn in a transaction and commits if fn returns nil. The error fn
// returns is passed through after translation of driver errors (Translate).
func (db *DB) Tx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return Translate(db.dialect, err)
	}
	defer conn.Close()
	sqlTx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return Translate(db.dialect, err)
	}
	now := db.Now()
	// GORM's own timestamps in the transaction are its instant too.
	g := db.gorm.Session(&gorm.Session{NewDB: true, Context: ctx, NowFunc: func() time.Time { return now }})
	g.Statement.ConnPool = sqlTx
	tx := &Tx{DB: g, dialect: db.dialect, conn: conn, now: now}
	defer func() {
		if p := recover(); p != nil {
			sqlTx.Rollback()
			panic(p)
		}
		if err != nil {
			sqlTx.Rollback()
			err = Translate(db.dialect, err)
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	return sqlTx.Commit()
}

// Dialect tells which database the transaction runs on.
func (tx *Tx) Dialect() Dialect { return tx.dialect }

// Migrate applies every pending migration, each in its own transaction.
func (db *DB) Migrate(ctx context.Context) error {
	p, err := db.migrator()
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate the %s schema: %w", db.dialect, err)
	}
	return nil
}

// SchemaVersion returns the schema version applied and the latest one this
// binary knows. serve refuses to start when they differ.
func (db *DB) SchemaVersion(ctx context.Context) (current, latest int64, err error) {
	p, err := db.migrator()
	if err != nil {
		return 0, 0, err
	}
	if current, err = p.GetDBVersion(ctx); err != nil {
		return 0, 0, fmt.Errorf("read the schema version: %w", err)
	}
	sources := p.ListSources()
	if len(sources) > 0 {
		latest = sources[len(sources)-1].Version
	}
	return current, latest, nil
}

// CheckSchema returns an error unless the schema is exactly at the version
// this binary expects.
func (db *DB) CheckSchema(ctx context.Context) error {
	current, latest, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	switch {
	case current < latest:
		return fmt.Errorf("the database schema is at version %d but this binary needs %d: run 'passnum migrate'", current, latest)
	case current > latest:
		return fmt.Errorf("the database schema is at version %d, newer than this binary (%d): upgrade passnum", current, latest)
	}
	return nil
}

func (db *DB) migrator() (*goose.Provider, error) {
	fsys, err := migrations.FS(string(db.dialect))
	if err != nil {
		return nil, err
	}
	d := goose.DialectPostgres
	if db.dialect == SQLite {
		d = goose.DialectSQLite3
	}
	return goose.NewProvider(d, db.sql, fsys)
}

// pgxConn runs fn with the pgx connection under the transaction, for COPY.
func (tx *Tx) pgxConn(fn func(c *stdlib.Conn) error) error {
	return tx.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("unexpected PostgreSQL driver connection %T", dc)
		}
		return fn(c)
	})
}
