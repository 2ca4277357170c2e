package voucher

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func pub(n int) ed25519.PublicKey { return testKey(n).Public().(ed25519.PublicKey) }

func TestKeySetAdd(t *testing.T) {
	ks := NewKeySet()
	if err := ks.Add(1, pub(1), KeyActive); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name   string
		id     byte
		key    ed25519.PublicKey
		status KeyStatus
	}{
		{"id 0", 0, pub(2), KeyActive},
		{"short key", 2, pub(2)[:31], KeyActive},
		{"nil key", 2, nil, KeyActive},
		{"long key", 2, append(pub(2), 0), KeyActive},
		{"empty status", 2, pub(2), ""},
		{"unknown status", 2, pub(2), "Active"},
		{"duplicate id", 1, pub(2), KeyActive},
	}
	for _, c := range bad {
		if err := ks.Add(c.id, c.key, c.status); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
	if n := len(ks.Keys()); n != 1 {
		t.Errorf("%d keys after failed adds, want 1", n)
	}
}

func TestKeySetKeys(t *testing.T) {
	var ks KeySet // the zero value works
	for _, id := range []byte{200, 3, 17, 1} {
		if err := ks.Add(id, pub(int(id)), KeyRetired); err != nil {
			t.Fatal(err)
		}
	}
	keys := ks.Keys()
	var ids []byte
	for _, k := range keys {
		ids = append(ids, k.ID)
	}
	if fmt.Sprint(ids) != "[1 3 17 200]" {
		t.Errorf("ids %v, want sorted", ids)
	}
	keys[0].Key[0] ^= 0xff // copies: the set must not change
	if k, ok := ks.Key(1); !ok || !k.Key.Equal(pub(1)) || k.Status != KeyRetired {
		t.Errorf("Key(1) = %+v, %v", k, ok)
	}
	if _, ok := ks.Key(2); ok {
		t.Error("Key(2) found")
	}
}

func TestKeySetStatus(t *testing.T) {
	ks := testKeySet(t)
	code, err := testSigner(t, 1, 1).Sign(testVoucher(t))
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		status KeyStatus
		want   error
	}{{KeyRetired, nil}, {KeyRevoked, ErrRevokedKey}, {KeyActive, nil}}
	for _, s := range steps {
		if err := ks.SetStatus(1, s.status); err != nil {
			t.Fatal(err)
		}
		if _, err := ks.Verify(code); !errors.Is(err, s.want) || (s.want == nil && err != nil) {
			t.Errorf("status %s: Verify = %v, want %v", s.status, err, s.want)
		}
	}
	if err := ks.SetStatus(9, KeyRetired); err == nil {
		t.Error("SetStatus of an unknown key succeeded")
	}
	if err := ks.SetStatus(1, "lost"); err == nil {
		t.Error("SetStatus to an unknown status succeeded")
	}
	var empty KeySet
	if _, err := empty.Verify(code); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("empty set: %v", err)
	}
	var nilSet *KeySet
	if _, err := nilSet.Verify(code); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("nil set: %v", err)
	}
}

const testKeysJSON = `{"keys":[` +
	`{"id":1,"public_key":"A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=","status":"active"},` +
	`{"id":2,"public_key":"Kay64UG8yvCyLhqU000LxzYeUm0L/hLIl5S8kyKWbdc=","status":"retired"},` +
	`{"id":3,"public_key":"JUO5L/EJVRFHatyDadtt3JM2ZaEZeN2hQE7hBmypVZ0=","status":"revoked"}]}`

func TestKeySetJSON(t *testing.T) {
	b, err := json.Marshal(testKeySet(t))
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != testKeysJSON {
		t.Errorf("Marshal =\n%s\nwant\n%s", b, testKeysJSON)
	}
	ks := NewKeySet()
	if err := ks.Add(9, pub(9), KeyActive); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, ks); err != nil {
		t.Fatal(err)
	}
	if b2, _ := json.Marshal(ks); string(b2) != testKeysJSON {
		t.Errorf("round trip =\n%s", b2)
	}
	if _, ok := ks.Key(9); ok {
		t.Error("Unmarshal kept a key that is not in the file")
	}
	b, _ = json.Marshal(NewKeySet())
	if string(b) != `{"keys":[]}` {
		t.Errorf("empty set = %s", b)
	}

	good := []string{`{"keys":[]}`, `{"keys":[],"exported_at":"2026-01-01"}`,
		`{"keys":[{"id":1,"public_key":"A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=","status":"active","comment":"x"}]}`}
	for _, s := range good {
		if err := json.Unmarshal([]byte(s), NewKeySet()); err != nil {
			t.Errorf("Unmarshal(%s): %v", s, err)
		}
	}
	key := `"A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="`
	bad := []string{
		``, `[]`, `{}`, `{"keys":null}`, `{"keys":{}}`, `{"Keys":[]}x`,
		`{"keys":[{"id":0,"public_key":` + key + `,"status":"active"}]}`,
		`{"keys":[{"id":256,"public_key":` + key + `,"status":"active"}]}`,
		`{"keys":[{"id":-1,"public_key":` + key + `,"status":"active"}]}`,
		`{"keys":[{"id":1,"public_key":"A6EH","status":"active"}]}`,
		`{"keys":[{"id":1,"public_key":"not base64!","status":"active"}]}`,
		`{"keys":[{"id":1,"public_key":` + key + `,"status":"lost"}]}`,
		`{"keys":[{"id":1,"public_key":` + key + `}]}`,
		`{"keys":[{"id":1,"public_key":` + key + `,"status":"active"},{"id":1,"public_key":` + key + `,"status":"retired"}]}`,
	}
	for _, s := range bad {
		ks := testKeySet(t)
		if err := json.Unmarshal([]byte(s), ks); err == nil {
			t.Errorf("Unmarshal(%s) accepted", s)
		}
		if err := ks.UnmarshalJSON([]byte(s)); err == nil {
			t.Errorf("UnmarshalJSON(%s) accepted", s)
		}
		if n := len(ks.Keys()); n != 3 {
			t.Errorf("a failed Unmarshal(%s) left %d keys", s, n)
		}
	}
}

// TestKeySetConcurrent is for the race detector: verifying while statuses
// change and the set is reloaded.
func TestKeySetConcurrent(t *testing.T) {
	ks := testKeySet(t)
	code, err := testSigner(t, 2, 2).Sign(testVoucher(t))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				if _, err := ks.Verify(code); err != nil && !errors.Is(err, ErrRevokedKey) {
					t.Error(err)
					return
				}
				_ = ks.Keys()
			}
		})
	}
	wg.Go(func() {
		for i := range 200 {
			st := KeyRetired
			if i%2 == 0 {
				st = KeyRevoked
			}
			if err := ks.SetStatus(2, st); err != nil {
				t.Error(err)
			}
			if i%50 == 0 {
				if err := json.Unmarshal([]byte(strings.Replace(testKeysJSON, `"revoked"`, `"retired"`, 1)), ks); err != nil {
					t.Error(err)
				}
			}
		}
	})
	wg.Wait()
}
