package voucher

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// Type is the first byte of every payload: it says how to read the body.
type Type byte

const (
	TypeVoucher    Type = 0x01 // a voucher of a chéquier
	TypeActivation Type = 0x02 // the code on a chéquier's cover, scanned when it is handed over
	TypePairing    Type = 0x03 // a one-time code that pairs a venue's device
	TypeCheckpoint Type = 0x04 // a signed ledger checkpoint
	TypeReceipt    Type = 0x05 // a redemption's receipt, the venue's proof of what it is owed
)

func (t Type) String() string {
	switch t {
	case TypeVoucher:
		return "voucher"
	case TypeActivation:
		return "activation"
	case TypePairing:
		return "pairing"
	case TypeCheckpoint:
		return "checkpoint"
	case TypeReceipt:
		return "receipt"
	}
	return fmt.Sprintf("Type(0x%02x)", byte(t))
}

// Errors returned by Parse, KeySet.Verify and VerifyCheckpoint, always wrapped
// with detail: test them with errors.Is. Each rejected code matches exactly one.
// They are listed in the order the checks run, so that a code with several
// faults always reports the same one, in every implementation.
var (
	ErrTooShort       = errors.New("voucher: code too short")
	ErrEncoding       = errors.New("voucher: code is not canonical base32")
	ErrUnknownType    = errors.New("voucher: unknown code type")
	ErrTrailingBytes  = errors.New("voucher: code too long for its type")
	ErrUnknownKey     = errors.New("voucher: unknown signing key")
	ErrRevokedKey     = errors.New("voucher: signing key revoked")
	ErrBadSignature   = errors.New("voucher: bad signature")
	ErrInvalidPayload = errors.New("voucher: invalid field in code")
)

// reasons are the error classes' names in docs/voucher-format.md: stable
// identifiers for logs, API error codes and other implementations.
var reasons = []struct {
	err  error
	name string
}{
	{ErrTooShort, "too_short"},
	{ErrEncoding, "encoding"},
	{ErrUnknownType, "unknown_type"},
	{ErrTrailingBytes, "trailing_bytes"},
	{ErrUnknownKey, "unknown_key"},
	{ErrRevokedKey, "revoked_key"},
	{ErrBadSignature, "bad_signature"},
	{ErrInvalidPayload, "invalid_payload"},
	{ErrNumberFormat, "number_format"},
	{ErrCheckDigit, "check_digit"},
}

// Reason returns the name of err's class as the format document gives it,
// "bad_signature" for ErrBadSignature and so on; "" for nil and "other" for
// an error of none of this package's classes.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			return r.name
		}
	}
	return "other"
}

const (
	headerLen = 2 // type, key id
	sigLen    = ed25519.SignatureSize

	voucherBodyLen    = 8 + 3 + 4 + 2 + 2          // serial, département, value, valid from, valid until
	activationBodyLen = 3 + 2 + 4                  // département, year, sequence
	checkpointBodyLen = 8 + 8 + 32                 // seq, time, hash
	pairingBodyLen    = 8 + 16 + 4                 // id, secret, expiry
	receiptBodyLen    = 8 + 8 + 8 + 2 + 8 + 8 + 32 // redemption, venue, total, count, scanned, received, vouchers' digest

	maxPayloadLen = headerLen + receiptBodyLen
	maxRawLen     = maxPayloadLen + sigLen

	// minCodeLen is the shortest text that can hold an envelope with an empty
	// body (headerLen+sigLen = 66 bytes); anything shorter is ErrTooShort
	// before its characters are even looked at.
	minCodeLen = ((headerLen+sigLen)*8 + 4) / 5
	maxCodeLen = (maxRawLen*8 + 4) / 5

	// MaxSerial is the largest voucher serial: serials have 10 decimal
	// digits on paper.
	MaxSerial = 9_999_999_999
)

// b32 is the only text form: no padding, because '=' is outside the QR
// alphanumeric alphabet and would force byte mode (a bigger QR code).
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

const b32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// b32Value maps a character to its 5-bit value, 0xFF outside the alphabet.
// The standard decoder is lenient (it skips '\r' and '\n' and ignores unused
// trailing bits), so the text is checked here before it is decoded.
var b32Value = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xFF
	}
	for i := 0; i < len(b32Alphabet); i++ {
		t[b32Alphabet[i]] = byte(i)
	}
	return t
}()

