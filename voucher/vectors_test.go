package voucher

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
)

// The format document is the specification; this test keeps the package
// honest to it (and it to the package) by checking every vector, table and
// example in it.
const formatDoc = "../docs/voucher-format.md"

type docBlock struct {
	info  string
	line  int
	lines []string
}

func readDocBlocks(t *testing.T) []docBlock {
	t.Helper()
	b, err := os.ReadFile(formatDoc)
	if err != nil {
		t.Fatal(err)
	}
	var (
		blocks []docBlock
		cur    *docBlock
	)
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &docBlock{info: strings.TrimSpace(strings.TrimPrefix(line, "```")), line: n}
		case cur != nil && strings.TrimSpace(line) == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.lines = append(cur.lines, line)
		}
	}
	if cur != nil {
		t.Fatalf("%s:%d: unclosed code block", formatDoc, cur.line)
	}
	return blocks
}

// vector is one `vector` block: name: value lines. Every field must be
// read by the test, so that a misspelt field fails instead of being ignored.
type vector struct {
	t      *testing.T
	where  string
	fields map[string]string
	used   map[string]bool
}

func parseVector(t *testing.T, b docBlock) *vector {
	v := &vector{t: t, where: formatDoc + ":" + strconv.Itoa(b.line), fields: map[string]string{}, used: map[string]bool{}}
	for _, l := range b.lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		k, val, ok := strings.Cut(l, ": ")
		if !ok {
			t.Fatalf("%s: line %q is not 'name: value'", v.where, l)
		}
		if _, dup := v.fields[k]; dup {
			t.Fatalf("%s: %s given twice", v.where, k)
		}
		v.fields[k] = val
	}
	return v
}

func (v *vector) str(k string) string {
	v.t.Helper()
	s, ok := v.fields[k]
	if !ok {
		v.t.Fatalf("%s: no %s", v.where, k)
	}
	v.used[k] = true
	return s
}

func (v *vector) uint(k string, bits int) uint64 {
	v.t.Helper()
	n, err := strconv.ParseUint(v.str(k), 10, bits)
	if err != nil {
		v.t.Fatalf("%s: %s: %v", v.where, k, err)
	}
	return n
}

func (v *vector) int(k string) int64 {
	v.t.Helper()
	n, err := strconv.ParseInt(v.str(k), 10, 64)
	if err != nil {
		v.t.Fatalf("%s: %s: %v", v.where, k, err)
	}
	return n
}

func (v *vector) hex(k string) []byte {
	v.t.Helper()
	s := v.str(k)
	b, err := hex.DecodeString(s)
	if err != nil || s != strings.ToLower(s) {
		v.t.Fatalf("%s: %s is not lower-case hex", v.where, k)
	}
	return b
}

func (v *vector) day(k string) Day {
	v.t.Helper()
	d, err := ParseDay(v.str(k))
	if err != nil {
		v.t.Fatalf("%s: %s: %v", v.where, k, err)
	}
	return d
}

func (v *vector) done() {
	v.t.Helper()
	for k := range v.fields {
		if !v.used[k] {
			v.t.Errorf("%s: field %s is not checked by any test", v.where, k)
		}
	}
}

// errorNames maps the doc's error class names to the sentinels.
var errorNames = func() map[string]error {
	m := map[string]error{}
	for _, r := range reasons[:len(sentinels)] {
		m[r.name] = r.err
	}
	return m
}()

