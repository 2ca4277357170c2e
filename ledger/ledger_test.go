package ledger_test

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/voucher"
)

var epoch = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

// testEvent is the data of the events these tests append.
type testEvent struct {
	I int `json:"i"`
}

func (testEvent) EventType() string { return "test.event" }

func TestTranslateErrors(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		add := func(code string) error {
			return db.Tx(ctx, func(tx *ledger.Tx) error {
				return tx.Create(&ledger.Department{Code: code, Name: "x", CreatedAt: epoch}).Error
			})
		}
		if err := add("78"); err != nil {
			t.Fatal(err)
		}
		t.Run("Duplicate", func(t *testing.T) {
			if err := add("78"); !errors.Is(err, ledger.ErrDuplicate) {
				t.Fatalf("got %v, want ErrDuplicate", err)
			}
		})
		t.Run("ForeignKey", func(t *testing.T) {
			err := db.Tx(ctx, func(tx *ledger.Tx) error {
				return tx.Create(&ledger.VenueDepartment{VenueID: 999, DepartmentCode: "78"}).Error
			})
			if !errors.Is(err, ledger.ErrConstraint) {
				t.Fatalf("got %v, want ErrConstraint", err)
			}
		})
		t.Run("Check", func(t *testing.T) {
			err := db.Tx(ctx, func(tx *ledger.Tx) error {
				return tx.Create(&ledger.SigningKey{ID: 1, PublicKey: []byte{1}, Status: "bogus", CreatedAt: epoch}).Error
			})
			if !errors.Is(err, ledger.ErrConstraint) {
				t.Fatalf("got %v, want ErrConstraint", err)
			}
		})
		t.Run("NotFound", func(t *testing.T) {
			err := db.Tx(ctx, func(tx *ledger.Tx) error {
				var d ledger.Department
				return tx.Where("code = ?", "92").Take(&d).Error
			})
			if !errors.Is(err, ledger.ErrNotFound) {
				t.Fatalf("got %v, want ErrNotFound", err)
			}
		})
		t.Run("RollbackLosesNothingElse", func(t *testing.T) {
			err := db.Tx(ctx, func(tx *ledger.Tx) error {
				if err := tx.Create(&ledger.Department{Code: "92", Name: "y", CreatedAt: epoch}).Error; err != nil {
					return err
				}
				return errors.New("boom")
			})
			if err == nil || err.Error() != "boom" {
				t.Fatalf("got %v, want the function's own error", err)
			}
			var n int64
			db.Read(ctx).Model(&ledger.Department{}).Count(&n)
			if n != 1 {
				t.Fatalf("%d départements after a rolled-back insert, want 1", n)
			}
		})
	})
}

// TestReserveConcurrent takes ranges from one counter in many transactions
// at once: the ranges must never overlap and must leave no gap.
func TestReserveConcurrent(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		const workers, per = 16, 7
		firsts := make(chan int64, workers)
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				err := db.Tx(context.Background(), func(tx *ledger.Tx) error {
					first, err := tx.Reserve("test", per)
					firsts <- first
					return err
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		close(firsts)
		seen := map[int64]bool{}
		for f := range firsts {
			for i := range int64(per) {
				if seen[f+i] {
					t.Fatalf("number %d handed out twice", f+i)
				}
				seen[f+i] = true
			}
		}
		for n := int64(1); n <= workers*per; n++ {
			if !seen[n] {
				t.Fatalf("number %d never handed out: a gap", n)
			}
		}
	})
}