// bodyLen is the fixed body length of each defined type.
func bodyLen(t Type) (int, bool) {
	switch t {
	case TypeVoucher:
		return voucherBodyLen, true
	case TypeActivation:
		return activationBodyLen, true
	case TypeCheckpoint:
		return checkpointBodyLen, true
	case TypePairing:
		return pairingBodyLen, true
	case TypeReceipt:
		return receiptBodyLen, true
	}
	return 0, false
}

// Payload is what a code carries: a Voucher, an Activation, a Pairing, a
// Checkpoint or a Receipt value. The set is closed so that every payload has a documented layout.
type Payload interface {
	Type() Type
	appendBody(dst []byte) []byte
	validate() error
}

// Voucher is the payload of a voucher's QR code.
type Voucher struct {
	Serial     uint64 // 1..MaxSerial, unique across the programme
	Department string // "78", "2A", "971": see ValidDepartment
	ValueCents uint32 // face value, > 0
	ValidFrom  Day    // first valid day
	ValidUntil Day    // last valid day (to the end of that day in Paris), >= ValidFrom
}

// Activation is the payload of a chéquier's activation code; it names the
// chéquier as FormatChequierNumber prints it.
type Activation struct {
	Department string
	Year       uint16 // 2000..9999, so the printed number always has four digits
	Seq        uint32 // > 0
}

// Pairing is the payload of a one-time pairing code: an administrator
// creates it for a venue, the venue's device scans it and exchanges it for
// its own API key. The signature lets the device tell a genuine pairing
// code from any other QR code before it sends anything; the secret, stored
// hashed on the server, makes it single-use and unguessable.
type Pairing struct {
	ID          uint64   // > 0, the server's record of this pairing
	Secret      [16]byte // random
	ExpiresUnix uint32   // Unix time in seconds after which it is refused, > 0
}

// Checkpoint is a ledger checkpoint: the chain head after event Seq.
type Checkpoint struct {
	Seq        uint64   // last event sequence number covered
	TimeMicros int64    // when it was sealed, Unix time in microseconds
	Hash       [32]byte // SHA-256 chain head h(Seq)
}

// Receipt is the server's signed word that it accepted a redemption: the
// venue keeps it, and with the public keys alone it proves what the venue
// is owed, whatever becomes of the server. The vouchers are named by the
// digest of their serials (ReceiptDigest), which keeps the envelope one
// size; the receipt travels with the serials in the clear.
type Receipt struct {
	RedemptionID   uint64   // > 0
	VenueID        uint64   // > 0
	TotalCents     uint64   // > 0
	Vouchers       uint16   // how many, > 0
	ScannedMicros  int64    // when the venue scanned, Unix time in microseconds
	ReceivedMicros int64    // when the server accepted it, Unix time in microseconds
	Digest         [32]byte // ReceiptDigest of the vouchers' serials
}

// ReceiptDigest is the SHA-256 of the serials in ascending order, each as
// an unsigned 64-bit big-endian integer: the same set gives the same
// digest whatever order it was scanned in.
func ReceiptDigest(serials []uint64) [32]byte {
	sorted := slices.Clone(serials)
	slices.Sort(sorted)
	h := sha256.New()
	var b [8]byte
	for _, s := range sorted {
		binary.BigEndian.PutUint64(b[:], s)
		h.Write(b[:])
	}
	var d [32]byte
	h.Sum(d[:0])
	return d
}

func (Voucher) Type() Type    { return TypeVoucher }
func (Activation) Type() Type { return TypeActivation }
func (Checkpoint) Type() Type { return TypeCheckpoint }
func (Pairing) Type() Type    { return TypePairing }
func (Receipt) Type() Type    { return TypeReceipt }

func (r Receipt) appendBody(dst []byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst, r.RedemptionID)
	dst = binary.BigEndian.AppendUint64(dst, r.VenueID)
	dst = binary.BigEndian.AppendUint64(dst, r.TotalCents)
	dst = binary.BigEndian.AppendUint16(dst, r.Vouchers)
	dst = binary.BigEndian.AppendUint64(dst, uint64(r.ScannedMicros))
	dst = binary.BigEndian.AppendUint64(dst, uint64(r.ReceivedMicros))
	return append(dst, r.Digest[:]...)
}