func TestFormatDocVectors(t *testing.T) {
	blocks := readDocBlocks(t)
	var vectors []*vector
	var keysetJSON, dammTable *docBlock
	for i, b := range blocks {
		switch b.info {
		case "vector":
			vectors = append(vectors, parseVector(t, b))
		case "json keyset":
			keysetJSON = &blocks[i]
		case "damm":
			dammTable = &blocks[i]
		}
	}

	// Keys first: the code vectors are signed with them.
	ks := NewKeySet()
	signers := map[byte]*Signer{}
	for _, v := range vectors {
		if v.fields["kind"] != "key" {
			continue
		}
		v.str("kind")
		id := byte(v.uint("key_id", 8))
		seed := v.hex("seed")
		if len(seed) != ed25519.SeedSize {
			t.Fatalf("%s: seed has %d bytes", v.where, len(seed))
		}
		priv := ed25519.NewKeyFromSeed(seed)
		pub := priv.Public().(ed25519.PublicKey)
		if !bytes.Equal(v.hex("public_key"), pub) {
			t.Errorf("%s: public_key is not the seed's: %x", v.where, pub)
		}
		if b64 := base64.StdEncoding.EncodeToString(pub); v.str("public_key_base64") != b64 {
			t.Errorf("%s: public_key_base64 should be %s", v.where, b64)
		}
		if err := ks.Add(id, pub, KeyStatus(v.str("status"))); err != nil {
			t.Fatalf("%s: %v", v.where, err)
		}
		s, err := NewSigner(id, priv)
		if err != nil {
			t.Fatal(err)
		}
		signers[id] = s
		v.done()
	}
	if s := signers[1]; s == nil || !bytes.Equal(s.priv.Seed(), testKey(1).Seed()) {
		t.Fatal("the doc lacks key 1 with seed 00..1f")
	}

	if keysetJSON == nil {
		t.Fatal("no `json keyset` block")
	}
	var docSet KeySet
	if err := json.Unmarshal([]byte(strings.Join(keysetJSON.lines, "\n")), &docSet); err != nil {
		t.Fatalf("keyset JSON: %v", err)
	}
	want, _ := json.Marshal(ks)
	if got, _ := json.Marshal(&docSet); !bytes.Equal(got, want) {
		t.Errorf("keyset JSON is not the key vectors:\n%s\nwant\n%s", got, want)
	}

	if dammTable == nil {
		t.Fatal("no `damm` block")
	}
	var docDamm [10][10]byte
	if len(dammTable.lines) != 10 {
		t.Fatalf("damm table has %d rows", len(dammTable.lines))
	}
	for r, l := range dammTable.lines {
		cells := strings.Fields(l)
		if len(cells) != 10 {
			t.Fatalf("damm row %d has %d cells", r, len(cells))
		}
		for c, cell := range cells {
			if len(cell) != 1 || !isDigit(cell[0]) {
				t.Fatalf("damm row %d: %q", r, cell)
			}
			docDamm[r][c] = cell[0] - '0'
		}
	}
	if docDamm != damm {
		t.Error("the doc's Damm table differs from the code's")
	}

	seen := map[string]int{}
	for _, v := range vectors {
		kind := v.str("kind")
		seen[kind]++
		switch kind {
		case "key":
			continue
		case "code":
			seen["code "+checkCodeVector(t, v, ks, signers)]++
		case "reject":
			v.str("name")
			name := v.str("error")
			want, ok := errorNames[name]
			if !ok {
				t.Fatalf("%s: unknown error class %q", v.where, name)
			}
			seen["reject "+name]++
			if _, err := ks.Verify(v.str("code")); errorClass(t, err) != want || Reason(err) != name {
				t.Errorf("%s: Verify: %v; want %s", v.where, err, name)
			}
		case "number":
			serial := v.uint("serial", 64)
			num := v.str("number")
			if got := FormatNumber(serial); got != num {
				t.Errorf("%s: FormatNumber(%d) = %q", v.where, serial, got)
			}
			if got, err := ParseNumber(num); err != nil || got != serial {
				t.Errorf("%s: ParseNumber = %d, %v", v.where, got, err)
			}
		case "key_secret":
			s := signers[byte(v.uint("key_id", 8))]
			if s == nil || !bytes.Equal(v.hex("secret"), s.VerificationSecret()) {
				t.Errorf("%s: the key's verification secret is not %x", v.where, v.hex("secret"))
			}
		case "verification":
			var secret []byte
			if _, ok := v.fields["key_id"]; ok {
				s := signers[byte(v.uint("key_id", 8))]
				if s == nil {
					t.Fatalf("%s: no such key", v.where)
				}
				secret = s.VerificationSecret()
			} else {
				secret = []byte(v.str("secret"))
			}
			serial := v.uint("serial", 64)
			mac := hmac.New(sha256.New, secret)
			mac.Write([]byte("passnum/verification/v1"))
			mac.Write(binary.BigEndian.AppendUint64(nil, serial))
			if !bytes.Equal(v.hex("hmac"), mac.Sum(nil)) {
				t.Errorf("%s: hmac should be %x", v.where, mac.Sum(nil))
			}
			code := v.str("code")
			if got := VerificationCode(secret, serial); got != code {
				t.Errorf("%s: VerificationCode = %s", v.where, got)
			}
			if !CheckVerificationCode(secret, serial, code) {
				t.Errorf("%s: CheckVerificationCode false", v.where)
			}
		case "chequier":
			dept, year, seq := v.str("department"), uint16(v.uint("year", 16)), uint32(v.uint("seq", 32))
			num := v.str("number")
			if got := FormatChequierNumber(dept, year, seq); got != num {
				t.Errorf("%s: FormatChequierNumber = %s", v.where, got)
			}
			if d, y, s, err := ParseChequierNumber(num); err != nil || d != dept || y != year || s != seq {
				t.Errorf("%s: ParseChequierNumber = %s %d %d %v", v.where, d, y, s, err)
			}
		default:
			t.Errorf("%s: unknown kind %q", v.where, kind)
		}
		v.done()
	}

	for _, name := range []string{"voucher-78", "voucher-2A", "activation-78", "checkpoint", "pairing", "receipt"} {
		if seen["code "+name] != 1 {
			t.Errorf("the doc lacks the code vector %s", name)
		}
	}
	for name := range errorNames {
		if seen["reject "+name] == 0 {
			t.Errorf("the doc has no rejected code for %s", name)
		}
	}
	for _, kind := range []string{"number", "verification", "key_secret", "chequier"} {
		if seen[kind] == 0 {
			t.Errorf("the doc has no %s vector", kind)
		}
	}
}

