// Package voucher is the signed code printed in every QR code of the
// programme, and the printed fallback under it.
//
// A code is BASE32(payload || signature): the RFC 4648 alphabet, upper case,
// without padding, so that a QR code can use its compact alphanumeric mode.
// payload[0] is the type, payload[1] the id of the signing key, the rest a
// fixed-length body per type; the signature is Ed25519 over the payload.
// docs/voucher-format.md documents every byte, with test vectors that
// vectors_test.go checks against this package.
//
// The package is pure: no I/O, no clock, no database, standard library only.
// Private keys come in from the caller (the keystore), public keys as a KeySet.
//
// A code is not an identifier: the serial inside it is. Ed25519 verification
// accepts only canonical signatures, and decoding accepts only the canonical
// base32 text, but a key holder could still sign the same payload twice; the
// database keys redemptions by serial, never by code text.
package voucher