func (r Receipt) validate() error {
	switch {
	case r.RedemptionID == 0:
		return fmt.Errorf("%w: redemption id is zero", ErrInvalidPayload)
	case r.VenueID == 0:
		return fmt.Errorf("%w: venue id is zero", ErrInvalidPayload)
	case r.TotalCents == 0:
		return fmt.Errorf("%w: total is zero", ErrInvalidPayload)
	case r.Vouchers == 0:
		return fmt.Errorf("%w: no voucher", ErrInvalidPayload)
	}
	return nil
}

func (p Pairing) appendBody(dst []byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst, p.ID)
	dst = append(dst, p.Secret[:]...)
	return binary.BigEndian.AppendUint32(dst, p.ExpiresUnix)
}

func (p Pairing) validate() error {
	switch {
	case p.ID == 0:
		return fmt.Errorf("%w: pairing id is zero", ErrInvalidPayload)
	case p.ExpiresUnix == 0:
		return fmt.Errorf("%w: pairing expiry is zero", ErrInvalidPayload)
	}
	return nil
}

func (v Voucher) appendBody(dst []byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst, v.Serial)
	dst = appendDepartment(dst, v.Department)
	dst = binary.BigEndian.AppendUint32(dst, v.ValueCents)
	dst = binary.BigEndian.AppendUint16(dst, uint16(v.ValidFrom))
	return binary.BigEndian.AppendUint16(dst, uint16(v.ValidUntil))
}

func (a Activation) appendBody(dst []byte) []byte {
	dst = appendDepartment(dst, a.Department)
	dst = binary.BigEndian.AppendUint16(dst, a.Year)
	return binary.BigEndian.AppendUint32(dst, a.Seq)
}

func (c Checkpoint) appendBody(dst []byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst, c.Seq)
	dst = binary.BigEndian.AppendUint64(dst, uint64(c.TimeMicros))
	return append(dst, c.Hash[:]...)
}

func (v Voucher) validate() error {
	switch {
	case v.Serial == 0 || v.Serial > MaxSerial:
		return fmt.Errorf("%w: serial %d is outside 1..%d", ErrInvalidPayload, v.Serial, uint64(MaxSerial))
	case !ValidDepartment(v.Department):
		return fmt.Errorf("%w: département %q", ErrInvalidPayload, v.Department)
	case v.ValueCents == 0:
		return fmt.Errorf("%w: face value is zero", ErrInvalidPayload)
	case v.ValidUntil < v.ValidFrom:
		return fmt.Errorf("%w: valid until %s is before valid from %s", ErrInvalidPayload, v.ValidUntil, v.ValidFrom)
	}
	return nil
}

func (a Activation) validate() error {
	switch {
	case !ValidDepartment(a.Department):
		return fmt.Errorf("%w: département %q", ErrInvalidPayload, a.Department)
	case a.Year < minChequierYear || a.Year > maxChequierYear:
		return fmt.Errorf("%w: year %d is outside %d..%d", ErrInvalidPayload, a.Year, minChequierYear, maxChequierYear)
	case a.Seq == 0:
		return fmt.Errorf("%w: chéquier sequence is zero", ErrInvalidPayload)
	}
	return nil
}

// A checkpoint's fields are all meaningful: seq 0 with the genesis hash
// seals an empty ledger, and the time is whatever the sealer's clock said.
func (Checkpoint) validate() error { return nil }

// appendDepartment writes the 3-byte wire form: ASCII, right-padded with
// spaces. Callers validate first, so the code always fits.
func appendDepartment(dst []byte, d string) []byte {
	b := [3]byte{' ', ' ', ' '}
	copy(b[:], d)
	return append(dst, b[:]...)
}

// readDepartment returns the code without its padding. Invalid bytes are kept
// as they are, for diagnostics; validate rejects them, and since no valid code
// contains a space, a valid result has exactly one wire form.
func readDepartment(b []byte) string {
	n := len(b)
	for n > 0 && b[n-1] == ' ' {
		n--
	}
	if d, ok := departments[string(b[:n])]; ok {
		return d // a shared string: no allocation per verified code
	}
	return string(b[:n])
}