// checkCodeVector signs the vector's fields with the doc's key and compares
// every stage, then verifies the doc's code; it returns the vector's name.
func checkCodeVector(t *testing.T, v *vector, ks *KeySet, signers map[byte]*Signer) string {
	t.Helper()
	name := v.str("name")
	keyID := byte(v.uint("key_id", 8))
	var p Payload
	switch v.str("type") {
	case "voucher":
		p = Voucher{
			Serial:     v.uint("serial", 64),
			Department: v.str("department"),
			ValueCents: uint32(v.uint("value_cents", 32)),
			ValidFrom:  v.day("valid_from"),
			ValidUntil: v.day("valid_until"),
		}
	case "activation":
		p = Activation{Department: v.str("department"), Year: uint16(v.uint("year", 16)), Seq: uint32(v.uint("seq", 32))}
	case "checkpoint":
		tm, err := strconv.ParseInt(v.str("time_micros"), 10, 64)
		if err != nil {
			t.Fatalf("%s: %v", v.where, err)
		}
		c := Checkpoint{Seq: v.uint("seq", 64), TimeMicros: tm}
		if h := v.hex("hash"); copy(c.Hash[:], h) != 32 || len(h) != 32 {
			t.Fatalf("%s: hash is not 32 bytes", v.where)
		}
		p = c
	case "pairing":
		pr := Pairing{ID: v.uint("id", 64), ExpiresUnix: uint32(v.uint("expires_unix", 32))}
		if sec := v.hex("secret"); copy(pr.Secret[:], sec) != 16 || len(sec) != 16 {
			t.Fatalf("%s: secret is not 16 bytes", v.where)
		}
		p = pr
	case "receipt":
		r := Receipt{RedemptionID: v.uint("redemption_id", 64), VenueID: v.uint("venue_id", 64), TotalCents: v.uint("total_cents", 64),
			Vouchers: uint16(v.uint("vouchers", 16)), ScannedMicros: v.int("scanned_micros"), ReceivedMicros: v.int("received_micros")}
		var serials []uint64
		for _, f := range strings.Split(v.str("serials"), ",") {
			n, err := strconv.ParseUint(f, 10, 64)
			if err != nil {
				t.Fatalf("%s: serials: %v", v.where, err)
			}
			serials = append(serials, n)
		}
		r.Digest = ReceiptDigest(serials)
		if want := v.hex("vouchers_sha256"); !bytes.Equal(r.Digest[:], want) {
			t.Errorf("%s: the serials' digest is %x", v.where, r.Digest)
		}
		p = r
	default:
		t.Fatalf("%s: unknown type %q", v.where, v.fields["type"])
	}
	s := signers[keyID]
	if s == nil {
		t.Fatalf("%s: no key %d in the doc", v.where, keyID)
	}
	var raw [maxRawLen]byte
	n, err := putPayload(&raw, keyID, p)
	if err != nil {
		t.Fatalf("%s: %v", v.where, err)
	}
	if want := v.hex("payload"); !bytes.Equal(raw[:n], want) {
		t.Errorf("%s: payload is %x", v.where, raw[:n])
	}
	code, err := s.Sign(p)
	if err != nil {
		t.Fatalf("%s: %v", v.where, err)
	}
	sig := ed25519.Sign(s.priv, raw[:n])
	if want := v.hex("signature"); !bytes.Equal(sig, want) {
		t.Errorf("%s: signature is %x", v.where, sig)
	}
	if want := v.str("code"); code != want {
		t.Errorf("%s: code is %s", v.where, code)
	}
	d, err := ks.Verify(v.str("code"))
	if err != nil || d != (Decoded{Type: p.Type(), KeyID: keyID, Payload: p}) {
		t.Errorf("%s: Verify = %+v, %v", v.where, d, err)
	}
	if c, ok := p.(Checkpoint); ok {
		got, err := s.SignCheckpoint(c)
		if err != nil || !bytes.Equal(got, sig) {
			t.Errorf("%s: SignCheckpoint = %x, %v", v.where, got, err)
		}
		if err := VerifyCheckpoint(ks, keyID, c, v.hex("signature")); err != nil {
			t.Errorf("%s: VerifyCheckpoint: %v", v.where, err)
		}
	}
	return name
}