func TestBulkInsert(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		const n = 2345 // several SQLite statements, with a short last one
		rows := func(yield func([]any) bool) {
			row := make([]any, 2)
			for i := range n {
				row[0], row[1] = fmt.Sprintf("c%05d", i), int64(i)
				if !yield(row) {
					return
				}
			}
		}
		err := db.Tx(ctx, func(tx *ledger.Tx) error {
			got, err := tx.BulkInsert(ctx, "counters", []string{"name", "next"}, rows)
			if got != n {
				t.Errorf("inserted %d rows, want %d", got, n)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var count, sum int64
		db.Read(ctx).Model(&ledger.Counter{}).Count(&count)
		db.Read(ctx).Model(&ledger.Counter{}).Select("SUM(next)").Scan(&sum)
		if count != n || sum != n*(n-1)/2 {
			t.Fatalf("count %d sum %d", count, sum)
		}
		// A duplicate row makes the whole insert fail and roll back.
		err = db.Tx(ctx, func(tx *ledger.Tx) error {
			_, err := tx.BulkInsert(ctx, "counters", []string{"name", "next"}, func(yield func([]any) bool) {
				_ = yield([]any{"fresh", int64(1)}) && yield([]any{"c00001", int64(1)})
			})
			return err
		})
		if !errors.Is(err, ledger.ErrDuplicate) {
			t.Fatalf("got %v, want ErrDuplicate", err)
		}
		db.Read(ctx).Model(&ledger.Counter{}).Where("name = 'fresh'").Count(&count)
		if count != 0 {
			t.Fatal("a failed bulk insert left rows behind")
		}
	})
}

// testSigner returns the signer of the documented test key, recorded in db.
func testSigner(t *testing.T, db *ledger.DB) (*voucher.Signer, *voucher.KeySet) {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	s, err := voucher.NewSigner(1, priv)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Tx(context.Background(), func(tx *ledger.Tx) error {
		return tx.Create(&ledger.SigningKey{ID: 1, PublicKey: s.Public(), Status: "active", CreatedAt: epoch, VerificationSecretFrom: ledger.SecretFromKey}).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	ks := voucher.NewKeySet()
	if err := ks.Add(1, s.Public(), voucher.KeyActive); err != nil {
		t.Fatal(err)
	}
	return s, ks
}

func appendEvents(t *testing.T, db *ledger.DB, n int) {
	t.Helper()
	for i := range n {
		err := db.Tx(context.Background(), func(tx *ledger.Tx) error {
			return tx.Append(ledger.Record{Entity: "test", EntityID: fmt.Sprint(i),
				Actor: "test", At: epoch.Add(time.Duration(i) * time.Second), Data: testEvent{I: i}})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestAppendTypeFromData appends a shared data struct under each of its
// types, and refuses it under another type or none: the type an event is
// stored with is always one its data belongs to.
func TestAppendTypeFromData(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		add := func(data ledger.EventData) error {
			return db.Tx(ctx, func(tx *ledger.Tx) error {
				return tx.Append(ledger.Record{Entity: "key", EntityID: "1", Actor: "test", At: epoch, Data: data})
			})
		}
		for _, typ := range []string{ledger.EventKeyRetired, ledger.EventKeyRevoked} {
			if err := add(ledger.KeyChanged{Event: typ, ID: 1}); err != nil {
				t.Fatal(err)
			}
		}
		for _, bad := range []ledger.EventData{ledger.KeyChanged{Event: ledger.EventKeyAdded, ID: 1}, ledger.KeyChanged{ID: 1}, nil} {
			if err := add(bad); err == nil {
				t.Errorf("appended %#v", bad)
			}
		}
		var got []ledger.Event
		if err := db.Read(ctx).Order("id").Find(&got).Error; err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Type != ledger.EventKeyRetired || got[1].Type != ledger.EventKeyRevoked || got[1].Data != `{"id":1}` {
			t.Fatalf("events %+v", got)
		}
	})
}

func TestSealAndVerifyChain(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		signer, ks := testSigner(t, db)
		db.Clock = func() time.Time { return epoch }
		s := &ledger.Sealer{DB: db, Signer: signer, PassSize: 4}
		appendEvents(t, db, 10)
		res, err := s.Seal(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		if res.Sealed != 10 || res.Head != 10 || !res.Checkpoint {
			t.Fatalf("seal result %+v", res)
		}
		appendEvents(t, db, 3)
		if res, err = s.Seal(ctx, false); err != nil || res.Sealed != 3 || res.Head != 13 {
			t.Fatalf("second seal %+v %v", res, err)
		}
		rep, err := db.VerifyChain(ctx, ks)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Events != 13 || rep.Checkpoints < 2 || rep.SignedUpTo != 13 {
			t.Fatalf("report %+v", rep)
		}
		// Nothing left to seal: a forced seal writes no second checkpoint at the same head.
		if res, err = s.Seal(ctx, true); err != nil || res.Sealed != 0 || res.Checkpoint {
			t.Fatalf("idle seal %+v %v", res, err)
		}
	})
}

// TestSealersConcurrent runs several sealers at once while events keep
// arriving: every event is sealed exactly once and the chain verifies.
func TestSealersConcurrent(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		signer, ks := testSigner(t, db)
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for i := range 25 {
					err := db.Tx(ctx, func(tx *ledger.Tx) error {
						return tx.Append(ledger.Record{Entity: "test", EntityID: fmt.Sprint(w, "-", i), Actor: "test", At: epoch, Data: testEvent{I: i}})
					})
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
			wg.Go(func() {
				s := &ledger.Sealer{DB: db, Signer: signer, PassSize: 7}
				for range 10 {
					if _, err := s.Seal(ctx, false); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		s := &ledger.Sealer{DB: db, Signer: signer}
		if _, err := s.Seal(ctx, true); err != nil {
			t.Fatal(err)
		}
		rep, err := db.VerifyChain(ctx, ks)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Events != 100 || rep.SignedUpTo != 100 {
			t.Fatalf("report %+v", rep)
		}
	})
}

// TestVerifyChainCatchesTampering edits, deletes, reorders and rewrites
// events behind the ledger's back; verification must name the first bad one.
func TestVerifyChainCatchesTampering(t *testing.T) {
	cases := []struct {
		name    string
		tamper  []string // SQL run after sealing
		wantSeq int64
	}{
		{"Edited", []string{`UPDATE events SET data = '{"i":99}' WHERE seq = 4`}, 4},
		{"Deleted", []string{`DELETE FROM events WHERE seq = 5`}, 5},
		{"DeletedLast", []string{`DELETE FROM events WHERE seq = 8`}, 8},
		{"Reordered", []string{`UPDATE events SET seq = -3 WHERE seq = 3`,
			`UPDATE events SET seq = 3 WHERE seq = 6`, `UPDATE events SET seq = 6 WHERE seq = -3`}, 3},
		{"HashCleared", []string{`UPDATE events SET entity_id = 'forged', hash = NULL WHERE seq = 2`}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
				ctx := context.Background()
				signer, ks := testSigner(t, db)
				appendEvents(t, db, 8)
				db.Clock = func() time.Time { return epoch }
				s := &ledger.Sealer{DB: db, Signer: signer}
				if _, err := s.Seal(ctx, true); err != nil {
					t.Fatal(err)
				}
				if _, err := db.VerifyChain(ctx, ks); err != nil {
					t.Fatalf("before tampering: %v", err)
				}
				for _, q := range c.tamper {
					if err := db.Read(ctx).Exec(q).Error; err != nil {
						t.Fatal(err)
					}
				}
				_, err := db.VerifyChain(ctx, ks)
				var ce *ledger.ChainError
				if !errors.As(err, &ce) {
					t.Fatalf("got %v, want a ChainError", err)
				}
				if ce.Seq != c.wantSeq {
					t.Fatalf("first bad entry #%d, want #%d: %v", ce.Seq, c.wantSeq, err)
				}
				t.Log(err)
			})
		})
	}
}

// TestVerifyChainCatchesRecomputedChain rewrites an event and recomputes
// every later hash, as an insider with database access could: only the
// signed checkpoint can tell, and it must.
func TestVerifyChainCatchesRecomputedChain(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		signer, ks := testSigner(t, db)
		appendEvents(t, db, 6)
		db.Clock = func() time.Time { return epoch }
		s := &ledger.Sealer{DB: db, Signer: signer}
		if _, err := s.Seal(ctx, true); err != nil {
			t.Fatal(err)
		}
		var evs []ledger.Event
		db.Read(ctx).Order("seq").Find(&evs)
		evs[2].EntityID = "forged"
		var c ledger.Chain
		for i := range evs {
			evs[i].Hash = c.Next(&evs[i])
			if err := db.Read(ctx).Save(&evs[i]).Error; err != nil {
				t.Fatal(err)
			}
		}
		_, err := db.VerifyChain(ctx, ks)
		var ce *ledger.ChainError
		if !errors.As(err, &ce) || ce.Seq != 6 {
			t.Fatalf("got %v, want the checkpoint at #6 to disagree", err)
		}
		t.Log(err)
	})
}

// TestSealerRun checks that the background sealer seals what arrives while it
// runs, and stops when its context ends.
func TestSealerRun(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		signer, ks := testSigner(t, db)
		s := &ledger.Sealer{DB: db, Signer: signer}
		done := make(chan struct{})
		go func() {
			s.Run(ctx, 5*time.Millisecond)
			close(done)
		}()
		appendEvents(t, db, 5)
		var unsealed int64 = -1
		for range 1000 {
			db.Read(context.Background()).Model(&ledger.Event{}).Where("seq IS NULL").Count(&unsealed)
			if unsealed == 0 {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
		<-done
		if unsealed != 0 {
			t.Fatalf("%d events still unsealed while the sealer ran", unsealed)
		}
		if rep, err := db.VerifyChain(context.Background(), ks); err != nil || rep.Events != 5 || rep.SignedUpTo != 5 {
			t.Fatalf("%+v %v", rep, err)
		}
	})
}

// TestUnavailable checks that what a database restart looks like to a
// server is told apart from a bad request: a refused connection, and a
// session ended by the server.
func TestUnavailable(t *testing.T) {
	ctx := context.Background()
	refused, err := sql.Open("pgx", "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	defer refused.Close()
	if err := refused.PingContext(ctx); !ledger.Unavailable(err) {
		t.Fatalf("a refused connection: %v is not unavailable", err)
	}
	if ledger.Unavailable(errors.New("syntax error")) || ledger.Unavailable(ledger.ErrDuplicate) {
		t.Fatal("an ordinary error counted as unavailable")
	}
	db := ledgertest.Open(t, ledger.Postgres)
	sqlDB, err := db.Read(ctx).DB()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var pid int
	if err := conn.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if err := db.Read(ctx).Exec("SELECT pg_terminate_backend(?)", pid).Error; err != nil {
		t.Fatal(err)
	}
	_, err = conn.ExecContext(ctx, "SELECT 1")
	if !ledger.Unavailable(err) {
		t.Fatalf("a session terminated by the server: %v is not unavailable", err)
	}
	// The same connection once the driver knows it is gone ("conn closed",
	// seen in the chaos test while PostgreSQL restarted).
	_, err = conn.ExecContext(ctx, "SELECT 1")
	if !ledger.Unavailable(err) {
		t.Fatalf("a connection already lost: %v is not unavailable", err)
	}
}

// TestTxNow checks the one clock: a transaction reads the database's clock
// once, in UTC to the microsecond, and tx.Now, the rows GORM timestamps in
// it and its events are that one instant, however the clock moves
// meanwhile; the next transaction reads it again.
func TestTxNow(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		at := epoch.In(time.FixedZone("CET", 3600)).Add(123456789 * time.Nanosecond)
		db.Clock = func() time.Time { at = at.Add(time.Millisecond); return at } // moves on every read
		var now time.Time
		err := db.Tx(ctx, func(tx *ledger.Tx) error {
			now = tx.Now()
			if err := tx.Create(&ledger.Department{Code: "78", Name: "Yvelines"}).Error; err != nil { // CreatedAt left to GORM
				return err
			}
			return tx.Append(ledger.Record{Entity: "department", EntityID: "78", Actor: "test", At: tx.Now(), Data: testEvent{I: 1}})
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := epoch.Add(124456 * time.Microsecond); !now.Equal(want) || now.Location() != time.UTC {
			t.Fatalf("tx.Now() = %v, want %v in UTC", now, want)
		}
		var d ledger.Department
		var ev ledger.Event
		if err := db.Read(ctx).Take(&d, "code = ?", "78").Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Read(ctx).Take(&ev).Error; err != nil {
			t.Fatal(err)
		}
		if !d.CreatedAt.Equal(now) || !ev.CreatedAt.Equal(now) {
			t.Fatalf("the row says %v and the event %v, want both %v", d.CreatedAt, ev.CreatedAt, now)
		}
		if err := db.Tx(ctx, func(tx *ledger.Tx) error {
			if !tx.Now().After(now) {
				t.Errorf("the next transaction's instant %v is not after %v", tx.Now(), now)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestSQLiteSyncsEveryCommit: every connection of the SQLite pool syncs
// the WAL at each commit (synchronous FULL), so that an acknowledged
// redemption survives a power cut, not only a crash of the process.
func TestSQLiteSyncsEveryCommit(t *testing.T) {
	db, err := ledger.Open(context.Background(), ledgertest.URL(t, ledger.SQLite))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Hold several connections at once, so that the pool opens more than one.
	conns := make([]*sql.Conn, 4)
	for i := range conns {
		if conns[i], err = db.SQL().Conn(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer conns[i].Close()
	}
	for i, c := range conns {
		var mode int
		if err := c.QueryRowContext(context.Background(), "PRAGMA synchronous").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if mode != 2 { // 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA
			t.Errorf("connection %d: synchronous = %d, want 2 (FULL)", i, mode)
		}
	}
}