// toPayload unwraps pointers so that Sign(&v) works like Sign(v); the
// decoded side only ever produces values.
func toPayload(p Payload) (Payload, error) {
	switch v := p.(type) {
	case Voucher, Activation, Checkpoint, Pairing, Receipt:
		return p, nil
	case *Voucher:
		if v != nil {
			return *v, nil
		}
	case *Activation:
		if v != nil {
			return *v, nil
		}
	case *Checkpoint:
		if v != nil {
			return *v, nil
		}
	case *Pairing:
		if v != nil {
			return *v, nil
		}
	case *Receipt:
		if v != nil {
			return *v, nil
		}
	}
	return nil, fmt.Errorf("%w: nil payload", ErrInvalidPayload)
}

// putPayload validates p and writes header and body at the start of raw.
// The type switch (rather than calling the interface methods) keeps p and
// raw on the caller's stack: AppendCode then allocates nothing of its own.
func putPayload(raw *[maxRawLen]byte, keyID byte, p Payload) (int, error) {
	var (
		b   []byte
		err error
	)
	hdr := raw[:0:maxPayloadLen]
	switch v := p.(type) {
	case Voucher:
		if err = v.validate(); err == nil {
			b = v.appendBody(append(hdr, byte(TypeVoucher), keyID))
		}
	case Activation:
		if err = v.validate(); err == nil {
			b = v.appendBody(append(hdr, byte(TypeActivation), keyID))
		}
	case Checkpoint:
		if err = v.validate(); err == nil {
			b = v.appendBody(append(hdr, byte(TypeCheckpoint), keyID))
		}
	case Pairing:
		if err = v.validate(); err == nil {
			b = v.appendBody(append(hdr, byte(TypePairing), keyID))
		}
	case Receipt:
		if err = v.validate(); err == nil {
			b = v.appendBody(append(hdr, byte(TypeReceipt), keyID))
		}
	default:
		q, perr := toPayload(p)
		if perr != nil {
			return 0, perr
		}
		return putPayload(raw, keyID, q)
	}
	if err != nil {
		return 0, err
	}
	return len(b), nil
}

// Decoded is a code's content. Payload holds a Voucher, an Activation, a
// Pairing, a Checkpoint or a Receipt value, matching Type.
type Decoded struct {
	Type    Type
	KeyID   byte
	Payload Payload
}

// decodeRaw turns text into payload||signature bytes (in buf), running the
// structural checks in their documented order.
func decodeRaw(code string, buf *[maxRawLen]byte) ([]byte, error) {
	if len(code) < minCodeLen {
		return nil, fmt.Errorf("%w: %d characters, the shortest envelope has %d", ErrTooShort, len(code), minCodeLen)
	}
	for i := 0; i < len(code); i++ {
		if b32Value[code[i]] == 0xFF {
			return nil, fmt.Errorf("%w: character %q at offset %d is not in A-Z2-7", ErrEncoding, code[i], i)
		}
	}
	// Unpadded base32 ends with 0, 2, 4, 5 or 7 characters of an 8-character
	// group; the last character carries this many unused low bits, which must
	// be zero or two texts would decode to the same bytes.
	var unused byte
	switch len(code) % 8 {
	case 0:
		unused = 0
	case 2:
		unused = 2
	case 4:
		unused = 4
	case 5:
		unused = 1
	case 7:
		unused = 3
	default:
		return nil, fmt.Errorf("%w: %d characters is not a possible length for unpadded base32", ErrEncoding, len(code))
	}
	if b32Value[code[len(code)-1]]&(1<<unused-1) != 0 {
		return nil, fmt.Errorf("%w: unused trailing bits are not zero", ErrEncoding)
	}

	// The type is the top 8 bits of the first two characters; reading it
	// before decoding bounds the work done on an oversized input.
	t := Type(b32Value[code[0]]<<3 | b32Value[code[1]]>>2)
	bl, ok := bodyLen(t)
	if !ok {
		if t == TypePairing {
			return nil, fmt.Errorf("%w: type 0x03 (pairing) is reserved", ErrUnknownType)
		}
		return nil, fmt.Errorf("%w: type 0x%02x", ErrUnknownType, byte(t))
	}
	n := len(code) * 5 / 8
	want := headerLen + bl + sigLen
	if n < want {
		return nil, fmt.Errorf("%w: %d bytes, a %s code has %d", ErrTooShort, n, t, want)
	}
	if n > want {
		return nil, fmt.Errorf("%w: %d bytes, a %s code has %d", ErrTrailingBytes, n, t, want)
	}

	var src [maxCodeLen]byte
	copy(src[:], code)
	m, err := b32.Decode(buf[:], src[:len(code)])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrEncoding, err)
	}
	if m != n {
		return nil, fmt.Errorf("%w: decoded %d bytes, expected %d", ErrEncoding, m, n)
	}
	// Belt and braces: whatever the checks above missed, only the exact text
	// the encoder produces for these bytes is accepted.
	var re [maxCodeLen]byte
	if string(b32.AppendEncode(re[:0], buf[:m])) != code {
		return nil, fmt.Errorf("%w: not the canonical encoding", ErrEncoding)
	}
	return buf[:m], nil
}

