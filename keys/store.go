// Package keys manages the Ed25519 signing keys: private halves in files
// (mode 0600) or the environment, never in the database; public halves and
// their status in the database, with a ledger event for every change.
package keys

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Store reads and writes private material in a folder.
type Store struct {
	Dir string
	// EnvKey is an optional private key given by the environment
	// (PASSNUM_SIGNING_KEY) as "<id>:<base64 of the 32-byte seed>"; it wins
	// over a file for the same id, so containers need no key file.
	EnvKey string
	// EnvSecret is an optional installation verification secret (base64)
	// given by the environment (PASSNUM_VERIFICATION_SECRET), instead of
	// the folder's verification.secret: the one secret of the keys made
	// before each key had its own (Manager.VerificationSecret).
	EnvSecret string
}

func (s Store) keyPath(id byte) string {
	return filepath.Join(s.Dir, fmt.Sprintf("signing-%d.pem", id))
}

func (s Store) secretPath() string { return filepath.Join(s.Dir, "verification.secret") }

// Write saves a new private key as PKCS#8 PEM, readable by its owner only.
// It never overwrites a key.
func (s Store) Write(id byte, priv ed25519.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return err
	}
	return writeNew(s.keyPath(id), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// Load returns the private key with the given id.
func (s Store) Load(id byte) (ed25519.PrivateKey, error) {
	if s.EnvKey != "" {
		envID, seed, err := parseEnvKey(s.EnvKey)
		if err != nil {
			return nil, err
		}
		if envID == id {
			return ed25519.NewKeyFromSeed(seed), nil
		}
	}
	path := s.keyPath(id)
	data, err := readPrivate(path)
	if err != nil {
		return nil, fmt.Errorf("private key %d: %w", id, err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("private key %d: %s is not a PEM private key", id, path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("private key %d: %s: %w", id, path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("private key %d: %s holds a %T, not an Ed25519 key", id, path, k)
	}
	return priv, nil
}

func parseEnvKey(v string) (byte, []byte, error) {
	idText, seedText, ok := strings.Cut(v, ":")
	id, err := strconv.ParseUint(idText, 10, 8)
	if !ok || err != nil || id == 0 {
		return 0, nil, errors.New(`PASSNUM_SIGNING_KEY must be "<key id 1-255>:<base64 seed>"`)
	}
	seed, err := base64.StdEncoding.DecodeString(seedText)
	if err != nil || len(seed) != ed25519.SeedSize {
		return 0, nil, errors.New("PASSNUM_SIGNING_KEY: the seed must be 32 bytes in base64")
	}
	return byte(id), seed, nil
}

// Generate makes a new random key pair.
func Generate() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	return ed25519.GenerateKey(rand.Reader)
}

// Secret returns the installation's secret, behind the printed
// verification codes (design decision 4) of the keys made before each key
// had its own, from the environment or the store's file. Installations
// made since have none.
func (s Store) Secret() ([]byte, error) {
	if s.EnvSecret != "" {
		b, err := base64.StdEncoding.DecodeString(s.EnvSecret)
		if err != nil || len(b) < 16 {
			return nil, errors.New("PASSNUM_VERIFICATION_SECRET must be at least 16 bytes in base64")
		}
		return b, nil
	}
	if _, err := os.Stat(s.secretPath()); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("verification secret: %s does not exist: restore it from a backup of the keys folder, or set PASSNUM_VERIFICATION_SECRET", s.secretPath())
	}
	data, err := readPrivate(s.secretPath())
	if err != nil {
		return nil, fmt.Errorf("verification secret: %w", err)
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(b) < 16 {
		return nil, fmt.Errorf("verification secret: %s must hold at least 16 bytes in base64", s.secretPath())
	}
	return b, nil
}

func writeNew(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// CheckFiles refuses, as Load would, every private key file of the folder
// that others can read, whatever the key's status: a retired key still
// signs codes that verify. A server calls it at start rather than meet the
// problem at its first signature of an old batch.
func (s Store) CheckFiles() error {
	paths, err := filepath.Glob(filepath.Join(s.Dir, "signing-*.pem"))
	if err != nil {
		return err
	}
	for _, path := range paths {
		if _, err := readPrivate(path); err != nil {
			return err
		}
	}
	return nil
}

// readPrivate reads a secret file, refusing one that others can read: a
// signing key that leaked lets anyone print valid vouchers.
func readPrivate(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s does not exist: run 'passnum init' or set the key in the environment", path)
		}
		return nil, err
	}
	if mode := st.Mode().Perm(); mode&0o077 != 0 {
		return nil, fmt.Errorf("%s is readable by others (mode %04o): run 'chmod 600 %s'", path, mode, path)
	}
	return os.ReadFile(path)
}
