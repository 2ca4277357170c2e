package keys_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"passnum"
	"passnum/keys"
	"passnum/ledger"
	"passnum/ledger/ledgertest"
	"passnum/voucher"
)

func TestStoreRefusesReadableKeyFile(t *testing.T) {
	st := keys.Store{Dir: t.TempDir()}
	_, priv, _ := keys.Generate()
	if err := st.Write(1, priv); err != nil {
		t.Fatal(err)
	}
	got, err := st.Load(1)
	if err != nil || !got.Equal(priv) {
		t.Fatalf("load: %v", err)
	}
	if err := st.Write(1, priv); err == nil {
		t.Fatal("a key file was overwritten")
	}
	path := filepath.Join(st.Dir, "signing-1.pem")
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Load(1); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a world-readable key was loaded: %v", err)
	}
}

func TestStoreEnvironment(t *testing.T) {
	seed := make([]byte, ed25519.SeedSize)
	seed[0] = 7
	st := keys.Store{Dir: t.TempDir(), EnvKey: "3:" + base64.StdEncoding.EncodeToString(seed)}
	priv, err := st.Load(3)
	if err != nil || !priv.Equal(ed25519.NewKeyFromSeed(seed)) {
		t.Fatalf("env key: %v", err)
	}
	if _, err := st.Load(4); err == nil {
		t.Fatal("a key absent from the environment and the folder was loaded")
	}
	for _, bad := range []string{"3", "x:AAAA", "0:" + base64.StdEncoding.EncodeToString(seed), "3:short"} {
		if _, err := (keys.Store{Dir: st.Dir, EnvKey: bad}).Load(3); err == nil {
			t.Errorf("PASSNUM_SIGNING_KEY=%q was accepted", bad)
		}
	}
	if _, err := (keys.Store{Dir: st.Dir}).Secret(); err == nil {
		t.Fatal("a missing secret was accepted")
	}
	secret := make([]byte, 32)
	secret[0] = 9
	env := keys.Store{Dir: st.Dir, EnvSecret: base64.StdEncoding.EncodeToString(secret)}
	if s, err := env.Secret(); err != nil || !bytes.Equal(s, secret) {
		t.Fatalf("secret from the environment: %x, %v", s, err)
	}
	if _, err := (keys.Store{Dir: st.Dir, EnvSecret: "c2hvcnQ="}).Secret(); err == nil {
		t.Fatal("a 5-byte secret was accepted")
	}
}