// decodePayload reads a payload whose length decodeRaw has checked, and
// validates its fields.
func decodePayload(p []byte) (Decoded, error) {
	d := Decoded{Type: Type(p[0]), KeyID: p[1]}
	b := p[headerLen:]
	switch d.Type {
	case TypeVoucher:
		d.Payload = Voucher{
			Serial:     binary.BigEndian.Uint64(b[0:8]),
			Department: readDepartment(b[8:11]),
			ValueCents: binary.BigEndian.Uint32(b[11:15]),
			ValidFrom:  Day(binary.BigEndian.Uint16(b[15:17])),
			ValidUntil: Day(binary.BigEndian.Uint16(b[17:19])),
		}
	case TypeActivation:
		d.Payload = Activation{
			Department: readDepartment(b[0:3]),
			Year:       binary.BigEndian.Uint16(b[3:5]),
			Seq:        binary.BigEndian.Uint32(b[5:9]),
		}
	case TypeCheckpoint:
		c := Checkpoint{
			Seq:        binary.BigEndian.Uint64(b[0:8]),
			TimeMicros: int64(binary.BigEndian.Uint64(b[8:16])),
		}
		copy(c.Hash[:], b[16:48])
		d.Payload = c
	case TypePairing:
		pr := Pairing{ID: binary.BigEndian.Uint64(b[0:8]), ExpiresUnix: binary.BigEndian.Uint32(b[24:28])}
		copy(pr.Secret[:], b[8:24])
		d.Payload = pr
	case TypeReceipt:
		r := Receipt{
			RedemptionID:   binary.BigEndian.Uint64(b[0:8]),
			VenueID:        binary.BigEndian.Uint64(b[8:16]),
			TotalCents:     binary.BigEndian.Uint64(b[16:24]),
			Vouchers:       binary.BigEndian.Uint16(b[24:26]),
			ScannedMicros:  int64(binary.BigEndian.Uint64(b[26:34])),
			ReceivedMicros: int64(binary.BigEndian.Uint64(b[34:42])),
		}
		copy(r.Digest[:], b[42:74])
		d.Payload = r
	default:
		// decodeRaw only lets defined types through.
		return d, fmt.Errorf("%w: type 0x%02x", ErrUnknownType, p[0])
	}
	if d.KeyID == 0 {
		return d, fmt.Errorf("%w: key id 0", ErrInvalidPayload)
	}
	return d, d.Payload.validate()
}

// Parse decodes a code without checking its signature, for diagnostics:
// never trust its result. It returns ErrTooShort, ErrEncoding,
// ErrUnknownType, ErrTrailingBytes or ErrInvalidPayload; with
// ErrInvalidPayload the Decoded is filled in, to show what is wrong.
func Parse(code string) (Decoded, error) {
	var buf [maxRawLen]byte
	raw, err := decodeRaw(code, &buf)
	if err != nil {
		return Decoded{}, err
	}
	return decodePayload(raw[:len(raw)-sigLen])
}
