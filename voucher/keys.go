package voucher

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
)

// KeyStatus is where a signing key is in its life.
type KeyStatus string

const (
	KeyActive  KeyStatus = "active"  // signs new codes, verifies
	KeyRetired KeyStatus = "retired" // no longer signs; still verifies what it signed
	KeyRevoked KeyStatus = "revoked" // verifies nothing: assume it leaked
)

func (s KeyStatus) valid() bool {
	return s == KeyActive || s == KeyRetired || s == KeyRevoked
}

// Signer signs codes with one private key under its key id. It is safe for
// concurrent use.
type Signer struct {
	keyID byte
	priv  ed25519.PrivateKey
}

// NewSigner returns a Signer for priv under keyID (1..255). It checks that
// the public half of priv matches its seed: a corrupted key file would
// otherwise sign codes that nobody can verify.
func NewSigner(keyID byte, priv ed25519.PrivateKey) (*Signer, error) {
	if keyID == 0 {
		return nil, errors.New("voucher: key id 0 is reserved")
	}
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("voucher: private key has %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	k := ed25519.NewKeyFromSeed(priv.Seed())
	if !bytes.Equal(k, priv) {
		return nil, errors.New("voucher: private key's public half does not match its seed")
	}
	return &Signer{keyID: keyID, priv: k}, nil
}

func (s *Signer) KeyID() byte { return s.keyID }

// Public returns the public key, to publish in the KeySet under KeyID.
func (s *Signer) Public() ed25519.PublicKey {
	return bytes.Clone(s.priv[ed25519.SeedSize:])
}

// verificationSecretInfo labels the HKDF derivation of a key's
// verification secret (docs/voucher-format.md, section 7.2).
const verificationSecretInfo = "passnum/verification-secret/v1"

// VerificationSecret is the secret behind the verification codes printed
// for the vouchers this key signs: HKDF-SHA256 of the key's 32-byte seed,
// no salt, info "passnum/verification-secret/v1", 32 bytes.
//
// It is derived rather than kept in a file of its own so that it lives and
// dies with the key: 'keys new' makes both, revoking the key after a leak
// leaves the attacker nothing that computes the codes of later batches,
// and a key given by the environment (PASSNUM_SIGNING_KEY) brings its
// secret along. It adds no exposure: whoever holds the seed can already
// sign vouchers, which are worth more than their typed codes.
func (s *Signer) VerificationSecret() []byte {
	secret, err := hkdf.Key(sha256.New, s.priv.Seed(), nil, verificationSecretInfo, 32)
	if err != nil {
		panic(err) // only for a length beyond 255 hash blocks
	}
	return secret
}

// Sign validates p and returns its code.
func (s *Signer) Sign(p Payload) (string, error) {
	var buf [maxCodeLen]byte
	b, err := s.AppendCode(buf[:0], p)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// AppendCode validates p and appends its code (ASCII) to dst. With enough
// capacity in dst it allocates nothing beyond what ed25519.Sign does, for
// issuing hundreds of thousands of vouchers in one batch.
func (s *Signer) AppendCode(dst []byte, p Payload) ([]byte, error) {
	var raw [maxRawLen]byte
	n, err := putPayload(&raw, s.keyID, p)
	if err != nil {
		return dst, err
	}
	copy(raw[n:], ed25519.Sign(s.priv, raw[:n]))
	return b32.AppendEncode(dst, raw[:n+sigLen]), nil
}

// SignCheckpoint returns the signature of c's envelope payload (type 0x04,
// this key id, body), the same bytes a checkpoint code would sign, so that
// the ledger can store the signature apart from the checkpoint's fields.
func (s *Signer) SignCheckpoint(c Checkpoint) (sig []byte, err error) {
	var raw [maxRawLen]byte
	n, err := putPayload(&raw, s.keyID, c)
	if err != nil {
		return nil, err
	}
	return ed25519.Sign(s.priv, raw[:n]), nil
}

// VerifyCheckpoint checks a signature made by SignCheckpoint under keyID.
// It returns ErrUnknownKey, ErrRevokedKey or ErrBadSignature, like Verify.
func VerifyCheckpoint(ks *KeySet, keyID byte, c Checkpoint, sig []byte) error {
	pub, err := ks.verifyingKey(keyID)
	if err != nil {
		return err
	}
	var raw [maxRawLen]byte
	n, err := putPayload(&raw, keyID, c)
	if err != nil {
		return err
	}
	if len(sig) != sigLen || !ed25519.Verify(pub, raw[:n], sig) {
		return fmt.Errorf("%w: checkpoint %d", ErrBadSignature, c.Seq)
	}
	return nil
}

// PublicKey is one entry of a KeySet, and of the keys JSON file.
type PublicKey struct {
	ID     byte              `json:"id"`
	Key    ed25519.PublicKey `json:"public_key"` // standard base64 in JSON
	Status KeyStatus         `json:"status"`
}

// KeySet is the public keys that verify codes, by key id. The zero value is
// an empty set. It is safe for concurrent use, so a server can change a
// key's status while it verifies.
type KeySet struct {
	mu   sync.RWMutex
	keys map[byte]PublicKey
}

func NewKeySet() *KeySet { return &KeySet{} }

func checkKey(id byte, pub ed25519.PublicKey, status KeyStatus) error {
	switch {
	case id == 0:
		return errors.New("voucher: key id 0 is reserved")
	case len(pub) != ed25519.PublicKeySize:
		return fmt.Errorf("voucher: key %d: public key has %d bytes, want %d", id, len(pub), ed25519.PublicKeySize)
	case !status.valid():
		return fmt.Errorf("voucher: key %d: unknown status %q", id, status)
	}
	return nil
}

// Add adds a key. Ids are never reused: a duplicate is an error.
func (ks *KeySet) Add(id byte, pub ed25519.PublicKey, status KeyStatus) error {
	if err := checkKey(id, pub, status); err != nil {
		return err
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if _, dup := ks.keys[id]; dup {
		return fmt.Errorf("voucher: key %d is already in the set", id)
	}
	if ks.keys == nil {
		ks.keys = make(map[byte]PublicKey)
	}
	ks.keys[id] = PublicKey{ID: id, Key: bytes.Clone(pub), Status: status}
	return nil
}

// SetStatus changes the status of a key already in the set: retiring it
// after a rotation, or revoking it.
func (ks *KeySet) SetStatus(id byte, status KeyStatus) error {
	if !status.valid() {
		return fmt.Errorf("voucher: key %d: unknown status %q", id, status)
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	k, ok := ks.keys[id]
	if !ok {
		return fmt.Errorf("voucher: key %d is not in the set", id)
	}
	k.Status = status
	ks.keys[id] = k
	return nil
}

// Key returns a copy of one key.
func (ks *KeySet) Key(id byte) (PublicKey, bool) {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	k, ok := ks.keys[id]
	if !ok {
		return PublicKey{}, false
	}
	k.Key = bytes.Clone(k.Key)
	return k, true
}

// Keys returns a copy of every key, sorted by id.
func (ks *KeySet) Keys() []PublicKey {
	ks.mu.RLock()
	out := make([]PublicKey, 0, len(ks.keys))
	for _, k := range ks.keys {
		k.Key = bytes.Clone(k.Key)
		out = append(out, k)
	}
	ks.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

type keySetJSON struct {
	Keys *[]PublicKey `json:"keys"`
}

// MarshalJSON writes {"keys":[{"id":1,"public_key":"<base64>","status":"active"}]},
// the file `passnum keys export` writes and `GET /api/v1/keys` returns.
func (ks *KeySet) MarshalJSON() ([]byte, error) {
	keys := ks.Keys()
	return json.Marshal(keySetJSON{Keys: &keys})
}

// UnmarshalJSON replaces the set with the keys of a file MarshalJSON wrote.
// Every key is checked as Add checks it; unknown fields are ignored so that
// later versions can add some. A missing "keys" is an error: it is more
// likely the wrong file than a deliberately empty set, which is "keys": [].
func (ks *KeySet) UnmarshalJSON(data []byte) error {
	var f keySetJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return fmt.Errorf("voucher: key set: %w", err)
	}
	if f.Keys == nil {
		return errors.New(`voucher: key set: no "keys" array`)
	}
	var fresh KeySet
	for _, k := range *f.Keys {
		if err := fresh.Add(k.ID, k.Key, k.Status); err != nil {
			return err
		}
	}
	ks.mu.Lock()
	ks.keys = fresh.keys
	ks.mu.Unlock()
	return nil
}

// verifyingKey returns the key that may verify codes signed under id.
func (ks *KeySet) verifyingKey(id byte) (ed25519.PublicKey, error) {
	if ks == nil {
		return nil, fmt.Errorf("%w: key %d (no key set)", ErrUnknownKey, id)
	}
	ks.mu.RLock()
	k, ok := ks.keys[id]
	ks.mu.RUnlock()
	switch {
	case !ok:
		return nil, fmt.Errorf("%w: key %d", ErrUnknownKey, id)
	case k.Status == KeyRevoked:
		return nil, fmt.Errorf("%w: key %d", ErrRevokedKey, id)
	}
	return k.Key, nil
}

// Verify decodes a code and checks its signature. The checks run in the
// order of the errors' declaration: ErrTooShort, ErrEncoding,
// ErrUnknownType, ErrTrailingBytes, ErrUnknownKey (key id 0 included),
// ErrRevokedKey, ErrBadSignature, then ErrInvalidPayload: fields are only
// judged once the signature says they came from us. On error the Decoded is
// zero.
func (ks *KeySet) Verify(code string) (Decoded, error) {
	var buf [maxRawLen]byte
	raw, err := decodeRaw(code, &buf)
	if err != nil {
		return Decoded{}, err
	}
	payload, sig := raw[:len(raw)-sigLen], raw[len(raw)-sigLen:]
	pub, err := ks.verifyingKey(payload[1])
	if err != nil {
		return Decoded{}, err
	}
	if !ed25519.Verify(pub, payload, sig) {
		return Decoded{}, fmt.Errorf("%w: %s code under key %d", ErrBadSignature, Type(payload[0]), payload[1])
	}
	d, err := decodePayload(payload)
	if err != nil {
		return Decoded{}, err
	}
	return d, nil
}