// TestVerificationSecret: a key made now prints its codes with a secret
// derived from its own seed, also when the seed comes from the
// environment; a key recorded as made before (the migration's default)
// with the installation's secret; each read once.
func TestVerificationSecret(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		legacy := make([]byte, 32)
		legacy[0] = 1
		dir := t.TempDir()
		store := keys.Store{Dir: dir, EnvSecret: base64.StdEncoding.EncodeToString(legacy)}
		m := &keys.Manager{DB: db, Store: store}
		for range 2 {
			if _, err := m.New(ctx, "test"); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Read(ctx).Model(&ledger.SigningKey{}).Where("id = 1").
			Update("verification_secret_from", ledger.SecretFromInstallation).Error; err != nil {
			t.Fatal(err)
		}
		if s, err := m.VerificationSecret(ctx, 1); err != nil || !bytes.Equal(s, legacy) {
			t.Fatalf("key 1, made before: %x, %v; want the installation's secret", s, err)
		}
		signer, err := m.Signer(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := m.VerificationSecret(ctx, 2)
		if err != nil || !bytes.Equal(s2, signer.VerificationSecret()) || bytes.Equal(s2, legacy) {
			t.Fatalf("key 2: %x, %v; want its derived secret", s2, err)
		}
		// The environment's key brings its secret: no file is read.
		priv, err := store.Load(2)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(dir, "signing-2.pem"), filepath.Join(dir, "moved.pem")); err != nil {
			t.Fatal(err)
		}
		envStore := keys.Store{Dir: dir, EnvKey: "2:" + base64.StdEncoding.EncodeToString(priv.Seed())}
		fromEnv := &keys.Manager{DB: db, Store: envStore}
		if s, err := fromEnv.VerificationSecret(ctx, 2); err != nil || !bytes.Equal(s, s2) {
			t.Fatalf("key 2 from the environment: %x, %v", s, err)
		}
		// Read once: the cached secret outlives the file.
		if s, err := m.VerificationSecret(ctx, 2); err != nil || !bytes.Equal(s, s2) {
			t.Fatalf("key 2 again: %v", err)
		}
		if _, err := (&keys.Manager{DB: db, Store: keys.Store{Dir: dir}}).VerificationSecret(ctx, 1); err == nil {
			t.Fatal("key 1 without the installation's secret: no error")
		}
		// Safe for concurrent use: a server's requests share one Manager.
		fresh := &keys.Manager{DB: db, Store: envStore}
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for range 20 {
			wg.Go(func() {
				if s, err := fresh.VerificationSecret(ctx, 2); err != nil || !bytes.Equal(s, s2) {
					errs <- fmt.Errorf("concurrent read: %x, %v", s, err)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	})
}

func TestManagerLifecycle(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		m := &keys.Manager{DB: db, Store: keys.Store{Dir: t.TempDir()}}
		if _, err := m.Signer(ctx); passnum.ErrorCode(err) != keys.ENoActiveKey {
			t.Fatalf("signer without keys: %v", err)
		}
		k1, err := m.New(ctx, "test")
		if err != nil {
			t.Fatal(err)
		}
		k2, err := m.New(ctx, "test")
		if err != nil {
			t.Fatal(err)
		}
		s, err := m.Signer(ctx)
		if err != nil || int16(s.KeyID()) != k2.ID {
			t.Fatalf("active signer %v, %v; want key %d", s, err, k2.ID)
		}
		ks, err := db.KeySet(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if k, _ := ks.Key(byte(k1.ID)); k.Status != voucher.KeyRetired {
			t.Fatalf("key %d is %s after a new key, want retired", k1.ID, k.Status)
		}
		// A retired key still re-creates its codes; a revoked one does not.
		if _, err := m.SignerFor(ctx, k1.ID); err != nil {
			t.Fatal(err)
		}
		if err := m.Retire(ctx, int(k2.ID), "test"); passnum.ErrorCode(err) != keys.EKeyActive {
			t.Fatalf("retiring the active key: %v", err)
		}
		if err := m.Retire(ctx, int(k1.ID), "test"); passnum.ErrorCode(err) != passnum.EConflict {
			t.Fatalf("retiring twice: %v", err)
		}
		if err := m.Revoke(ctx, int(k1.ID), "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := m.SignerFor(ctx, k1.ID); passnum.ErrorCode(err) != passnum.EConflict {
			t.Fatalf("revoked key still signs: %v", err)
		}
		if err := m.Revoke(ctx, 99, "test"); passnum.ErrorCode(err) != keys.EKeyNotFound {
			t.Fatalf("revoking an unknown key: %v", err)
		}
		var events int64
		db.Read(ctx).Model(&ledger.Event{}).Where("entity = 'key'").Count(&events)
		if events != 4 { // added, retired, added, revoked
			t.Fatalf("%d key events, want 4", events)
		}
	})
}

func TestSignerRefusesMismatchedKeyFile(t *testing.T) {
	ledgertest.Each(t, func(t *testing.T, db *ledger.DB) {
		ctx := context.Background()
		dir := t.TempDir()
		m := &keys.Manager{DB: db, Store: keys.Store{Dir: dir}}
		if _, err := m.New(ctx, "test"); err != nil {
			t.Fatal(err)
		}
		// Replace the key file with another key: signing must refuse.
		os.Remove(filepath.Join(dir, "signing-1.pem"))
		_, other, _ := keys.Generate()
		if err := m.Store.Write(1, other); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Signer(ctx); err == nil || !strings.Contains(err.Error(), "does not match") {
			t.Fatalf("a mismatched key file was used: %v", err)
		}
	})
}
