//go:build race

package qrcode

// raceEnabled: the race detector slows the tests' single-goroutine
// checks tenfold without checking anything more in them.
const raceEnabled = true
